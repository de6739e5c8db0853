import type * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { buildersToBatch, columnBuilders } from '../../src/arrow/record-batch.js';
import { toArrowSchema } from '../../src/arrow/types.js';
import { parseDdl } from '../../src/schema/ddl.js';
import type { StructType } from '../../src/schema/schema.js';

/**
 * Record batches of every column type the NDJSON decoder builds, nulls anywhere, for the tests of
 * what happens to a batch between threads (arrow/transfer.ts, arrow/ipc-pieces.ts).
 */
export const ALL_TYPES = parseDdl(
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

/** A row of ALL_TYPES with id `id`; with `nan`, doubles and floats may be NaN. */
export const allTypesRow = (id: number, { nan = false } = {}) =>
  fc.record({
    id: fc.constant(BigInt(id)),
    s: opt(fc.string({ unit: 'grapheme', maxLength: 12 })),
    b: opt(fc.uint8Array({ maxLength: 6 })),
    i: opt(fc.integer()),
    sh: opt(fc.integer({ min: -32768, max: 32767 })),
    by: opt(fc.integer({ min: -128, max: 127 })),
    d: opt(fc.double({ noNaN: !nan })),
    f: opt(fc.float({ noNaN: !nan })),
    ok: opt(fc.boolean()),
    day: opt(instant.map((d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())))),
    ts: opt(instant),
    ntz: opt(instant),
    dec: opt(decimalText(18, 4)),
    big: opt(decimalText(36, 2)),
    st: opt(fc.record({ a: opt(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })), n: opt(fc.string({ maxLength: 5 })) })),
    tags: opt(fc.array(opt(fc.string({ maxLength: 4 })), { maxLength: 4 })),
    deep: opt(fc.array(opt(fc.record({ x: opt(fc.integer()), ys: opt(fc.array(opt(fc.double({ noNaN: !nan })), { maxLength: 3 })) })), { maxLength: 3 })),
    m: opt(fc.dictionary(fc.string({ minLength: 1, maxLength: 3 }), opt(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })), { maxKeys: 3 }).map((o) => new Map(Object.entries(o)))),
  });

/** The rows as a batch of `schema`, through the column builders (the decoder's, and the row path's). */
export function batchOf(schema: StructType, rows: Record<string, unknown>[]): arrow.RecordBatch {
  const builders = columnBuilders(schema);
  rows.forEach((r, i) => schema.fields.forEach((f, k) => builders[k].append(r[f.name], i)));
  return buildersToBatch(schema, builders, rows.length, toArrowSchema(schema));
}

/** Through a real MessagePort, as a thread gets it: structured clone, the transfer list moved. */
export function postThrough<T>(message: T, transfer: ArrayBuffer[]): Promise<T> {
  const { port1, port2 }: { port1: MessagePort; port2: MessagePort } = new MessageChannel();
  return new Promise((resolve) => {
    port2.once('message', (m: T) => {
      port1.close();
      resolve(m);
    });
    port1.postMessage(message, transfer);
  });
}

/** Rows as comparable JSON (bigints, maps and bytes written out). */
export const show = (v: unknown) => JSON.parse(JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Map ? [...x] : x instanceof Uint8Array ? [...x] : x)));
