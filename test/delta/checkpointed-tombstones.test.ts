import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseDdl } from '../../src/schema/ddl.js';
import { optimize } from '../../src/delta/operations/optimize.js';
import { vacuum } from '../../src/delta/operations/vacuum.js';
import { DeltaTable } from '../../src/delta/table.js';
import type { RemoveFile } from '../../src/delta/actions.js';
import { TableState } from '../../src/delta/replay.js';
import { readCheckpoint } from '../../src/delta/checkpoint.js';
import { readCheckpointActions } from '../../src/delta/v2-checkpoint.js';
import { tempDir } from '../support/tmp.js';
import { foreignCommit, pad, replayCommits } from '../support/log-replay.js';

/**
 * A long-lived writer lets go of the tombstones a checkpoint of its own holds, and its next
 * checkpoint reads them back from that one: its memory no longer grows with every file it ever
 * compacted (the soak). The oracle is a replay of every commit from version 0: each checkpoint
 * must hold exactly the unexpired tombstones that replay gives, whatever happened in between
 * (compactions, another writer's commits, a file added again, a file removed twice, expiry).
 */
const tmp = tempDir('tributary-tombstones-');
const SCHEMA = parseDdl('id BIGINT, day STRING');
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1);

afterEach(() => {
  vi.useRealTimers();
});


/** The tombstones a checkpoint file holds, as path -> deletionTimestamp. */
async function checkpointTombstones(dir: string, version: number): Promise<Map<string, number | undefined>> {
  const t = await DeltaTable.forPath(dir);
  const actions = await readCheckpoint(t.engine, `_delta_log/${pad(version)}.checkpoint.parquet`);
  return new Map(actions.flatMap((a) => ('remove' in a ? [[a.remove.path, a.remove.deletionTimestamp ?? undefined] as const] : [])));
}

function unexpired(s: TableState, now: number, retentionMs: number): Map<string, number | undefined> {
  return new Map([...s.tombstones.values()].filter((r) => (r.deletionTimestamp ?? 0) > now - retentionMs).map((r) => [r.path, r.deletionTimestamp ?? undefined]));
}


