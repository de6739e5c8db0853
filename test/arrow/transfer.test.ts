import fc from 'fast-check';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { buildersToBatch, columnBuilders } from '../../src/arrow/record-batch.js';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { type BatchParts, batchFromParts, batchToParts, TRANSFER_MIN_BYTES } from '../../src/arrow/transfer.js';
import { toArrowSchema } from '../../src/arrow/types.js';
import { parseDdl } from '../../src/schema/ddl.js';

/**
 * A record batch sent as its buffers (arrow/transfer.ts, what the decoding threads do) comes out
 * of a real MessagePort with the same rows, every column type the decoder builds included, nulls
 * anywhere; its large buffers are moved (the sender's views are detached), not copied.
 */
const SCHEMA = parseDdl(
  'id BIGINT NOT NULL, s STRING, b BINARY, i INT, sh SHORT, by BYTE, d DOUBLE, f FLOAT, ok BOOLEAN, day DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ, ' +
    'dec DECIMAL(18,4), big DECIMAL(38,2), st STRUCT<a: BIGINT, n: STRING>, tags ARRAY<STRING>, deep ARRAY<STRUCT<x: INT, ys: ARRAY<DOUBLE>>>, m MAP<STRING, BIGINT>',
);

/** Any instant from 1900 to 2200 (dates keep its day). */
const instant = fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true });
/** Decimal text of any unscaled value of up to `digits` digits at the given scale ("-12.3400"). */
const decimalText = (digits: number, scale: number) =>
  fc.bigInt({ min: -(10n ** BigInt(digits)) + 1n, max: 10n ** BigInt(digits) - 1n }).map((u) => {
    const m = u < 0n ? -u : u;
    const unit = 10n ** BigInt(scale);
    return `${u < 0n ? '-' : ''}${m / unit}.${String(m % unit).padStart(scale, '0')}`;
  });
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null, freq: 4 });
const rowArb = (id: number) =>
  fc.record({
    id: fc.constant(BigInt(id)),
    s: opt(fc.string({ unit: 'grapheme', maxLength: 12 })),
    b: opt(fc.uint8Array({ maxLength: 6 })),
    i: opt(fc.integer()),
    sh: opt(fc.integer({ min: -32768, max: 32767 })),
    by: opt(fc.integer({ min: -128, max: 127 })),
    d: opt(fc.double({ noNaN: true })),
    f: opt(fc.float({ noNaN: true })),
    ok: opt(fc.boolean()),
    day: opt(instant.map((d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())))),
    ts: opt(instant),
    ntz: opt(instant),
    dec: opt(decimalText(18, 4)),
    big: opt(decimalText(36, 2)),
    st: opt(fc.record({ a: opt(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })), n: opt(fc.string({ maxLength: 5 })) })),
    tags: opt(fc.array(opt(fc.string({ maxLength: 4 })), { maxLength: 4 })),
    deep: opt(fc.array(opt(fc.record({ x: opt(fc.integer()), ys: opt(fc.array(opt(fc.double({ noNaN: true })), { maxLength: 3 })) })), { maxLength: 3 })),
    m: opt(fc.dictionary(fc.string({ minLength: 1, maxLength: 3 }), opt(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })), { maxKeys: 3 }).map((o) => new Map(Object.entries(o)))),
  });

function batchOf(rows: Record<string, unknown>[]) {
  const builders = columnBuilders(SCHEMA);
  rows.forEach((r, i) => SCHEMA.fields.forEach((f, k) => builders[k].append(r[f.name], i)));
  return buildersToBatch(SCHEMA, builders, rows.length, toArrowSchema(SCHEMA));
}

/** Through a real MessagePort: structured clone of the parts, the transfer list moved. */
function postThrough(parts: BatchParts, transfer: ArrayBuffer[]): Promise<BatchParts> {
  const { port1, port2 }: { port1: MessagePort; port2: MessagePort } = new MessageChannel();
  return new Promise((resolve) => {
    port2.once('message', (m: BatchParts) => {
      port1.close();
      resolve(m);
    });
    port1.postMessage(parts, transfer);
  });
}

const show = (v: unknown) => JSON.parse(JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Map ? [...x] : x instanceof Uint8Array ? [...x] : x)));

describe('a record batch sent as its buffers', () => {
  it('comes back with the same rows, every column type and nulls anywhere (seeded)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 40 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => rowArb(i)))), async (rows) => {
        const batch = batchOf(rows);
        const expected = show(arrowToRows(batch));
        const { parts, transfer } = batchToParts(batch);
        const back = batchFromParts(toArrowSchema(SCHEMA), await postThrough(parts, transfer));
        expect(back.numRows).toBe(rows.length);
        expect(show(arrowToRows(back))).toEqual(expected);
      }),
      { seed: 20261204, numRuns: 60 },
    );
  });

  it('moves its large buffers (the sender’s views are detached) and clones the small ones', async () => {
    const schema = parseDdl('id BIGINT, s STRING, tags ARRAY<STRING>');
    const builders = columnBuilders(schema);
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      builders[0].append(BigInt(i), i);
      builders[1].append(i % 7 === 0 ? null : `coin-${i}`, i);
      builders[2].append(i % 5 === 0 ? [] : ['a', `t${i % 3}`], i);
    }
    const batch = buildersToBatch(schema, builders, n, toArrowSchema(schema));
    const expected = show(arrowToRows(batch).slice(-3));
    const ids = batch.getChildAt(0)!.data[0].values as BigInt64Array;
    const { parts, transfer } = batchToParts(batch);
    expect(transfer.length).toBeGreaterThanOrEqual(3); // ids, string offsets and bytes at least
    for (const b of transfer) expect(b.byteLength).toBeGreaterThanOrEqual(TRANSFER_MIN_BYTES);
    const got = await postThrough(parts, transfer);
    expect(ids.buffer.byteLength).toBe(0); // moved, not copied
    const back = batchFromParts(toArrowSchema(schema), got);
    expect(show(arrowToRows(back).slice(-3))).toEqual(expected);
    expect(back.numRows).toBe(n);
  });

  it('is refused against a schema of other columns', () => {
    const batch = batchOf([{ id: 1n }]);
    const { parts } = batchToParts(batch);
    expect(() => batchFromParts(toArrowSchema(parseDdl('id BIGINT')), parts)).toThrow(/parts have 18 columns, the schema 1/);
  });
});
