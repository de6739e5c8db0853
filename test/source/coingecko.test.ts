import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { DeltaTable } from '../../src/delta/table.js';
import type { StreamingQuery } from '../../src/engine/streaming-query.js';
import { Tributary } from '../../src/session.js';
import { type Simulator, startSimulator } from '../../simulator/coingecko.js';
import { HttpClient } from '../../src/http/client.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-cg-');
let sim: Simulator;
// Close to real time: Retry-After HTTP-dates are computed on this clock and waited for in real time.
let clock = Math.floor(Date.now() / 10_000) * 10_000;

beforeAll(async () => {
  sim = await startSimulator({ now: () => clock, updateEverySec: 10, seed: 7 });
});
afterAll(async () => {
  await sim.close();
});

interface Run {
  query: StreamingQuery;
  warnings: string[];
}

/** One availableNow run of the coingecko source against the simulator, into `dir`. */
async function runOnce(dir: string, options: Record<string, string> = {}): Promise<Run> {
  const t = new Tributary();
  const warnings: string[] = [];
  t.onWarning = (m) => warnings.push(m);
  const q = t.readStream
    .format('coingecko')
    .options({ baseUrl: sim.baseUrl, coins: 'bitcoin,ethereum', vsCurrencies: 'usd,eur', callsPerMinute: '6000', backoffBaseMs: '20', backoffCapMs: '200', timeoutMs: '2000', ...options })
    .load()
    .writeStream.format('delta')
    .option('checkpointLocation', path.join(dir, 'cp'))
    .partitionBy('date')
    .trigger({ availableNow: true })
    .start(path.join(dir, 'table'));
  await q.awaitTermination(60_000).catch(() => undefined);
  return { query: q, warnings };
}

const tableRows = async (dir: string) => {
  try {
    return arrowToRows(await (await DeltaTable.open(path.join(dir, 'table'))).read());
  } catch {
    return [];
  }
};