describe('a long-lived writer takes older tombstones from its last checkpoint', () => {
  it('keeps only the tombstones since its last checkpoint, and every checkpoint holds exactly the unexpired tombstones of a full replay', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
    const dir = tmp();
    const retention = 3 * DAY;
    const t = await DeltaTable.forPath(dir);
    let id = 0;
    const append = () => t.append([{ id: id++, day: id % 2 ? 'a' : 'b' }, { id: id++, day: 'a' }], { create: { schema: SCHEMA, partitionColumns: ['day'], configuration: { 'delta.checkpointInterval': '4', 'delta.deletedFileRetentionDuration': 'interval 3 days' } } });
    const checked: number[] = [];
    const check = async () => {
      const v = t.version;
      if (v % 4 !== 0 || v === 0) return;
      const want = unexpired(replayCommits(dir, v), Date.now(), retention);
      expect(await checkpointTombstones(dir, v)).toEqual(want);
      // Let go once written: the state holds no tombstone older than the checkpoint.
      expect(t.snapshot.state.tombstones.size).toBe(0);
      expect(t.snapshot.state.tombstonesAt?.version).toBe(v);
      checked.push(v);
    };
    let removedOnce: RemoveFile | undefined;
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < 3; i++) {
        await append();
        await check();
      }
      const before = t.snapshot.files.map((f) => f.path);
      await optimize(t, { targetFileSize: 1024 * 1024 });
      await t.afterCommit((e) => {
        throw e;
      });
      await check();
      if (round === 1) {
        // Another writer adds back a file compacted away (its tombstone is in the last
        // checkpoint now) and removes one of the live files twice over two commits.
        // (A checkpoint now, whatever the version, so that the compacted files' tombstones are in one.)
        await t.checkpoint();
        expect(await checkpointTombstones(dir, t.version)).toEqual(unexpired(replayCommits(dir, t.version), Date.now(), retention));
        const gone = before[0];
        const live = t.snapshot.files[0];
        expect(t.snapshot.state.tombstones.size).toBe(0);
        expect(replayCommits(dir, t.version).tombstones.has(gone)).toBe(true);
        foreignCommit(dir, t.version + 1, [{ add: { path: gone, partitionValues: { day: gone.startsWith('day=a') ? 'a' : 'b' }, size: 1, modificationTime: Date.now(), dataChange: true } }]);
        removedOnce = { path: live.path, deletionTimestamp: Date.now(), dataChange: true, extendedFileMetadata: true, partitionValues: live.partitionValues, size: live.size };
        foreignCommit(dir, t.version + 2, [{ remove: removedOnce }]);
        foreignCommit(dir, t.version + 3, [{ remove: { ...removedOnce, deletionTimestamp: Date.now() + 1 } }]);
      }
      // A day passes between rounds: the first rounds' tombstones expire by the later checkpoints.
      vi.setSystemTime(Date.now() + DAY);
    }
    expect(checked.length).toBeGreaterThanOrEqual(7);
    const last = checked.at(-1)!;
    // By then the first rounds' tombstones had expired: left out, not carried forward.
    expect(replayCommits(dir, last).tombstones.size).toBeGreaterThan((await checkpointTombstones(dir, last)).size);
    // The re-added file is live, not a tombstone; the file removed twice is one tombstone, the later one.
    const replay = replayCommits(dir, last);
    expect(replay.tombstones.get(removedOnce!.path)?.deletionTimestamp).toBe(removedOnce!.deletionTimestamp! + 1);
    // Every checkpoint was checked against the oracle above; and a fresh load from the last one
    // reads the same table as a replay of all commits.
    const fresh = await DeltaTable.forPath(dir);
    const latest = replayCommits(dir, fresh.version);
    expect(new Set(fresh.snapshot.files.map((f) => f.path))).toEqual(new Set([...latest.files.values()].map((f) => f.path)));
    // VACUUM (from a fresh load) keeps every file an unexpired tombstone names.
    const kept = unexpired(latest, Date.now(), retention);
    const res = await vacuum(t, { dryRun: true, retentionMs: retention, force: true });
    for (const p of kept.keys()) expect(res.deleted).not.toContain(p);
  });

  it('a stream of compactions keeps the tombstones in memory bounded by the checkpoint interval, not by history', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    const sizes: number[] = [];
    for (let i = 0; i < 60; i++) {
      await t.append([{ id: i, day: 'a' }], { create: { schema: SCHEMA, partitionColumns: ['day'], configuration: { 'delta.checkpointInterval': '5' } } });
      if (i % 3 === 2) {
        await optimize(t, { targetFileSize: 1024 * 1024 });
        await t.afterCommit();
      }
      sizes.push(t.snapshot.state.tombstones.size);
    }
    // Without letting go: one tombstone per compacted file, 40 by the end.
    expect(Math.max(...sizes)).toBeLessThanOrEqual(12);
    const cps = readdirSync(path.join(dir, '_delta_log')).filter((n) => n.endsWith('.checkpoint.parquet')).sort();
    const lastV = Number(cps.at(-1)!.slice(0, 20));
    expect((await checkpointTombstones(dir, lastV)).size).toBe(unexpired(replayCommits(dir, lastV), Date.now(), 7 * DAY).size);
    expect((await checkpointTombstones(dir, lastV)).size).toBeGreaterThan(30);
  });

  it('the same with V2 checkpoints (a JSON top-level file and a sidecar): the older tombstones come from the sidecar', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    for (let i = 0; i < 40; i++) {
      await t.append([{ id: i, day: 'a' }], { create: { schema: SCHEMA, partitionColumns: ['day'], configuration: { 'delta.checkpointInterval': '5', 'delta.checkpointPolicy': 'v2' } } });
      if (i % 3 === 2) {
        await optimize(t, { targetFileSize: 1024 * 1024 });
        await t.afterCommit();
      }
      expect(t.snapshot.state.tombstones.size).toBeLessThanOrEqual(12);
    }
    const log = path.join(dir, '_delta_log');
    const tops = readdirSync(log).filter((n) => /^\d{20}\.checkpoint\.[0-9a-f-]{36}\.json$/.test(n)).sort();
    expect(tops.length).toBeGreaterThanOrEqual(5);
    for (const top of tops.slice(-3)) {
      const v = Number(top.slice(0, 20));
      const actions = await readCheckpointActions(t.engine, [`_delta_log/${top}`]);
      const got = new Map(actions.flatMap((a) => ('remove' in a ? [[a.remove.path, a.remove.deletionTimestamp ?? undefined] as const] : [])));
      expect(got).toEqual(unexpired(replayCommits(dir, v), Date.now(), 7 * DAY));
      expect(got.size).toBeGreaterThan(10);
    }
  });
});
