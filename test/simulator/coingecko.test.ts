import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  COINS,
  type FaultConfig,
  parseFaultSpec,
  RATE_LIMIT_BODY,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../../simulator/coingecko.js';

/** A controllable clock: 2026-01-01T00:00:03Z (3 s into a 10 s update tick). */
const T0 = Date.UTC(2026, 0, 1, 0, 0, 3);

const sims: Simulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function sim(opts: SimulatorOptions = {}): Promise<Simulator & { clock: { t: number } }> {
  const clock = { t: T0 };
  const s = await startSimulator({ now: () => clock.t, ...opts });
  sims.push(s);
  return Object.assign(s, { clock });
}

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; headers: Headers; body: any }> {
  const r = await fetch(url, init);
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: JSON.parse(text) };
}

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const ALL_FLAGS = 'include_market_cap=true&include_24hr_vol=true&include_24hr_change=true&include_last_updated_at=true';

describe('endpoints', () => {
  it('binds 127.0.0.1 on an ephemeral port and answers /ping', async () => {
    const s = await sim();
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.port).toBeGreaterThan(0);
    expect(s.baseUrl).toBe(`${s.url}/api/v3`);
    const r = await getJson(`${s.baseUrl}/ping`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.body).toEqual({ gecko_says: '(V3) To the Moon!' });
  });

  it('simple/price: real keys per currency, unknown ids absent, epoch-second last_updated_at', async () => {
    const s = await sim();
    const r = await getJson(`${s.baseUrl}/simple/price?ids=bitcoin,ethereum,not-a-coin&vs_currencies=usd,eur&${ALL_FLAGS}`);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['bitcoin', 'ethereum']);
    const btc = r.body.bitcoin;
    expect(Object.keys(btc)).toEqual([
      'usd', 'usd_market_cap', 'usd_24h_vol', 'usd_24h_change',
      'eur', 'eur_market_cap', 'eur_24h_vol', 'eur_24h_change',
      'last_updated_at',
    ]);
    for (const v of Object.values(btc)) expect(typeof v).toBe('number');
    expect(btc.usd).toBeGreaterThan(10_000);
    expect(btc.eur).toBeLessThan(btc.usd);
    expect(btc.usd_market_cap).toBeCloseTo(btc.usd * 19_750_000, -6);
    expect(Number.isInteger(btc.last_updated_at)).toBe(true);
    expect(btc.last_updated_at).toBe(Math.floor(T0 / 1000 / 10) * 10);
    expect(btc.last_updated_at).toBe(s.lastUpdatedAt());

    // Without the include flags only the prices come back.
    const bare = await getJson(`${s.baseUrl}/simple/price?ids=solana&vs_currencies=usd`);
    expect(bare.body).toEqual({ solana: { usd: expect.any(Number) } });

    // Only unknown ids: an empty object, still 200.
    const none = await getJson(`${s.baseUrl}/simple/price?ids=nope&vs_currencies=usd`);
    expect(none).toMatchObject({ status: 200, body: {} });

    // Missing vs_currencies: 400 with an error body.
    const bad = await getJson(`${s.baseUrl}/simple/price?ids=bitcoin`);
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: 'Missing parameter vs_currencies' });
  });

  it('simple/price precision', async () => {
    const s = await sim();
    const full = (await getJson(`${s.baseUrl}/simple/price?ids=bitcoin,shiba-inu&vs_currencies=usd&precision=full`)).body;
    const p2 = (await getJson(`${s.baseUrl}/simple/price?ids=bitcoin,shiba-inu&vs_currencies=usd&precision=2`)).body;
    const p0 = (await getJson(`${s.baseUrl}/simple/price?ids=bitcoin&vs_currencies=usd&precision=0`)).body;
    expect(full.bitcoin.usd).toBe(s.priceOf('bitcoin'));
    expect(p2.bitcoin.usd).toBe(Number(full.bitcoin.usd.toFixed(2)));
    expect(p0.bitcoin.usd).toBe(Math.round(full.bitcoin.usd));
    expect(p2['shiba-inu'].usd).toBe(0);
    expect(full['shiba-inu'].usd).toBeGreaterThan(0);
    expect(full['shiba-inu'].usd).toBeLessThan(0.001);
  });

  it('the universe has ~20 known ids, all served by simple/price', async () => {
    const s = await sim();
    expect(COINS.length).toBeGreaterThanOrEqual(20);
    const ids = COINS.map((c) => c.id);
    for (const id of ['bitcoin', 'ethereum', 'solana', 'tether', 'dogecoin']) expect(ids).toContain(id);
    const r = await getJson(`${s.baseUrl}/simple/price?ids=${ids.join(',')}&vs_currencies=usd`);
    expect(Object.keys(r.body).sort()).toEqual([...ids].sort());
    const list = await getJson(`${s.baseUrl}/coins/list`);
    expect(list.body).toHaveLength(ids.length);
    expect(list.body[0]).toEqual({ id: 'bitcoin', symbol: 'btc', name: 'Bitcoin' });
  });

  it('coins/markets: full object shape, nullable fields, ISO dates, order and paging', async () => {
    const s = await sim();
    const r = await getJson(`${s.baseUrl}/coins/markets?vs_currency=usd`);
    expect(r.status).toBe(200);
    const rows = r.body as any[];
    expect(rows).toHaveLength(COINS.length); // default per_page 100
    const keys = [
      'id', 'symbol', 'name', 'image', 'current_price', 'market_cap', 'market_cap_rank', 'fully_diluted_valuation',
      'total_volume', 'high_24h', 'low_24h', 'price_change_24h', 'price_change_percentage_24h', 'market_cap_change_24h',
      'market_cap_change_percentage_24h', 'circulating_supply', 'total_supply', 'max_supply', 'ath',
      'ath_change_percentage', 'ath_date', 'atl', 'atl_change_percentage', 'atl_date', 'roi', 'last_updated',
    ];
    for (const row of rows) {
      expect(Object.keys(row)).toEqual(keys);
      expect(row.ath_date).toMatch(ISO_MS);
      expect(row.atl_date).toMatch(ISO_MS);
      expect(row.last_updated).toMatch(ISO_MS);
      expect(Date.parse(row.last_updated)).toBe(s.lastUpdatedAt() * 1000);
      expect(typeof row.current_price).toBe('number');
      expect(row.high_24h).toBeGreaterThanOrEqual(row.low_24h);
    }
    // market_cap_desc by default; ranks 1..n
    const caps = rows.map((x) => x.market_cap);
    expect(caps).toEqual([...caps].sort((a, b) => b - a));
    expect(rows.map((x) => x.market_cap_rank)).toEqual(rows.map((_, i) => i + 1));
    // nullable: max_supply and roi
    const eth = rows.find((x) => x.id === 'ethereum');
    expect(eth.max_supply).toBeNull();
    expect(eth.roi).toEqual({ times: expect.any(Number), currency: 'usd', percentage: expect.any(Number) });
    expect(rows.find((x) => x.id === 'bitcoin').roi).toBeNull();

    // paging: per_page=6 covers everything once, then an empty page
    const seen: string[] = [];
    for (let page = 1; ; page++) {
      const p = (await getJson(`${s.baseUrl}/coins/markets?vs_currency=usd&per_page=6&page=${page}`)).body as any[];
      if (p.length === 0) break;
      expect(p.length).toBeLessThanOrEqual(6);
      seen.push(...p.map((x) => x.id));
    }
    expect(seen).toEqual(rows.map((x) => x.id));

    // ids + order=id_asc + extras
    const sub = (await getJson(`${s.baseUrl}/coins/markets?vs_currency=eur&ids=solana,bitcoin,nope&order=id_asc&sparkline=true&price_change_percentage=1h,7d`)).body as any[];
    expect(sub.map((x) => x.id)).toEqual(['bitcoin', 'solana']);
    expect(sub[0].sparkline_in_7d.price).toHaveLength(168);
    expect(typeof sub[0].price_change_percentage_1h_in_currency).toBe('number');
    expect(typeof sub[0].price_change_percentage_7d_in_currency).toBe('number');
    expect(sub[0].current_price).toBeLessThan(rows[0].current_price); // eur < usd

    const bad = await getJson(`${s.baseUrl}/coins/markets?vs_currency=xyz`);
    expect(bad).toMatchObject({ status: 400, body: { error: 'invalid vs_currency' } });
  });

  it('coins/{id}/market_chart/range: [ms, value] pairs with automatic granularity', async () => {
    const s = await sim();
    const now = Math.floor(T0 / 1000);
    const range = async (from: number, to: number) =>
      (await getJson(`${s.baseUrl}/coins/ethereum/market_chart/range?vs_currency=usd&from=${from}&to=${to}`)).body;

    const day = await range(now - 86_400, now);
    expect(Object.keys(day)).toEqual(['prices', 'market_caps', 'total_volumes']);
    for (const k of ['prices', 'market_caps', 'total_volumes']) {
      expect(day[k].length).toBe(day.prices.length);
      for (const [ms, v] of day[k]) {
        expect(Number.isInteger(ms)).toBe(true);
        expect(typeof v).toBe('number');
        expect(ms).toBeGreaterThanOrEqual((now - 86_400) * 1000);
        expect(ms).toBeLessThanOrEqual(now * 1000);
      }
    }
    const step = (arr: [number, number][]) => arr[1][0] - arr[0][0];
    expect(step(day.prices)).toBe(5 * 60_000); // 1 day: 5-minute points
    expect(day.prices.length).toBe(288);

    const month = await range(now - 30 * 86_400, now);
    expect(step(month.prices)).toBe(3_600_000); // 2-90 days: hourly
    const year = await range(now - 365 * 86_400, now);
    expect(step(year.prices)).toBe(86_400_000); // > 90 days: daily at 00:00 UTC
    for (const [ms] of year.prices) expect(ms % 86_400_000).toBe(0);

    // The future has no points; prices agree with simple/price at the same instant.
    const future = await range(now + 3600, now + 7200);
    expect(future).toEqual({ prices: [], market_caps: [], total_volumes: [] });

    const nf = await getJson(`${s.baseUrl}/coins/not-a-coin/market_chart/range?vs_currency=usd&from=${now - 3600}&to=${now}`);
    expect(nf).toMatchObject({ status: 404, body: { error: 'coin not found' } });
  });

  it('unknown paths are 404 with a JSON error', async () => {
    const s = await sim();
    const r = await getJson(`${s.baseUrl}/nope`);
    expect(r.status).toBe(404);
    expect(r.body).toHaveProperty('error');
  });
});

