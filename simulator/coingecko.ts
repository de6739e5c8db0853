/**
 * A CoinGecko-compatible HTTP simulator for demos and tests (node:http only, no dependencies).
 *
 * It serves the subset of the public API v3 that Tributary uses, with the real response shapes
 * (see /work/shared/reference/peers-and-users.md §4):
 *
 *   GET /api/v3/ping
 *   GET /api/v3/simple/price            ids, vs_currencies, include_market_cap, include_24hr_vol,
 *                                       include_24hr_change, include_last_updated_at, precision
 *   GET /api/v3/simple/supported_vs_currencies
 *   GET /api/v3/coins/list
 *   GET /api/v3/coins/markets           vs_currency, ids, order, per_page, page, sparkline,
 *                                       price_change_percentage, precision
 *   GET /api/v3/coins/{id}/market_chart/range   vs_currency, from, to (UNIX seconds), precision
 *
 * Prices are a pure function of (seed, coin, time): a multi-scale deterministic noise in log space
 * (a bounded random walk), sampled only at update ticks of `updateEverySec` seconds. Between two ticks
 * every poll sees the same price and the same `last_updated_at`, like CoinGecko's cache. The clock is
 * injectable (`now`) and can be shifted (`advanceClock`, `POST /__admin/clock`), so tests never sleep.
 *
 * Faults (`FaultConfig`) are set at start, with `sim.setFaults()`, or from another process with
 * `POST /__admin/faults`. Every request to the API is recorded in `sim.requests` (API key values
 * redacted; keys are never echoed in any response).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/**
 * Which CoinGecko host the simulator stands in for. `demo` = api.coingecko.com (a Pro key gives
 * error 10010), `pro` = pro-api.coingecko.com (a Demo key gives 10011, no key gives 10002),
 * `any` = accept either key type.
 */
export type Plan = 'demo' | 'pro' | 'any';

/** Names under which an API key was seen: the two headers and the two query parameters. */
export type KeyHeaderName = 'x-cg-demo-api-key' | 'x-cg-pro-api-key' | 'x_cg_demo_api_key' | 'x_cg_pro_api_key';

export interface Rate429Fault {
  /** How many of the next requests get 429. */
  count: number;
  /**
   * Retry-After header: a number of seconds, a string sent verbatim (e.g. an HTTP-date), or
   * null/absent for no header at all (CoinGecko's docs do not promise one).
   */
  retryAfter?: number | string | null;
  /** With a numeric `retryAfter`: send it as seconds (default) or as the HTTP-date now + retryAfter s (simulator clock). */
  retryAfterFormat?: 'seconds' | 'http-date';
}

export interface Status5xxFault {
  count: number;
  status: 500 | 502 | 503 | 504;
  /** Error body shape: `status` = {"status":{"error_code","error_message"}} (default), `error` = {"error":"…"}. */
  body?: 'status' | 'error';
}

export interface SlowFault {
  count: number;
  /** Real milliseconds to wait before answering (use more than the client's timeout). */
  delayMs: number;
}

export interface CountFault {
  count: number;
}

export interface HtmlFault {
  count: number;
  /** HTTP status of the CDN-style HTML page; 403 renders Cloudflare's "Error 1020 Access denied". */
  status: number;
}

export interface TypeChangeFault {
  /** Response key to corrupt wherever it appears, e.g. `usd`, `usd_market_cap`, `current_price`, `last_updated_at`. */
  field: string;
  /** How many data responses get the change. */
  count: number;
  /** `string` (default): 123.4 becomes "123.4"; `null`: the value becomes null. */
  to?: 'string' | 'null';
}

/**
 * Fault modes. In `setFaults()` and `POST /__admin/faults` a key set to null clears that fault,
 * an absent key leaves it as it is. Count-based faults consume one count per request they hit and
 * clear themselves at 0.
 */
export interface FaultConfig {
  rate429?: Rate429Fault | null;
  status5xx?: Status5xxFault | null;
  slowMs?: SlowFault | null;
  truncate?: CountFault | null;
  malformed?: CountFault | null;
  html?: HtmlFault | null;
  /** Coin ids that are absent from simple/price and coins/markets, and 404 on market_chart/range. */
  missingCoins?: string[] | null;
  typeChange?: TypeChangeFault | null;
  /**
   * CoinGecko's per-minute limit: more than this many requests within any 60 s (simulator clock)
   * get 429 with the real error body and `Retry-After` = seconds until a slot frees. Every request
   * counts (errors included, as the docs say) except the ones this limiter itself rejects.
   */
  rateLimitPerMinute?: number | null;
}

export type FaultName =
  | 'rateLimitPerMinute'
  | 'rate429'
  | 'status5xx'
  | 'slowMs'
  | 'truncate'
  | 'malformed'
  | 'html'
  | 'typeChange'
  | 'missingCoins';

export interface SimulatorOptions {
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 0 = ephemeral). */
  port?: number;
  /** Seed of the price paths (default 42). Same seed + same clock = same responses. */
  seed?: number | string;
  /** Host behaviour for API keys (default `demo`). */
  plan?: Plan;
  /** Reject requests without a key (10002). Default: true for `pro`, false otherwise. */
  requireKey?: boolean;
  /** Seconds between price updates (default 10); `last_updated_at` is a multiple of it. */
  updateEverySec?: number;
  /** Clock in epoch milliseconds (default Date.now). */
  now?: () => number;
  /** Faults active from the start. */
  faults?: FaultConfig;
  /** Called with one line per API request once it is answered (e.g. console.error). */
  log?: (line: string) => void;
}

export interface RecordedRequest {
  /** 1-based order of arrival. */
  seq: number;
  method: string;
  /** URL path without the query string. */
  path: string;
  /** Query parameters (first value of each); key parameters are redacted. */
  query: Record<string, string>;
  /** Lower-cased request headers; API key (and authorization) values are redacted. */
  headers: Record<string, string>;
  /** Where an API key was seen (header or query name), or null. */
  keyHeader: KeyHeaderName | null;
  /** Plan of the key that was seen, or null. */
  keyPlan: 'demo' | 'pro' | null;
  /** Real arrival time, epoch ms with sub-millisecond precision (performance.timeOrigin + performance.now()). */
  at: number;
  /** Simulator clock at arrival (epoch ms; differs from `at` when `now` is injected or advanced). */
  simNow: number;
  /** HTTP status sent, or null while the response is pending. */
  status: number | null;
  /** Real time the response head was sent (same clock as `at`), or null. */
  respondedAt: number | null;
  /** Fault that shaped the response, if any (a slow response that is otherwise normal says `slowMs`). */
  fault: FaultName | null;
  /** The client went away before the simulator answered (e.g. a client timeout on a slow response). */
  clientAborted: boolean;
}

export interface SimulatorStats {
  total: number;
  /** Count per HTTP status ("pending" for requests not answered yet). */
  byStatus: Record<string, number>;
  /** Count per fault that shaped a response. */
  byFault: Record<string, number>;
  /** Count per path. */
  byPath: Record<string, number>;
}

