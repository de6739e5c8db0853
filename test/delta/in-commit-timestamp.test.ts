import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commit } from '../../src/delta/commit.js';
import { engineFor } from '../../src/delta/engine.js';
import { optimize } from '../../src/delta/operations/optimize.js';
import { Snapshot } from '../../src/delta/snapshot.js';
import { DeltaTable } from '../../src/delta/table.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir();
const SCHEMA = parseDdl('id BIGINT');
const ICT = { 'delta.enableInCommitTimestamps': 'true' };

const commitInfo = (dir: string, v: number) => {
  const first = readFileSync(path.join(dir, '_delta_log', `${String(v).padStart(20, '0')}.json`), 'utf8').split('\n')[0];
  return JSON.parse(first) as { commitInfo?: Record<string, unknown> };
};

/** A clock that returns the given times in turn (then the last one forever). */
const clockOf = (...times: number[]) => {
  let i = 0;
  return () => times[Math.min(i++, times.length - 1)];
};

describe('in-commit timestamps', () => {
  it('puts a monotonic inCommitTimestamp first in commitInfo, even when the clock goes back', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(await engineFor(dir, { clock: clockOf(5_000, 4_000, 4_000, 9_000) }));
    await t.append([{ id: 0 }], { create: { schema: SCHEMA, configuration: ICT } });
    await t.append([{ id: 1 }]);
    await t.append([{ id: 2 }]);
    await t.append([{ id: 3 }]);
    const infos = [0, 1, 2, 3].map((v) => commitInfo(dir, v).commitInfo!);
    // Spark's order: inCommitTimestamp, then the writer's clock.
    expect(Object.keys(infos[0]).slice(0, 2)).toEqual(['inCommitTimestamp', 'timestamp']);
    expect(infos.map((i) => i.inCommitTimestamp)).toEqual([5_000, 5_001, 5_002, 9_000]);
    expect(infos.map((i) => i.timestamp)).toEqual([5_000, 4_000, 4_000, 9_000]);
    const protocol = JSON.parse(readFileSync(path.join(dir, '_delta_log', `${'0'.repeat(20)}.json`), 'utf8').split('\n').find((l) => l.includes('"protocol"'))!).protocol;
    expect([protocol.minReaderVersion, protocol.minWriterVersion, [...protocol.writerFeatures].sort()]).toEqual([1, 7, ['appendOnly', 'inCommitTimestamp', 'invariants']]);
    // A new table gets no enablement properties (only tables that had commits before do).
    expect(t.snapshot.metadata.configuration).toEqual(ICT);
    // History shows the ICTs, as DESCRIBE HISTORY does.
    expect((await t.history()).map((h) => h.timestamp)).toEqual([9_000, 5_002, 5_001, 5_000]);
  });

  it('recomputes the timestamp past the winner when a commit loses the race', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(await engineFor(dir, { clock: clockOf(1_000) }));
    await t.append([{ id: 0 }], { create: { schema: SCHEMA, configuration: ICT } });
    // Two writers read version 0; the fast one commits at 7,000, the slow one's clock says 2,000.
    const slow = await Snapshot.load(await engineFor(dir, { clock: clockOf(2_000) }), 0);
    const fast = await DeltaTable.open(await engineFor(dir, { clock: clockOf(7_000) }));
    await fast.append([{ id: 1 }]);
    const r = await commit(slow.storage, slow, { actions: [], commitInfo: { operation: 'TEST' }, isBlindAppend: true });
    expect(r.retries).toBe(1);
    expect(r.version).toBe(2);
    expect(commitInfo(dir, 2).commitInfo!.inCommitTimestamp).toBe(7_001);
  });

  it('reads the previous commit once when the snapshot came from a checkpoint', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(await engineFor(dir, { clock: clockOf(50_000) }));
    await t.append([{ id: 0 }], { create: { schema: SCHEMA, configuration: { ...ICT, 'delta.checkpointInterval': '2' } } });
    await t.append([{ id: 1 }]);
    await t.append([{ id: 2 }]);
    expect(t.snapshot.checkpointVersion).toBeUndefined();
    const later = await DeltaTable.open(await engineFor(dir, { clock: clockOf(10) }));
    expect(later.snapshot.checkpointVersion).toBe(2);
    await optimize(later);
    expect(commitInfo(dir, 3).commitInfo!.inCommitTimestamp).toBe(50_003);
  });

  it('leaves tables without the property alone', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(await engineFor(dir, { clock: clockOf(3_000) }));
    await t.append([{ id: 0 }], { create: { schema: SCHEMA } });
    await t.append([{ id: 1 }]);
    for (const v of [0, 1]) expect(commitInfo(dir, v).commitInfo).not.toHaveProperty('inCommitTimestamp');
  });
});