describe('prices over time', () => {
  it('last_updated_at and prices only change every updateEverySec (controllable clock)', async () => {
    const s = await sim({ updateEverySec: 10 });
    const poll = async () => (await getJson(`${s.baseUrl}/simple/price?ids=bitcoin,ethereum,solana&vs_currencies=usd&include_last_updated_at=true&precision=full`)).body;
    const a = await poll();
    const lu0 = Math.floor(T0 / 1000 / 10) * 10;
    expect(a.bitcoin.last_updated_at).toBe(lu0);

    s.clock.t += 4_000; // still inside the same tick (03s -> 07s)
    const b = await poll();
    expect(b).toEqual(a);
    s.clock.t += 2_999; // 09.999s
    expect(await poll()).toEqual(a);

    s.clock.t += 1; // 10.000s: the next update
    const c = await poll();
    expect(c.bitcoin.last_updated_at).toBe(lu0 + 10);
    for (const id of ['bitcoin', 'ethereum', 'solana']) expect(c[id].usd).not.toBe(a[id].usd);

    // advanceClock shifts the simulator clock on top of `now`.
    s.advanceClock(25_000);
    const d = await poll();
    expect(d.bitcoin.last_updated_at).toBe(lu0 + 30);

    // Moves stay plausible: within 2% per tick.
    expect(Math.abs(c.bitcoin.usd / a.bitcoin.usd - 1)).toBeLessThan(0.02);
  });

  it('a custom updateEverySec (60) is honoured', async () => {
    const s = await sim({ updateEverySec: 60 });
    const lu = async () => (await getJson(`${s.baseUrl}/simple/price?ids=bitcoin&vs_currencies=usd&include_last_updated_at=true`)).body.bitcoin.last_updated_at;
    const first = await lu();
    expect(first % 60).toBe(0);
    s.clock.t += 50_000;
    expect(await lu()).toBe(first);
    s.clock.t += 10_000;
    expect(await lu()).toBe(first + 60);
  });

  it('is deterministic from the seed', async () => {
    const q = `/simple/price?ids=bitcoin,ethereum&vs_currencies=usd&${ALL_FLAGS}&precision=full`;
    const a = await sim({ seed: 7 });
    const b = await sim({ seed: 7 });
    const c = await sim({ seed: 8 });
    const [ra, rb, rc] = await Promise.all([a, b, c].map(async (s) => (await getJson(`${s.baseUrl}${q}`)).body));
    expect(ra).toEqual(rb);
    expect(rc.bitcoin.usd).not.toBe(ra.bitcoin.usd);
    const m1 = (await getJson(`${a.baseUrl}/coins/markets?vs_currency=usd`)).body;
    const m2 = (await getJson(`${b.baseUrl}/coins/markets?vs_currency=usd`)).body;
    expect(m1).toEqual(m2);
  });
});