export interface Simulator {
  /** Origin, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** CoinGecko base URL, `${url}/api/v3` (same path for the demo and pro plans). */
  readonly baseUrl: string;
  readonly port: number;
  readonly plan: Plan;
  readonly updateEverySec: number;
  /** Live list of the API requests received (admin requests are not recorded). */
  readonly requests: RecordedRequest[];
  stats(): SimulatorStats;
  /** Merge faults: keys set to null clear, absent keys are kept. */
  setFaults(f: FaultConfig): void;
  /** Replace all faults with `f` (or none). */
  replaceFaults(f?: FaultConfig): void;
  /** A copy of the faults still active (with remaining counts). */
  faults(): FaultConfig;
  /** Forget recorded requests and the rate-limit window. */
  resetRequests(): void;
  /** Current simulator clock (epoch ms). */
  now(): number;
  /** Shift the simulator clock forward (or back, with a negative value). */
  advanceClock(ms: number): void;
  /** The `last_updated_at` (UNIX seconds) that a poll would see now. */
  lastUpdatedAt(): number;
  /** The price a poll would see now, unrounded (undefined for unknown ids or currencies). */
  priceOf(id: string, vsCurrency?: string): number | undefined;
  close(): Promise<void>;
}

export interface CoinSpec {
  id: string;
  symbol: string;
  name: string;
  imageId: number;
  basePriceUsd: number;
  /** Multiplier of the price noise (1 = a typical coin, 0.01 = a stablecoin). */
  volatility: number;
  baseVolumeUsd: number;
  circulatingSupply: number;
  totalSupply: number | null;
  maxSupply: number | null;
  athUsd: number;
  athDate: string;
  atlUsd: number;
  atlDate: string;
  /** ICO price in USD, for `roi`; absent = roi null. */
  icoPriceUsd?: number;
  /** First day with data (YYYY-MM-DD); market_chart/range has no points before it. */
  genesis: string;
}

/** The simulated universe (about 20 well-known ids). Anything else is an unknown id. */
export const COINS: readonly CoinSpec[] = [
  coin('bitcoin', 'btc', 'Bitcoin', 1, 65000, 1, 3.0e10, 19_750_000, 19_750_000, 21_000_000, 108786, '2025-01-20T09:11:54.494Z', 67.81, '2013-07-06T00:00:00.000Z', '2013-04-28'),
  coin('ethereum', 'eth', 'Ethereum', 279, 3200, 1.2, 1.5e10, 120_400_000, 120_400_000, null, 4878.26, '2021-11-10T14:24:19.604Z', 0.432979, '2015-10-20T00:00:00.000Z', '2015-08-07', 0.31),
  coin('tether', 'usdt', 'Tether', 325, 1.0, 0.01, 5.0e10, 110_000_000_000, 110_000_000_000, null, 1.32, '2018-07-24T00:00:00.000Z', 0.572521, '2015-03-02T00:00:00.000Z', '2015-02-25'),
  coin('binancecoin', 'bnb', 'BNB', 825, 580, 0.9, 1.5e9, 146_000_000, 146_000_000, 200_000_000, 793.35, '2024-12-04T10:35:25.220Z', 0.0398177, '2017-10-19T00:00:00.000Z', '2017-09-16', 0.15),
  coin('solana', 'sol', 'Solana', 4128, 150, 1.5, 3.0e9, 460_000_000, 580_000_000, null, 293.31, '2025-01-19T11:15:27.957Z', 0.500801, '2020-05-11T19:35:23.449Z', '2020-04-11'),
  coin('usd-coin', 'usdc', 'USDC', 6319, 1.0, 0.01, 6.0e9, 33_000_000_000, 33_000_000_000, null, 1.17, '2019-05-08T00:40:28.300Z', 0.877647, '2023-03-11T08:02:13.981Z', '2018-10-08'),
  coin('ripple', 'xrp', 'XRP', 44, 0.55, 1.3, 1.2e9, 55_000_000_000, 99_987_000_000, 100_000_000_000, 3.4, '2018-01-07T00:00:00.000Z', 0.00268621, '2014-05-22T00:00:00.000Z', '2013-08-04'),
  coin('dogecoin', 'doge', 'Dogecoin', 5, 0.15, 1.6, 1.0e9, 144_000_000_000, 144_000_000_000, null, 0.731578, '2021-05-08T05:08:23.458Z', 0.0000869, '2015-05-06T00:00:00.000Z', '2013-12-15'),
  coin('cardano', 'ada', 'Cardano', 975, 0.45, 1.3, 4.0e8, 35_000_000_000, 45_000_000_000, 45_000_000_000, 3.09, '2021-09-02T06:00:10.474Z', 0.01925275, '2020-03-13T02:22:55.044Z', '2017-10-18'),
  coin('tron', 'trx', 'TRON', 1094, 0.12, 0.9, 3.0e8, 87_000_000_000, 87_000_000_000, null, 0.431288, '2024-12-04T00:10:40.323Z', 0.00180434, '2017-11-12T00:00:00.000Z', '2017-09-13', 0.0019),
  coin('avalanche-2', 'avax', 'Avalanche', 12559, 35, 1.5, 4.0e8, 390_000_000, 440_000_000, 720_000_000, 144.96, '2021-11-21T14:18:56.538Z', 2.8, '2020-12-31T13:15:21.540Z', '2020-09-22', 0.5),
  coin('shiba-inu', 'shib', 'Shiba Inu', 11939, 0.000025, 1.8, 5.0e8, 589_000_000_000_000, 589_000_000_000_000, null, 0.00008616, '2021-10-28T03:54:55.568Z', 5.6366e-11, '2020-11-28T11:26:25.838Z', '2020-08-01'),
  coin('the-open-network', 'ton', 'Toncoin', 17980, 6, 1.2, 2.0e8, 2_500_000_000, 5_100_000_000, null, 8.25, '2024-06-15T00:36:51.509Z', 0.519364, '2021-09-21T00:33:11.092Z', '2021-09-21'),
  coin('chainlink', 'link', 'Chainlink', 877, 15, 1.4, 4.0e8, 587_000_000, 1_000_000_000, 1_000_000_000, 52.7, '2021-05-10T00:13:57.214Z', 0.148183, '2017-11-29T00:00:00.000Z', '2017-11-09', 0.11),
  coin('polkadot', 'dot', 'Polkadot', 12171, 7, 1.3, 2.0e8, 1_400_000_000, 1_500_000_000, null, 54.98, '2021-11-04T14:10:09.301Z', 2.7, '2020-08-20T00:00:00.000Z', '2020-08-22'),
  coin('bitcoin-cash', 'bch', 'Bitcoin Cash', 780, 450, 1.2, 3.0e8, 19_700_000, 19_700_000, 21_000_000, 3785.82, '2017-12-20T00:00:00.000Z', 76.93, '2018-12-16T00:00:00.000Z', '2017-08-02'),
  coin('near', 'near', 'NEAR Protocol', 10365, 5, 1.5, 3.0e8, 1_070_000_000, 1_180_000_000, null, 20.44, '2022-01-16T22:09:45.873Z', 0.526762, '2020-11-04T16:09:15.137Z', '2020-10-14'),
  coin('litecoin', 'ltc', 'Litecoin', 2, 80, 1.1, 4.0e8, 74_800_000, 84_000_000, 84_000_000, 410.26, '2021-05-10T03:13:07.904Z', 1.15, '2015-01-14T00:00:00.000Z', '2013-04-28'),
  coin('uniswap', 'uni', 'Uniswap', 12504, 9, 1.4, 2.0e8, 600_000_000, 1_000_000_000, 1_000_000_000, 44.92, '2021-05-03T05:25:04.822Z', 1.03, '2020-09-17T01:20:38.214Z', '2020-09-17'),
  coin('stellar', 'xlm', 'Stellar', 100, 0.11, 1.1, 1.0e8, 29_000_000_000, 50_000_000_000, 50_000_000_000, 0.875563, '2018-01-03T00:00:00.000Z', 0.00047612, '2015-03-05T00:00:00.000Z', '2014-08-05'),
  coin('polygon-ecosystem-token', 'pol', 'POL (ex-MATIC)', 32440, 0.55, 1.5, 1.5e8, 9_900_000_000, 10_300_000_000, null, 1.29, '2024-03-13T19:05:24.235Z', 0.1, '2025-04-07T05:30:14.474Z', '2023-10-25'),
];

