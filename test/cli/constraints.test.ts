import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, type CliResult } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

/**
 * CHECK constraints and generated columns through the real `tributary` command: `append` and a
 * `run` stream compute generated columns and refuse a violating batch with one line naming the
 * constraint, the row and the values (exit 1), leaving the table (and the stream's commit log)
 * exactly as they were.
 */
const tmp = tempDir('tributary-cli-constraints-');
const SLOW = 300_000;
const ONE_ERROR_LINE = /^tributary: error \[([A-Z_]+)\]: .+\n$/;

/** `run` reports the query starting on stderr first; the failure is then its one error line, the last. */
function runError(r: CliResult): CliResult {
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines.filter((l) => l.startsWith('tributary: error')), r.stderr).toHaveLength(1);
  return { ...r, stderr: lines[lines.length - 1] + '\n' };
}

/** Every file and directory below `dir` with its size: the table "exactly as it was". */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map(String)
    .sort()
    .map((p) => `${p} ${statSync(path.join(dir, p)).isDirectory() ? '/' : statSync(path.join(dir, p)).size}`);
}

function expectOneError(r: CliResult, code: string, message: RegExp) {
  expect(r.stderr, r.stderr).toMatch(ONE_ERROR_LINE);
  expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  expect(ONE_ERROR_LINE.exec(r.stderr)![1]).toBe(code);
  expect(r.stderr).toMatch(message);
  expect(r.code).toBe(1);
}

const ndjson = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

describe('tributary append with constraints and generated columns', () => {
  it(
    'computes a generated partition column and refuses a violating line, naming constraint, row, values and input line',
    async () => {
      const dir = tmp();
      const table = path.join(dir, 'prices');
      const create = await cli(
        [
          'append',
          table,
          '--input',
          '-',
          '--schema',
          'coin STRING NOT NULL, price DOUBLE, ts TIMESTAMP NOT NULL, date DATE GENERATED ALWAYS AS (CAST(ts AS DATE))',
          '--partition-by',
          'date',
          '--property',
          'delta.constraints.positive_price=price > 0',
        ],
        { input: ndjson([{ coin: 'btc', price: 1, ts: '2024-02-29T23:59:59Z' }, { coin: 'eth', price: 2, ts: '2024-03-01T00:00:00Z' }]) },
      );
      expect(create.stderr).toBe('');
      expect(create.code).toBe(0);
      expect(readdirSync(table).filter((n) => n.startsWith('date=')).sort()).toEqual(['date=2024-02-29', 'date=2024-03-01']);
      const read = await cli(['read', table]);
      expect(
        read.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l))
          .map((r) => `${r.coin} ${r.date}`)
          .sort(),
      ).toEqual(['btc 2024-02-29', 'eth 2024-03-01']);

      const before = tree(table);
      const bad = await cli(['append', table, '--input', '-'], { input: ndjson([{ coin: 'sol', price: 3, ts: '2024-03-02T00:00:00Z' }, { coin: 'ada', price: -0.5, ts: '2024-03-02T01:00:00Z' }]) });
      expectOneError(bad, 'CONSTRAINT_VIOLATION', /^tributary: error \[CONSTRAINT_VIOLATION\]: row 1: CHECK constraint positive_price \(price > 0\) is violated by price = -0\.5; nothing was written \[stdin, line 2\]\n$/);
      expect(bad.stdout).toBe('');
      expect(tree(table)).toEqual(before);

      const wrongDate = await cli(['append', table, '--input', '-'], { input: ndjson([{ coin: 'sol', price: 3, ts: '2024-03-02T00:00:00Z', date: '2024-03-03' }]) });
      expectOneError(wrongDate, 'CONSTRAINT_VIOLATION', /row 0, column "date": its generation expression CAST\(ts AS DATE\) \(with ts = 2024-03-02T00:00:00\.000000Z\) gives 2024-03-02, but the row has 2024-03-03/);
      expect(tree(table)).toEqual(before);
    },
    SLOW,
  );

  it(
    'refuses, by name, a table whose constraint uses a function Tributary does not evaluate',
    async () => {
      const dir = tmp();
      const table = path.join(dir, 't');
      expect((await cli(['append', table, '--input', '-', '--schema', 's STRING'], { input: ndjson([{ s: 'A' }]) })).code).toBe(0);
      // What Spark's ALTER TABLE ADD CONSTRAINT commits: the metadata with the constraint, writer 3.
      const log = path.join(table, '_delta_log');
      const meta = readFileSync(path.join(log, '00000000000000000000.json'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .find((a) => a.metaData).metaData;
      meta.configuration['delta.constraints.shout'] = 'upper(s) = s';
      writeFileSync(path.join(log, '00000000000000000001.json'), `${JSON.stringify({ metaData: meta })}\n${JSON.stringify({ protocol: { minReaderVersion: 1, minWriterVersion: 3 } })}\n`);
      const before = tree(table);
      const r = await cli(['append', table, '--input', '-'], { input: ndjson([{ s: 'B' }]) });
      expectOneError(r, 'UNSUPPORTED_FEATURE', /checkConstraints \(CHECK constraint shout \(upper\(s\) = s\) uses the function upper, which Tributary does not evaluate\)/);
      expect(tree(table)).toEqual(before);
    },
    SLOW,
  );

  it(
    'refuses a --schema whose generation expression Tributary cannot evaluate, writing nothing',
    async () => {
      const dir = tmp();
      const table = path.join(dir, 't');
      const r = await cli(['append', table, '--input', '-', '--schema', "ts TIMESTAMP, m STRING GENERATED ALWAYS AS (date_format(ts, 'yyyy-MM-dd z'))"], { input: ndjson([{ ts: '2024-01-01T00:00:00Z' }]) });
      expectOneError(r, 'SCHEMA_INVALID', /generated column m \(GENERATED ALWAYS AS \(date_format\(ts, 'yyyy-MM-dd z'\)\)\) uses date_format pattern "yyyy-MM-dd z": the letter z, which Tributary does not evaluate/);
      expect(existsSync(table)).toBe(false);
    },
    SLOW,
  );
});

