import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { DeltaTable } from '../../src/delta/table.js';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-run-options-');

const rows = async (table: string) => arrowToRows(await (await DeltaTable.open(table)).read()).length;

/** A job file whose writeStream gets one extra option. */
function job(dir: string, key: string): string {
  const file = path.join(dir, 'job.mjs');
  writeFileSync(
    file,
    `export default (t, { args: [cp, table] }) => t.readStream.format('rate').option('rowsPerBatch', 4).load()
  .writeStream.option('checkpointLocation', cp).option(${JSON.stringify(key)}, 'true').trigger({ once: true }).start(table);\n`,
  );
  return file;
}

describe('tributary run: unknown option keys', () => {
  it('a misspelt source option is refused: exit 1, one line naming it and the option meant, nothing written', async () => {
    const dir = tmp();
    const cp = path.join(dir, 'cp');
    const table = path.join(dir, 'table');
    const r = await cli(['run', '--format', 'rate', '--option', 'rowsPerBach=5', '--checkpoint', cp, '--trigger', 'once', table]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('tributary: error [INVALID_ARGUMENT]: unknown option rowsPerBach for source rate; did you mean rowsPerBatch?\n');
    expect(r.stdout).toBe('');
    expect(existsSync(cp)).toBe(false);
    expect(existsSync(table)).toBe(false);
  });

  it('an unknown source option is a warning naming it and the known ones; the run proceeds', async () => {
    const dir = tmp();
    const table = path.join(dir, 'table');
    const r = await cli(['run', '--format', 'rate', '--option', 'rowsPerBatch=5', '--option', 'rampUpTime=5s', '--checkpoint', path.join(dir, 'cp'), '--trigger', 'once', '--json', table]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('tributary: warning: unknown option rampUpTime for source rate is ignored (known options: advanceMillisPerBatch, maxBytesPerBatch, maxRowsPerBatch, rowsPerBatch, rowsPerSecond, startTimestamp)\n');
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(await rows(table)).toBe(5);
  });

  it('a misspelt writeStream option in a job is refused before the checkpoint or table exist', async () => {
    const dir = tmp();
    const cp = path.join(dir, 'cp');
    const table = path.join(dir, 'table');
    const r = await cli(['run', job(dir, 'mergeSchem'), cp, table]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('tributary: error [INVALID_ARGUMENT]: unknown option mergeSchem for writeStream format delta; did you mean mergeSchema?\n');
    expect(existsSync(cp)).toBe(false);
    expect(existsSync(table)).toBe(false);
  });

  it('an unknown writeStream option in a job is a warning; the run proceeds', async () => {
    const dir = tmp();
    const table = path.join(dir, 'table');
    const r = await cli(['run', job(dir, 'optimizeWrite'), path.join(dir, 'cp'), table, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^tributary: warning: unknown option optimizeWrite for writeStream format delta is ignored \(known options: autoCompact, autoCompact\.everyCommits, .*checkpointLocation, .*targetFileSize\)\n$/);
    expect(await rows(table)).toBe(4);
  });
});

describe('tributary run --partition-by on an existing table', () => {
  it('is refused when it names other columns than the table is partitioned by (it was ignored), and taken when they match', async () => {
    const dir = tmp();
    const table = path.join(dir, 'table');
    const created = await cli(['append', table, '--input', '-', '--schema', 'timestamp TIMESTAMP, value BIGINT'], { input: '' });
    expect(created.code, created.stderr).toBe(0);
    const run = (cp: string, by: string) => cli(['run', '--format', 'rate', '--option', 'rowsPerBatch=3', '--checkpoint', path.join(dir, cp), '--trigger', 'once', '--partition-by', by, table]);
    const r = await run('cp1', 'value');
    expect(r.code).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('tributary: error'));
    expect(errors, r.stderr).toEqual([`tributary: error [INVALID_ARGUMENT]: table ${table} is partitioned by [], not [value] (partitionBy applies when the stream creates the table)`]);
    expect(await rows(table)).toBe(0);
    // A partitioned table: the same columns are fine.
    const t2 = path.join(dir, 't2');
    expect((await cli(['append', t2, '--input', '-', '--schema', 'timestamp TIMESTAMP, value BIGINT', '--partition-by', 'value'], { input: '' })).code).toBe(0);
    const ok = await cli(['run', '--format', 'rate', '--option', 'rowsPerBatch=3', '--checkpoint', path.join(dir, 'cp2'), '--trigger', 'once', '--partition-by', 'value', t2]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await rows(t2)).toBe(3);
  });
});

describe('tributary run --schema narrowing a source column', () => {
  it('a value the narrower type cannot hold is one ROW_INVALID line showing the number as users write it (it read 128n)', async () => {
    const dir = tmp();
    const table = path.join(dir, 'table');
    const r = await cli(['run', '--format', 'rate', '--option', 'rowsPerBatch=200', '--schema', 'timestamp TIMESTAMP, value TINYINT', '--checkpoint', path.join(dir, 'cp'), '--trigger', 'once', table]);
    expect(r.code).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('tributary: error'));
    expect(errors, r.stderr).toEqual(['tributary: error [ROW_INVALID]: row 128, column "value": value 128 does not fit in byte (-128 to 127) (column type byte)']);
  });
});
