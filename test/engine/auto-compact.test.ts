import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { DeltaTable } from '../../src/delta/table.js';
import { pw } from '../../src/parquet/wasm.js';
import { Tributary } from '../../src/session.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-autocompact-');

describe('auto-compaction', () => {
  it('keeps a 500-batch stream under the small-file bound with the exact rows', async () => {
    const dir = tmp();
    const t = new Tributary();
    t.onWarning = (m) => {
      throw new Error(m);
    };
    const q = t.readStream.format('rate').option('rowsPerBatch', 20).option('maxRowsPerBatch', 20).load()
      .writeStream.format('delta').option('checkpointLocation', `${dir}/cp`).option('autoCompact.maxSmallFiles', 40)
      .trigger({ processingTime: 0 }).start(`${dir}/t`);
    while ((q.lastProgress?.batchId ?? -1) < 499) {
      if (!q.isActive) throw q.exception();
      await new Promise((r) => setTimeout(r, 50));
    }
    await q.stop();
    const table = await DeltaTable.open(`${dir}/t`);
    const batches = q.lastProgress!.batchId + 1;
    expect(batches).toBeGreaterThanOrEqual(500);
    // Level 0 (the stream's files) stays under the bound; each level above holds fewer than ten.
    const level = (f: { tags?: Record<string, string> | null }) => Number(f.tags?.['tributary.autoCompactLevel'] ?? 0);
    const byLevel = new Map<number, number>();
    for (const f of table.snapshot.files) byLevel.set(level(f), (byLevel.get(level(f)) ?? 0) + 1);
    expect(byLevel.get(0) ?? 0).toBeLessThanOrEqual(41);
    for (const [l, n] of byLevel) if (l > 0) expect(n, `level ${l}`).toBeLessThanOrEqual(10);
    const values = arrowToRows(await table.read()).map((r) => Number(r.value)).sort((a, b) => a - b);
    expect(values).toEqual(Array.from({ length: batches * 20 }, (_, i) => i));
    const ops = (await table.history()).map((h) => h.operation);
    expect(ops.filter((o) => o === 'OPTIMIZE').length).toBeGreaterThanOrEqual(10);
    expect((await table.history()).find((h) => h.operation === 'OPTIMIZE')!.operationParameters!.auto).toBe('true');
  }, 180_000);

  it('compacts in levels: a file auto-compaction wrote is merged again only with nine others of its level', async () => {
    const dir = tmp();
    const t = new Tributary();
    t.onWarning = (m) => {
      throw new Error(m);
    };
    const q = t.readStream.format('rate').option('rowsPerBatch', 5).load()
      .writeStream.format('delta').option('checkpointLocation', `${dir}/cp`).option('autoCompact.everyCommits', 2)
      .trigger({ processingTime: 0 }).start(`${dir}/t`);
    while ((q.lastProgress?.batchId ?? -1) < 119) {
      if (!q.isActive) throw q.exception();
      await new Promise((r) => setTimeout(r, 20));
    }
    await q.stop();
    const table = await DeltaTable.open(`${dir}/t`);
    const batches = q.lastProgress!.batchId + 1;
    const values = arrowToRows(await table.read()).map((r) => Number(r.value)).sort((a, b) => a - b);
    expect(values).toEqual(Array.from({ length: batches * 5 }, (_, i) => i));
    // Walk the log: every OPTIMIZE removes files of one level only, and files of a level above 0
    // only ten at a time, so no output is rewritten at every compaction.
    const log = `${dir}/t/_delta_log`;
    const levelOf = new Map<string, number>();
    let higher = 0;
    for (const name of readdirSync(log).filter((n) => n.endsWith('.json')).sort()) {
      const actions = readFileSync(`${log}/${name}`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const removed = actions.filter((a) => a.remove).map((a) => levelOf.get(a.remove.path) ?? 0);
      if (removed.length) {
        expect(new Set(removed).size, name).toBe(1);
        if (removed[0] > 0) {
          higher++;
          expect(removed.length, name).toBe(10);
        }
      }
      for (const a of actions.filter((x) => x.add)) levelOf.set(a.add.path, Number(a.add.tags?.['tributary.autoCompactLevel'] ?? 0));
    }
    // 120 batches, level 0 compacted every 2 commits: at least one merge of ten level-1 files.
    expect(higher).toBeGreaterThanOrEqual(1);
  }, 180_000);

  it('merges higher levels on a thread of its own, ended after: this thread\'s WebAssembly memory does not step up', async () => {
    // WebAssembly memory never shrinks. Merging ten level-1 files (600,000 rows here, millions in
    // a long soak) on this thread left the writer's row group in its memory for good: the soak's
    // RSS stepped up by 23-31 MiB at its first such compaction and stayed. A byte count, not a clock.
    const dir = tmp();
    const t = new Tributary();
    t.onWarning = (m) => {
      throw new Error(m);
    };
    const q = t.readStream.format('rate').option('rowsPerBatch', 30_000).option('maxRowsPerBatch', 30_000).load()
      .writeStream.format('delta').option('checkpointLocation', `${dir}/cp`).option('autoCompact.everyCommits', 2)
      .trigger({ processingTime: 0 }).start(`${dir}/t`);
    let before = 0;
    let sampledAt = -1;
    const log = `${dir}/t/_delta_log`;
    const commits = () => readdirSync(log).filter((n) => /^\d{20}\.json$/.test(n)).sort();
    while ((q.lastProgress?.batchId ?? -1) < 24) {
      if (!q.isActive) throw q.exception();
      // After the first compactions of level 0, before any of level 1 (ten level-1 files needed).
      if (!before && (q.lastProgress?.batchId ?? -1) >= 6) {
        before = pw.wasmMemory().buffer.byteLength;
        sampledAt = commits().length - 1;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await q.stop();
    const levelOf = new Map<string, number>();
    let merged = 0;
    // The largest level-0 merge (on this thread) before and after the sample, in rows: on a busy
    // machine the stream outpaces its compaction and a later level-0 merge takes more files,
    // which needs more of this thread's memory, legitimately.
    const level0 = { before: 0, after: 0 };
    for (const name of commits()) {
      const actions = readFileSync(`${log}/${name}`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      if (actions.some((a) => a.remove && (levelOf.get(a.remove.path) ?? 0) > 0)) merged++;
      else if (actions.some((a) => a.remove)) {
        const rows = actions.filter((a) => a.add).reduce((n, a) => n + JSON.parse(a.add.stats).numRecords, 0);
        const k = Number(name.slice(0, 20)) <= sampledAt ? 'before' : 'after';
        level0[k] = Math.max(level0[k], rows);
      }
      for (const a of actions.filter((x) => x.add)) levelOf.set(a.add.path, Number(a.add.tags?.['tributary.autoCompactLevel'] ?? 0));
    }
    expect(merged).toBeGreaterThanOrEqual(1);
    expect(before).toBeGreaterThan(0);
    // The ten-file merge of level 1 (600,000 rows here) ran on a thread of its own: this thread's
    // memory is what its level-0 merges needed. (Idle, level 0 always merges two files.)
    if (level0.after <= level0.before) expect(pw.wasmMemory().buffer.byteLength / 1048576).toBe(before / 1048576);
    // Bigger level-0 merges: growth within what those rows need (the level-1 merge of 600,000
    // rows grew it by 5.6 MiB when it ran here, about 10 bytes a row).
    else expect(pw.wasmMemory().buffer.byteLength - before).toBeLessThan(level0.after * 16);
    const table = await DeltaTable.open(`${dir}/t`);
    const batches = q.lastProgress!.batchId + 1;
    const values = arrowToRows(await table.read({ columns: ['value'] })).map((r) => Number(r.value)).sort((a, b) => a - b);
    expect(values).toEqual(Array.from({ length: batches * 30_000 }, (_, i) => i));
  }, 180_000);
});
