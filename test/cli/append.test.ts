import { readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-cli-');

const lines = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

describe('tributary append / inspect / history / read', () => {
  it('creates, appends, inspects, shows history and reads back exact values', async () => {
    const dir = tmp();
    const table = path.join(dir, 'prices');
    const input = path.join(dir, 'in.ndjson');
    writeFileSync(
      input,
      '{"coin":"bitcoin","price":96123.45,"big":9223372036854775807,"amt":"12345678901234.5678","ts":"2026-11-28T10:00:00.123456Z","date":"2026-11-28"}\n' +
        '\n' +
        '{"coin":"eth / usd:1","price":null,"big":-9007199254740993,"amt":0.1,"ts":"2026-11-27T23:59:59Z","date":"2026-11-27"}\n',
    );
    const schema = 'coin STRING NOT NULL, price DOUBLE, big BIGINT, amt DECIMAL(18,4), ts TIMESTAMP, date DATE';
    const a = await cli(['append', table, '--input', input, '--schema', schema, '--partition-by', 'date']);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/appended 2 rows in 2 file\(s\) as version 0/);

    const b = await cli(['append', table, '--input', '-', '--engine', 'parquetjs'], { input: lines([{ coin: 'solana', price: 1.5, big: 1, amt: '1', ts: '2026-11-28T00:00:00Z', date: '2026-11-28' }]) });
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(/as version 1/);

    const insp = JSON.parse((await cli(['inspect', table, '--json'])).stdout);
    expect(insp).toMatchObject({ version: 1, partitionColumns: ['date'], numFiles: 3, numRecords: 3, protocol: { minReaderVersion: 1, minWriterVersion: 2 } });
    expect(insp.schemaDdl).toBe('coin STRING NOT NULL, price DOUBLE, big BIGINT, amt DECIMAL(18,4), ts TIMESTAMP, date DATE');
    const text = (await cli(['inspect', table])).stdout;
    expect(text).toMatch(/records\s+3/);
    expect((await cli(['inspect', table, '--version', '0', '--json'])).stdout).toMatch(/"numRecords": 2/);

    const hist = JSON.parse((await cli(['history', table, '--json'])).stdout);
    expect(hist.map((h: { version: number }) => h.version)).toEqual([1, 0]);
    expect(hist[0]).toMatchObject({ operation: 'WRITE', operationParameters: { mode: 'Append', partitionBy: '["date"]' }, operationMetrics: { numOutputRows: '1' }, readVersion: 0 });
    expect((await cli(['history', table])).stdout).toMatch(/^version\s+timestamp\s+operation/);

    const rows = (await cli(['read', table])).stdout.trim().split('\n').sort();
    expect(rows).toEqual(
      [
        '{"coin":"bitcoin","price":96123.45,"big":9223372036854775807,"amt":"12345678901234.5678","ts":"2026-11-28T10:00:00.123456Z","date":"2026-11-28"}',
        '{"coin":"eth / usd:1","price":null,"big":-9007199254740993,"amt":"0.1000","ts":"2026-11-27T23:59:59.000000Z","date":"2026-11-27"}',
        '{"coin":"solana","price":1.5,"big":1,"amt":"1.0000","ts":"2026-11-28T00:00:00.000000Z","date":"2026-11-28"}',
      ].sort(),
    );
    expect((await cli(['read', table, '--version', '0'])).stdout.trim().split('\n')).toHaveLength(2);
  });

  it('prints one clear line and exits non-zero on bad input, leaving the table as it was', async () => {
    const dir = tmp();
    const table = path.join(dir, 't');
    const ok = await cli(['append', table, '--input', '-', '--schema', 'id BIGINT NOT NULL, ts TIMESTAMP, d DECIMAL(5,2)'], { input: lines([{ id: 1, ts: '2026-01-01T00:00:00Z', d: 1 }]) });
    expect(ok.code).toBe(0);
    const snapshot = () => JSON.stringify([readdirSync(table).sort(), readdirSync(path.join(table, '_delta_log')).sort()]);
    const before = snapshot();
    const cases: [string, RegExp][] = [
      [lines([{ id: 2 }, { id: 3, ts: 'tomorrow' }]), /error \[ROW_INVALID\]: row 1, column "ts": value "tomorrow" cannot be parsed as an ISO-8601 timestamp .*\[stdin, line 2\]/],
      [lines([{ id: 2, d: '1234.5' }]), /row 0, column "d": value "1234.5" does not fit in decimal\(5,2\)/],
      [lines([{ id: 2, d: '1.234' }]), /row 0, column "d": value "1.234" has 3 digits after the point/],
      [lines([{ id: null }]), /row 0, column "id": null in a column that is NOT NULL/],
      [lines([{ id: 1, other: 2 }]), /row 0, column "other": not a column of the table/],
      ['{"id": 1}\n{"id": \n', /error \[INPUT_PARSE\]: stdin, line 2: not valid JSON/],
      [lines([{ id: 9223372036854775808n.toString() }]), /row 0, column "id": value "9223372036854775808" does not fit in a 64-bit long/],
    ];
    for (const [input, re] of cases) {
      const r = await cli(['append', table, '--input', '-'], { input });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
      expect(snapshot()).toBe(before);
    }
    const noSchema = await cli(['append', path.join(dir, 'new'), '--input', '-'], { input: lines([{ id: 1 }]) });
    expect(noSchema.code).toBe(1);
    expect(noSchema.stderr).toMatch(/no Delta table at .*new; pass --schema to create it/);
    const badEngine = await cli(['append', table, '--input', '-', '--engine', 'fast'], { input: '' });
    expect(badEngine.code).toBe(2);
    expect(badEngine.stderr).toMatch(/Allowed choices are parquet-wasm, parquetjs/);
    const missing = await cli(['inspect', path.join(dir, 'nothing')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/TABLE_NOT_FOUND/);
  });

  it('adds a column with --merge-schema', async () => {
    const dir = tmp();
    const table = path.join(dir, 't');
    await cli(['append', table, '--input', '-', '--schema', 'id BIGINT'], { input: lines([{ id: 1 }]) });
    const r = await cli(['append', table, '--input', '-', '--merge-schema'], { input: lines([{ id: 2, note: 'hi' }]) });
    expect(r.code).toBe(0);
    const insp = JSON.parse((await cli(['inspect', table, '--json'])).stdout);
    expect(insp.schemaDdl).toBe('id BIGINT, note STRING');
  });
});
