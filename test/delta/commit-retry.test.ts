import { describe, expect, it } from 'vitest';
import { errorLine } from '../../src/cli/main.js';
import type { Action } from '../../src/delta/actions.js';
import { commit, COMMIT_RETRIES, retryDelayMs } from '../../src/delta/commit.js';
import { DeltaTable } from '../../src/delta/table.js';
import { TributaryError } from '../../src/errors.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { LocalStorage } from '../../src/storage/local.js';
import type { Storage } from '../../src/storage/storage.js';
import { tempDir } from '../support/tmp.js';

/**
 * Lost races are retried a bounded number of times, each after a jittered wait that grows to a
 * cap; a writer that keeps losing gives up with one line naming the version it last lost. The
 * waits are counted through the commit's `sleep`, never timed.
 */
const tmp = tempDir('tributary-commit-retry-');
const add = (name: string): Action => ({ add: { path: name, partitionValues: {}, size: 1, modificationTime: 0, dataChange: true } });

/**
 * The table's real storage, with another real writer that appends just before each of our
 * first `times` commit attempts: each of those attempts then loses the race for its version.
 */
function beaten(storage: Storage, rival: DeltaTable, times = Infinity): Storage & { rivalCommits: number } {
  const s = Object.create(storage) as Storage & { rivalCommits: number };
  s.rivalCommits = 0;
  s.putIfAbsent = async (p, data) => {
    if (p.startsWith('_delta_log/') && p.endsWith('.json') && s.rivalCommits < times) {
      s.rivalCommits++;
      await rival.append([{ id: 1000 + s.rivalCommits }]);
    }
    return storage.putIfAbsent(p, data);
  };
  return s;
}

describe('commit retries', () => {
  it('waits with full jitter, doubling from 10 ms up to a 1 s cap', () => {
    expect(retryDelayMs(0, () => 0)).toBe(0);
    expect(retryDelayMs(0, () => 0.999)).toBe(9);
    expect(retryDelayMs(3, () => 0.999)).toBe(79);
    expect(retryDelayMs(6, () => 0.5)).toBe(320);
    for (const a of [7, 20, 99]) expect(retryDelayMs(a, () => 0.999)).toBe(999);
    for (let a = 0; a < 200; a++) {
      const d = retryDelayMs(a);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(Math.min(COMMIT_RETRIES.maxDelayMs, COMMIT_RETRIES.baseDelayMs * 2 ** a));
    }
    expect(COMMIT_RETRIES.maxRetries).toBe(100);
  });

  it('a blind append that keeps losing gives up after maxRetries waits, naming the version it last lost', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append([{ id: 0 }], { create: { schema: parseDdl('id BIGINT') } });
    const rival = await DeltaTable.open(dir);
    const storage = beaten(new LocalStorage(dir), rival);
    const waits: number[] = [];
    const e = await commit(storage, t.snapshot, {
      actions: [add('ours.parquet')],
      isBlindAppend: true,
      commitInfo: { operation: 'WRITE' },
      maxRetries: 4,
      sleep: async (ms) => void waits.push(ms),
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TributaryError);
    expect((e as TributaryError).code).toBe('COMMIT_CONFLICT');
    // 5 attempts (versions 1..5), each beaten by the rival; a wait before each of the 4 retries.
    expect(storage.rivalCommits).toBe(5);
    expect(waits).toHaveLength(4);
    waits.forEach((ms, a) => expect(ms).toBeLessThan(COMMIT_RETRIES.baseDelayMs * 2 ** a));
    expect(errorLine(e)).toBe(
      'tributary: error [COMMIT_CONFLICT]: gave up after 4 retries: other writers kept committing first (version 5 was the last one this commit lost); the table is unchanged by it, retry the operation',
    );
    expect((e as TributaryError).details.version).toBe(5);
    const after = await DeltaTable.open(dir);
    expect(after.version).toBe(5);
    expect(after.snapshot.files.map((f) => f.path)).not.toContain('ours.parquet');
  });

  it('a blind append that loses a few races commits after them, having waited once per loss', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append([{ id: 0 }], { create: { schema: parseDdl('id BIGINT') } });
    const rival = await DeltaTable.open(dir);
    const storage = beaten(new LocalStorage(dir), rival, 3);
    const waits: number[] = [];
    const r = await commit(storage, t.snapshot, { actions: [add('ours.parquet')], isBlindAppend: true, commitInfo: { operation: 'WRITE' }, sleep: async (ms) => void waits.push(ms) });
    expect(r).toMatchObject({ version: 4, retries: 3 });
    expect(waits).toHaveLength(3);
    const after = await DeltaTable.open(dir);
    expect(after.version).toBe(4);
    expect(after.snapshot.files.map((f) => f.path)).toContain('ours.parquet');
    expect(after.snapshot.files).toHaveLength(5); // the first append's, the rival's 3, ours
  });

  it('a metadata change that loses fails at once, without waiting, naming the winning version', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append([{ id: 0 }], { create: { schema: parseDdl('id BIGINT') } });
    const rival = await DeltaTable.open(dir);
    const storage = beaten(new LocalStorage(dir), rival);
    const waits: number[] = [];
    const e = await commit(storage, t.snapshot, {
      actions: [{ metaData: { ...t.snapshot.metadata, description: 'changed' } }],
      isBlindAppend: false,
      commitInfo: { operation: 'SET TBLPROPERTIES' },
      sleep: async (ms) => void waits.push(ms),
    }).catch((x: unknown) => x);
    expect(errorLine(e)).toBe("tributary: error [COMMIT_CONFLICT]: this commit changes the table's metadata but versions 1 were committed first; retry the operation");
    expect((e as TributaryError).details.version).toBe(1);
    expect(waits).toEqual([]);
  });
});
