import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { Action, AddFile, RemoveFile } from '../../src/delta/actions.js';
import { fileKey, TableState } from '../../src/delta/replay.js';

/**
 * A long-lived stream's table state holds every live file and, with auto-compaction, a tombstone
 * for every file it compacted until the retention (a week by default): the soak's state grew by
 * about 1,000 tombstones per 1,000 batches, for good. What each one keeps is what the state costs.
 * Sizes are V8's heap after a full GC: counts of bytes, not timings.
 */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const DAY = 86_400_000;
const NOW = 1_764_633_600_000;

function statsOf(i: number): string {
  return JSON.stringify({ numRecords: 1000, minValues: { timestamp: '1970-01-01T01:26:40.000Z', value: i * 1000 }, maxValues: { timestamp: '1970-01-01T01:26:40.000Z', value: i * 1000 + 999 }, nullCount: { timestamp: 0, value: 0 } });
}

/** A data file's path as the sink names it (a UUID, no characters that need escaping). */
function pathOf(i: number): string {
  return `part-00000-${String(i).padStart(8, '0')}-5c3b-4f0e-9d4b-2a1c7e3b8d10-c000.snappy.parquet`;
}

/** Actions as a commit file gives them: parsed from JSON, each object and string its own. */
function parsed(actions: Action[]): Action[] {
  return JSON.parse(JSON.stringify(actions)) as Action[];
}

describe('the table state keeps what the protocol needs of each file', () => {
  it('a tombstone keeps no stats or tags (a checkpoint leaves them out) and the rest of its remove action; its checkpoint row is unchanged', () => {
    const s = new TableState();
    const add: AddFile = { path: pathOf(1), partitionValues: { day: '2026-12-02' }, size: 4901, modificationTime: NOW, dataChange: true, stats: statsOf(1), tags: { 'tributary.level': '0' } };
    const remove: RemoveFile = { path: pathOf(1), deletionTimestamp: NOW, dataChange: false, extendedFileMetadata: true, partitionValues: { day: '2026-12-02' }, size: 4901, stats: statsOf(1), tags: { 'tributary.level': '0' }, baseRowId: 7, defaultRowCommitVersion: 3 };
    s.apply(parsed([{ add }]));
    expect(s.files.get(pathOf(1))).toEqual(add);
    s.apply(parsed([{ remove }]));
    expect(s.files.size).toBe(0);
    const { stats: _s, tags: _t, ...kept } = remove;
    expect(s.tombstones.get(pathOf(1))).toEqual(kept);
    expect(Object.keys(s.tombstones.get(pathOf(1))!)).not.toContain('stats');
    // Within the retention it is in the checkpoint, as before; past it, left out.
    expect(s.checkpointActions(NOW + DAY, 7 * DAY).filter((a) => 'remove' in a)).toEqual([{ remove: kept }]);
    expect(s.checkpointActions(NOW + 8 * DAY, 7 * DAY).filter((a) => 'remove' in a)).toEqual([]);
    // Re-added (a file restored), it is live again and no longer a tombstone.
    s.apply(parsed([{ add }]));
    expect(s.tombstones.size).toBe(0);
    expect(s.files.get(pathOf(1))).toEqual(add);
  });

  it('a path with escapes is keyed by its decoded form, one without by itself', () => {
    expect(fileKey('day=2026-12-02/part%20one.parquet')).toBe('day=2026-12-02/part one.parquet');
    expect(fileKey(pathOf(3))).toBe(pathOf(3));
    // Not a valid escape: the raw text is still a stable key.
    expect(fileKey('part%zz.parquet')).toBe('part%zz.parquet');
    const s = new TableState();
    s.apply(parsed([{ add: { path: 'a%20b.parquet', partitionValues: {}, size: 1, modificationTime: NOW, dataChange: true } }]));
    s.apply(parsed([{ remove: { path: 'a b.parquet', deletionTimestamp: NOW, dataChange: true } }]));
    expect(s.files.size).toBe(0);
    expect([...s.tombstones.keys()]).toEqual(['a b.parquet']);
  });

  it('20,000 tombstones of the soak shape (compacted files, remove actions with stats) hold less than 350 bytes each of V8 heap', () => {
    const n = 20_000;
    const s = new TableState();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < n; i++) {
      // One commit's action at a time, parsed on its own as the log's JSON lines are.
      s.apply(parsed([{ remove: { path: pathOf(i), deletionTimestamp: NOW + i, dataChange: false, extendedFileMetadata: true, partitionValues: {}, size: 4901, stats: statsOf(i) } }]));
    }
    gc();
    const perTombstone = (process.memoryUsage().heapUsed - before) / n;
    expect(s.tombstones.size).toBe(n);
    // Measured: 590 bytes each when a tombstone kept its remove action whole, 390 without stats,
    // 302 once its key is the path itself rather than a decoded copy.
    expect(perTombstone).toBeGreaterThan(100);
    expect(perTombstone).toBeLessThan(350);
  });
});