describe('coingecko source against the simulator (real HTTP)', () => {
  it('writes one row per coin and currency, and a cached price never twice', async () => {
    const dir = tmp();
    sim.replaceFaults();
    const r1 = await runOnce(dir);
    expect(r1.query.exception()).toBeNull();
    const rows = await tableRows(dir);
    expect(rows).toHaveLength(4);
    const btc = rows.find((r) => r.coin === 'bitcoin' && r.vs_currency === 'usd')!;
    expect(btc.price).toBeCloseTo(sim.priceOf('bitcoin', 'usd')!, 2);
    expect(Number(btc.last_updated_at)).toBe(sim.lastUpdatedAt() * 1_000_000);
    // Same cached last_updated_at: no batch, no new table version.
    const r2 = await runOnce(dir);
    expect(r2.query.recentProgress).toHaveLength(0);
    expect((await DeltaTable.open(path.join(dir, 'table'))).version).toBe(0);
    clock += 10_000;
    const r3 = await runOnce(dir);
    expect(r3.query.recentProgress.map((p) => p.numInputRows)).toEqual([4]);
    const all = await tableRows(dir);
    expect(new Set(all.map((r) => `${r.coin}|${r.vs_currency}|${r.last_updated_at}`)).size).toBe(8);
    // The progress carries the source's HTTP metrics and the offsets per pair.
    expect(r3.query.lastProgress!.sources[0].metrics.httpCalls).toBe('1');
    expect(Object.keys(r3.query.lastProgress!.sources[0].endOffset!).sort()).toEqual(['bitcoin:eur', 'bitcoin:usd', 'ethereum:eur', 'ethereum:usd']);
  });

  it('retries 429 honouring Retry-After, and without it backs off', async () => {
    const dir = tmp();
    sim.replaceFaults({ rate429: { count: 1, retryAfter: 1 } });
    sim.resetRequests();
    clock += 10_000;
    const r = await runOnce(dir);
    expect(r.query.exception()).toBeNull();
    const reqs = sim.requests.filter((q) => q.path.endsWith('/simple/price'));
    expect(reqs.map((q) => q.status)).toEqual([429, 200]);
    const gap = reqs[1].at - reqs[0].respondedAt!;
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(gap).toBeLessThan(2500);
    expect(r.query.lastProgress!.sources[0].metrics.httpRetries).toBe('1');
    // HTTP-date form.
    sim.replaceFaults({ rate429: { count: 1, retryAfter: 2, retryAfterFormat: 'http-date' } });
    sim.resetRequests();
    clock += 10_000;
    expect((await runOnce(dir)).query.exception()).toBeNull();
    expect(sim.requests.map((q) => q.status)).toEqual([429, 200]);
    // Without Retry-After (and with Retry-After: 0, which means no hint): exponential backoff.
    for (const retryAfter of [null, 0]) {
      sim.replaceFaults({ rate429: { count: 2, retryAfter } });
      sim.resetRequests();
      clock += 10_000;
      expect((await runOnce(dir)).query.exception()).toBeNull();
      expect(sim.requests.map((q) => q.status)).toEqual([429, 429, 200]);
    }
  });

  it('retries 5xx, slow responses past the timeout, truncated and malformed bodies', async () => {
    const dir = tmp();
    const faults = [
      { status5xx: { count: 2, status: 503 as const } },
      { status5xx: { count: 1, status: 500 as const } },
      { slowMs: { count: 1, delayMs: 1500 } },
      { truncate: { count: 1 } },
      { malformed: { count: 2 } },
    ];
    for (const f of faults) {
      sim.replaceFaults(f);
      sim.resetRequests();
      clock += 10_000;
      const r = await runOnce(dir, { timeoutMs: '500' });
      expect(r.query.exception(), JSON.stringify(f)).toBeNull();
      expect(sim.requests.at(-1)!.status).toBe(200);
      expect(Number(r.query.lastProgress!.sources[0].metrics.httpRetries)).toBeGreaterThanOrEqual(1);
    }
    const rows = await tableRows(dir);
    expect(rows).toHaveLength(4 * faults.length);
  });

  it('applies the onError policy when retries run out: fail, skip-batch (nothing lost), null-rows', async () => {
    const dir = tmp();
    sim.replaceFaults({ malformed: { count: 10 } });
    clock += 10_000;
    const failed = await runOnce(dir, { maxRetries: '2' });
    expect(failed.query.exception()?.message).toMatch(/answered 200 with a body that is not valid JSON.*after 3 attempts/);
    expect(await tableRows(dir)).toHaveLength(0);
    sim.replaceFaults({ malformed: { count: 3 } });
    const skipped = await runOnce(dir, { maxRetries: '2', onError: 'skip-batch' });
    expect(skipped.query.exception()).toBeNull();
    expect(skipped.query.recentProgress).toHaveLength(0);
    expect(skipped.warnings.join('\n')).toMatch(/skip-batch: .*not valid JSON/);
    sim.replaceFaults();
    const after = await runOnce(dir, { maxRetries: '2', onError: 'skip-batch' });
    expect(after.query.recentProgress.map((p) => p.numInputRows)).toEqual([4]); // the skipped prices land now
    sim.replaceFaults({ status5xx: { count: 10, status: 503 } });
    clock += 10_000;
    const nulls = await runOnce(dir, { maxRetries: '1', onError: 'null-rows' });
    expect(nulls.query.recentProgress.map((p) => p.numInputRows)).toEqual([4]);
    const rows = await tableRows(dir);
    expect(rows.filter((r) => r.price === null)).toHaveLength(4);
    sim.replaceFaults();
  });

  it('says when an error page is HTML, with the status and the first bytes, and never shows the API key', async () => {
    const dir = tmp();
    process.env.TRIB_TEST_CG_KEY = 'CG-secret-key-123';
    try {
      sim.replaceFaults({ html: { count: 5, status: 403 } });
      clock += 10_000;
      const r = await runOnce(dir, { apiKeyEnv: 'TRIB_TEST_CG_KEY' });
      const msg = r.query.exception()?.message ?? '';
      expect(msg).toMatch(/answered HTTP 403 with a non-JSON error body \(text\/html.*an HTML page, probably from a CDN or proxy\) starting "/);
      expect(msg).not.toContain('CG-secret-key-123');
      expect(sim.requests.at(-1)!.keyHeader).toBe('x-cg-demo-api-key');
      sim.replaceFaults({ status5xx: { count: 1, status: 500 } });
      const ok = await runOnce(dir, { apiKeyEnv: 'TRIB_TEST_CG_KEY' });
      expect(JSON.stringify(ok.query.recentProgress)).not.toContain('CG-secret-key-123');
      for (const f of readdirSync(path.join(dir, 'table', '_delta_log')).filter((n) => n.endsWith('.json'))) {
        expect(readFileSync(path.join(dir, 'table', '_delta_log', f), 'utf8')).not.toContain('CG-secret-key-123');
      }
    } finally {
      delete process.env.TRIB_TEST_CG_KEY;
      sim.replaceFaults();
    }
  });

  it('uses the pro plan\'s header (key from the named environment variable) and refuses pro without a key', async () => {
    const pro = await startSimulator({ plan: 'pro', updateEverySec: 10, seed: 9 });
    try {
      const dir = tmp();
      process.env.TRIB_TEST_CG_PRO = 'CG-pro-key-456';
      const t = new Tributary();
      t.onWarning = () => undefined;
      const q = t.readStream.format('coingecko').options({ baseUrl: pro.baseUrl, plan: 'pro', apiKeyEnv: 'TRIB_TEST_CG_PRO', coins: 'bitcoin', vsCurrencies: 'usd' }).load()
        .writeStream.option('checkpointLocation', path.join(dir, 'cp')).trigger({ once: true }).start(path.join(dir, 'table'));
      await q.awaitTermination();
      expect(pro.requests.map((r) => [r.keyHeader, r.keyPlan, r.status])).toEqual([['x-cg-pro-api-key', 'pro', 200]]);
      delete process.env.TRIB_TEST_CG_PRO;
      const t2 = new Tributary();
      const q2 = t2.readStream.format('coingecko').options({ plan: 'pro', apiKeyEnv: 'TRIB_TEST_CG_PRO', coins: 'bitcoin' }).load()
        .writeStream.option('checkpointLocation', path.join(dir, 'cp2')).trigger({ once: true }).start(path.join(dir, 't2'));
      await expect(q2.awaitTermination()).rejects.toThrow(/plan=pro needs an API key in the environment variable TRIB_TEST_CG_PRO/);
    } finally {
      delete process.env.TRIB_TEST_CG_PRO;
      await pro.close();
    }
  });

  it('writes a null-price row and a warning for a missing coin; reads a field that turned into a string', async () => {
    const dir = tmp();
    sim.replaceFaults({ missingCoins: ['ethereum'] });
    clock += 10_000;
    const r = await runOnce(dir);
    expect(r.warnings.join('\n')).toMatch(/coins missing from the response: ethereum/);
    const rows = await tableRows(dir);
    expect(rows.filter((x) => x.coin === 'ethereum').map((x) => x.price)).toEqual([null, null]);
    sim.replaceFaults({ typeChange: { field: 'usd', count: 1 } });
    clock += 10_000;
    const r2 = await runOnce(dir);
    expect(r2.query.exception()).toBeNull();
    expect(r2.warnings.join('\n')).toMatch(/bitcoin.usd came as a string/);
    sim.replaceFaults();
  });

  it('never exceeds its pace: the client waits 200 ms of its clock between calls at 300/min', async () => {
    // A virtual clock: sleeping advances it, so the pacing is checked exactly, not against a
    // wall clock a loaded machine stretches.
    let now = 0;
    const sent: number[] = [];
    const clock = { now: () => now, sleep: async (ms: number) => void (now += ms) };
    const http = new HttpClient({ callsPerMinute: 300, clock });
    sim.replaceFaults();
    for (let i = 0; i < 10; i++) {
      await http.getJson(`${sim.baseUrl}/simple/price?ids=bitcoin&vs_currencies=usd`, {}, undefined, {});
      sent.push(now);
    }
    await http.close();
    expect(sent).toEqual([0, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800]);
    // Without pacing the same calls take no client time at all.
    now = 0;
    const unpaced = new HttpClient({ clock });
    for (let i = 0; i < 3; i++) await unpaced.getJson(`${sim.baseUrl}/simple/price?ids=bitcoin&vs_currencies=usd`);
    await unpaced.close();
    expect(now).toBe(0);
  });

  it('a paced stream sends no more calls than its rate allows in the time it ran', async () => {
    const dir = tmp();
    sim.replaceFaults();
    sim.resetRequests();
    const t = new Tributary();
    t.onWarning = () => undefined;
    const began = performance.now();
    const q = t.readStream
      .format('coingecko')
      .options({ baseUrl: sim.baseUrl, coins: 'bitcoin', vsCurrencies: 'usd', callsPerMinute: '300' })
      .load()
      .writeStream.option('checkpointLocation', path.join(dir, 'cp'))
      .trigger({ processingTime: 0 })
      .start(path.join(dir, 'table'));
    await new Promise((r) => setTimeout(r, 1500));
    await q.stop();
    const elapsed = performance.now() - began;
    // Calls can only be later than their pace on a busy machine, never earlier: at most one per
    // 200 ms of the time the query ran (plus the first), however the machine is loaded. Unpaced,
    // a stream against a local server makes hundreds.
    expect(sim.requests.length).toBeGreaterThanOrEqual(2);
    expect(sim.requests.length).toBeLessThanOrEqual(Math.floor(elapsed / 200) + 1);
  });

  it('markets mode pages through /coins/markets; backfill fills a window in chunks and resumes', async () => {
    const dir = tmp();
    sim.replaceFaults();
    const t = new Tributary();
    const q = t.readStream.format('coingecko').options({ baseUrl: sim.baseUrl, mode: 'markets', vsCurrency: 'usd', perPage: '5', pages: '3', callsPerMinute: '6000' }).load()
      .writeStream.option('checkpointLocation', path.join(dir, 'cp')).trigger({ once: true }).start(path.join(dir, 'table'));
    await q.awaitTermination();
    const rows = await tableRows(dir);
    expect(rows.length).toBe(15);
    expect(new Set(rows.map((r) => r.id)).size).toBe(15);
    expect(rows.every((r) => typeof r.last_updated === 'bigint')).toBe(true);

    const bdir = tmp();
    const back = (to: string) => {
      const s = new Tributary();
      return s.readStream.format('coingecko').options({ baseUrl: sim.baseUrl, mode: 'backfill', coins: 'bitcoin', vsCurrencies: 'usd', from: '2026-11-20T00:00:00Z', to, chunkDays: '1', callsPerMinute: '6000' }).load()
        .writeStream.option('checkpointLocation', path.join(bdir, 'cp')).trigger({ availableNow: true }).start(path.join(bdir, 'table'));
    };
    const q1 = back('2026-11-23T00:00:00Z');
    await q1.awaitTermination();
    expect(q1.recentProgress).toHaveLength(3);
    const q2 = back('2026-11-25T00:00:00Z');
    await q2.awaitTermination();
    expect(q2.recentProgress).toHaveLength(2); // resumed at the 23rd
    const pts = (await tableRows(bdir)).map((r) => Number(r.ts));
    expect(new Set(pts).size).toBe(pts.length);
    expect(Math.min(...pts)).toBeGreaterThanOrEqual(Date.UTC(2026, 10, 20) * 1000);
    expect(Math.max(...pts)).toBeLessThan(Date.UTC(2026, 10, 25) * 1000);
  });
});