function coin(
  id: string, symbol: string, name: string, imageId: number, basePriceUsd: number, volatility: number, baseVolumeUsd: number,
  circulatingSupply: number, totalSupply: number | null, maxSupply: number | null,
  athUsd: number, athDate: string, atlUsd: number, atlDate: string, genesis: string, icoPriceUsd?: number,
): CoinSpec {
  return { id, symbol, name, imageId, basePriceUsd, volatility, baseVolumeUsd, circulatingSupply, totalSupply, maxSupply, athUsd, athDate, atlUsd, atlDate, genesis, icoPriceUsd };
}

/** Quote currencies served (a subset of /simple/supported_vs_currencies). */
export const SUPPORTED_VS_CURRENCIES: readonly string[] = ['usd', 'eur', 'gbp', 'jpy', 'btc', 'eth'];
const FIAT_PER_USD: Record<string, number> = { usd: 1, eur: 0.92, gbp: 0.79, jpy: 151.3 };

/** The 429 body CoinGecko sends when a rate limit is exceeded. */
export const RATE_LIMIT_BODY = {
  status: {
    error_code: 429,
    error_message:
      "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing to subscribe to our API plans for higher rate limits.",
  },
} as const;

// ---------------------------------------------------------------------------------------------
// Deterministic noise
// ---------------------------------------------------------------------------------------------

function seedToUint32(seed: number | string): number {
  const s = String(seed);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function mix(h: number, v: number): number {
  h = Math.imul(h ^ (v >>> 0), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Uniform in [-1, 1) from integer keys (any safe integers, negative included). */
function unit(...keys: number[]): number {
  let h = 0x9e3779b9;
  for (const k of keys) {
    const lo = ((k % 4294967296) + 4294967296) % 4294967296;
    const hi = Math.floor(k / 4294967296);
    h = mix(mix(h, lo), hi);
  }
  h = mix(h, 0x27d4eb2d);
  return (h / 4294967296) * 2 - 1;
}

/** Smoothly interpolated lattice noise in [-1, 1]. */
function valueNoise(a: number, b: number, c: number, x: number): number {
  const i = Math.floor(x);
  const f = x - i;
  const s = f * f * (3 - 2 * f);
  const v0 = unit(a, b, c, i);
  const v1 = unit(a, b, c, i + 1);
  return v0 + (v1 - v0) * s;
}

/** (period in seconds, amplitude in log-price) of the noise octaves. */
const OCTAVES: ReadonlyArray<readonly [number, number]> = [
  [600, 0.002],
  [3600, 0.006],
  [14_400, 0.012],
  [86_400, 0.03],
  [604_800, 0.07],
  [2_592_000, 0.15],
];

const DAY = 86_400;

// ---------------------------------------------------------------------------------------------
// Market model
// ---------------------------------------------------------------------------------------------

class Market {
  private readonly index = new Map<string, number>();
  constructor(
    readonly coins: readonly CoinSpec[],
    private readonly seed: number,
    readonly updateEverySec: number,
  ) {
    coins.forEach((c, i) => this.index.set(c.id, i));
  }

  has(id: string): boolean {
    return this.index.has(id);
  }

  coinIndex(id: string): number | undefined {
    return this.index.get(id);
  }

  /** The update tick (seconds, a multiple of updateEverySec) that contains tSec. */
  tick(tSec: number): number {
    const u = this.updateEverySec;
    return Math.floor(tSec / u) * u;
  }

  /** USD price of coin i as of the tick containing tSec. */
  priceUsd(i: number, tSec: number): number {
    const t = this.tick(tSec);
    const c = this.coins[i];
    let x = 0;
    for (let o = 0; o < OCTAVES.length; o++) {
      const [period, amp] = OCTAVES[o];
      x += amp * c.volatility * valueNoise(this.seed, i, o, t / period);
    }
    x += 0.0008 * c.volatility * unit(this.seed, i, 97, Math.round(t / this.updateEverySec));
    return c.basePriceUsd * Math.exp(x);
  }

  /** Units of `vs` per USD at tSec, or undefined for an unsupported currency. */
  usdTo(vs: string, tSec: number): number | undefined {
    if (vs in FIAT_PER_USD) return FIAT_PER_USD[vs];
    if (vs === 'btc') return 1 / this.priceUsd(0, tSec);
    if (vs === 'eth') return 1 / this.priceUsd(1, tSec);
    return undefined;
  }

  price(i: number, vs: string, tSec: number): number | undefined {
    const rate = this.usdTo(vs, tSec);
    return rate === undefined ? undefined : this.priceUsd(i, tSec) * rate;
  }

  /** 24 h volume in USD as of tSec. */
  volumeUsd(i: number, tSec: number): number {
    const t = this.tick(tSec);
    const c = this.coins[i];
    const x = 0.25 * valueNoise(this.seed, i, 50, t / 21_600) + 0.08 * valueNoise(this.seed, i, 51, t / 3600);
    return c.baseVolumeUsd * Math.exp(x);
  }

  genesisSec(i: number): number {
    return Date.parse(`${this.coins[i].genesis}T00:00:00.000Z`) / 1000;
  }
}

// ---------------------------------------------------------------------------------------------
// Fault state
// ---------------------------------------------------------------------------------------------

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
  }
}

function isInt(n: unknown, min = 0): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= min;
}

function need(cond: boolean, msg: string): void {
  if (!cond) throw new TypeError(`invalid faults: ${msg}`);
}