describe('tributary append with CHAR/VARCHAR columns', () => {
  it(
    'creates them as Spark does and refuses a value longer than its length with one line naming row, column, value and input line',
    async () => {
      const dir = tmp();
      const table = path.join(dir, 't');
      const first = await cli(['append', table, '--input', '-', '--schema', 'code CHAR(3), name VARCHAR(5), tags ARRAY<VARCHAR(2)>'], { input: ndjson([{ code: 'eur', name: 'euro', tags: ['a'] }]) });
      expect(first.code, first.stderr).toBe(0);
      const before = tree(table);
      const r = await cli(['append', table, '--input', '-'], { input: ndjson([{ code: 'usd', name: 'dollar' }]) });
      expectOneError(r, 'CONSTRAINT_VIOLATION', /^tributary: error \[CONSTRAINT_VIOLATION\]: row 0: column name is VARCHAR\(5\) and the value "dollar" is 6 characters long \(Spark refuses it: DELTA_EXCEED_CHAR_VARCHAR_LIMIT\); nothing was written \[stdin, line 1\]\n$/);
      const nested = await cli(['append', table, '--input', '-'], { input: ndjson([{ code: 'gbp' }, { code: 'chf', tags: ['ok', 'bad'] }]) });
      expectOneError(nested, 'CONSTRAINT_VIOLATION', /row 1: column tags\[1\] is VARCHAR\(2\) and the value "bad" is 3 characters long .* \[stdin, line 2\]/);
      expect(tree(table)).toEqual(before);
    },
    SLOW,
  );
});

describe('tributary run into a table with constraints and generated columns', () => {
  it(
    'fills the generated column in every batch and stops at the batch that violates a constraint, committing nothing of it',
    async () => {
      const dir = tmp();
      const table = path.join(dir, 'rate');
      const cp = path.join(dir, 'cp');
      const create = await cli(
        ['append', table, '--input', '-', '--schema', 'timestamp TIMESTAMP, value BIGINT, day DATE GENERATED ALWAYS AS (CAST(timestamp AS DATE))', '--property', 'delta.constraints.small=value < 7'],
        { input: '' },
      );
      expect(create.code, create.stderr).toBe(0);
      // Five rows per batch, twelve hours apart: batch 0 spans 1970-01-01 .. 1970-01-03.
      const run = () => cli(['run', '--format', 'rate', '--option', 'rowsPerBatch=5', '--option', 'advanceMillisPerBatch=43200000', '--checkpoint', cp, '--trigger', 'once', table]);
      const first = await run();
      expect(first.code, first.stderr).toBe(0);
      const rows = (await cli(['read', table])).stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .map((r) => `${r.value} ${r.timestamp} ${r.day}`)
        .sort();
      expect(rows).toEqual([
        '0 1970-01-01T00:00:00.000000Z 1970-01-01',
        '1 1970-01-01T00:00:00.000000Z 1970-01-01',
        '2 1970-01-01T00:00:00.000000Z 1970-01-01',
        '3 1970-01-01T00:00:00.000000Z 1970-01-01',
        '4 1970-01-01T00:00:00.000000Z 1970-01-01',
      ]);
      const tableBefore = tree(table);
      // The checkpoint's logs (the run's progress entries aside): bad input leaves them as they were.
      const logs = () => tree(cp).filter((p) => /^(offsets|commits|sources|metadata)/.test(p));
      const logsBefore = logs();
      const second = await run();
      expectOneError(runError(second), 'CONSTRAINT_VIOLATION', /row 2: CHECK constraint small \(value < 7\) is violated by value = 7; nothing was written/);
      expect(tree(table)).toEqual(tableBefore);
      // Not even the batch's offsets stay logged: the table refused it, so its plan is discarded
      // (a plan kept would be run again by every restart, whatever was fixed). A restart plans it
      // again, and the same rows fail the same way.
      expect(logs()).toEqual(logsBefore);
      const again = await run();
      expectOneError(runError(again), 'CONSTRAINT_VIOLATION', /row 2: CHECK constraint small \(value < 7\) is violated by value = 7/);
      expect(tree(table)).toEqual(tableBefore);
      expect(logs()).toEqual(logsBefore);
    },
    SLOW,
  );
});
