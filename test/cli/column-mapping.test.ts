import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-colmap-');
const lines = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const SCHEMA = 'id BIGINT, `24h change` DOUBLE, `a.b` STRING, `price (usd)` DECIMAL(10,2), `trade date` DATE';
const logOf = (table: string) => readdirSync(path.join(table, '_delta_log')).sort();
const commitOf = (table: string, v: number) =>
  readFileSync(path.join(table, '_delta_log', `${String(v).padStart(20, '0')}.json`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

describe('tributary with column mapping', () => {
  it('creates a table with --property delta.columnMapping.mode=name and names Spark refuses without it; appends, merges, optimizes, vacuums and reads them back', async () => {
    const table = path.join(tmp(), 'prices');
    const a = await cli(['append', table, '--input', '-', '--schema', SCHEMA, '--partition-by', 'trade date', '--property', 'delta.columnMapping.mode=name'], {
      input: lines([
        { id: 1, '24h change': -2.5, 'a.b': 'x', 'price (usd)': '1.25', 'trade date': '2026-11-28' },
        { id: 2, '24h change': null, 'a.b': null, 'price (usd)': 3, 'trade date': '2026-11-28' },
      ]),
    });
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    const v0 = commitOf(table, 0);
    const meta = v0.find((x) => x.metaData).metaData;
    expect(meta.configuration).toEqual({ 'delta.columnMapping.mode': 'name', 'delta.columnMapping.maxColumnId': '5' });
    expect(v0.find((x) => x.protocol).protocol).toEqual({ minReaderVersion: 2, minWriterVersion: 7, writerFeatures: ['columnMapping', 'appendOnly', 'invariants'] });
    const physical = Object.fromEntries(JSON.parse(meta.schemaString).fields.map((f: { name: string; metadata: Record<string, string> }) => [f.name, f.metadata['delta.columnMapping.physicalName']]));
    // The partition directory and partitionValues use the physical name, not "trade date".
    expect(readdirSync(table).filter((d) => d !== '_delta_log')).toEqual([`${physical['trade date']}=2026-11-28`]);
    expect(v0.find((x) => x.add).add.partitionValues).toEqual({ [physical['trade date']]: '2026-11-28' });

    // A second day, a new odd column by --merge-schema, and a file per append to compact.
    for (const [i, day] of [[3, '2026-11-28'], [4, '2026-11-29']] as const) {
      const r = await cli(['append', table, '--input', '-', '--merge-schema'], { input: lines([{ id: i, 'a.b': `y${i}`, 'new; col {x}': `n${i}`, 'trade date': day }]) });
      expect(r.stderr).toBe('');
    }
    expect(commitOf(table, 1).find((x) => x.metaData).metaData.configuration['delta.columnMapping.maxColumnId']).toBe('6');
    const opt = await cli(['optimize', table, '--where', "`trade date` = '2026-11-28'", '--json']);
    expect(opt.stderr).toBe('');
    expect(JSON.parse(opt.stdout)).toMatchObject({ numFilesRemoved: 2, numFilesAdded: 1 });
    const vac = await cli(['vacuum', table, '--retention', '0h', '--force', '--json']);
    expect(JSON.parse(vac.stdout).deleted).toHaveLength(2);
    const read = (await cli(['read', table])).stdout.trim().split('\n').map((l) => JSON.parse(l)).sort((x, y) => x.id - y.id);
    expect(read).toEqual([
      { id: 1, '24h change': -2.5, 'a.b': 'x', 'price (usd)': '1.25', 'trade date': '2026-11-28', 'new; col {x}': null },
      { id: 2, '24h change': null, 'a.b': null, 'price (usd)': '3.00', 'trade date': '2026-11-28', 'new; col {x}': null },
      { id: 3, '24h change': null, 'a.b': 'y3', 'price (usd)': null, 'trade date': '2026-11-28', 'new; col {x}': 'n3' },
      { id: 4, '24h change': null, 'a.b': 'y4', 'price (usd)': null, 'trade date': '2026-11-29', 'new; col {x}': 'n4' },
    ]);
    const insp = JSON.parse((await cli(['inspect', table, '--json'])).stdout);
    expect(insp.partitionColumns).toEqual(['trade date']);
    expect(insp.numRecords).toBe(4);
  });

  it('refuses, in one line and writing nothing: odd names without column mapping, an unknown mode, maxColumnId as a property', async () => {
    const dir = tmp();
    const cases: [string[], RegExp][] = [
      [['--schema', SCHEMA], /^tributary: error \[SCHEMA_INVALID\]: column name "24h change" contains a space, which Spark refuses in Delta column names \(.*a table with column mapping allows them\)\n$/],
      [['--schema', 'id BIGINT', '--property', 'delta.columnMapping.mode=names'], /^tributary: error \[INVALID_ARGUMENT\]: table property delta.columnMapping.mode="names": must be none, name or id\n$/],
      [['--schema', 'id BIGINT', '--property', 'delta.columnMapping.mode=name', '--property', 'delta.columnMapping.maxColumnId=9'], /^tributary: error \[INVALID_ARGUMENT\]: table property delta.columnMapping.maxColumnId="9": it is maintained by the writer, not set by users .*\n$/],
    ];
    for (const [i, [extra, message]] of cases.entries()) {
      const table = path.join(dir, `t${i}`);
      const r = await cli(['append', table, '--input', '-', ...extra], { input: lines([{ id: 1 }]) });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(existsSync(table)).toBe(false);
    }
  });

  it('names the logical column in row and partition errors, and leaves the table as it was', async () => {
    const table = path.join(tmp(), 't');
    await cli(['append', table, '--input', '-', '--schema', SCHEMA, '--partition-by', 'a.b', '--property', 'delta.columnMapping.mode=id'], { input: lines([{ id: 1, 'a.b': 'p' }]) });
    const before = [logOf(table), readdirSync(table).sort()];
    const bad = await cli(['append', table, '--input', '-'], { input: lines([{ id: 2 }, { id: 3, 'price (usd)': 'cheap' }]) });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^tributary: error \[ROW_INVALID\]: row 1, column "price \(usd\)": value "cheap" .*\[stdin, line 2\]\n$/);
    const long = await cli(['append', table, '--input', '-'], { input: lines([{ id: 4, 'a.b': 'é'.repeat(200) }]) });
    expect(long.code).toBe(1);
    expect(long.stderr).toMatch(/^tributary: error \[PARTITION_INVALID\]: row 0, column "a\.b": value "é+\.\.\. \(200 characters\) makes a partition directory name of \d+ bytes after Hive escaping; file systems allow 255/);
    expect([logOf(table), readdirSync(table).sort()]).toEqual(before);
  });

  it('refuses to write to a mapped table whose log breaks the mapping, naming what is wrong', async () => {
    const table = path.join(tmp(), 't');
    await cli(['append', table, '--input', '-', '--schema', 'id BIGINT, `a b` STRING', '--property', 'delta.columnMapping.mode=name'], { input: lines([{ id: 1, 'a b': 'x' }]) });
    // Another writer's commit left maxColumnId below the ids in the schema.
    const meta = commitOf(table, 0).find((x) => x.metaData).metaData;
    writeFileSync(path.join(table, '_delta_log', `${'1'.padStart(20, '0')}.json`), JSON.stringify({ metaData: { ...meta, configuration: { ...meta.configuration, 'delta.columnMapping.maxColumnId': '1' } } }) + '\n');
    const before = [logOf(table), readdirSync(table).sort()];
    const r = await cli(['append', table, '--input', '-'], { input: lines([{ id: 2, 'a b': 'y' }]) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tributary: error \[LOG_CORRUPT\]: cannot write to .*: its column mapping \(mode name\) is broken: delta.columnMapping.maxColumnId is "1", below the largest column id 2; Spark refuses to write to it too\n$/);
    expect([logOf(table), readdirSync(table).sort()]).toEqual(before);
    // Reading does not need maxColumnId.
    expect((await cli(['read', table])).stdout).toBe('{"id":1,"a b":"x"}\n');
  });
});