/** Validates and copies a fault patch; throws TypeError on a malformed one. */
export function validateFaults(f: unknown): FaultConfig {
  need(typeof f === 'object' && f !== null && !Array.isArray(f), 'expected a JSON object');
  const src = f as Record<string, unknown>;
  const known = new Set(['rate429', 'status5xx', 'slowMs', 'truncate', 'malformed', 'html', 'missingCoins', 'typeChange', 'rateLimitPerMinute']);
  for (const k of Object.keys(src)) need(known.has(k), `unknown fault "${k}"`);
  const out: FaultConfig = {};
  const obj = (k: string): Record<string, unknown> | null | undefined => {
    const v = src[k];
    if (v === undefined || v === null) return v as null | undefined;
    need(typeof v === 'object' && !Array.isArray(v), `${k} must be an object or null`);
    const o = v as Record<string, unknown>;
    need(isInt(o.count), `${k}.count must be a non-negative integer`);
    return o;
  };
  let o = obj('rate429');
  if (o !== undefined) {
    if (o === null) out.rate429 = null;
    else {
      const ra = o.retryAfter;
      need(ra === undefined || ra === null || (typeof ra === 'number' && ra >= 0) || typeof ra === 'string', 'rate429.retryAfter must be seconds, a string or null');
      need(o.retryAfterFormat === undefined || o.retryAfterFormat === 'seconds' || o.retryAfterFormat === 'http-date', 'rate429.retryAfterFormat must be "seconds" or "http-date"');
      out.rate429 = { count: o.count as number, retryAfter: ra as number | string | null | undefined, retryAfterFormat: o.retryAfterFormat as Rate429Fault['retryAfterFormat'] };
    }
  }
  o = obj('status5xx');
  if (o !== undefined) {
    if (o === null) out.status5xx = null;
    else {
      need([500, 502, 503, 504].includes(o.status as number), 'status5xx.status must be 500, 502, 503 or 504');
      need(o.body === undefined || o.body === 'status' || o.body === 'error', 'status5xx.body must be "status" or "error"');
      out.status5xx = { count: o.count as number, status: o.status as Status5xxFault['status'], body: o.body as Status5xxFault['body'] };
    }
  }
  o = obj('slowMs');
  if (o !== undefined) {
    if (o === null) out.slowMs = null;
    else {
      need(isInt(o.delayMs), 'slowMs.delayMs must be a non-negative integer');
      out.slowMs = { count: o.count as number, delayMs: o.delayMs as number };
    }
  }
  for (const k of ['truncate', 'malformed'] as const) {
    o = obj(k);
    if (o !== undefined) out[k] = o === null ? null : { count: o.count as number };
  }
  o = obj('html');
  if (o !== undefined) {
    if (o === null) out.html = null;
    else {
      need(isInt(o.status, 100) && (o.status as number) <= 599, 'html.status must be an HTTP status');
      out.html = { count: o.count as number, status: o.status as number };
    }
  }
  o = obj('typeChange');
  if (o !== undefined) {
    if (o === null) out.typeChange = null;
    else {
      need(typeof o.field === 'string' && o.field.length > 0, 'typeChange.field must be a non-empty string');
      need(o.to === undefined || o.to === 'string' || o.to === 'null', 'typeChange.to must be "string" or "null"');
      out.typeChange = { field: o.field as string, count: o.count as number, to: o.to as TypeChangeFault['to'] };
    }
  }
  if (src.missingCoins !== undefined) {
    const m = src.missingCoins;
    need(m === null || (Array.isArray(m) && m.every((x) => typeof x === 'string')), 'missingCoins must be an array of ids or null');
    out.missingCoins = m === null ? null : [...(m as string[])];
  }
  if (src.rateLimitPerMinute !== undefined) {
    const r = src.rateLimitPerMinute;
    need(r === null || isInt(r, 1), 'rateLimitPerMinute must be a positive integer or null');
    out.rateLimitPerMinute = r as number | null;
  }
  // Drop undefined optional sub-keys so copies compare cleanly.
  return JSON.parse(JSON.stringify(out)) as FaultConfig;
}

/**
 * Parses one CLI fault spec into a FaultConfig patch:
 *   rate429:COUNT[:RETRY_AFTER]   RETRY_AFTER = seconds, or date+SECONDS for an HTTP-date
 *   5xx:COUNT[:STATUS]            (also status5xx) STATUS 500|502|503|504, default 503
 *   slow:COUNT:DELAY_MS           (also slowMs)
 *   truncate:COUNT   malformed:COUNT   html:COUNT[:STATUS] (default 403)
 *   missing:ID[,ID...]            (also missingCoins)
 *   type:FIELD:COUNT[:string|null] (also typeChange)
 *   ratelimit:PER_MINUTE          (also rateLimitPerMinute)
 */
