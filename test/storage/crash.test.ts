import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { DeltaTable } from '../../src/delta/table.js';
import { CheckpointDir } from '../../src/engine/checkpoint-dir.js';
import type { Storage } from '../../src/storage/storage.js';
import { crashLoop, runOnce } from '../support/crash.js';
import { closeAll, ensureBuckets, locationOn, storageArgs, sub } from '../support/object-stores.js';

/**
 * test/engine/crash.test.ts with the table and the checkpoint on an object store: real
 * `tributary run` processes SIGKILLed at every phase (after the offset log, while writing
 * Parquet, after the Delta commit, while writing a Delta checkpoint) and at random moments,
 * then one clean run; the table must hold every rate value 0..N-1 exactly once.
 */
const STORES = ['s3', 'azure'] as const;
const opened: Storage[] = [];
beforeAll(() => ensureBuckets([...STORES]));
afterAll(() => closeAll(opened));

describe.each(STORES)('crash safety with table and checkpoint on %s (real processes, SIGKILL)', (backend) => {
  it('a rate stream killed 25+ times in every phase holds every value 0..N-1 exactly once', async () => {
    const loc = locationOn(backend);
    const table = sub(loc, 'table');
    const cp = sub(loc, 'cp');
    const args = (trigger: string) => ['run', '--format', 'rate', '--option', 'rowsPerBatch=7', '--checkpoint', cp.uri, '--trigger', trigger, table.uri, ...storageArgs(loc.options)];
    const phases = ['after-offsets-log', 'during-parquet-write', 'after-delta-commit', 'during-delta-checkpoint'];
    const { kills, byPhase } = await crashLoop(args('processingTime=0'), phases, 5, 8, { randomKillMs: [1000, 4000] });
    expect(kills).toBeGreaterThanOrEqual(25);
    for (const p of phases) expect(byPhase[p], `kills in ${p}`).toBeGreaterThanOrEqual(4);
    const final = await runOnce(args('availableNow'), {}, 120_000);
    expect(final.stderr).not.toMatch(/error/i);
    expect(final.code).toBe(0);

    const t = await DeltaTable.open(table.uri, undefined, { storageOptions: loc.options });
    opened.push(t.storage);
    const values = arrowToRows(await t.read())
      .map((r) => Number(r.value))
      .sort((a, b) => a - b);
    const ckpt = await CheckpointDir.at(cp.uri, loc.options);
    opened.push(ckpt.storage);
    const last = (await ckpt.latestOffsets())!;
    expect(await ckpt.latestCommit()).toBe(last.batchId);
    const n = Number(last.end.value);
    expect(n).toBeGreaterThan(0);
    expect(values).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(t.snapshot.txnVersion(await ckpt.queryId())).toBe(last.batchId);
    // Kills while writing a Delta checkpoint left the table readable from the log alone.
    expect((await t.storage.list('_delta_log')).some((f) => f.endsWith('.checkpoint.parquet'))).toBe(true);
    console.log(`${backend} crash test: ${kills} kills ${JSON.stringify(byPhase)}, ${n} rows, table version ${t.version}`);
  }, 900_000);
});
