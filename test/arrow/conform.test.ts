import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conformBatch } from '../../src/arrow/conform.js';
import { TributaryError } from '../../src/errors.js';
import { parseDdl } from '../../src/schema/ddl.js';
import type { StructType } from '../../src/schema/schema.js';
import { params } from '../support/input-edge-properties.js';

/**
 * Arrow decimals of the table's own type pass through conformBatch without a copy when every
 * value fits the precision, and are refused (by the row path, which words it) when one does not.
 * The check reads 128-bit words; values within ±2^53 are compared as doubles, the rest as BigInts,
 * so the values that matter are those at 10^precision and at 2^53, of both signs.
 */

/** A column of unscaled values as Arrow DECIMAL(precision, scale): 128-bit two's complement, little-endian words. */
function decimalBatch(values: readonly bigint[], precision: number, scale: number): arrow.RecordBatch {
  const words = new Uint32Array(values.length * 4);
  values.forEach((v, i) => {
    let x = BigInt.asUintN(128, v);
    for (let k = 0; k < 4; k++) {
      words[i * 4 + k] = Number(x & 0xffffffffn);
      x >>= 32n;
    }
  });
  const type = new arrow.Decimal(scale, precision, 128);
  const column = arrow.makeData({ type, length: values.length, nullCount: 0, data: words });
  const fields = [new arrow.Field('d', type, true)];
  const schema = new arrow.Schema(fields);
  return new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct(fields), length: values.length, nullCount: 0, children: [column] }));
}

/**
 * conformBatch either passes the batch's one column through as it is (the same Data, no copy)
 * or refuses it as ROW_INVALID; never a different column.
 */
function expectPassedOrRefused(batch: arrow.RecordBatch, schema: StructType, passes: boolean): void {
  let out: arrow.RecordBatch | undefined;
  let error: unknown;
  try {
    out = conformBatch(batch, schema, 0);
  } catch (e) {
    error = e;
  }
  if (passes) {
    expect(error).toBeUndefined();
    expect(out!.data.children[0]).toBe(batch.data.children[0]);
  } else {
    expect(error).toBeInstanceOf(TributaryError);
    expect((error as TributaryError).code).toBe('ROW_INVALID');
  }
}

const TWO53 = 2n ** 53n;
/** Values near the edges: 10^p and 2^53 (and one off either side), zero, ±1, and anything up to 2^127. */
const unscaled = (precision: number) => {
  const p = 10n ** BigInt(precision);
  const edges = [p - 1n, p, p + 1n, TWO53 - 1n, TWO53, TWO53 + 1n, 2n ** 64n - 1n, 2n ** 64n, 0n, 1n];
  return fc.oneof(
    fc.constantFrom(...edges, ...edges.map((x) => -x)),
    fc.bigInt({ min: -p, max: p }),
    fc.bigInt({ min: -(2n ** 127n), max: 2n ** 127n - 1n }),
    fc.bigInt({ min: -(2n ** 54n), max: 2n ** 54n }),
  );
};

describe('conformBatch: Arrow decimals against the column precision', () => {
  it('passes a column through as it is when every value fits, and refuses it when one does not', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 38 }).chain((precision) => fc.tuple(fc.constant(precision), fc.nat(precision), fc.array(unscaled(precision), { minLength: 1, maxLength: 4 }))),
        ([precision, scale, values]) => {
          const schema = parseDdl(`d DECIMAL(${precision},${scale})`);
          const batch = decimalBatch(values, precision, scale);
          const limit = 10n ** BigInt(precision);
          const fits = values.every((v) => (v < 0n ? -v : v) < limit);
          // The same buffers when it fits: the fast check passed, no row path.
          expectPassedOrRefused(batch, schema, fits);
        },
      ),
      params(),
    );
  });
});

const MIN_MICROS = -62135596800000000n; // 0001-01-01T00:00:00Z
const MAX_MICROS = 253402300799999999n; // 9999-12-31T23:59:59.999999Z

describe('conformBatch: Arrow timestamps against the range 0001-01-01 to 9999-12-31', () => {
  it('passes a column through as it is when every value is in range, and refuses it when one is not', () => {
    // The ends, one off, their 32-bit words' edges, and anything of 64 bits.
    const near = (x: bigint) => [x - 1n, x, x + 1n, (x >> 32n) << 32n, ((x >> 32n) << 32n) - 1n, ((x >> 32n) + 1n) << 32n];
    const micros = fc.oneof(
      fc.constantFrom(...near(MIN_MICROS), ...near(MAX_MICROS), 0n, -1n),
      fc.bigInt({ min: MIN_MICROS - 2n ** 33n, max: MIN_MICROS + 2n ** 33n }),
      fc.bigInt({ min: MAX_MICROS - 2n ** 33n, max: MAX_MICROS + 2n ** 33n }),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    );
    fc.assert(
      fc.property(fc.constantFrom('TIMESTAMP', 'TIMESTAMP_NTZ'), fc.array(micros, { minLength: 1, maxLength: 4 }), (ddl, values) => {
        const schema = parseDdl(`t ${ddl}`);
        const type = new arrow.Timestamp(arrow.TimeUnit.MICROSECOND, ddl === 'TIMESTAMP' ? 'UTC' : null);
        const column = arrow.makeData({ type, length: values.length, nullCount: 0, data: BigInt64Array.from(values) } as never);
        const fields = [new arrow.Field('t', type, true)];
        const batch = new arrow.RecordBatch(new arrow.Schema(fields), arrow.makeData({ type: new arrow.Struct(fields), length: values.length, nullCount: 0, children: [column] }));
        const inRange = values.every((v) => v >= MIN_MICROS && v <= MAX_MICROS);
        expectPassedOrRefused(batch, schema, inRange);
      }),
      params(),
    );
  });
});
