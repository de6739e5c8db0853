import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

/**
 * Class 8 of issue 10: a process killed while the storage layer stages a write leaves a hidden
 * `.<name>.<uuid>.tmp`; VACUUM lists and removes those once they are old enough that no live
 * writer can be using them, and touches no other hidden file.
 */
const tmp = tempDir('tributary-leftovers-');

const ndjson = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const STAGING = /^\..+\.[0-9a-f-]{36}\.tmp$/;

/** Every file below `dir`, relative, sorted. */
function files(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(dir, rel ? `${rel}/${e.name}` : e.name) : [rel ? `${rel}/${e.name}` : e.name]))
    .sort();
}

/** Runs a CLI command that the `during-staging` failpoint kills with SIGKILL. */
async function killedWhileStaging(args: string[], input: string): Promise<void> {
  const r = await cli(args, { input, env: { TRIBUTARY_FAILPOINTS: 'during-staging' } });
  expect(r.stderr).toMatch(/failpoint during-staging: killing process/);
  expect(r.code).toBe(null); // killed by the signal, not exited
}

const hoursAgo = (file: string, h: number) => {
  const t = Date.now() / 1000 - h * 3600;
  utimesSync(file, t, t);
};

describe('VACUUM and the staging files of killed writes', () => {
  it('lists (--dry-run, --json) and removes leftovers older than an hour, leaves young ones and hidden files not ours, and the table reads back exactly', async () => {
    const table = tmp();
    const rows = [
      { id: 1, p: 'a', note: 'x' },
      { id: 2, p: 'b', note: null },
    ];
    expect((await cli(['append', table, '--input', '-', '--schema', 'id BIGINT, p STRING, note STRING', '--partition-by', 'p'], { input: ndjson(rows) })).code).toBe(0);
    const committed = files(table);

    // Killed while staging a data file (into a new partition directory) ...
    await killedWhileStaging(['append', table, '--input', '-'], ndjson([{ id: 3, p: 'c' }]));
    // ... and while staging a commit (a schema change with no rows stages only the commit).
    await killedWhileStaging(['append', table, '--input', '-', '--schema', 'id BIGINT, p STRING, note STRING, extra INT', '--merge-schema'], '');
    const leftovers = files(table).filter((f) => !committed.includes(f));
    expect(leftovers).toHaveLength(2);
    const [dataLeftover] = leftovers.filter((f) => f.startsWith('p=c/'));
    const [logLeftover] = leftovers.filter((f) => f.startsWith('_delta_log/'));
    expect(path.basename(dataLeftover)).toMatch(/^\.part-00000-.*\.snappy\.parquet\.[0-9a-f-]{36}\.tmp$/);
    expect(path.basename(logLeftover)).toMatch(/^\.00000000000000000001\.json\.[0-9a-f-]{36}\.tmp$/);
    // The table does not see them: still version 0 with its two rows.
    expect(JSON.parse((await cli(['inspect', table, '--json'])).stdout)).toMatchObject({ version: 0, numRecords: 2 });

    // A third, killed just now: a live writer could still be staging it.
    await killedWhileStaging(['append', table, '--input', '-'], ndjson([{ id: 4, p: 'a' }]));
    const young = files(table).find((f) => STAGING.test(path.basename(f)) && !leftovers.includes(f))!;
    expect(young).toMatch(/^p=a\//);
    // Hidden files that are not ours: a Hadoop checksum, another tool's temp files, a staging-like
    // name under another `_` directory, and one that only looks like ours.
    const notOurs = ['p=a/.part-00000-x.snappy.parquet.crc', '_delta_log/.tmp-spark', '_delta_log/.00000000000000000001.json.not-a-uuid.tmp', '_tools/.state.json.0b9a5b2e-6f3c-4b8e-9d7a-1c2d3e4f5a6b.tmp'];
    mkdirSync(path.join(table, '_tools'));
    for (const f of notOurs) writeFileSync(path.join(table, f), 'not ours');
    for (const f of [...leftovers, ...notOurs]) hoursAgo(path.join(table, f), 2);

    const dry = await cli(['vacuum', table, '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, deleted: [], leftovers: [...leftovers].sort() });
    const text = await cli(['vacuum', table, '--dry-run']);
    expect(text.stdout).toContain(`would delete ${dataLeftover} (left by an interrupted write)\n`);
    expect(text.stdout).toMatch(/would delete 0 file\(s\), .*, and 2 staging file\(s\) left by interrupted writes\n$/);
    expect(files(table)).toEqual(expect.arrayContaining([...leftovers, young, ...notOurs]));

    const real = await cli(['vacuum', table, '--json']);
    expect(real.code).toBe(0);
    expect(JSON.parse(real.stdout)).toMatchObject({ dryRun: false, leftovers: [...leftovers].sort() });
    const after = files(table);
    for (const f of leftovers) expect(after).not.toContain(f);
    for (const f of [young, ...notOurs]) expect(after).toContain(f);

    // The table reads back exactly, and takes the writes that were killed.
    const read = async () => (await cli(['read', table])).stdout.trim().split('\n').map((l) => JSON.parse(l)).sort((a, b) => a.id - b.id);
    expect(await read()).toEqual(rows);
    expect((await cli(['append', table, '--input', '-'], { input: ndjson([{ id: 3, p: 'c' }]) })).code).toBe(0);
    expect(await read()).toEqual([...rows, { id: 3, p: 'c', note: null }]);

    // A forced retention under an hour shortens the wait to the retention: the young one goes too.
    const forced = await cli(['vacuum', table, '--retention', '0h', '--force', '--json']);
    expect(JSON.parse(forced.stdout).leftovers).toEqual([young]);
    expect(files(table)).toEqual(expect.arrayContaining(notOurs));
    expect(files(table).filter((f) => STAGING.test(path.basename(f)) && !notOurs.includes(f))).toEqual([]);
  }, 180_000);
});