describe('API keys', () => {
  it('demo plan: records the demo header, never stores or echoes the key', async () => {
    const s = await sim();
    const key = 'CG-demo-SECRET-abc123';
    const r = await fetch(`${s.baseUrl}/simple/price?ids=bitcoin&vs_currencies=usd`, { headers: { 'x-cg-demo-api-key': key } });
    const text = await r.text();
    expect(r.status).toBe(200);
    expect(text).not.toContain(key);
    for (const [, v] of r.headers) expect(v).not.toContain(key);
    const q = await fetch(`${s.baseUrl}/ping?x_cg_demo_api_key=${key}`);
    expect(await q.text()).not.toContain(key);
    expect(s.requests.map((x) => [x.keyHeader, x.keyPlan])).toEqual([
      ['x-cg-demo-api-key', 'demo'],
      ['x_cg_demo_api_key', 'demo'],
    ]);
    expect(s.requests[0].headers['x-cg-demo-api-key']).toBe('[redacted]');
    expect(s.requests[1].query.x_cg_demo_api_key).toBe('[redacted]');
    expect(JSON.stringify(s.requests)).not.toContain(key);
    const admin = await fetch(`${s.url}/__admin/requests`);
    expect(await admin.text()).not.toContain(key);

    // Keyless works on demo; a Pro key on the demo host is error 10010.
    expect((await fetch(`${s.baseUrl}/ping`)).status).toBe(200);
    const pro = await getJson(`${s.baseUrl}/ping`, { headers: { 'x-cg-pro-api-key': key } });
    expect(pro.status).toBe(401);
    expect(pro.body.status.error_code).toBe(10010);
    expect(JSON.stringify(pro.body)).not.toContain(key);
  });

  it('pro plan: x-cg-pro-api-key required; demo key is 10011, none is 10002', async () => {
    const s = await sim({ plan: 'pro' });
    const ok = await getJson(`${s.baseUrl}/simple/price?ids=bitcoin&vs_currencies=usd`, { headers: { 'x-cg-pro-api-key': 'CG-pro-XYZ' } });
    expect(ok.status).toBe(200);
    expect(ok.body.bitcoin.usd).toEqual(expect.any(Number));
    const demo = await getJson(`${s.baseUrl}/ping`, { headers: { 'x-cg-demo-api-key': 'CG-demo' } });
    expect(demo).toMatchObject({ status: 401, body: { status: { error_code: 10011 } } });
    const none = await getJson(`${s.baseUrl}/ping`);
    expect(none).toMatchObject({ status: 401, body: { status: { error_code: 10002 } } });
    expect(s.requests.map((r) => r.keyHeader)).toEqual(['x-cg-pro-api-key', 'x-cg-demo-api-key', null]);
    expect(s.requests[0].headers['x-cg-pro-api-key']).toBe('[redacted]');
  });
});

