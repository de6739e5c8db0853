import { existsSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { optimize } from '../../src/delta/operations/optimize.js';
import { vacuum } from '../../src/delta/operations/vacuum.js';
import { DeltaTable } from '../../src/delta/table.js';
import { TributaryError } from '../../src/errors.js';
import { deleteRowsWithDv } from '../support/deletion-vectors.js';
import { tempDir } from '../support/tmp.js';

/**
 * Tables with deletion vectors, made the way Spark's DELETE makes them (a commit re-adding the
 * logical file with a DV, test/support/deletion-vectors.ts): the reader leaves the deleted rows
 * out at every version, appends keep them, OPTIMIZE rewrites the files without them and removes
 * the logical files with their DVs, VACUUM keeps the DV files live and recent files use. Spark
 * judges the same operations on Spark-made tables in test/interop/test_deletion_vectors.py.
 */
const tmp = tempDir('tributary-dv-table-');
const SCHEMA = parseDdl('id BIGINT NOT NULL, s STRING, day STRING');
const row = (i: number) => ({ id: i, s: `s${i}`, day: i % 2 ? 'odd' : 'even' });

const ids = async (t: DeltaTable, version?: number) => arrowToRows(await t.read({ version })).map((r) => Number(r.id)).sort((a, b) => a - b);
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
/** The data file paths of the table, in the order of the appends that wrote them. */
const addPaths = (dir: string, version: number) =>
  readFileSync(path.join(dir, '_delta_log', `${String(version).padStart(20, '0')}.json`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { add?: { path: string } })
    .flatMap((a) => (a.add ? [a.add.path] : []));

/** `appends` unpartitioned appends of 10 rows each (one file per append, rows in order). */
async function table(dir: string, appends: number, partitioned = false): Promise<DeltaTable> {
  const t = await DeltaTable.forPath(dir);
  for (let a = 0; a < appends; a++) await t.append(range(a * 10, a * 10 + 10).map(row), { create: { schema: SCHEMA, partitionColumns: partitioned ? ['day'] : [] } });
  return t;
}

describe('reading tables with deletion vectors', () => {
  it('leaves out the rows DVs delete, whatever their storage, at every version', async () => {
    const dir = tmp();
    await table(dir, 3);
    const [f0] = addPaths(dir, 0);
    const [f1] = addPaths(dir, 1);
    const [f2] = addPaths(dir, 2);
    const v3 = deleteRowsWithDv(dir, f0, [0, 9]); // ids 0, 9 (UUID-named file)
    const v4 = deleteRowsWithDv(dir, f1, [3], { storage: 'i' }); // id 13, inline
    const v5 = deleteRowsWithDv(dir, f2, [5, 6, 7], { storage: 'p' }); // ids 25..27, absolute path
    const v6 = deleteRowsWithDv(dir, f0, [4], { prefix: 'ab' }); // id 4 too, a second DV replacing the first
    const t = await DeltaTable.open(dir);
    expect(t.version).toBe(v6);
    expect(await ids(t)).toEqual(range(0, 30).filter((i) => ![0, 9, 13, 25, 26, 27, 4].includes(i)));
    expect(await ids(t, v3 - 1)).toEqual(range(0, 30));
    expect(await ids(t, v3)).toEqual(range(0, 30).filter((i) => ![0, 9].includes(i)));
    expect(await ids(t, v4)).toEqual(range(0, 30).filter((i) => ![0, 9, 13].includes(i)));
    expect(await ids(t, v5)).toEqual(range(0, 30).filter((i) => ![0, 9, 13, 25, 26, 27].includes(i)));
    // The whole rows survive, not just the ids.
    const rows = arrowToRows(await t.read());
    expect(rows.find((r) => Number(r.id) === 14)).toEqual({ id: 14n, s: 's14', day: 'even' });
    expect(t.snapshot.files).toHaveLength(3);
  });

  it('names a missing DV file and a damaged one', async () => {
    const dir = tmp();
    await table(dir, 1);
    const [f0] = addPaths(dir, 0);
    deleteRowsWithDv(dir, f0, [1]);
    const dv = readdirSync(dir).find((n) => n.startsWith('deletion_vector_'))!;
    const bytes = readFileSync(path.join(dir, dv));
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(path.join(dir, dv), bytes);
    const t = await DeltaTable.open(dir);
    await expect(t.read()).rejects.toThrow(new RegExp(`deletion vector file ${dv} \\(at offset 1, for ${f0}\\) of .* is damaged: checksum mismatch`));
    rmSync(path.join(dir, dv));
    const e = await t.read().catch((x) => x as TributaryError);
    expect((e as TributaryError).code).toBe('DATA_FILE_MISSING');
  });

  it('appends to a table with deletion vectors and keeps them applied', async () => {
    const dir = tmp();
    await table(dir, 1);
    deleteRowsWithDv(dir, addPaths(dir, 0)[0], [2, 3]);
    const t = await DeltaTable.open(dir);
    await t.append(range(10, 15).map(row));
    expect(await ids(t)).toEqual([0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  });
});

describe('OPTIMIZE with deletion vectors', () => {
  it('rewrites files without their deleted rows and removes each logical file with its DV', async () => {
    const dir = tmp();
    await table(dir, 4, true);
    const files = [0, 1, 2, 3].flatMap((v) => addPaths(dir, v));
    // Each append wrote an "even" and an "odd" file of 5 rows: delete some rows of three of them.
    deleteRowsWithDv(dir, files[0], [0, 1]);
    deleteRowsWithDv(dir, files[3], [4], { storage: 'i' });
    deleteRowsWithDv(dir, files[5], [0, 1, 2, 3, 4]);
    const t = await DeltaTable.open(dir);
    const before = await ids(t);
    expect(before).toHaveLength(40 - 8);
    const m = await optimize(t);
    expect(m.numFilesRemoved).toBe(8);
    expect(m.numFilesAdded).toBe(2);
    expect(await ids(t)).toEqual(before);
    expect(t.snapshot.files.every((f) => !f.deletionVector)).toBe(true);
    const log = readFileSync(path.join(dir, '_delta_log', `${String(m.version).padStart(20, '0')}.json`), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const removes = log.filter((a) => a.remove).map((a) => a.remove);
    expect(removes.filter((r) => r.deletionVector)).toHaveLength(3);
    const info = log.find((a) => a.commitInfo).commitInfo;
    expect(info.operationMetrics).toMatchObject({ numDeletionVectorsRemoved: '3', numDeletionVectorRowsRemoved: '8' });
    // The new files' stats count the rows that are there, not the deleted ones.
    const added = log.filter((a) => a.add).map((a) => JSON.parse(a.add.stats).numRecords as number);
    expect(added.reduce((a, b) => a + b, 0)).toBe(32);
    // Time travel before the OPTIMIZE still applies the DVs.
    expect(await ids(t, m.version! - 1)).toEqual(before);
  });

  it('also compacts a large file once its DV deletes more than 5% of its rows, like Spark', async () => {
    const dir = tmp();
    const t0 = await DeltaTable.forPath(dir);
    await t0.append(range(0, 2000).map(row), { create: { schema: SCHEMA } });
    await t0.append(range(2000, 2010).map(row));
    const [big] = addPaths(dir, 0);
    const sizes = t0.snapshot.files.map((f) => f.size).sort((a, b) => b - a);
    // A target both files fit in together, for which the big one is not small (>= 75%).
    const target = sizes[0] + sizes[1];
    expect(sizes[0]).toBeGreaterThanOrEqual(0.75 * target);
    expect((await optimize(await DeltaTable.open(dir), { targetFileSize: target })).numFilesRemoved).toBe(0);
    // 2.5% of its rows deleted: still not worth rewriting.
    deleteRowsWithDv(dir, big, range(0, 50));
    expect((await optimize(await DeltaTable.open(dir), { targetFileSize: target })).numFilesRemoved).toBe(0);
    // 10%: rewritten with the small file, without the deleted rows.
    deleteRowsWithDv(dir, big, range(50, 200));
    const t = await DeltaTable.open(dir);
    const m = await optimize(t, { targetFileSize: target });
    expect(m).toMatchObject({ numFilesRemoved: 2, numFilesAdded: 1 });
    expect(await ids(t)).toEqual(range(200, 2010));
  });

  it('drops a bin whose every row was deleted', async () => {
    const dir = tmp();
    await table(dir, 2);
    deleteRowsWithDv(dir, addPaths(dir, 0)[0], range(0, 10));
    deleteRowsWithDv(dir, addPaths(dir, 1)[0], range(0, 10), { storage: 'i' });
    const t = await DeltaTable.open(dir);
    const m = await optimize(t);
    expect(m).toMatchObject({ numFilesRemoved: 2, numFilesAdded: 0 });
    expect(await ids(t)).toEqual([]);
    expect(t.snapshot.files).toHaveLength(0);
  });
});

describe('VACUUM with deletion vectors', () => {
  it('keeps the DV files that live files and unexpired tombstones use, and deletes the others past retention', async () => {
    const dir = tmp();
    await table(dir, 3);
    const [f0] = addPaths(dir, 0);
    const [f1] = addPaths(dir, 1);
    deleteRowsWithDv(dir, f0, [1]);
    deleteRowsWithDv(dir, f0, [2], { prefix: 'xy' }); // replaces the first DV of f0
    deleteRowsWithDv(dir, f1, [3]);
    const dvFiles = () => [...readdirSync(dir).filter((n) => n.startsWith('deletion_vector_')), ...(existsSync(path.join(dir, 'xy')) ? readdirSync(path.join(dir, 'xy')).map((n) => `xy/${n}`) : [])].sort();
    expect(dvFiles()).toHaveLength(3);
    const t = await DeltaTable.open(dir);
    const expected = await ids(t);
    // Every file is older than the retention (7 days): what keeps a file is a reference.
    const old = new Date(Date.now() - 10 * 86_400_000);
    const ageAll = () => {
      for (const f of dvFiles()) utimesSync(path.join(dir, f), old, old);
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.parquet'))) utimesSync(path.join(dir, f), old, old);
    };
    ageAll();
    // The superseded DV of f0 belongs to a tombstone newer than the retention: kept.
    let r = await vacuum(t);
    expect(r.deleted).toEqual([]);
    expect(dvFiles()).toHaveLength(3);
    // Once the tombstone is older than the retention, its DV file goes; the live ones (one under
    // its prefix directory) stay.
    r = await vacuum(t, { now: Date.now() + 8 * 86_400_000 });
    expect(r.deleted.filter((f) => f.includes('deletion_vector_'))).toHaveLength(1);
    expect(dvFiles()).toHaveLength(2);
    expect(dvFiles().some((f) => f.startsWith('xy/'))).toBe(true);
    expect(await ids(await DeltaTable.open(dir))).toEqual(expected);
    // After OPTIMIZE no live file has a DV; past the retention the last DV files go too.
    await optimize(t);
    ageAll();
    r = await vacuum(t, { now: Date.now() + 8 * 86_400_000 });
    expect(dvFiles()).toEqual([]);
    expect(await ids(await DeltaTable.open(dir))).toEqual(expected);
  });
});