export function parseFaultSpec(spec: string): FaultConfig {
  const [name, ...args] = spec.split(':');
  const num = (s: string | undefined, what: string): number => {
    const n = Number(s);
    if (s === undefined || s === '' || !Number.isFinite(n)) throw new TypeError(`fault "${spec}": ${what} must be a number`);
    return n;
  };
  switch (name) {
    case 'rate429': {
      const f: Rate429Fault = { count: num(args[0], 'COUNT') };
      const ra = args.slice(1).join(':');
      if (ra.startsWith('date+')) {
        f.retryAfter = num(ra.slice(5), 'date+SECONDS');
        f.retryAfterFormat = 'http-date';
      } else if (ra !== '') {
        f.retryAfter = Number.isFinite(Number(ra)) ? Number(ra) : ra;
      }
      return validateFaults({ rate429: f });
    }
    case '5xx':
    case 'status5xx':
      return validateFaults({ status5xx: { count: num(args[0], 'COUNT'), status: args[1] ? num(args[1], 'STATUS') : 503 } });
    case 'slow':
    case 'slowMs':
      return validateFaults({ slowMs: { count: num(args[0], 'COUNT'), delayMs: num(args[1], 'DELAY_MS') } });
    case 'truncate':
    case 'malformed':
      return validateFaults({ [name]: { count: num(args[0], 'COUNT') } });
    case 'html':
      return validateFaults({ html: { count: num(args[0], 'COUNT'), status: args[1] ? num(args[1], 'STATUS') : 403 } });
    case 'missing':
    case 'missingCoins':
      return validateFaults({ missingCoins: (args[0] ?? '').split(',').filter(Boolean) });
    case 'type':
    case 'typeChange':
      return validateFaults({ typeChange: { field: args[0], count: num(args[1], 'COUNT'), to: args[2] } });
    case 'ratelimit':
    case 'rateLimitPerMinute':
      return validateFaults({ rateLimitPerMinute: num(args[0], 'PER_MINUTE') });
    default:
      throw new TypeError(`unknown fault "${name}" in "${spec}"`);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const realNow = (): number => performance.timeOrigin + performance.now();

function csv(s: string | null): string[] {
  if (s === null) return [];
  const out: string[] = [];
  for (const part of s.split(',')) {
    const v = part.trim().toLowerCase();
    if (v && !out.includes(v)) out.push(v);
  }
  return out;
}

const bool = (s: string | null): boolean => s === 'true';

/** Rounds a price as the `precision` parameter asks: 'full', '0'..'18', or CoinGecko-like defaults. */
function roundPrice(v: number, precision: string | null): number {
  if (precision === 'full') return v;
  if (precision !== null && /^(1[0-8]|[0-9])$/.test(precision)) return Number(v.toFixed(Number(precision)));
  return Number(v.toPrecision(v >= 1 ? 8 : 6));
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

const REDACTED = '[redacted]';

/** Real HTTP reason phrases for the statuses the simulator sends. */
function reason(status: number): string {
  return http.STATUS_CODES[status] ?? 'Error';
}

function cdnPage(status: number, rayId: string): string {
  const [code, title, text] =
    status === 403
      ? ['1020', 'Access denied', 'This website is using a security service to protect itself from online attacks. The request was blocked by a firewall rule.']
      : status === 429
        ? ['1015', 'You are being rate limited', 'The owner of this website has banned you temporarily from accessing this website.']
        : [String(status), reason(status), 'The web server reported an error. Please try again in a few minutes.'];
  return `<!DOCTYPE html>
<!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
<html class="no-js" lang="en-US">
<head>
<title>${status === 403 || status === 429 ? `Error ${code}` : `${code}: ${title}`} | api.coingecko.com | Cloudflare</title>
<meta charset="UTF-8" />
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
<meta name="robots" content="noindex, nofollow" />
</head>
<body>
<div id="cf-wrapper">
  <div id="cf-error-details" class="cf-error-details-wrapper">
    <div class="cf-wrapper cf-header cf-error-overview">
      <h1><span class="cf-error-type">Error</span> <span class="cf-error-code">${code}</span></h1>
      <h2 class="cf-subheadline">${title}</h2>
    </div>
    <section><p>${text}</p></section>
    <div class="cf-error-footer"><p>Cloudflare Ray ID: <strong class="font-semibold">${rayId}</strong></p></div>
  </div>
</div>
</body>
</html>
`;
}

/** Replaces numeric values of `field` anywhere in a JSON value; returns how many changed. */
function changeType(v: unknown, field: string, to: 'string' | 'null'): number {
  let n = 0;
  if (Array.isArray(v)) {
    for (const x of v) n += changeType(x, field, to);
  } else if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    for (const [k, x] of Object.entries(o)) {
      if (k === field && (typeof x === 'number' || (to === 'null' && x !== null))) {
        o[k] = to === 'null' ? null : String(x);
        n++;
      } else {
        n += changeType(x, field, to);
      }
    }
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// The simulator
// ---------------------------------------------------------------------------------------------

interface Decision {
  slowMs: number;
  fault: FaultName | null;
  early: { status: number; headers: Record<string, string>; body: string } | null;
}

class CoinGeckoSimulator implements Simulator {
  readonly requests: RecordedRequest[] = [];
  readonly plan: Plan;
  readonly updateEverySec: number;
  url = '';
  baseUrl = '';
  port = 0;

  private readonly server: http.Server;
  private readonly market: Market;
  private readonly requireKey: boolean;
  private readonly clockFn: () => number;
  private readonly log?: (line: string) => void;
  private offsetMs = 0;
  private state: FaultConfig = {};
  /** Simulator-clock times of the requests that count against rateLimitPerMinute. */
  private window: number[] = [];
  private seq = 0;
  private closed = false;
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  constructor(opts: SimulatorOptions) {
    this.plan = opts.plan ?? 'demo';
    if (!['demo', 'pro', 'any'].includes(this.plan)) throw new TypeError(`plan must be demo, pro or any, not ${String(this.plan)}`);
    this.requireKey = opts.requireKey ?? this.plan === 'pro';
    this.updateEverySec = opts.updateEverySec ?? 10;
    if (!(this.updateEverySec > 0)) throw new TypeError('updateEverySec must be > 0');
    this.clockFn = opts.now ?? Date.now;
    this.log = opts.log;
    this.market = new Market(COINS, seedToUint32(opts.seed ?? 42), this.updateEverySec);
    if (opts.faults) this.setFaults(opts.faults);
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify({ error: `simulator error: ${(err as Error).message}` }));
        }
      });
    });
  }

  async listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address() as AddressInfo;
    this.port = addr.port;
    const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    this.url = `http://${h}:${addr.port}`;
    this.baseUrl = `${this.url}/api/v3`;
  }

  // -- public API ----------------------------------------------------------------------------

  now(): number {
    return this.clockFn() + this.offsetMs;
  }

  advanceClock(ms: number): void {
    this.offsetMs += ms;
  }

  lastUpdatedAt(): number {
    return Math.floor(this.market.tick(this.now() / 1000));
  }

  priceOf(id: string, vsCurrency = 'usd'): number | undefined {
    const i = this.market.coinIndex(id);
    return i === undefined ? undefined : this.market.price(i, vsCurrency, this.now() / 1000);
  }

  setFaults(f: FaultConfig): void {
    const v = validateFaults(f);
    const next: Record<string, unknown> = { ...this.state };
    for (const [k, val] of Object.entries(v)) {
      if (val === null) delete next[k];
      else next[k] = val;
    }
    this.state = next as FaultConfig;
    this.prune();
  }

  replaceFaults(f: FaultConfig = {}): void {
    this.state = {};
    this.setFaults(f);
  }

  faults(): FaultConfig {
    return JSON.parse(JSON.stringify(this.state)) as FaultConfig;
  }

  resetRequests(): void {
    this.requests.length = 0;
    this.window = [];
    this.seq = 0;
  }

  stats(): SimulatorStats {
    const s: SimulatorStats = { total: this.requests.length, byStatus: {}, byFault: {}, byPath: {} };
    for (const r of this.requests) {
      const st = r.status === null ? 'pending' : String(r.status);
      s.byStatus[st] = (s.byStatus[st] ?? 0) + 1;
      if (r.fault) s.byFault[r.fault] = (s.byFault[r.fault] ?? 0) + 1;
      s.byPath[r.path] = (s.byPath[r.path] ?? 0) + 1;
    }
    return s;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sleepers) {
      clearTimeout(s.timer);
      s.resolve();
    }
    this.sleepers.clear();
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await done;
  }

  // -- request handling ----------------------------------------------------------------------

  private prune(): void {
    const s = this.state as Record<string, { count?: number } | unknown>;
    for (const k of ['rate429', 'status5xx', 'slowMs', 'truncate', 'malformed', 'html', 'typeChange']) {
      const v = s[k] as { count?: number } | undefined;
      if (v && typeof v.count === 'number' && v.count <= 0) delete s[k];
    }
  }

  /** Takes one count from a count-based fault; true if it fires. */
  private take(k: 'rate429' | 'status5xx' | 'slowMs' | 'truncate' | 'malformed' | 'html' | 'typeChange'): boolean {
    const v = this.state[k];
    if (!v || v.count <= 0) return false;
    v.count--;
    this.prune();
    return true;
  }

  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.sleepers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.sleepers.add(entry);
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const at = realNow();
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    if (url.pathname.startsWith('/__admin/')) return this.admin(req, res, url);

    // Record, with key values redacted.
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined) continue;
      headers[k] = k === 'x-cg-demo-api-key' || k === 'x-cg-pro-api-key' || k === 'authorization' ? REDACTED : Array.isArray(v) ? v.join(', ') : v;
    }
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) {
      if (k in query) continue;
      query[k] = k === 'x_cg_demo_api_key' || k === 'x_cg_pro_api_key' ? REDACTED : v;
    }
    let keyHeader: KeyHeaderName | null = null;
    if (req.headers['x-cg-pro-api-key'] !== undefined) keyHeader = 'x-cg-pro-api-key';
    else if (req.headers['x-cg-demo-api-key'] !== undefined) keyHeader = 'x-cg-demo-api-key';
    else if (url.searchParams.has('x_cg_pro_api_key')) keyHeader = 'x_cg_pro_api_key';
    else if (url.searchParams.has('x_cg_demo_api_key')) keyHeader = 'x_cg_demo_api_key';
    const keyPlan = keyHeader === null ? null : keyHeader.includes('pro') ? 'pro' : 'demo';
    const simNow = this.now();
    const rec: RecordedRequest = {
      seq: ++this.seq,
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      headers,
      keyHeader,
      keyPlan,
      at,
      simNow,
      status: null,
      respondedAt: null,
      fault: null,
      clientAborted: false,
    };
    this.requests.push(rec);
    let answered = false;
    res.on('close', () => {
      if (!answered && !res.writableFinished) rec.clientAborted = true;
    });
    req.resume();

    const d = this.decide(simNow);
    rec.fault = d.fault;
    if (d.slowMs > 0) await this.sleep(d.slowMs);
    if (this.closed || res.destroyed) {
      rec.clientAborted = rec.clientAborted || res.destroyed;
      return;
    }

    let status: number;
    let outHeaders: Record<string, string>;
    let body: string;
    if (d.early) {
      ({ status, headers: outHeaders, body } = d.early);
    } else {
      const r = this.route(req, url, keyPlan);
      status = r.status;
      outHeaders = r.headers;
      body = r.body;
      if (r.typeChanged) rec.fault = 'typeChange';
    }

    rec.status = status;
    rec.respondedAt = realNow();
    answered = true;
    const bytes = Buffer.from(body, 'utf8');
    // Body faults only hit successful responses (an auth error does not use them up).
    const truncate = status === 200 && this.take('truncate');
    const malformed = status === 200 && !truncate && this.take('malformed');
    if (truncate) {
      rec.fault = 'truncate';
      // Promise the whole body, send part of it, then drop the connection.
      const part = bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2)));
      res.writeHead(status, { ...outHeaders, 'content-length': String(bytes.length) });
      res.write(part, () => {
        setImmediate(() => res.socket?.destroy());
      });
      this.logLine(rec, bytes.length);
      return;
    }
    let payload = bytes;
    if (malformed) {
      rec.fault = 'malformed';
      payload = Buffer.concat([bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2))), Buffer.from('\u0000<', 'utf8')]);
    }
    res.writeHead(status, { ...outHeaders, 'content-length': String(payload.length) });
    res.end(payload);
    this.logLine(rec, payload.length);
  }

  private logLine(rec: RecordedRequest, n: number): void {
    if (!this.log) return;
    const q = new URLSearchParams(rec.query).toString();
    this.log(`${new Date(rec.at).toISOString()} ${rec.method} ${rec.path}${q ? `?${q}` : ''} -> ${rec.status} ${n}B${rec.fault ? ` [${rec.fault}]` : ''}${rec.keyHeader ? ` key=${rec.keyHeader}` : ''}`);
  }

  /** Decides, at arrival, which fault shapes this request (consuming counts). */
  private decide(simNow: number): Decision {
    const d: Decision = { slowMs: 0, fault: null, early: null };
    const json = { 'content-type': 'application/json; charset=utf-8' };

    const limit = this.state.rateLimitPerMinute;
    if (limit) {
      this.window = this.window.filter((t) => t > simNow - 60_000);
      if (this.window.length >= limit) {
        const freeAt = this.window[this.window.length - limit] + 60_000;
        const retry = Math.max(1, Math.ceil((freeAt - simNow) / 1000));
        d.fault = 'rateLimitPerMinute';
        d.early = { status: 429, headers: { ...json, 'retry-after': String(retry) }, body: JSON.stringify(RATE_LIMIT_BODY) };
        return d;
      }
    }
    this.window.push(simNow);

    const slow = this.state.slowMs;
    if (slow && this.take('slowMs')) {
      d.slowMs = slow.delayMs;
      d.fault = 'slowMs';
    }

    const r429 = this.state.rate429 ? { ...this.state.rate429 } : undefined;
    if (r429 && this.take('rate429')) {
      const h: Record<string, string> = { ...json };
      if (r429.retryAfter !== undefined && r429.retryAfter !== null) {
        h['retry-after'] =
          typeof r429.retryAfter === 'number' && r429.retryAfterFormat === 'http-date'
            ? new Date(Math.ceil((simNow + r429.retryAfter * 1000) / 1000) * 1000).toUTCString()
            : String(r429.retryAfter);
      }
      d.fault = 'rate429';
      d.early = { status: 429, headers: h, body: JSON.stringify(RATE_LIMIT_BODY) };
      return d;
    }

    const s5 = this.state.status5xx ? { ...this.state.status5xx } : undefined;
    if (s5 && this.take('status5xx')) {
      const msg = reason(s5.status);
      const body = s5.body === 'error' ? { error: msg } : { status: { error_code: s5.status, error_message: msg } };
      d.fault = 'status5xx';
      d.early = { status: s5.status, headers: json, body: JSON.stringify(body) };
      return d;
    }

    const html = this.state.html ? { ...this.state.html } : undefined;
    if (html && this.take('html')) {
      const ray = `${(unit(this.seq, 7) * 0.5 + 0.5).toString(16).slice(2, 18).padEnd(16, '0')}-IAD`;
      d.fault = 'html';
      d.early = {
        status: html.status,
        headers: { 'content-type': 'text/html; charset=UTF-8', server: 'cloudflare', 'cf-ray': ray, 'cache-control': 'private, max-age=0, no-store, no-cache, must-revalidate' },
        body: cdnPage(html.status, ray),
      };
      return d;
    }

    return d;
  }

  private route(req: http.IncomingMessage, url: URL, keyPlan: 'demo' | 'pro' | null): { status: number; headers: Record<string, string>; body: string; typeChanged: boolean } {
    const tSec = this.now() / 1000;
    const tick = this.market.tick(tSec);
    const nextTick = tick + this.updateEverySec;
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': `public, max-age=${Math.max(0, Math.ceil(nextTick - tSec))}`,
    };
    try {
      this.checkKey(keyPlan);
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(404, { error: 'Incorrect path. Please check https://www.coingecko.com/api/' });
      const body = this.dispatch(url, tSec);
      let typeChanged = false;
      const tc = this.state.typeChange;
      if (tc && typeof body === 'object' && body !== null) {
        const n = changeType(body, tc.field, tc.to ?? 'string');
        if (n > 0) {
          this.take('typeChange');
          typeChanged = true;
        }
      }
      return { status: 200, headers, body: JSON.stringify(body), typeChanged };
    } catch (e) {
      if (e instanceof HttpError) {
        return { status: e.status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(e.body), typeChanged: false };
      }
      throw e;
    }
  }

  private checkKey(keyPlan: 'demo' | 'pro' | null): void {
    if (this.plan === 'demo' && keyPlan === 'pro') {
      throw new HttpError(401, {
        status: { error_code: 10010, error_message: 'If you are using Pro API key, please change your root URL from api.coingecko.com to pro-api.coingecko.com' },
      });
    }
    if (this.plan === 'pro' && keyPlan === 'demo') {
      throw new HttpError(401, {
        status: { error_code: 10011, error_message: 'If you are using Demo API key, please change your root URL from pro-api.coingecko.com to api.coingecko.com' },
      });
    }
    if (this.requireKey && keyPlan === null) {
      throw new HttpError(401, {
        status: {
          error_code: 10002,
          error_message:
            this.plan === 'pro'
              ? 'API Key Missing. Please make sure you are using the right authentication method. For Pro API, pass the x-cg-pro-api-key header.'
              : 'API Key Missing. Please make sure you are using the right authentication method. For Demo API, pass the x-cg-demo-api-key header.',
        },
      });
    }
  }

  private missing(): Set<string> {
    return new Set(this.state.missingCoins ?? []);
  }

  private dispatch(url: URL, tSec: number): unknown {
    const p = url.pathname.replace(/\/+$/, '');
    const q = url.searchParams;
    if (p === '/api/v3/ping') return { gecko_says: '(V3) To the Moon!' };
    if (p === '/api/v3/simple/price') return this.simplePrice(q, tSec);
    if (p === '/api/v3/simple/supported_vs_currencies') return [...SUPPORTED_VS_CURRENCIES];
    if (p === '/api/v3/coins/list') return this.market.coins.map((c) => ({ id: c.id, symbol: c.symbol, name: c.name }));
    if (p === '/api/v3/coins/markets') return this.markets(q, tSec);
    const m = /^\/api\/v3\/coins\/([^/]+)\/market_chart\/range$/.exec(p);
    if (m) return this.chartRange(decodeURIComponent(m[1]), q, tSec);
    throw new HttpError(404, { error: 'Incorrect path. Please check https://www.coingecko.com/api/' });
  }

  private simplePrice(q: URLSearchParams, tSec: number): Record<string, Record<string, number | null>> {
    if (!q.get('vs_currencies')) throw new HttpError(400, { error: 'Missing parameter vs_currencies' });
    if (!q.get('ids')) throw new HttpError(400, { error: 'Missing parameter ids' });
    const ids = csv(q.get('ids'));
    const vss = csv(q.get('vs_currencies'));
    const mc = bool(q.get('include_market_cap'));
    const vol = bool(q.get('include_24hr_vol'));
    const chg = bool(q.get('include_24hr_change'));
    const lu = bool(q.get('include_last_updated_at'));
    const precision = q.get('precision');
    const missing = this.missing();
    const out: Record<string, Record<string, number | null>> = {};
    for (const id of ids) {
      const i = this.market.coinIndex(id);
      if (i === undefined || missing.has(id)) continue; // unknown ids are simply absent
      const c = this.market.coins[i];
      const o: Record<string, number | null> = {};
      for (const vs of vss) {
        const price = this.market.price(i, vs, tSec);
        if (price === undefined) continue;
        o[vs] = roundPrice(price, precision);
        if (mc) o[`${vs}_market_cap`] = price * c.circulatingSupply;
        if (vol) o[`${vs}_24h_vol`] = this.market.volumeUsd(i, tSec) * (this.market.usdTo(vs, tSec) as number);
        if (chg) {
          const before = this.market.price(i, vs, tSec - DAY) as number;
          o[`${vs}_24h_change`] = tSec - DAY < this.market.genesisSec(i) ? null : (price / before - 1) * 100;
        }
      }
      if (lu) o.last_updated_at = Math.floor(this.market.tick(tSec));
      out[id] = o;
    }
    return out;
  }

  private markets(q: URLSearchParams, tSec: number): unknown[] {
    const vs = (q.get('vs_currency') ?? '').toLowerCase();
    if (!vs) throw new HttpError(400, { error: 'Missing parameter vs_currency' });
    if (this.market.usdTo(vs, tSec) === undefined) throw new HttpError(400, { error: 'invalid vs_currency' });
    const order = q.get('order') ?? 'market_cap_desc';
    const orders = ['market_cap_desc', 'market_cap_asc', 'volume_desc', 'volume_asc', 'id_desc', 'id_asc'];
    if (!orders.includes(order)) throw new HttpError(400, { error: 'invalid order' });
    const perPage = Math.min(250, Math.max(1, Math.trunc(Number(q.get('per_page') ?? '100')) || 100));
    const page = Math.max(1, Math.trunc(Number(q.get('page') ?? '1')) || 1);
    const ids = q.get('ids') ? new Set(csv(q.get('ids'))) : null;
    const precision = q.get('precision');
    const sparkline = bool(q.get('sparkline'));
    const tfs = csv(q.get('price_change_percentage'));
    const TF: Record<string, number> = { '1h': 3600, '24h': DAY, '7d': 7 * DAY, '14d': 14 * DAY, '30d': 30 * DAY, '200d': 200 * DAY, '1y': 365 * DAY };
    const missing = this.missing();
    const rate = (t: number): number => this.market.usdTo(vs, t) as number;
    const tick = this.market.tick(tSec);

    // Rank by USD market cap across the whole universe.
    const caps = this.market.coins.map((c, i) => ({ i, cap: this.market.priceUsd(i, tSec) * c.circulatingSupply, vol: this.market.volumeUsd(i, tSec) }));
    const rank = new Map([...caps].sort((a, b) => b.cap - a.cap).map((x, r) => [x.i, r + 1]));
    let rows = caps.filter((x) => !missing.has(this.market.coins[x.i].id) && (ids === null || ids.has(this.market.coins[x.i].id)));
    const dir = order.endsWith('_asc') ? 1 : -1;
    if (order.startsWith('market_cap')) rows.sort((a, b) => dir * (a.cap - b.cap));
    else if (order.startsWith('volume')) rows.sort((a, b) => dir * (a.vol - b.vol));
    else rows.sort((a, b) => dir * this.market.coins[a.i].id.localeCompare(this.market.coins[b.i].id));
    rows = rows.slice((page - 1) * perPage, page * perPage);

    return rows.map(({ i }) => {
      const c = this.market.coins[i];
      const p = (t: number): number => this.market.priceUsd(i, t) * rate(t);
      const price = p(tSec);
      const price24 = p(tSec - DAY);
      const hasDay = tSec - DAY >= this.market.genesisSec(i);
      let hi = price;
      let lo = price;
      for (let h = 1; h <= 24; h++) {
        const v = p(tSec - h * 3600);
        hi = Math.max(hi, v);
        lo = Math.min(lo, v);
      }
      const cap = Math.round(price * c.circulatingSupply);
      const cap24 = Math.round(price24 * c.circulatingSupply);
      const supplyForFdv = c.maxSupply ?? c.totalSupply;
      const athVs = c.athUsd * rate(tSec);
      const atlVs = c.atlUsd * rate(tSec);
      const newAth = price > athVs;
      const ath = newAth ? price : athVs;
      const row: Record<string, unknown> = {
        id: c.id,
        symbol: c.symbol,
        name: c.name,
        image: `https://coin-images.coingecko.com/coins/images/${c.imageId}/large/${c.id}.png`,
        current_price: roundPrice(price, precision),
        market_cap: cap,
        market_cap_rank: rank.get(i) ?? null,
        fully_diluted_valuation: supplyForFdv === null ? null : Math.round(price * supplyForFdv),
        total_volume: Math.round(this.market.volumeUsd(i, tSec) * rate(tSec)),
        high_24h: hasDay ? roundPrice(hi, precision) : null,
        low_24h: hasDay ? roundPrice(lo, precision) : null,
        price_change_24h: hasDay ? price - price24 : null,
        price_change_percentage_24h: hasDay ? round5((price / price24 - 1) * 100) : null,
        market_cap_change_24h: hasDay ? cap - cap24 : null,
        market_cap_change_percentage_24h: hasDay ? round5((cap / cap24 - 1) * 100) : null,
        circulating_supply: c.circulatingSupply,
        total_supply: c.totalSupply,
        max_supply: c.maxSupply,
        ath: roundPrice(ath, precision),
        ath_change_percentage: round5((price / ath - 1) * 100),
        ath_date: newAth ? iso(tick * 1000) : c.athDate,
        atl: roundPrice(atlVs, precision),
        atl_change_percentage: round5((price / atlVs - 1) * 100),
        atl_date: c.atlDate,
        roi:
          c.icoPriceUsd === undefined
            ? null
            : { times: this.market.priceUsd(i, tSec) / c.icoPriceUsd - 1, currency: 'usd', percentage: (this.market.priceUsd(i, tSec) / c.icoPriceUsd - 1) * 100 },
        last_updated: iso(tick * 1000),
      };
      if (sparkline) {
        const pts: number[] = [];
        for (let h = 167; h >= 0; h--) pts.push(p(tSec - h * 3600));
        row.sparkline_in_7d = { price: pts };
      }
      for (const tf of tfs) {
        const dur = TF[tf];
        if (dur === undefined) continue;
        row[`price_change_percentage_${tf}_in_currency`] = tSec - dur < this.market.genesisSec(i) ? null : (price / p(tSec - dur) - 1) * 100;
      }
      return row;
    });
  }

  private chartRange(id: string, q: URLSearchParams, tSec: number): { prices: [number, number][]; market_caps: [number, number][]; total_volumes: [number, number][] } {
    const vs = (q.get('vs_currency') ?? '').toLowerCase();
    if (!vs) throw new HttpError(400, { error: 'Missing parameter vs_currency' });
    const parseTime = (name: string): number => {
      const s = q.get(name);
      if (s === null || s === '') throw new HttpError(400, { error: `Missing parameter ${name}` });
      const n = Number(s);
      if (Number.isFinite(n)) return n;
      const d = Date.parse(s.length === 10 ? `${s}T00:00:00Z` : /[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`);
      if (Number.isNaN(d)) throw new HttpError(400, { error: `invalid ${name}` });
      return d / 1000;
    };
    const from = parseTime('from');
    const to = parseTime('to');
    const i = this.market.coinIndex(id);
    if (i === undefined || this.missing().has(id)) throw new HttpError(404, { error: 'coin not found' });
    if (this.market.usdTo(vs, tSec) === undefined) throw new HttpError(400, { error: 'invalid vs_currency' });
    const precision = q.get('precision');
    const c = this.market.coins[i];
    const span = to - from;
    const step = span <= DAY ? 300 : span <= 90 * DAY ? 3600 : DAY;
    const start = Math.max(from, this.market.genesisSec(i));
    const end = Math.min(to, tSec);
    const prices: [number, number][] = [];
    const caps: [number, number][] = [];
    const vols: [number, number][] = [];
    for (let t = Math.ceil(start / step) * step; t <= end; t += step) {
      const price = this.market.price(i, vs, t) as number;
      prices.push([t * 1000, precision === null ? price : roundPrice(price, precision)]);
      caps.push([t * 1000, price * c.circulatingSupply]);
      vols.push([t * 1000, this.market.volumeUsd(i, t) * (this.market.usdTo(vs, t) as number)]);
    }
    return { prices, market_caps: caps, total_volumes: vols };
  }

  // -- admin ---------------------------------------------------------------------------------

  private async admin(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const send = (status: number, body: unknown): void => {
      const s = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(s)) });
      res.end(s);
    };
    const readJson = async (): Promise<unknown> => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('utf8').trim();
      return text === '' ? {} : JSON.parse(text);
    };
    const route = `${req.method} ${url.pathname}`;
    try {
      switch (route) {
        case 'GET /__admin/faults':
          return send(200, this.faults());
        case 'POST /__admin/faults': {
          const body = await readJson();
          if (url.searchParams.get('mode') === 'replace') this.replaceFaults(body as FaultConfig);
          else this.setFaults(body as FaultConfig);
          return send(200, this.faults());
        }
        case 'DELETE /__admin/faults':
          this.replaceFaults();
          return send(200, this.faults());
        case 'GET /__admin/requests':
          return send(200, this.requests);
        case 'GET /__admin/stats':
          return send(200, this.stats());
        case 'POST /__admin/reset':
          this.resetRequests();
          this.replaceFaults();
          return send(200, { ok: true });
        case 'GET /__admin/clock':
          return send(200, { nowMs: this.now(), lastUpdatedAt: this.lastUpdatedAt(), updateEverySec: this.updateEverySec });
        case 'POST /__admin/clock': {
          const b = (await readJson()) as { advanceMs?: unknown; setMs?: unknown };
          if (typeof b.advanceMs === 'number' && Number.isFinite(b.advanceMs)) this.advanceClock(b.advanceMs);
          else if (typeof b.setMs === 'number' && Number.isFinite(b.setMs)) this.offsetMs += b.setMs - this.now();
          else return send(400, { error: 'expected {"advanceMs": number} or {"setMs": number}' });
          return send(200, { nowMs: this.now(), lastUpdatedAt: this.lastUpdatedAt(), updateEverySec: this.updateEverySec });
        }
        default:
          return send(404, { error: `unknown admin route ${route}` });
      }
    } catch (e) {
      return send(400, { error: (e as Error).message });
    }
  }
}

function round5(v: number): number {
  return Math.round(v * 1e5) / 1e5;
}

/** Starts a simulator on 127.0.0.1 and an ephemeral port (by default). */
export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const sim = new CoinGeckoSimulator(opts);
  await sim.listen(opts.host ?? '127.0.0.1', opts.port ?? 0);
  return sim;
}