describe('faults', () => {
  const price = (s: Simulator, init?: RequestInit) => fetch(`${s.baseUrl}/simple/price?ids=bitcoin&vs_currencies=usd`, init);

  it('rate429 with numeric Retry-After, for exactly `count` requests', async () => {
    const s = await sim({ faults: { rate429: { count: 2, retryAfter: 3 } } });
    for (let i = 0; i < 2; i++) {
      const r = await price(s);
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('3');
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await r.json()).toEqual(RATE_LIMIT_BODY);
    }
    expect((await price(s)).status).toBe(200);
    expect(s.faults()).toEqual({});
    expect(s.stats().byStatus).toEqual({ '429': 2, '200': 1 });
    expect(s.stats().byFault).toEqual({ rate429: 2 });
  });

  it('rate429 with an HTTP-date, a verbatim string, and without Retry-After', async () => {
    const s = await sim({ faults: { rate429: { count: 1, retryAfter: 5, retryAfterFormat: 'http-date' } } });
    const r1 = await price(s);
    expect(r1.status).toBe(429);
    const date = r1.headers.get('retry-after')!;
    expect(date).toMatch(/GMT$/);
    expect(Date.parse(date) - s.now()).toBeGreaterThanOrEqual(5000);
    expect(Date.parse(date) - s.now()).toBeLessThan(6000);

    s.setFaults({ rate429: { count: 1, retryAfter: 'Wed, 21 Oct 2015 07:28:00 GMT' } });
    expect((await price(s)).headers.get('retry-after')).toBe('Wed, 21 Oct 2015 07:28:00 GMT');

    s.setFaults({ rate429: { count: 1, retryAfter: null } });
    const r3 = await price(s);
    expect(r3.status).toBe(429);
    expect(r3.headers.has('retry-after')).toBe(false);
    expect(await r3.json()).toEqual(RATE_LIMIT_BODY);
  });

  it('Retry-After pacing is measurable from request timestamps', async () => {
    const s = await startSimulator({ faults: { rate429: { count: 1, retryAfter: 1 } } }); // real clock
    sims.push(s);
    const r = await price(s);
    expect(r.status).toBe(429);
    await new Promise((res) => setTimeout(res, Number(r.headers.get('retry-after')) * 1000));
    expect((await price(s)).status).toBe(200);
    const [a, b] = s.requests;
    expect(b.at - a.at).toBeGreaterThanOrEqual(999);
    expect(b.at - a.at).toBeLessThan(1500);
    expect(a.respondedAt! - a.at).toBeGreaterThanOrEqual(0);
    expect(Math.abs(a.at - Date.now())).toBeLessThan(5000);
  });

  it('status5xx: 500, 502, 503 with JSON error bodies', async () => {
    const s = await sim();
    for (const status of [500, 502, 503] as const) {
      s.setFaults({ status5xx: { count: 1, status } });
      const r = await price(s);
      expect(r.status).toBe(status);
      expect(((await r.json()) as any).status.error_code).toBe(status);
    }
    s.setFaults({ status5xx: { count: 1, status: 503, body: 'error' } });
    expect(await (await price(s)).json()).toEqual({ error: 'Service Unavailable' });
    expect((await price(s)).status).toBe(200);
  });

  it('slowMs: responds after the delay, past a client timeout', async () => {
    const s = await sim({ faults: { slowMs: { count: 1, delayMs: 400 } } });
    await expect(price(s, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    // The next request is not delayed.
    const t = performance.now();
    expect((await price(s)).status).toBe(200);
    expect(performance.now() - t).toBeLessThan(300);
    await new Promise((res) => setTimeout(res, 450));
    expect(s.requests[0]).toMatchObject({ fault: 'slowMs', clientAborted: true });

    // A patient client gets the normal answer late.
    s.setFaults({ slowMs: { count: 1, delayMs: 200 } });
    const t2 = performance.now();
    const r = await price(s);
    expect(performance.now() - t2).toBeGreaterThanOrEqual(190);
    expect(((await r.json()) as any).bitcoin.usd).toEqual(expect.any(Number));
    expect(s.requests[2].respondedAt! - s.requests[2].at).toBeGreaterThanOrEqual(195);
  });

  it('truncate: Content-Length promises more than is sent, then the connection closes', async () => {
    const s = await sim({ faults: { truncate: { count: 1 } } });
    const got = await new Promise<{ status: number; length: number; received: number; error: boolean }>((resolve) => {
      http.get(`${s.baseUrl}/coins/markets?vs_currency=usd`, (res) => {
        let received = 0;
        let error = false;
        res.on('data', (c: Buffer) => (received += c.length));
        res.on('error', () => (error = true));
        res.on('aborted', () => (error = true));
        res.on('close', () => resolve({ status: res.statusCode!, length: Number(res.headers['content-length']), received, error }));
      });
    });
    expect(got.status).toBe(200);
    expect(got.received).toBeGreaterThan(0);
    expect(got.received).toBeLessThan(got.length);
    expect(got.error).toBe(true);
    // fetch sees a body error too, but only once: the fault is used up.
    s.setFaults({ truncate: { count: 1 } });
    const r = await price(s);
    await expect(r.text()).rejects.toThrow();
    expect((await price(s)).status).toBe(200);
  });

  it('malformed: 200 with an invalid JSON body', async () => {
    const s = await sim({ faults: { malformed: { count: 1 } } });
    const r = await price(s);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await r.text();
    expect(() => JSON.parse(text)).toThrow();
    expect(text.startsWith('{"bitcoin"')).toBe(true);
    expect(await (await price(s)).json()).toHaveProperty('bitcoin');
  });

  it('html: a CDN-style HTML error page', async () => {
    const s = await sim({ faults: { html: { count: 2, status: 403 } } });
    const r = await price(s);
    expect(r.status).toBe(403);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(r.headers.get('server')).toBe('cloudflare');
    const body = await r.text();
    expect(body).toMatch(/^<!DOCTYPE html>/);
    expect(body).toContain('1020');
    s.setFaults({ html: { count: 1, status: 502 } });
    const r2 = await price(s);
    expect(r2.status).toBe(502);
    expect(await r2.text()).toContain('Bad Gateway');
    expect((await price(s)).status).toBe(200);
  });

  it('missingCoins: absent from simple/price and markets, 404 on market_chart/range', async () => {
    const s = await sim({ faults: { missingCoins: ['ethereum'] } });
    const p = await getJson(`${s.baseUrl}/simple/price?ids=bitcoin,ethereum&vs_currencies=usd`);
    expect(Object.keys(p.body)).toEqual(['bitcoin']);
    const m = await getJson(`${s.baseUrl}/coins/markets?vs_currency=usd`);
    expect(m.body.map((x: any) => x.id)).not.toContain('ethereum');
    expect(m.body).toHaveLength(COINS.length - 1);
    const now = Math.floor(s.now() / 1000);
    const c = await getJson(`${s.baseUrl}/coins/ethereum/market_chart/range?vs_currency=usd&from=${now - 3600}&to=${now}`);
    expect(c.status).toBe(404);
    s.setFaults({ missingCoins: null });
    expect(Object.keys((await getJson(`${s.baseUrl}/simple/price?ids=bitcoin,ethereum&vs_currencies=usd`)).body)).toEqual(['bitcoin', 'ethereum']);
  });

  it('typeChange: a number field sent as a string (or null) for `count` responses', async () => {
    const s = await sim({ faults: { typeChange: { field: 'usd', count: 1 } } });
    const q = `${s.baseUrl}/simple/price?ids=bitcoin,ethereum&vs_currencies=usd&include_market_cap=true`;
    const a = (await getJson(q)).body;
    expect(typeof a.bitcoin.usd).toBe('string');
    expect(a.bitcoin.usd).toMatch(/^\d+(\.\d+)?$/);
    expect(typeof a.ethereum.usd).toBe('string');
    expect(typeof a.bitcoin.usd_market_cap).toBe('number');
    const b = (await getJson(q)).body;
    expect(typeof b.bitcoin.usd).toBe('number');
    expect(Number(a.bitcoin.usd)).toBe(b.bitcoin.usd); // same tick, same value

    // ping does not use up the count; markets fields can be nulled.
    s.setFaults({ typeChange: { field: 'current_price', count: 1, to: 'null' } });
    await fetch(`${s.baseUrl}/ping`);
    const m = (await getJson(`${s.baseUrl}/coins/markets?vs_currency=usd&per_page=3`)).body;
    expect(m.map((x: any) => x.current_price)).toEqual([null, null, null]);
    expect(s.faults()).toEqual({});
  });

  it('rateLimitPerMinute: over the limit gets 429 with Retry-After until the window frees', async () => {
    const s = await sim({ faults: { rateLimitPerMinute: 3 } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await price(s)).status);
      s.clock.t += 10_000; // requests at T0, +10 s, +20 s
    }
    const limited = await price(s); // at +30 s: 4th in the window
    statuses.push(limited.status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(await limited.json()).toEqual(RATE_LIMIT_BODY);
    expect(limited.headers.get('retry-after')).toBe('30'); // first slot frees at T0 + 60 s
    s.clock.t += 29_000;
    expect((await price(s)).status).toBe(429); // rejected requests do not extend the window
    s.clock.t += 1_000;
    expect((await price(s)).status).toBe(200); // at +60 s
    expect((await price(s)).status).toBe(429);
    expect(s.stats().byFault).toEqual({ rateLimitPerMinute: 3 });
  });

  it('faults can be combined and set at runtime; admin requests are not recorded', async () => {
    const s = await sim();
    s.setFaults({ status5xx: { count: 1, status: 502 }, missingCoins: ['bitcoin'] });
    expect(s.faults()).toEqual({ status5xx: { count: 1, status: 502 }, missingCoins: ['bitcoin'] });
    expect((await price(s)).status).toBe(502);
    expect(await (await price(s)).json()).toEqual({});
    s.replaceFaults();
    expect(s.faults()).toEqual({});
    expect(() => s.setFaults({ status5xx: { count: 1, status: 404 as never } })).toThrow(/status5xx/);
  });
});

describe('admin endpoint', () => {
  const post = (url: string, body: unknown) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('POST /__admin/faults merges faults; GET shows them; bad input is 400', async () => {
    const s = await sim();
    const r = await post(`${s.url}/__admin/faults`, { rate429: { count: 1, retryAfter: 2 }, missingCoins: ['solana'] });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ rate429: { count: 1, retryAfter: 2 }, missingCoins: ['solana'] });
    const p1 = await fetch(`${s.baseUrl}/simple/price?ids=bitcoin,solana&vs_currencies=usd`);
    expect(p1.status).toBe(429);
    expect(p1.headers.get('retry-after')).toBe('2');
    expect(Object.keys((await (await fetch(`${s.baseUrl}/simple/price?ids=bitcoin,solana&vs_currencies=usd`)).json()) as object)).toEqual(['bitcoin']);
    expect(await (await fetch(`${s.url}/__admin/faults`)).json()).toEqual({ missingCoins: ['solana'] });

    // null clears one fault; mode=replace replaces all
    await post(`${s.url}/__admin/faults`, { missingCoins: null, html: { count: 1, status: 503 } });
    expect(await (await fetch(`${s.url}/__admin/faults`)).json()).toEqual({ html: { count: 1, status: 503 } });
    await post(`${s.url}/__admin/faults?mode=replace`, { truncate: { count: 2 } });
    expect(await (await fetch(`${s.url}/__admin/faults`)).json()).toEqual({ truncate: { count: 2 } });

    for (const bad of ['{not json', { nope: 1 }, { rate429: { count: -1 } }, { typeChange: { count: 1 } }]) {
      const b = await post(`${s.url}/__admin/faults`, bad);
      expect(b.status).toBe(400);
      expect(await b.json()).toHaveProperty('error');
    }
    expect(s.faults()).toEqual({ truncate: { count: 2 } });
    expect(s.requests.every((x) => !x.path.startsWith('/__admin'))).toBe(true);
  });

  it('stats, requests, clock and reset over HTTP', async () => {
    const s = await sim({ faults: { status5xx: { count: 1, status: 500 } } });
    await fetch(`${s.baseUrl}/ping`);
    await fetch(`${s.baseUrl}/ping`);
    const stats = await (await fetch(`${s.url}/__admin/stats`)).json();
    expect(stats).toEqual({ total: 2, byStatus: { '500': 1, '200': 1 }, byFault: { status5xx: 1 }, byPath: { '/api/v3/ping': 2 } });
    expect(s.stats()).toEqual(stats);
    const reqs = (await (await fetch(`${s.url}/__admin/requests`)).json()) as any[];
    expect(reqs.map((r: any) => [r.seq, r.path, r.status])).toEqual([[1, '/api/v3/ping', 500], [2, '/api/v3/ping', 200]]);
    expect(reqs[0].simNow).toBe(T0);
    expect(reqs[1].at).toBeGreaterThanOrEqual(reqs[0].at);

    const clock = (await (await post(`${s.url}/__admin/clock`, { advanceMs: 20_000 })).json()) as any;
    expect(clock.nowMs).toBe(T0 + 20_000);
    expect(clock.lastUpdatedAt).toBe(Math.floor((T0 + 20_000) / 10_000) * 10);
    const set = (await (await post(`${s.url}/__admin/clock`, { setMs: T0 + 60_000 })).json()) as any;
    expect(set.nowMs).toBe(T0 + 60_000);

    expect((await post(`${s.url}/__admin/reset`, {})).status).toBe(200);
    expect(s.requests).toHaveLength(0);
    expect(s.stats().total).toBe(0);
  });
});

