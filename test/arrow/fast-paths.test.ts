import { describe, expect, it } from 'vitest';
import * as arrow from 'apache-arrow';
import { makeColumnBuilder } from '../../src/arrow/builders.js';
import { rowsToRecordBatch } from '../../src/arrow/record-batch.js';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { computeStats, StatsCollector } from '../../src/delta/stats.js';
import { TributaryError } from '../../src/errors.js';
import { mulberry32 } from '../../scripts/bench/gen.js';

/** The same column built by the per-value path (append), the reference for the column loops. */
function slowColumn(values: unknown[], ddlType: string): arrow.Data {
  const field = parseDdl(`c ${ddlType}`).fields[0];
  const b = makeColumnBuilder(field.type, field.nullable).setPath('c');
  values.forEach((v, i) => b.append(v, i));
  return b.finish();
}

function fastColumn(values: unknown[], ddlType: string): arrow.Data {
  const schema = parseDdl(`c ${ddlType}`);
  return rowsToRecordBatch(values.map((c) => ({ c })), schema).data.children[0];
}

function sameData(a: arrow.Data, b: arrow.Data) {
  expect(a.length).toBe(b.length);
  expect(a.nullCount).toBe(b.nullCount);
  expect(arrowToRows(new arrow.RecordBatch({ c: a as never }))).toEqual(arrowToRows(new arrow.RecordBatch({ c: b as never })));
}

describe('column loops agree with the per-value path', () => {
  const cases: [string, unknown[]][] = [
    ['STRING', ['bitcoin', '', null, 'é', 'naïve café', '😀 emoji', 'x'.repeat(65), 'ascii-then-ü', 'ü'.repeat(70)]],
    ['DOUBLE', [0, -0, 1.5, null, -1e308, '2.5', 'NaN', 'Infinity', Number.MIN_VALUE]],
    ['FLOAT', [0.1, null, 3, '4.25']],
    ['BIGINT', [0, -1, 2 ** 53 - 1, -(2 ** 53) + 1, null, '9223372036854775807', 9223372036854775807n, -9223372036854775808n, 4294967296, -4294967297]],
    ['TIMESTAMP', [0, -1, 1704067200123, new Date(1704067200123), new Date(-86_400_000 * 365 * 600), '2024-01-01T00:00:00.123456Z', null, 1.5, 10n]],
    ['TIMESTAMP_NTZ', [0, 1704067200123, '2024-01-01T00:00:00.123456']],
    ['DATE', [new Date('2024-02-29T00:00:00Z'), new Date('1969-12-31T23:00:00Z'), '1582-10-15', null]],
    ['BOOLEAN', [true, false, null, 'true']],
    [
      'DECIMAL(18,4)',
      ['0', '-0', '1.', '.5', '-.5', '12345678901.2345', '-99999999999999.9999', '1.50000', '+7', '1e3', 3.25, null, '0.0001', '-0.0001', '99999999999.9999'],
    ],
    ['DECIMAL(38,18)', ['1.5', '-1.5', '99999999999999999999.999999999999999999', '123456789012345']],
    ['DECIMAL(5,2)', ['999.99', '-999.99', '0.01']],
  ];
  for (const [type, values] of cases) {
    it(type, () => sameData(fastColumn(values, type), slowColumn(values, type)));
  }

  it('refuse the same values with the same message', () => {
    const bad: [string, unknown][] = [
      ['DECIMAL(5,2)', '1000.00'],
      ['DECIMAL(5,2)', '1.234'],
      ['DECIMAL(18,4)', '12345678901234567.0'],
      ['DECIMAL(18,4)', 'abc'],
      ['BIGINT', 2 ** 53],
      ['BIGINT', 1.5],
      ['TIMESTAMP', new Date(NaN)],
      ['DATE', new Date(NaN)],
      ['DOUBLE', true],
      ['STRING', 5],
      ['BOOLEAN', 1],
    ];
    for (const [type, v] of bad) {
      const message = (f: () => unknown) => {
        try {
          f();
        } catch (e) {
          if (e instanceof TributaryError) return e.message;
          throw e;
        }
        throw new Error(`${type} ${String(v)} was accepted`);
      };
      expect(message(() => fastColumn([v], type))).toBe(message(() => slowColumn([v], type)));
    }
  });
});

describe('stats collected over chunks', () => {
  it('equal the stats of the whole column, for every type', () => {
    const schema = parseDdl('l BIGINT, ts TIMESTAMP, d DECIMAL(38,4), s STRING, f DOUBLE, dt DATE, st STRUCT<x: INT, y: STRING>');
    const r = mulberry32(7);
    const word = () => Array.from({ length: 1 + Math.floor(r() * 40) }, () => [...'aé😀zA'][Math.floor(r() * 5)]).join('');
    const rows = Array.from({ length: 5000 }, () => ({
      l: r() < 0.05 ? null : BigInt(Math.floor((r() - 0.5) * 2 ** 52)) * BigInt(Math.floor(r() * 4096)),
      ts: r() < 0.05 ? null : Math.floor((r() - 0.5) * 4e12),
      d: r() < 0.05 ? null : `${r() < 0.5 ? '-' : ''}${Math.floor(r() * 1e9)}${Math.floor(r() * 1e9)}.${Math.floor(r() * 1e4)}`,
      s: r() < 0.05 ? null : word(),
      f: r() < 0.05 ? null : (r() - 0.5) * 1e6,
      dt: r() < 0.05 ? null : new Date(Math.floor((r() - 0.5) * 1e5) * 86_400_000),
      st: r() < 0.1 ? null : { x: r() < 0.1 ? null : Math.floor((r() - 0.5) * 1e6), y: word() },
    }));
    const whole = rowsToRecordBatch(rows, schema);
    const c = new StatsCollector(schema);
    for (let i = 0; i < rows.length; i += 777) c.add(rowsToRecordBatch(rows.slice(i, i + 777), schema).data);
    const expected = computeStats(whole.data, schema);
    expect(c.toJSON()).toBe(expected);
    // And against values computed here by plain comparisons.
    const parsed = JSON.parse(expected);
    const ls = rows.map((x) => x.l).filter((x) => x !== null) as bigint[];
    expect(expected).toContain(`"l":${ls.reduce((a, b) => (b < a ? b : a)).toString()}`);
    expect(parsed.nullCount.l).toBe(rows.length - ls.length);
    expect(parsed.maxValues.f).toBe(Math.max(...rows.map((x) => x.f).filter((x) => x !== null) as number[]));
    expect(parsed.nullCount.st.x).toBe(rows.filter((x) => x.st === null || x.st.x === null).length);
  });
});
