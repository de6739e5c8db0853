import { describe, expect, it } from 'vitest';
import { rowsToRecordBatch } from '../../src/arrow/record-batch.js';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { Reject, toDecimal, toInt64, toTimestampMicros, toTimestampMicrosNumber, toDateDays, parseDecimalText } from '../../src/arrow/coerce.js';
import { parseJsonExact } from '../../src/json/exact-parse.js';
import { JsonNumber } from '../../src/json/json-number.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { TributaryError } from '../../src/errors.js';

function errorOf(f: () => unknown): TributaryError {
  try {
    f();
  } catch (e) {
    if (e instanceof TributaryError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('coercion', () => {
  it('keeps 64-bit integers and decimals exact from JSON text', () => {
    const row = parseJsonExact('{"l": 9223372036854775807, "m": -9007199254740993, "d": 12345678901234567890.123456789012345678, "small": 1.10}') as Record<string, unknown>;
    expect(row.l).toBeInstanceOf(JsonNumber);
    expect(toInt64(row.l)).toBe(9223372036854775807n);
    expect(toInt64(row.m)).toBe(-9007199254740993n);
    expect(toDecimal(row.d, 38, 18)).toBe(12345678901234567890123456789012345678n);
    expect(toDecimal(row.small, 9, 2)).toBe(110n);
  });

  it('refuses values that would change on the way in', () => {
    expect(toInt64(2 ** 60)).toBeInstanceOf(Reject); // a JS number that already lost digits
    expect(toInt64('9223372036854775808')).toBeInstanceOf(Reject);
    expect(toInt64(1.5)).toBeInstanceOf(Reject);
    expect(toDecimal('1.234', 9, 2)).toBeInstanceOf(Reject); // would round
    expect(toDecimal('12345678', 9, 2)).toBeInstanceOf(Reject); // does not fit
    expect(toDecimal('1.230', 9, 2)).toBe(123n); // trailing zeros are exact
    expect(toDecimal('-1e-2', 9, 2)).toBe(-1n);
    expect(parseDecimalText('abc')).toBeUndefined();
  });

  it('parses ISO-8601 timestamps to microseconds in UTC', () => {
    expect(toTimestampMicros('2024-01-01T00:00:00Z', false)).toBe(1704067200000000n);
    expect(toTimestampMicros('2024-01-01T00:00:00.123456Z', false)).toBe(1704067200123456n);
    expect(toTimestampMicros('2024-01-01 02:00:00+02:00', false)).toBe(1704067200000000n);
    expect(toTimestampMicros('2024-01-01T00:00:00', false)).toBe(1704067200000000n);
    expect(toTimestampMicros('0001-01-01T00:00:00Z', false)).toBe(-62135596800000000n);
    expect(toTimestampMicros(new Date(1704067200123), false)).toBe(1704067200123000n);
    expect(toTimestampMicros(1704067200123, false)).toBe(1704067200123000n);
    expect(toTimestampMicros('2024-13-01T00:00:00Z', false)).toBeInstanceOf(Reject);
    expect(toTimestampMicros('yesterday', false)).toBeInstanceOf(Reject);
    expect(toTimestampMicros('2024-01-01T00:00:00Z', true)).toBeInstanceOf(Reject); // ntz with a zone
    expect(toDateDays('2024-02-29')).toBe(19782);
    expect(toDateDays('2023-02-29')).toBeInstanceOf(Reject);
    expect(toDateDays('0001-01-01')).toBe(-719162);
  });

  it('a number into a timestamp: epoch milliseconds for JavaScript rows (the default), epoch seconds for JSON text (timestampNumbers)', () => {
    const schema = parseDdl('t TIMESTAMP, s STRUCT<u: TIMESTAMP_NTZ>, a ARRAY<TIMESTAMP>');
    const row = { t: 1714521600123, s: { u: 1714521600123 }, a: [1714521600123, new Date(5)] };
    // The column path (appendColumn's fast path) and the nested ones (each builder's append) alike.
    expect(arrowToRows(rowsToRecordBatch([row], schema))).toEqual([{ t: 1714521600123000n, s: { u: 1714521600123000n }, a: [1714521600123000n, 5000n] }]);
    const json = { t: 1714521600, s: { u: 1714521600 }, a: [1714521600, new Date(5), new JsonNumber('1714521600.0000010')] };
    expect(arrowToRows(rowsToRecordBatch([json], schema, { timestampNumbers: 'seconds' }))).toEqual([{ t: 1714521600000000n, s: { u: 1714521600000000n }, a: [1714521600000000n, 5000n, 1714521600000001n] }]);
    // Beyond 2^53 microseconds (past 2255): exact through BigInt; the last second of 9999, and one past it.
    expect(toTimestampMicrosNumber(253402300799, false, 'seconds')).toBe(253402300799000000n);
    expect(toTimestampMicrosNumber(-62135596800, false, 'seconds')).toBe(-62135596800000000n);
    expect(toTimestampMicrosNumber(253402300800, false, 'seconds')).toBeInstanceOf(Reject);
    expect(toTimestampMicrosNumber(-62135596801, false, 'seconds')).toBeInstanceOf(Reject);
    expect(toTimestampMicrosNumber(0.0000005, false, 'seconds')).toBeInstanceOf(Reject); // below a microsecond
    expect(toTimestampMicrosNumber(Infinity, false, 'seconds')).toBeInstanceOf(Reject);
    const e = errorOf(() => rowsToRecordBatch([{ t: 1714521600123 }], parseDdl('t TIMESTAMP'), { timestampNumbers: 'seconds' }));
    expect(e.message).toMatch(/^row 0, column "t": value 1714521600123 taken as seconds since the epoch .* for milliseconds, divide by 1000 or write ISO-8601 text/);
  });

  it('names the row, the column and the value of the first bad cell', () => {
    const schema = parseDdl('id BIGINT NOT NULL, price DOUBLE, ts TIMESTAMP, tags ARRAY<STRING>, s STRUCT<a: INT>');
    const ok = { id: 1, price: 1.5, ts: '2024-01-01T00:00:00Z', tags: ['a'], s: { a: 1 } };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...ok, price: 'abc' }, /row 2, column "price": value "abc" is not a number \(column type double\)/],
      [{ ...ok, id: null }, /row 2, column "id": null in a column that is NOT NULL/],
      [{ ...ok, ts: 'not a time' }, /row 2, column "ts": value "not a time" cannot be parsed as an ISO-8601 timestamp/],
      [{ ...ok, extra: 1 }, /row 2, column "extra": not a column of the table/],
      [{ ...ok, tags: ['a', 5] }, /row 2, column "tags\[1\]": value 5 is not a string/],
      [{ ...ok, s: { a: 1, b: 2 } }, /row 2, column "s.b": unknown field/],
      [{ ...ok, s: { a: 2 ** 40 } }, /row 2, column "s.a": value 1099511627776 does not fit in integer/],
    ];
    for (const [bad, re] of cases) {
      const e = errorOf(() => rowsToRecordBatch([ok, ok, bad], schema));
      expect(e.code).toBe('ROW_INVALID');
      expect(e.message).toMatch(re);
      expect(e.details.row).toBe(2);
    }
  });

  it('builds Arrow columns that read back exactly, including slices', () => {
    const schema = parseDdl('l BIGINT, s STRING, d DECIMAL(38,18), ts TIMESTAMP, dt DATE, b BOOLEAN, m MAP<STRING, INT>, a ARRAY<STRUCT<x: DOUBLE>>');
    const rows = Array.from({ length: 10 }, (_, i) => ({
      l: BigInt(i) * 1_000_000_000_000n,
      s: i % 3 === 0 ? null : `v${i}`,
      d: `${i}.000000000000000001`,
      ts: `2024-01-0${(i % 9) + 1}T00:00:00.00000${i}Z`,
      dt: '2024-02-29',
      b: i % 2 === 0,
      m: { k: i },
      a: [{ x: i / 2 }, null],
    }));
    const batch = rowsToRecordBatch(rows, schema);
    const back = arrowToRows(batch);
    expect(back[4]).toEqual({ l: 4_000_000_000_000n, s: 'v4', d: '4.000000000000000001', ts: 1704412800000004n, dt: '2024-02-29', b: true, m: [['k', 4]], a: [{ x: 2 }, null] });
    const sliced = arrowToRows(batch.slice(5, 8));
    expect(sliced.map((r) => r.l)).toEqual([5_000_000_000_000n, 6_000_000_000_000n, 7_000_000_000_000n]);
    expect(sliced.map((r) => r.s)).toEqual(['v5', null, 'v7']);
    expect(sliced.map((r) => r.b)).toEqual([false, true, false]);
    expect(sliced.map((r) => r.d)).toEqual(['5.000000000000000001', '6.000000000000000001', '7.000000000000000001']);
  });
});
