import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AddFile } from '../../src/delta/actions.js';
import { commit } from '../../src/delta/commit.js';
import { engineFor } from '../../src/delta/engine.js';
import { optimize } from '../../src/delta/operations/optimize.js';
import { decodeAddPath } from '../../src/delta/partitions.js';
import { assignRowTracking, MATERIALIZED_ROW_COMMIT_VERSION, MATERIALIZED_ROW_ID, rowIdHighWaterMark } from '../../src/delta/row-tracking.js';
import { Snapshot } from '../../src/delta/snapshot.js';
import { DeltaTable } from '../../src/delta/table.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { tempDir } from '../support/tmp.js';

const run = promisify(execFile);
const tmp = tempDir();
const SCHEMA = parseDdl('id BIGINT, worker BIGINT');
const ROW_TRACKING = { 'delta.enableRowTracking': 'true' };
const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: from + i, worker: 0 }));

const logLines = (dir: string, v: number) =>
  readFileSync(path.join(dir, '_delta_log', `${String(v).padStart(20, '0')}.json`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, any>);

const numRecords = (f: AddFile) => JSON.parse(f.stats!).numRecords as number;

/** Live files' row-id ranges are disjoint and lie at or below the high-water mark. */
function checkRanges(snap: Snapshot) {
  const ranges = snap.files.map((f) => [f.baseRowId!, f.baseRowId! + numRecords(f)] as const).sort((a, b) => a[0] - b[0]);
  for (const f of snap.files) expect(f.baseRowId).toBeTypeOf('number');
  for (let i = 1; i < ranges.length; i++) expect(ranges[i][0]).toBeGreaterThanOrEqual(ranges[i - 1][1]);
  const mark = rowIdHighWaterMark(snap.state.domains);
  for (const [, end] of ranges) expect(end - 1).toBeLessThanOrEqual(mark);
  return { ranges, mark };
}

/**
 * Each row's stable id and commit version as Spark computes them (GenerateRowIDs): the
 * materialized value if the file has one, else baseRowId + row index / defaultRowCommitVersion.
 * Keyed by the row's `id` column.
 */
async function rowTrackingById(dir: string): Promise<Map<number, [bigint, bigint]>> {
  const t = await DeltaTable.open(dir);
  const conf = t.snapshot.metadata.configuration;
  const out = new Map<number, [bigint, bigint]>();
  for (const f of t.snapshot.files) {
    const data = t.engine.parquet.read(readFileSync(path.join(dir, decodeAddPath(f.path, dir))));
    // With column mapping the file's columns go by physical name.
    const idField = t.snapshot.schema.fields.find((x) => x.name === 'id')!;
    const ids = data.getChild(String(idField.metadata['delta.columnMapping.physicalName'] ?? 'id'))!;
    const matId = data.getChild(conf[MATERIALIZED_ROW_ID]);
    const matVersion = data.getChild(conf[MATERIALIZED_ROW_COMMIT_VERSION]);
    for (let i = 0; i < data.numRows; i++) {
      const rowId = (matId?.get(i) as bigint | null) ?? BigInt(f.baseRowId!) + BigInt(i);
      const version = (matVersion?.get(i) as bigint | null) ?? BigInt(f.defaultRowCommitVersion!);
      out.set(Number(ids.get(i)), [rowId, version]);
    }
  }
  return out;
}

describe('row tracking', () => {
  it('creates the table as Spark does and assigns ids to every add, version 0 included', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append(rows(0, 3), { create: { schema: SCHEMA, configuration: ROW_TRACKING } });
    const v0 = logLines(dir, 0);
    const protocol = v0.find((a) => a.protocol)!.protocol;
    expect(protocol.minReaderVersion).toBe(1);
    expect(protocol.minWriterVersion).toBe(7);
    expect([...protocol.writerFeatures].sort()).toEqual(['appendOnly', 'domainMetadata', 'invariants', 'rowTracking']);
    const conf = v0.find((a) => a.metaData)!.metaData.configuration;
    expect(conf[MATERIALIZED_ROW_ID]).toMatch(/^_row-id-col-[0-9a-f-]{36}$/);
    expect(conf[MATERIALIZED_ROW_COMMIT_VERSION]).toMatch(/^_row-commit-version-col-[0-9a-f-]{36}$/);
    expect(v0.filter((a) => a.add).map((a) => [a.add.baseRowId, a.add.defaultRowCommitVersion])).toEqual([[0, 0]]);
    expect(v0.find((a) => a.domainMetadata)!.domainMetadata).toEqual({ domain: 'delta.rowTracking', configuration: '{"rowIdHighWaterMark":2,"domainName":"delta.rowTracking"}', removed: false });

    await t.append(rows(3, 2));
    const v1 = logLines(dir, 1);
    expect(v1.filter((a) => a.add).map((a) => [a.add.baseRowId, a.add.defaultRowCommitVersion])).toEqual([[3, 1]]);
    expect(JSON.parse(v1.find((a) => a.domainMetadata)!.domainMetadata.configuration).rowIdHighWaterMark).toBe(4);
    // The hidden columns are no data: our reader shows the table's columns only.
    expect((await t.read()).schema.fields.map((f) => f.name)).toEqual(['id', 'worker']);
  });

  it('is pure: re-assigning the same actions on a later state moves the ids past the new mark', () => {
    const add = (n: number): AddFile => ({ path: `f${n}`, partitionValues: {}, size: 1, modificationTime: 0, dataChange: true, stats: JSON.stringify({ numRecords: n }) });
    const protocol = { minReaderVersion: 1, minWriterVersion: 7, writerFeatures: ['rowTracking', 'domainMetadata'] };
    const base = (mark: number) => ({ protocol, metadata: { configuration: {} }, domains: new Map([['delta.rowTracking', { domain: 'delta.rowTracking', configuration: JSON.stringify({ rowIdHighWaterMark: mark }), removed: false }]]) });
    const actions = [{ add: add(2) }, { add: add(3) }];
    expect(assignRowTracking(base(9), 4, actions)).toEqual([
      { add: { ...add(2), baseRowId: 10, defaultRowCommitVersion: 4 } },
      { add: { ...add(3), baseRowId: 12, defaultRowCommitVersion: 4 } },
      { domainMetadata: { domain: 'delta.rowTracking', configuration: '{"rowIdHighWaterMark":14,"domainName":"delta.rowTracking"}', removed: false } },
    ]);
    expect(actions[0]).toEqual({ add: add(2) });
    // A file that keeps its ids (copied by a rewrite) is left alone; no add, no new mark.
    expect(assignRowTracking(base(9), 5, [{ add: { ...add(1), baseRowId: 3, defaultRowCommitVersion: 1 } }])).toEqual([{ add: { ...add(1), baseRowId: 3, defaultRowCommitVersion: 1 } }]);
    // Without the feature nothing changes.
    expect(assignRowTracking({ protocol: { minReaderVersion: 1, minWriterVersion: 2 }, domains: new Map() }, 1, actions)).toEqual(actions);
  });

  it('never gives two rows one id, whatever stale snapshots concurrent commits start from (property)', async () => {
    const engine = (dir: string) => engineFor(dir);
    await fc.assert(
      fc.asyncProperty(
        // Each commit: the version it read (as a fraction of the log so far) and its files' row counts.
        fc.array(fc.record({ readAt: fc.double({ min: 0, max: 1, noNaN: true }), files: fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 3 }) }), { minLength: 1, maxLength: 8 }),
        async (commits) => {
          const dir = tmp();
          const t = await DeltaTable.forPath(dir);
          await t.append(rows(0, 1), { create: { schema: SCHEMA, configuration: ROW_TRACKING } });
          let total = 1;
          let latest = 0;
          for (const c of commits) {
            const read = Math.floor(c.readAt * latest);
            const snap = await Snapshot.load(await engine(dir), read);
            const adds = c.files.map((n, i): AddFile => ({ path: `x-${latest}-${i}.parquet`, partitionValues: {}, size: 1, modificationTime: 0, dataChange: true, stats: JSON.stringify({ numRecords: n }) }));
            const r = await commit(snap.storage, snap, { actions: adds.map((add) => ({ add })), commitInfo: { operation: 'WRITE' }, isBlindAppend: true });
            latest = r.version;
            total += c.files.reduce((a, b) => a + b, 0);
            // The commit's files carry its final version, not the one it first tried.
            for (const a of logLines(dir, r.version).filter((x) => x.add)) expect(a.add.defaultRowCommitVersion).toBe(r.version);
          }
          const { ranges, mark } = checkRanges(await Snapshot.load(await engine(dir)));
          // Ids are dense: every id up to the mark belongs to exactly one row.
          expect(mark).toBe(total - 1);
          expect(ranges.reduce((n, [a, b]) => n + (b - a), 0)).toBe(total);
        },
      ),
      { seed: 14, numRuns: 40 },
    );
  }, 120_000);

  it('keeps ids unique across concurrent writer processes, and the mark covers them all', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append([{ id: -1, worker: -1 }], { create: { schema: SCHEMA, configuration: ROW_TRACKING } });
    const worker = path.resolve('test/support/append-worker.ts');
    await Promise.all([0, 1, 2, 3].map((w) => run(process.execPath, ['--import', 'tsx', worker, dir, String(w), '6'], { timeout: 90_000 })));
    const snap = (await DeltaTable.open(dir)).snapshot;
    expect(snap.version).toBe(24);
    const { ranges, mark } = checkRanges(snap);
    expect(ranges).toHaveLength(25);
    expect(mark).toBe(24);
    for (const f of snap.files) expect(f.defaultRowCommitVersion).toBeGreaterThanOrEqual(0);
    expect(new Set(snap.files.map((f) => f.defaultRowCommitVersion)).size).toBe(25);
  }, 120_000);

  it('OPTIMIZE keeps every row id and commit version, materializing them, as Spark does', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append(rows(0, 3), { create: { schema: SCHEMA, configuration: ROW_TRACKING } });
    await t.append(rows(3, 2));
    await t.append(rows(5, 4));
    const before = await rowTrackingById(dir);
    expect([...before.values()].map(([id]) => Number(id)).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const m = await optimize(t);
    expect(m.numFilesAdded).toBe(1);
    const v = logLines(dir, m.version!);
    expect(v[0].commitInfo.tags).toEqual({ 'delta.rowTracking.preserved': 'true' });
    const add = v.find((a) => a.add)!.add;
    // The new file gets fresh ids like any new file; its rows keep theirs in the hidden columns.
    expect([add.baseRowId, add.defaultRowCommitVersion]).toEqual([9, 3]);
    expect(Object.keys(JSON.parse(add.stats).minValues)).toEqual(['id', 'worker']);
    const removed = v.filter((a) => a.remove).map((a) => [a.remove.baseRowId, a.remove.defaultRowCommitVersion]);
    expect(removed.sort((a, b) => a[0] - b[0])).toEqual([
      [0, 0],
      [3, 1],
      [5, 2],
    ]);
    expect(await rowTrackingById(dir)).toEqual(before);
    // Compacting compacted files again keeps them too (materialized values win).
    await t.append(rows(9, 1));
    const before2 = await rowTrackingById(dir);
    await optimize(t);
    expect(await rowTrackingById(dir)).toEqual(before2);
    expect((await t.read()).schema.fields.map((f) => f.name)).toEqual(['id', 'worker']);
    expect(arrowIds(await t.read())).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('works with column mapping and an identity column on the same table (append, OPTIMIZE, read)', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    const schema = parseDdl('id BIGINT, `price (usd)` DOUBLE, seq BIGINT GENERATED ALWAYS AS IDENTITY');
    const mk = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: from + i, 'price (usd)': from + i + 0.5 }));
    await t.append(mk(0, 3), { create: { schema, configuration: { ...ROW_TRACKING, 'delta.columnMapping.mode': 'name' } } });
    await t.append(mk(3, 2));
    const before = await rowTrackingById(dir);
    expect(before.size).toBe(5);
    const m = await optimize(t);
    expect(m.numFilesAdded).toBe(1);
    const add = logLines(dir, m.version!).find((a) => a.add)!.add;
    // Stats under physical names, hidden columns left out.
    const physical = t.snapshot.schema.fields.map((f) => String(f.metadata['delta.columnMapping.physicalName']));
    expect(physical.every((p) => p.startsWith('col-'))).toBe(true);
    expect(Object.keys(JSON.parse(add.stats).minValues).sort()).toEqual([...physical].sort());
    expect(await rowTrackingById(dir)).toEqual(before);
    const read = await t.read();
    expect(read.schema.fields.map((f) => f.name)).toEqual(['id', 'price (usd)', 'seq']);
    const got = read.toArray().map((r) => [Number(r.id), r['price (usd)'], Number(r.seq)]).sort((a, b) => a[0] - b[0]);
    expect(got).toEqual([0, 1, 2, 3, 4].map((i) => [i, i + 0.5, i + 1]));
  });
});

const arrowIds = (t: arrow.Table) => [...t.getChild('id')!].map(Number).sort((a, b) => a - b);
