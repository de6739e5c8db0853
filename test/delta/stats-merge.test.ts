import { describe, expect, it } from 'vitest';
import { concatBatches } from '../../src/arrow/concat.js';
import { rowsToRecordBatch } from '../../src/arrow/record-batch.js';
import { toArrowSchema } from '../../src/arrow/types.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { computeStats } from '../../src/delta/stats.js';
import { mergeStats } from '../../src/delta/stats-merge.js';
import { mulberry32 } from '../../scripts/bench/gen.js';

const SCHEMA = parseDdl(
  'l BIGINT, i INT, d DECIMAL(38,4), f DOUBLE, r FLOAT, s STRING, dt DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ, b BOOLEAN, st STRUCT<x: BIGINT, y: STRING>, a ARRAY<INT>',
);

function randomRows(seed: number, n: number) {
  const r = mulberry32(seed);
  const word = () => Array.from({ length: Math.floor(r() * 45) }, () => [...'aZé😀~'][Math.floor(r() * 5)]).join('');
  const maybe = <T>(v: () => T, p = 0.1) => (r() < p ? null : v());
  return Array.from({ length: n }, () => ({
    l: maybe(() => (BigInt(Math.floor((r() - 0.5) * 2 ** 40)) << 20n) + 1n),
    i: maybe(() => Math.floor((r() - 0.5) * 2 ** 31)),
    d: maybe(() => `${r() < 0.5 ? '-' : ''}${Math.floor(r() * 1e12)}${Math.floor(r() * 1e12)}.${Math.floor(r() * 1e4)}`),
    f: maybe(() => (r() - 0.5) * 1e9),
    r: maybe(() => Math.fround((r() - 0.5) * 1e3)),
    s: maybe(word),
    dt: maybe(() => new Date(Math.floor((r() - 0.5) * 2e5) * 86_400_000)),
    ts: maybe(() => Math.floor((r() - 0.5) * 1e13)),
    ntz: maybe(() => Math.floor((r() - 0.5) * 1e13)),
    b: maybe(() => r() < 0.5),
    st: maybe(() => ({ x: maybe(() => BigInt(Math.floor(r() * 1e15)) * 1000n), y: maybe(word) })),
    a: maybe(() => [1, 2]),
  }));
}

describe('merged stats (OPTIMIZE)', () => {
  it('equal the stats computed over the concatenated files', () => {
    for (const seed of [1, 2, 3]) {
      const parts = [randomRows(seed, 50), randomRows(seed + 10, 1), randomRows(seed + 20, 200), randomRows(seed + 30, 7)];
      // A file with only nulls in some columns.
      parts.push([{ l: null, i: null, d: null, f: null, r: null, s: null, dt: null, ts: null, ntz: null, b: null, st: null, a: null }]);
      const batches = parts.map((p) => rowsToRecordBatch(p, SCHEMA));
      const each = batches.map((b) => computeStats(b.data, SCHEMA));
      const whole = computeStats(concatBatches(batches, toArrowSchema(SCHEMA)).data, SCHEMA);
      expect(mergeStats(each, SCHEMA)).toBe(whole);
    }
  });

  it('drop a bound that any input lacks, and give up without an input nullCount', () => {
    const a = rowsToRecordBatch([{ f: 1 }, { f: 2 }], parseDdl('f DOUBLE'));
    const b = rowsToRecordBatch([{ f: 'NaN' }, { f: 3 }], parseDdl('f DOUBLE'));
    const sa = computeStats(a.data, parseDdl('f DOUBLE'));
    const sb = computeStats(b.data, parseDdl('f DOUBLE'));
    expect(mergeStats([sa, sb], parseDdl('f DOUBLE'))).toBe('{"numRecords":4,"minValues":{},"maxValues":{},"nullCount":{"f":0}}');
    expect(mergeStats([sa, undefined], parseDdl('f DOUBLE'))).toBeUndefined();
    expect(mergeStats([sa, '{"numRecords":2}'], parseDdl('f DOUBLE'))).toBeUndefined();
  });

  it('keep longs beyond 2^53 exact and read Spark-style timestamp offsets', () => {
    const schema = parseDdl('l BIGINT, ts TIMESTAMP');
    const merged = mergeStats(
      [
        '{"numRecords":1,"minValues":{"l":9007199254740993,"ts":"2024-01-01T00:00:00.000+00:00"},"maxValues":{"l":9007199254740993,"ts":"2024-01-01T00:00:00.000+00:00"},"nullCount":{"l":0,"ts":0}}',
        '{"numRecords":1,"minValues":{"l":9007199254740995,"ts":"2023-12-31T23:00:00.000-02:00"},"maxValues":{"l":9007199254740995,"ts":"2023-12-31T23:00:00.000-02:00"},"nullCount":{"l":0,"ts":0}}',
      ],
      schema,
    );
    expect(merged).toBe('{"numRecords":2,"minValues":{"l":9007199254740993,"ts":"2024-01-01T00:00:00.000Z"},"maxValues":{"l":9007199254740995,"ts":"2024-01-01T01:00:00.000Z"},"nullCount":{"l":0,"ts":0}}');
  });
});
