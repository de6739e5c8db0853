import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { DeltaTable } from '../../src/delta/table.js';
import { CheckpointDir } from '../../src/engine/checkpoint-dir.js';
import { type Simulator, startSimulator } from '../../simulator/coingecko.js';
import { crashLoop, runOnce } from '../support/crash.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-cg-crash-');
let sim: Simulator;
beforeAll(async () => {
  // Real clock, a new price every second: every poll of the job can bring new data.
  sim = await startSimulator({ updateEverySec: 1, seed: 3 });
});
afterAll(async () => {
  await sim.close();
});

describe('coingecko job killed mid-batch (SIGKILL)', () => {
  it('lands every price a logged call returned exactly once', async () => {
    const dir = tmp();
    const table = path.join(dir, 'table');
    const cp = path.join(dir, 'cp');
    const job = path.resolve('test/fixtures/jobs/coingecko-crash.ts');
    const args = ['run', job, sim.baseUrl, table, cp];
    const phases = ['after-wal-rows', 'after-offsets-log', 'during-parquet-write', 'after-delta-commit'];
    const { kills, byPhase } = await crashLoop(args, phases, 2, 4);
    expect(kills).toBeGreaterThanOrEqual(10);
    for (const p of phases) expect(byPhase[p] ?? 0, `kills in ${p}`).toBeGreaterThanOrEqual(1);
    const final = await runOnce(['run', job, '--trigger', 'availableNow', sim.baseUrl, table, cp], {}, 30_000);
    expect(final.code, final.stderr).toBe(0);

    const ckpt = await CheckpointDir.at(cp);
    const last = (await ckpt.latestCommit())!;
    const logged: string[] = [];
    for (let b = 0; b <= last; b++) {
      const rows = await ckpt.readRows(b);
      expect(rows, `write-ahead rows of batch ${b}`).toBeDefined();
      logged.push(...arrowToRows(rows!).map((r) => `${r.coin}|${r.vs_currency}|${r.last_updated_at}|${r.price}`));
    }
    const t = await DeltaTable.open(table);
    const inTable = arrowToRows(await t.read()).map((r) => `${r.coin}|${r.vs_currency}|${r.last_updated_at}|${r.price}`);
    expect(new Set(inTable).size).toBe(inTable.length);
    expect(inTable.sort()).toEqual(logged.sort());
    expect(inTable.length).toBeGreaterThanOrEqual(6 * 5);
    console.log(`coingecko crash test: ${kills} kills ${JSON.stringify(byPhase)}, ${inTable.length} price rows over ${last + 1} batches`);
  }, 240_000);
});
