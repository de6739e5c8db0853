import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { DeltaTable } from '../../src/delta/table.js';
import { type Simulator, startSimulator } from '../../simulator/coingecko.js';
import { BIN, cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-cron-');
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ updateEverySec: 1, seed: 11 });
});
afterAll(async () => {
  await sim.close();
});

const JOB = path.resolve('jobs/coingecko-prices.ts');

describe('cron runs of the coingecko job', () => {
  it('availableNow drains and exits 0; an overlapping run refuses cleanly; the next run continues', async () => {
    const data = tmp();
    const env = { COINGECKO_BASE_URL: sim.baseUrl, TRIBUTARY_DATA: data, COINGECKO_CALLS_PER_MINUTE: '600' };
    // A long-running instance holds the checkpoint...
    const holder = spawn(process.execPath, [BIN, 'run', JOB, '--trigger', 'processingTime=1h'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((r) => holder.stdout.once('data', () => r()));
    // ...so a cron run that overlaps it refuses, with one clear line and a non-zero exit.
    const overlap = await cli(['run', JOB, '--trigger', 'availableNow'], { env });
    expect(overlap.code).toBe(1);
    expect(overlap.stderr).toMatch(/error \[CHECKPOINT_LOCKED\]: checkpoint .* is in use by another query \(pid \d+/);
    holder.kill('SIGTERM');
    expect(await new Promise((r) => holder.on('close', r))).toBe(0);
    await new Promise((r) => setTimeout(r, 1100));
    const run = await cli(['run', JOB, '--trigger', 'availableNow'], { env });
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(1); // one poll, one batch
    const rows = arrowToRows(await (await DeltaTable.open(path.join(data, 'coingecko_prices'))).read());
    expect(rows.length).toBe(12);
    expect(new Set(rows.map((r) => `${r.coin}|${r.vs_currency}|${r.last_updated_at}`)).size).toBe(12);
  }, 60_000);

  it('--schedule runs the job on a cron expression in one process, and stops on SIGTERM', async () => {
    const data = tmp();
    const env = { COINGECKO_BASE_URL: sim.baseUrl, TRIBUTARY_DATA: data, COINGECKO_CALLS_PER_MINUTE: '600' };
    const p = spawn(process.execPath, [BIN, 'run', JOB, '--schedule', '* * * * * *'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    await new Promise((r) => setTimeout(r, 4500));
    p.kill('SIGTERM');
    expect(await new Promise((r) => p.on('close', r))).toBe(0);
    expect(err).toMatch(/scheduled "\* \* \* \* \* \*"/);
    const batches = out.trim().split('\n').filter((l) => l.startsWith('batch '));
    expect(batches.length).toBeGreaterThanOrEqual(2);
    const t = await DeltaTable.open(path.join(data, 'coingecko_prices'));
    expect(t.version + 1).toBe(batches.length);
  }, 30_000);
});
