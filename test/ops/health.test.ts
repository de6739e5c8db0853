/**
 * /healthz and /readyz of a session's operations server, over real HTTP on loopback, judged on
 * an injected clock: the tests move the clock and count batches and requests; nothing depends on
 * how long anything takes. Readiness against the CoinGecko simulator's slow mode; liveness with a
 * source whose poll the test holds and releases.
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../simulator/coingecko.js';
import type { Offset } from '../../src/source/offset.js';
import { DataSource, type DataSourceStreamReader } from '../../src/source/source.js';
import { Tributary } from '../../src/session.js';
import { getJson, scrape, until, value } from '../support/ops.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-health-');
let sim: Simulator;
let simClock = Math.floor(Date.now() / 10_000) * 10_000;
beforeAll(async () => {
  sim = await startSimulator({ now: () => simClock, updateEverySec: 10, seed: 3 });
});
afterAll(async () => {
  await sim.close();
});

describe('/readyz', () => {
  it('turns unhealthy when the source stalls (simulator slow mode) past N trigger intervals, and healthy again after', async () => {
    const dir = tmp();
    let now = 1_000_000;
    const t = new Tributary();
    t.onWarning = () => undefined;
    const ops = await t.serveOps({ port: 0, clock: () => now, readyAfterIntervals: 3 });
    let batches = 0;
    t.streams.addListener({ onQueryProgress: () => void batches++ });
    const q = t.readStream
      .format('coingecko')
      .options({ baseUrl: sim.baseUrl, coins: 'bitcoin', vsCurrencies: 'usd', callsPerMinute: '60000', timeoutMs: '300', maxRetries: '0', onError: 'skip-batch' })
      .load()
      .writeStream.option('checkpointLocation', path.join(dir, 'cp'))
      .queryName('prices')
      // A 2 s trigger: readiness counts 3 of them, 6 s on the injected clock.
      .trigger({ processingTime: '2 seconds' })
      .start(path.join(dir, 't'));
    try {
      await until(() => (batches >= 1 ? true : undefined), 'the first batch');
      expect(await getJson(ops.url, 'readyz')).toMatchObject({ status: 200, body: { status: 'ok' } });

      // Every request is now slower than the client waits: polls fail (skip-batch), nothing commits.
      sim.replaceFaults({ slowMs: { count: 1_000_000, delayMs: 3_000 } });
      simClock += 10_000; // new prices: without the stall, the next poll would commit a batch
      const before = batches;
      const slowSeen = sim.requests.filter((r) => r.fault === 'slowMs').length;
      await until(() => (sim.requests.filter((r) => r.fault === 'slowMs').length >= slowSeen + 2 ? true : undefined), 'two stalled polls');
      expect(batches).toBe(before);
      now += 6_000;
      expect(await getJson(ops.url, 'readyz')).toMatchObject({ status: 200 });
      now += 1;
      const stalled = await getJson(ops.url, 'readyz');
      expect(stalled.status).toBe(503);
      expect(stalled.body).toMatchObject({ status: 'unavailable', queries: [{ query: 'prices', ok: false }] });
      expect(JSON.stringify(stalled.body)).toMatch(/last committed a batch 6 s ago, more than 3 trigger intervals \(6 s\)/);
      // The trigger loop itself is alive (it polls and skips): liveness holds.
      expect((await getJson(ops.url, 'healthz')).status).toBe(200);
      const m = await scrape(ops.url);
      expect(value(m, 'tributary_seconds_since_last_commit', { query_name: 'prices' })).toBe(6.001);

      // The source answers again: the next batch commits, and the query is ready again.
      sim.replaceFaults();
      await until(() => (batches > before ? true : undefined), 'a batch after the stall');
      expect(await getJson(ops.url, 'readyz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    } finally {
      await q.stop();
      await t.closeOps();
    }
  }, 120_000);

  it('is not ready before any query started, nor after the query failed', async () => {
    const dir = tmp();
    const t = new Tributary();
    t.onWarning = () => undefined;
    const ops = await t.serveOps({ port: 0, clock: () => 0 });
    try {
      expect(await getJson(ops.url, 'readyz')).toMatchObject({ status: 503, body: { reason: 'no query has started yet' } });
      // onError=fail: the first poll's 500 ends the query.
      sim.replaceFaults({ status5xx: { count: 1, status: 500 } });
      const q = t.readStream.format('coingecko').options({ baseUrl: sim.baseUrl, coins: 'bitcoin', vsCurrencies: 'usd', maxRetries: '0', onError: 'fail' }).load().writeStream.option('checkpointLocation', path.join(dir, 'cp')).queryName('failing').start(path.join(dir, 't'));
      await q.awaitTermination().catch(() => undefined);
      const r = await getJson(ops.url, 'readyz');
      expect(r.status).toBe(503);
      expect(JSON.stringify(r.body)).toMatch(/the query failed: .*HTTP 500/);
      expect(value(await scrape(ops.url), 'tributary_query_failures_total', { query_name: 'failing' })).toBe(1);
    } finally {
      sim.replaceFaults();
      await t.closeOps();
    }
  }, 60_000);
});

/** A replayable source whose next poll the test can hold (a stalled API call) and release. */
class GatedSource extends DataSource {
  static override formatName = 'gated';
  static gate: Promise<void> = Promise.resolve();
  static waiting = 0;
  schema(): string {
    return 'value BIGINT';
  }
  override streamReader(): DataSourceStreamReader {
    return {
      initialOffset: () => ({ n: 0 }),
      latestOffset: async (start: Offset) => {
        GatedSource.waiting++;
        await GatedSource.gate;
        GatedSource.waiting--;
        return { n: (start.n as number) + 1 };
      },
      read: (_s: Offset, end: Offset) => [{ value: end.n as number }],
    };
  }
}

describe('/healthz', () => {
  it('fails once the trigger loop has not moved for the liveness timeout (on the injected clock), and recovers when it moves', async () => {
    const dir = tmp();
    let now = 0;
    const t = new Tributary();
    t.dataSource.register(GatedSource);
    const ops = await t.serveOps({ port: 0, clock: () => now, livenessTimeoutMs: 60_000 });
    let batches = 0;
    t.streams.addListener({ onQueryProgress: () => void batches++ });
    const q = t.readStream.format('gated').load().writeStream.option('checkpointLocation', path.join(dir, 'cp')).queryName('gated').trigger({ processingTime: '10ms' }).start(path.join(dir, 't'));
    let release!: () => void;
    try {
      await until(() => (batches >= 2 ? true : undefined), 'two batches');
      GatedSource.gate = new Promise((r) => (release = r));
      await until(() => (GatedSource.waiting === 1 ? true : undefined), 'the poll to be held');
      // The loop is stuck in latestOffset: its tick count no longer moves.
      expect(await getJson(ops.url, 'healthz')).toMatchObject({ status: 200 });
      now += 60_000;
      expect(await getJson(ops.url, 'healthz')).toMatchObject({ status: 200 });
      now += 1;
      const stuck = await getJson(ops.url, 'healthz');
      expect(stuck.status).toBe(503);
      expect(JSON.stringify(stuck.body)).toMatch(/trigger loop has not moved for 60 s \(limit 60 s; status: Getting offsets from/);
      const held = batches;
      release();
      await until(() => (batches > held ? true : undefined), 'a batch after the release');
      expect(await getJson(ops.url, 'healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    } finally {
      release?.();
      await q.stop();
      await t.closeOps();
    }
  }, 60_000);
});
