import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ColumnBuilder, type ColumnRun, makeColumnBuilder } from '../../src/arrow/builders.js';
import { parseDdl } from '../../src/schema/ddl.js';

/**
 * ColumnBuilder.appendRun (a run of values decoded elsewhere, copied in bulk) leaves a builder
 * exactly as appending the same values one by one does: for every type a decoder hands over in
 * runs, at every bit offset (a run starts after any number of values appended one by one), with
 * nulls, empty strings and lists, and nulls inside structs and lists. Seeded
 * (TRIBUTARY_PROPERTY_SEED replays a run).
 */
const SEED = Number(process.env.TRIBUTARY_PROPERTY_SEED ?? 20261206);

const TYPES: Record<string, fc.Arbitrary<unknown>> = {
  INT: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  BIGINT: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  DOUBLE: fc.double(),
  BOOLEAN: fc.boolean(),
  STRING: fc.string({ unit: 'binary', maxLength: 12 }),
  DATE: fc.integer({ min: -719_162, max: 2_932_896 }).map((d) => new Date(d * 86_400_000)),
  TIMESTAMP: fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 }).map((ms) => new Date(ms)),
  'DECIMAL(18,4)': fc.bigInt({ min: -(10n ** 18n) + 1n, max: 10n ** 18n - 1n }).map((u) => {
    const neg = u < 0n;
    const t = (neg ? -u : u).toString().padStart(5, '0');
    return `${neg ? '-' : ''}${t.slice(0, -4)}.${t.slice(-4)}`;
  }),
  'STRUCT<a: INT, b: STRING>': fc.record({ a: fc.option(fc.integer({ min: -5, max: 5 }), { nil: null }), b: fc.option(fc.string({ maxLength: 4 }), { nil: null }) }),
  'ARRAY<STRING>': fc.array(fc.option(fc.string({ maxLength: 4 }), { nil: null }), { maxLength: 4 }),
  'ARRAY<STRUCT<x: BIGINT>>': fc.array(fc.option(fc.record({ x: fc.option(fc.bigInt({ min: -9n, max: 9n }), { nil: null }) }), { nil: null }), { maxLength: 3 }),
};

function builderOf(type: string): ColumnBuilder {
  const t = parseDdl(`v ${type}`).fields[0].type;
  return makeColumnBuilder(t, true, undefined, { timestampNumbers: 'milliseconds' }).setPath('v');
}

/** A finished column's buffers as the run a decoder would hand over. */
function runOf(d: arrow.Data): ColumnRun {
  const run: ColumnRun = { nullCount: d.nullCount, validity: d.nullCount > 0 ? d.nullBitmap : undefined };
  const t = d.type;
  if (arrow.DataType.isUtf8(t)) return { ...run, offsets: d.valueOffsets as Int32Array, bytes: d.values as Uint8Array };
  if (arrow.DataType.isList(t)) return { ...run, offsets: d.valueOffsets as Int32Array, children: [runOf(d.children[0])] };
  if (arrow.DataType.isStruct(t)) return { ...run, children: d.children.map(runOf) };
  const v = d.values as ArrayBufferView;
  if (v instanceof BigInt64Array) return { ...run, values: new Int32Array(v.buffer, v.byteOffset, 2 * d.length) };
  return { ...run, values: v as ColumnRun['values'] };
}

const plain = (x: unknown): unknown => {
  if (x === null || x === undefined) return null;
  if (typeof x === 'bigint') return `${x}n`;
  if (x instanceof arrow.Vector) return [...x].map(plain);
  if (ArrayBuffer.isView(x)) return Array.from(x as unknown as ArrayLike<number | bigint>, plain);
  if (typeof x === 'object' && 'toJSON' in (x as object)) return plain((x as { toJSON(): unknown }).toJSON());
  if (typeof x === 'object') return Object.fromEntries(Object.entries(x as object).map(([k, v]) => [k, plain(v)]));
  if (typeof x === 'number' && Object.is(x, -0)) return '-0';
  return x;
};

/** The column as values, and its validity bits and null count: what two builders must agree on. */
function seen(d: arrow.Data) {
  const v = arrow.makeVector(d);
  return { length: d.length, nullCount: d.nullCount, values: [...v].map(plain), valid: Array.from({ length: d.length }, (_, i) => v.isValid(i)) };
}

describe('ColumnBuilder.appendRun', () => {
  for (const [type, value] of Object.entries(TYPES)) {
    it(`${type}: a run appended in bulk between values appended one by one is the same column`, () => {
      const values = fc.array(fc.option(value, { nil: null, freq: 4 }), { maxLength: 40 });
      fc.assert(
        fc.property(values, values, values, (before, run, after) => {
          const one = builderOf(type);
          for (const x of [...before, ...run, ...after]) one.append(x, 0);
          const source = builderOf(type);
          for (const x of run) source.append(x, 0);
          const bulk = builderOf(type);
          for (const x of before) bulk.append(x, 0);
          bulk.appendRun(runOf(source.finish()), run.length);
          for (const x of after) bulk.append(x, 0);
          expect(seen(bulk.finish())).toEqual(seen(one.finish()));
        }),
        { seed: SEED, numRuns: 300 },
      );
    });
  }
});
