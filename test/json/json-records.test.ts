import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rowsToRecordBatch } from '../../src/arrow/record-batch.js';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { TributaryError } from '../../src/errors.js';
import { parseJsonExact } from '../../src/json/exact-parse.js';
import { JsonRecordsDecoder } from '../../src/json/json-records.js';
import { JSON_TEXT } from '../../src/json/ndjson-decoder.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { digitString, numberToken } from '../support/edge-cases.js';
import { params } from '../support/input-edge-properties.js';

/**
 * JsonRecordsDecoder (records of a JSON body through the NDJSON decoder) against the reference
 * (the same parsed values as row objects through rowsToRecordBatch): for any records, the same
 * values, or the same error (code and message).
 */

const SCHEMA = parseDdl('a BIGINT, d DECIMAL(38,18), x DOUBLE, s STRING, t TIMESTAMP, n INT NOT NULL, st STRUCT<p: DECIMAL(10,2), q: ARRAY<BIGINT>>');
const NAMES = SCHEMA.fields.map((f) => f.name);

/** A value as the exact parser gives it from a body: numbers of every spelling, text, nested values, null. */
const value = fc.oneof(
  { weight: 4, arbitrary: numberToken.map((t) => parseJsonExact(t)) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom('2024-05-01T10:00:00.123456Z', '2024-02-30T00:00:00Z', '12', '-0.5', '1e3') },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, true, false) },
  { weight: 1, arbitrary: fc.tuple(numberToken, numberToken).map(([p, q]) => parseJsonExact(`{"p":${p},"q":[${q}]}`)) },
);
/** Per column, mostly values of its type (so that records land as well as fail), sometimes any value. */
const parsed = (text: string) => parseJsonExact(text);
const good: Record<string, fc.Arbitrary<unknown>> = {
  a: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((b) => parsed(String(b))),
  d: fc.tuple(fc.bigInt({ min: -(10n ** 19n), max: 10n ** 19n }), digitString(0, 18)).map(([i, f]) => parsed(f ? `${i}.${f}` : String(i))),
  x: fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => parsed(JSON.stringify(x))),
  s: fc.string({ unit: 'binary', maxLength: 12 }),
  t: fc.oneof(fc.constant('2024-05-01T10:00:00.123456Z'), fc.integer({ min: -1e12, max: 1e13 })),
  n: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  st: fc.tuple(fc.integer({ min: -1e6, max: 1e6 }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })).map(([p, q]) => parsed(`{"p":${p / 100},"q":[${q},null]}`)),
};
const record = fc.tuple(...NAMES.map((n) => fc.oneof({ weight: 6, arbitrary: good[n] }, { weight: 1, arbitrary: value })));

type Outcome = { ok: true; rows: unknown[] } | { ok: false; code: string; message: string };

function outcome(f: () => unknown[]): Outcome {
  try {
    return { ok: true, rows: f() };
  } catch (e) {
    if (!(e instanceof TributaryError)) throw e;
    return { ok: false, code: e.code, message: e.message };
  }
}

describe('JsonRecordsDecoder', () => {
  it('gives the values and the errors of rowsToRecordBatch on the same parsed records', () => {
    let landed = 0;
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 4 }), (records, chunkRows) => {
        const decoded = outcome(() => {
          const d = new JsonRecordsDecoder(SCHEMA, 'test', chunkRows);
          for (const r of records) d.push(r);
          return d.end().flatMap((b) => arrowToRows(b));
        });
        // The reference: a row object per record, an absent value a null (as the source's rows were).
        const rows = records.map((r) => Object.fromEntries(NAMES.map((n, k) => [n, r[k] === undefined ? null : r[k]])));
        const reference = outcome(() => arrowToRows(rowsToRecordBatch(rows, SCHEMA, JSON_TEXT)));
        expect(decoded).toEqual(reference);
        if (decoded.ok) landed++;
      }),
      params(1000),
    );
    // Both outcomes are compared, not only refusals.
    expect(landed).toBeGreaterThan(50);
  });

  it('pushRecord reads columns by name; a Date is its ISO text, an invalid Date is refused rather than a null', () => {
    const schema = parseDdl('t TIMESTAMP, s STRING');
    const d = new JsonRecordsDecoder(schema, 'test');
    d.pushRecord({ s: 'x', t: new Date(Date.UTC(2024, 4, 1, 10, 0, 0, 123)), ignored: 1 });
    expect(d.end().flatMap((b) => arrowToRows(b))).toEqual([{ t: 1714557600123000n, s: 'x' }]);
    const bad = new JsonRecordsDecoder(schema, 'test');
    bad.pushRecord({ t: new Date(Number.NaN), s: 'y' });
    expect(() => bad.end()).toThrow(/^row 0, column "t": value "Invalid Date"/);
  });
});