describe('CLI', () => {
  it('parseFaultSpec', () => {
    const cases: Array<[string, FaultConfig]> = [
      ['rate429:3', { rate429: { count: 3 } }],
      ['rate429:2:5', { rate429: { count: 2, retryAfter: 5 } }],
      ['rate429:1:date+7', { rate429: { count: 1, retryAfter: 7, retryAfterFormat: 'http-date' } }],
      ['5xx:2:502', { status5xx: { count: 2, status: 502 } }],
      ['5xx:1', { status5xx: { count: 1, status: 503 } }],
      ['slow:1:5000', { slowMs: { count: 1, delayMs: 5000 } }],
      ['truncate:1', { truncate: { count: 1 } }],
      ['malformed:2', { malformed: { count: 2 } }],
      ['html:1', { html: { count: 1, status: 403 } }],
      ['missing:bitcoin,solana', { missingCoins: ['bitcoin', 'solana'] }],
      ['type:usd:2', { typeChange: { field: 'usd', count: 2 } }],
      ['type:usd:1:null', { typeChange: { field: 'usd', count: 1, to: 'null' } }],
      ['ratelimit:30', { rateLimitPerMinute: 30 }],
    ];
    for (const [spec, want] of cases) expect(parseFaultSpec(spec), spec).toEqual(want);
    expect(() => parseFaultSpec('bogus:1')).toThrow(/unknown fault/);
    expect(() => parseFaultSpec('slow:1')).toThrow(/DELAY_MS/);
  });

  it('scripts/simulator.ts prints the base URL and applies --fault', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const child = spawn(path.join(root, 'node_modules/.bin/tsx'), ['scripts/simulator.ts', '--port', '0', '--fault', 'rate429:1:4', '--quiet'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const base = await new Promise<string>((resolve, reject) => {
        let out = '';
        let err = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const nl = out.indexOf('\n');
          if (nl >= 0) resolve(out.slice(0, nl));
        });
        child.stderr.on('data', (c: Buffer) => (err += c.toString()));
        child.on('exit', (code) => reject(new Error(`simulator exited ${code}: ${err}`)));
      });
      expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v3$/);
      const r1 = await fetch(`${base}/ping`);
      expect(r1.status).toBe(429);
      expect(r1.headers.get('retry-after')).toBe('4');
      expect(await (await fetch(`${base}/ping`)).json()).toEqual({ gecko_says: '(V3) To the Moon!' });
      // steer the other process through the admin endpoint
      const origin = base.replace(/\/api\/v3$/, '');
      await fetch(`${origin}/__admin/faults`, { method: 'POST', body: JSON.stringify({ status5xx: { count: 1, status: 503 } }) });
      expect((await fetch(`${base}/ping`)).status).toBe(503);
      const stats = (await (await fetch(`${origin}/__admin/stats`)).json()) as any;
      expect(stats.byStatus).toEqual({ '429': 1, '200': 1, '503': 1 });
    } finally {
      const exited = new Promise((res) => child.once('exit', res));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
