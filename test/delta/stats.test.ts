import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { rowsToRecordBatch } from '../../src/arrow/record-batch.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { computeStats, truncateMax, truncateMin } from '../../src/delta/stats.js';

describe('per-file stats', () => {
  it('are exact: longs beyond 2^53, decimals as text, ms-floored UTC timestamps', () => {
    const schema = parseDdl('l BIGINT, d DECIMAL(38,18), ts TIMESTAMP, dt DATE, f FLOAT, s STRING, b BOOLEAN, bin BINARY');
    const batch = rowsToRecordBatch(
      [
        { l: 9007199254740993n, d: '-0.000000000000000001', ts: '2024-01-01T00:00:00.999999Z', dt: '1969-12-31', f: 0.1, s: 'b', b: true, bin: 'AA==' },
        { l: -9223372036854775808n, d: '99999999999999999999.999999999999999999', ts: '1969-12-31T23:59:59.000001Z', dt: '2024-02-29', f: -2.5, s: 'a', b: null, bin: null },
        { l: null, d: null, ts: null, dt: null, f: null, s: null, b: false, bin: 'AQ==' },
      ],
      schema,
    );
    expect(computeStats(batch.data, schema)).toBe(
      '{"numRecords":3,' +
        '"minValues":{"l":-9223372036854775808,"d":-0.000000000000000001,"ts":"1969-12-31T23:59:59.000Z","dt":"1969-12-31","f":-2.5,"s":"a"},' +
        '"maxValues":{"l":9007199254740993,"d":99999999999999999999.999999999999999999,"ts":"2024-01-01T00:00:00.999Z","dt":"2024-02-29","f":0.1,"s":"b"},' +
        '"nullCount":{"l":1,"d":1,"ts":1,"dt":1,"f":1,"s":1,"b":1,"bin":1}}',
    );
  });

  it('omit min/max of a float column holding NaN or infinities, and of all-null columns', () => {
    const schema = parseDdl('d DOUBLE, e DOUBLE, n INT');
    const batch = rowsToRecordBatch([{ d: 1, e: 'NaN', n: null }, { d: 2, e: 3, n: null }], schema);
    expect(computeStats(batch.data, schema)).toBe('{"numRecords":2,"minValues":{"d":1},"maxValues":{"d":2},"nullCount":{"d":0,"e":0,"n":2}}');
  });

  it('count a leaf as null when its struct is null, and honour the indexed-column limit', () => {
    const schema = parseDdl('s STRUCT<a: INT, b: STRUCT<c: STRING>>, x INT, y INT');
    const batch = rowsToRecordBatch([{ s: null, x: 1, y: 1 }, { s: { a: 5, b: { c: 'z' } }, x: 2, y: 2 }, { s: { a: null, b: null }, x: 3, y: 3 }], schema);
    expect(computeStats(batch.data, schema, { numIndexedCols: 3, stringPrefixLength: 32 })).toBe(
      '{"numRecords":3,"minValues":{"s":{"a":5,"b":{"c":"z"}},"x":1},"maxValues":{"s":{"a":5,"b":{"c":"z"}},"x":3},"nullCount":{"s":{"a":2,"b":{"c":2}},"x":0}}',
    );
  });

  it('are right for a slice of a batch (files cut from one append)', () => {
    const schema = parseDdl('l BIGINT, s STRING, d DECIMAL(9,2)');
    const rows = Array.from({ length: 10 }, (_, i) => ({ l: BigInt(i * 10), s: `v${i}`, d: `${i}.5` }));
    const batch = rowsToRecordBatch(rows, schema).slice(5, 8);
    expect(computeStats(batch.data, schema)).toBe('{"numRecords":3,"minValues":{"l":50,"s":"v5","d":5.50},"maxValues":{"l":70,"s":"v7","d":7.50},"nullCount":{"l":0,"s":0,"d":0}}');
  });

  it('truncate long strings to valid bounds', () => {
    const long = 'a'.repeat(40);
    expect(truncateMin(long, 32)).toBe('a'.repeat(32));
    expect(truncateMax(long, 32)).toBe('a'.repeat(32) + '\u007f');
    expect(truncateMax('a'.repeat(32) + 'é', 32)).toBe('a'.repeat(32) + '\u{10ffff}');
    expect(truncateMax('a'.repeat(31) + '𝄞xyz', 32)).toBe('a'.repeat(31) + '𝄞\u007f');
    const max = truncateMax('a'.repeat(32) + '~~', 32)!;
    expect(max > 'a'.repeat(32) + '~~').toBe(true);
  });
});

describe('string stats', () => {
  it('are the smallest and largest values by UTF-8 bytes, whatever the repeats (seeded property)', () => {
    // Few distinct short values, so that values equal to the bounds, and first bytes equal to
    // theirs, are the common case (a currency column is one value): every branch of the scan.
    const value = fc.oneof(fc.constantFrom('usd', 'eur', 'us', 'usdt', 'é', 'ü', '😀', '', 'u'), fc.string({ maxLength: 6 }));
    fc.assert(
      fc.property(fc.array(fc.option(value, { freq: 8 }), { minLength: 1, maxLength: 60 }), (values) => {
        const schema = parseDdl('s STRING');
        const stats = JSON.parse(computeStats(rowsToRecordBatch(values.map((s) => ({ s })), schema).data, schema));
        const present = values.filter((s): s is string => s !== null).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
        expect(stats.nullCount.s).toBe(values.length - present.length);
        expect(stats.minValues.s).toBe(present[0]);
        expect(stats.maxValues.s).toBe(present[present.length - 1]);
      }),
      { seed: 20261205, numRuns: 500 },
    );
  });
});
