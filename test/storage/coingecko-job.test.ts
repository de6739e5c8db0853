import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { DeltaTable } from '../../src/delta/table.js';
import { CheckpointDir } from '../../src/engine/checkpoint-dir.js';
import { type Simulator, startSimulator } from '../../simulator/coingecko.js';
import type { Storage } from '../../src/storage/storage.js';
import { cli } from '../support/cli.js';
import { BUCKET, closeAll, ensureBuckets, secretValues, servers } from '../support/object-stores.js';

/**
 * The README's example: the CoinGecko job writing its table and checkpoint to S3, configured
 * only by environment variables (TRIBUTARY_DATA=s3://..., the AWS_* a deployment would set),
 * run by cron as `tributary run jobs/coingecko-prices.ts --trigger availableNow`.
 */
let sim: Simulator;
const opened: Storage[] = [];
beforeAll(async () => {
  await ensureBuckets(['s3']);
  sim = await startSimulator({ updateEverySec: 1, seed: 5 });
});
afterAll(async () => {
  await closeAll(opened);
  await sim.close();
});

describe('the CoinGecko job on S3', () => {
  it('writes its table and checkpoint under TRIBUTARY_DATA=s3://..., reached through AWS_* variables; the next run continues', async () => {
    const s = servers().s3;
    const data = `s3://${BUCKET}/coingecko-${Date.now()}`;
    const env = {
      TRIBUTARY_DATA: data,
      AWS_ENDPOINT_URL: s.endpoint,
      AWS_ALLOW_HTTP: 'true',
      AWS_REGION: s.region,
      AWS_ACCESS_KEY_ID: s.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s.secretAccessKey,
      COINGECKO_BASE_URL: sim.baseUrl,
      COINGECKO_CALLS_PER_MINUTE: '600',
    };
    const job = path.resolve('jobs/coingecko-prices.ts');
    const first = await cli(['run', job, '--trigger', 'availableNow'], { env });
    expect(first.stderr).not.toMatch(/error|warning/i);
    expect(first.code).toBe(0);
    await new Promise((r) => setTimeout(r, 1100)); // the simulator's next price
    const second = await cli(['run', job, '--trigger', 'availableNow'], { env });
    expect(second.stderr).not.toMatch(/error|warning/i);
    expect(second.code).toBe(0);
    for (const s2 of secretValues()) expect(first.stdout + first.stderr + second.stdout + second.stderr).not.toContain(s2);

    const storageOptions = { aws_endpoint_url: s.endpoint, aws_allow_http: 'true', aws_region: s.region, aws_access_key_id: s.accessKeyId, aws_secret_access_key: s.secretAccessKey };
    const t = await DeltaTable.open(`${data}/coingecko_prices`, undefined, { storageOptions });
    opened.push(t.storage);
    expect(t.snapshot.partitionColumns).toEqual(['date']);
    const rows = arrowToRows(await t.read());
    const keys = rows.map((r) => `${r.coin}|${r.vs_currency}|${r.last_updated_at}`);
    expect(new Set(keys).size).toBe(keys.length);
    // 3 coins x 2 currencies per poll, one poll per run.
    expect(rows.length).toBe(12);
    const ckpt = await CheckpointDir.at(`${data}/_checkpoints/coingecko_prices`, storageOptions);
    opened.push(ckpt.storage);
    expect(await ckpt.latestCommit()).toBe(1);
    expect(t.version).toBe(1);
  }, 120_000);
});
