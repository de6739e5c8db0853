import type * as arrow from 'apache-arrow';
import { TributaryError } from '../../errors.js';
import type { Row } from '../../arrow/record-batch.js';
import { JsonRecordsDecoder } from '../../json/json-records.js';
import type { StructType } from '../../schema/schema.js';
import { HttpClient, type RetryBudget } from '../../http/client.js';
import { type Poll, PollingReader, ResponseShapeError } from '../polling-reader.js';
import { credentialsInUrl, type Secrets } from '../../redact.js';
import { canonicalOffset, type Offset } from '../offset.js';
import { MAX_TIMER_MS, Options } from '../options.js';
import { DataSource, type DataSourceStreamReader, type ReadLimit } from '../source.js';

/**
 * `format('coingecko')`: CoinGecko prices as a stream.
 *   mode=price (default)  GET /simple/price, one call per batch; offset = last_updated_at per
 *                         (coin, currency), so polling a cached price twice writes nothing twice.
 *   mode=markets          GET /coins/markets, paged; offset = last_updated per coin.
 *   mode=backfill         GET /coins/{id}/market_chart/range over [from, to) in chunks; offset =
 *                         the time reached, so a cron job fills history and resumes where it was.
 * A "current price" API cannot return an old answer, so the source is non-replayable: the engine
 * logs the rows of the response that gave a batch its end offset before the batch runs.
 */
export class CoinGeckoSource extends DataSource {
  static override formatName = 'coingecko';
  static override optionNames = [
    'mode', 'coins', 'ids', 'vsCurrencies', 'vsCurrency', 'plan', 'baseUrl', 'apiKeyEnv', 'onError', 'retryBudget', 'callsPerMinute', 'maxRetries', 'timeoutMs', 'backoffBaseMs', 'backoffCapMs',
    'includeMarketCap', 'include24hrVol', 'include24hrChange', 'precision', // mode=price
    'perPage', 'pages', 'order', // mode=markets
    'from', 'to', 'chunkDays', // mode=backfill
  ];

  schema(): string {
    const mode = this.options.mode ?? 'price';
    if (mode === 'markets') {
      return 'id STRING NOT NULL, symbol STRING, name STRING, vs_currency STRING NOT NULL, current_price DOUBLE, market_cap DOUBLE, market_cap_rank BIGINT, total_volume DOUBLE, high_24h DOUBLE, low_24h DOUBLE, price_change_percentage_24h DOUBLE, circulating_supply DOUBLE, total_supply DOUBLE, max_supply DOUBLE, ath DOUBLE, ath_date TIMESTAMP, atl DOUBLE, atl_date TIMESTAMP, last_updated TIMESTAMP, ts_ingest TIMESTAMP NOT NULL, date DATE NOT NULL';
    }
    if (mode === 'backfill') return 'coin STRING NOT NULL, vs_currency STRING NOT NULL, ts TIMESTAMP NOT NULL, price DOUBLE, market_cap DOUBLE, total_volume DOUBLE, date DATE NOT NULL';
    if (mode !== 'price') throw new TributaryError('INVALID_ARGUMENT', `coingecko: unknown mode "${mode}" (price, markets, backfill)`);
    return 'coin STRING NOT NULL, vs_currency STRING NOT NULL, price DOUBLE, market_cap DOUBLE, vol_24h DOUBLE, change_24h DOUBLE, last_updated_at TIMESTAMP, ts_ingest TIMESTAMP NOT NULL, date DATE NOT NULL';
  }

  override get replayable(): boolean {
    return false;
  }

  override description(): string {
    return `CoinGecko[${this.options.mode ?? 'price'}: ${this.options.coins ?? this.options.ids ?? 'top'}]`;
  }

  override streamReader(schema: StructType): DataSourceStreamReader {
    return new CoinGeckoReader(new Options('coingecko', this.options), schema, this.secrets);
  }
}

type Plan = 'demo' | 'pro' | 'none';

const HOSTS: Record<Plan, string> = {
  demo: 'https://api.coingecko.com/api/v3',
  none: 'https://api.coingecko.com/api/v3',
  pro: 'https://pro-api.coingecko.com/api/v3',
};

/** The options of the reader, read and checked once. */
interface CoinGeckoConfig {
  mode: string;
  coins: string[];
  currencies: string[];
  base: string;
  headers: Record<string, string>;
}

/** Reads and checks the options that say what to poll and how to authenticate. */
function coinGeckoConfig(o: Options, secrets: Secrets): CoinGeckoConfig {
  const mode = o.string('mode', 'price')!;
  const coins = o.list('coins', o.list('ids', []));
  const currencies = o.list('vsCurrencies', o.list('vsCurrency', ['usd'])).map((c) => c.toLowerCase());
  if (mode !== 'markets' && coins.length === 0) throw new TributaryError('INVALID_ARGUMENT', 'coingecko: option coins is required (e.g. coins=bitcoin,ethereum)');
  const plan = (o.string('plan', 'demo') as Plan) ?? 'demo';
  if (!(plan in HOSTS)) throw new TributaryError('INVALID_ARGUMENT', `coingecko: plan must be demo, pro or none, got "${plan}"`);
  const base = (o.string('baseUrl') ?? HOSTS[plan]).replace(/\/+$/, '');
  for (const c of credentialsInUrl(base)) secrets.add(c);
  const keyEnv = o.string('apiKeyEnv', 'COINGECKO_API_KEY')!;
  const key = process.env[keyEnv];
  // Registered as soon as it is read: every message from here on is redacted.
  secrets.add(key);
  if (plan === 'pro' && !key) throw new TributaryError('INVALID_ARGUMENT', `coingecko: plan=pro needs an API key in the environment variable ${keyEnv}`);
  const headers: Record<string, string> = {};
  if (key && plan !== 'none') headers[plan === 'pro' ? 'x-cg-pro-api-key' : 'x-cg-demo-api-key'] = key;
  return { mode, coins, currencies, base, headers };
}

class CoinGeckoReader extends PollingReader {
  private readonly mode: string;
  private readonly coins: string[];
  private readonly currencies: string[];
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly secrets: Secrets;
  private target: number | undefined;
  /** mode=backfill: the time (epoch seconds) the last poll reached, for progress. */
  private reached: number | undefined;

  constructor(
    private readonly o: Options,
    private readonly schema: StructType,
    secrets: Secrets,
  ) {
    const c = coinGeckoConfig(o, secrets);
    const onError = o.string('onError', 'fail');
    if (onError !== 'fail' && onError !== 'skip-batch' && onError !== 'null-rows') throw new TributaryError('INVALID_ARGUMENT', `coingecko: onError must be fail, skip-batch or null-rows, got "${onError}"`);
    const http = new HttpClient({
      callsPerMinute: o.number('callsPerMinute', 30, { min: 0.001 }),
      maxRetries: o.number('maxRetries', 4, { min: 0, integer: true }),
      headersTimeoutMs: o.number('timeoutMs', 30_000, { min: 1, max: MAX_TIMER_MS }),
      bodyTimeoutMs: o.number('timeoutMs', 30_000, { min: 1, max: MAX_TIMER_MS }),
      backoffBaseMs: o.number('backoffBaseMs', 500, { min: 0, max: MAX_TIMER_MS }),
      backoffCapMs: o.number('backoffCapMs', 30_000, { min: 0, max: MAX_TIMER_MS }),
      secrets,
    });
    super({ label: 'coingecko', http, secrets, onError, retryBudget: o.number('retryBudget', 8, { min: 0, integer: true })! });
    this.secrets = secrets;
    ({ mode: this.mode, coins: this.coins, currencies: this.currencies, base: this.base, headers: this.headers } = c);
  }

  initialOffset(): Offset {
    if (this.mode === 'backfill') return { cursor: this.backfillWindow().from };
    return {};
  }

  override prepareForTriggerAvailableNow(start: Offset): void {
    super.prepareForTriggerAvailableNow(start);
    if (this.mode === 'backfill') this.target = this.backfillWindow().to;
  }

  /** mode=backfill: chunks of the whole window done, from the offset reached (right after a restart too). */
  protected override extraMetrics(): Record<string, string> {
    if (this.mode !== 'backfill' || this.reached === undefined) return {};
    const w = this.backfillWindow();
    const total = Math.ceil((w.to - w.from) / w.chunk);
    return {
      progressDone: String(Math.min(total, Math.max(0, Math.ceil((this.reached - w.from) / w.chunk)))),
      progressTotal: String(total),
      progressUnit: 'chunks',
    };
  }

  /** availableNow: a backfill continues chunk by chunk up to `to`; price and markets poll once. */
  protected override morePolls(result: Poll): boolean {
    return this.mode === 'backfill' && Number(result.end.cursor) < (this.target ?? Infinity);
  }

  private async getJson<T>(path: string, params: Record<string, string>, budget: RetryBudget): Promise<T> {
    const url = `${this.base}${path}?${new URLSearchParams(params)}`;
    return (await this.get<T>(url, this.headers, budget)).body;
  }

  /** One poll: the response that gives the batch its end offset is the data the batch writes. */
  protected async poll(start: Offset, budget: RetryBudget, limit: ReadLimit): Promise<Poll> {
    const p = this.mode === 'markets' ? await this.pollMarkets(start, budget) : this.mode === 'backfill' ? await this.pollBackfill(start, budget, limit) : await this.pollPrice(start, budget);
    return { end: p.end, rows: this.decode(p.rows) };
  }

  /**
   * A poll's rows as Arrow record batches of the stream's schema, through the NDJSON decoder
   * (json-records.ts): they become Arrow here, once, on the path every value into a table takes
   * (a value that does not fit its column fails the poll naming the row, before anything is logged).
   * These rows are JavaScript values because the source makes them: it joins a keyed price object
   * into rows, reads each record's id and update time for its offsets, turns epoch seconds into
   * Dates, warns about numbers that came as text, and adds ts_ingest and date. So they take the
   * value push, not the byte path of http-json (body-records.ts).
   */
  private decode(rows: readonly Row[]): arrow.RecordBatch[] {
    const decoder = new JsonRecordsDecoder(this.schema, 'coingecko');
    for (const r of rows) decoder.pushRecord(r);
    return decoder.end();
  }

  private num(v: unknown, coin: string, field: string): number | null {
    if (v === null || v === undefined) return null;
    if (typeof v === 'number') return v;
    // A field that changed type (a numeric string) is accepted with a warning; anything else fails.
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) {
      this.warn(`${coin}.${field} came as a string (${JSON.stringify(v)}); read as a number`);
      return Number(v);
    }
    throw new ResponseShapeError(this.secrets.redact(`coingecko: ${coin}.${field} is ${JSON.stringify(v)}, not a number: the response changed shape`));
  }

  private async pollPrice(start: Offset, budget: RetryBudget): Promise<{ end: Offset; rows: Row[] }> {
    const params: Record<string, string> = {
      ids: this.coins.join(','),
      vs_currencies: this.currencies.join(','),
      include_market_cap: String(this.o.boolean('includeMarketCap', true)),
      include_24hr_vol: String(this.o.boolean('include24hrVol', true)),
      include_24hr_change: String(this.o.boolean('include24hrChange', true)),
      include_last_updated_at: 'true',
    };
    const precision = this.o.string('precision');
    if (precision) params.precision = precision;
    const body = await this.getJson<Record<string, Record<string, unknown>>>('/simple/price', params, budget);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ResponseShapeError('coingecko: /simple/price did not return an object keyed by coin id');
    const now = new Date();
    const end: Offset = { ...start };
    const rows: Row[] = [];
    const missing: string[] = [];
    for (const coin of this.coins) {
      const q = body[coin];
      if (!q || typeof q !== 'object') {
        missing.push(coin);
        continue;
      }
      const updated = q.last_updated_at === undefined || q.last_updated_at === null ? null : this.num(q.last_updated_at, coin, 'last_updated_at');
      for (const cur of this.currencies) {
        const key = `${coin}:${cur}`;
        const prev = typeof start[key] === 'number' ? (start[key] as number) : -Infinity;
        if (updated !== null && updated <= prev) continue; // cached price: already written
        if (updated !== null) end[key] = updated;
        rows.push({
          coin,
          vs_currency: cur,
          price: this.num(q[cur], coin, cur),
          market_cap: this.num(q[`${cur}_market_cap`], coin, `${cur}_market_cap`),
          vol_24h: this.num(q[`${cur}_24h_vol`], coin, `${cur}_24h_vol`),
          change_24h: this.num(q[`${cur}_24h_change`], coin, `${cur}_24h_change`),
          last_updated_at: updated === null ? null : new Date(updated * 1000),
          ts_ingest: now,
          date: now.toISOString().slice(0, 10),
        });
      }
    }
    if (missing.length) {
      this.warn(`coins missing from the response: ${missing.join(', ')}`);
      // The seed's behaviour: a row with a null price, written only when the batch has new data.
      if (rows.length) for (const coin of missing) for (const cur of this.currencies) rows.push({ coin, vs_currency: cur, price: null, market_cap: null, vol_24h: null, change_24h: null, last_updated_at: null, ts_ingest: now, date: now.toISOString().slice(0, 10) });
    }
    return { end, rows };
  }

  protected override nullRows(start: Offset): Poll {
    const now = new Date();
    // The failure counter moves the offset so the null rows form a batch of their own.
    const end: Offset = { ...start, _failures: Number(start._failures ?? 0) + 1 };
    const rows: Row[] = [];
    if (this.mode === 'price') {
      for (const coin of this.coins) for (const cur of this.currencies) rows.push({ coin, vs_currency: cur, price: null, market_cap: null, vol_24h: null, change_24h: null, last_updated_at: null, ts_ingest: now, date: now.toISOString().slice(0, 10) });
    }
    return { end, rows: this.decode(rows) };
  }

  private async pollMarkets(start: Offset, budget: RetryBudget): Promise<{ end: Offset; rows: Row[] }> {
    const perPage = this.o.number('perPage', 100, { min: 1, integer: true })!;
    const pages = this.o.number('pages', 1, { min: 1, integer: true })!;
    const now = new Date();
    const end: Offset = { ...start };
    const rows: Row[] = [];
    const cur = this.currencies[0];
    for (let page = 1; page <= pages; page++) {
      const params: Record<string, string> = { vs_currency: cur, per_page: String(perPage), page: String(page), order: this.o.string('order', 'market_cap_desc')! };
      if (this.coins.length) params.ids = this.coins.join(',');
      const body = await this.getJson<Record<string, unknown>[]>('/coins/markets', params, budget);
      if (!Array.isArray(body)) throw new ResponseShapeError('coingecko: /coins/markets did not return an array');
      for (const m of body) {
        const id = String(m.id);
        const updated = typeof m.last_updated === 'string' ? Date.parse(m.last_updated) : NaN;
        const prev = typeof start[id] === 'number' ? (start[id] as number) : -Infinity;
        if (!Number.isNaN(updated) && updated <= prev) continue;
        if (!Number.isNaN(updated)) end[id] = updated;
        const n = (f: string) => this.num(m[f], id, f);
        rows.push({
          id,
          symbol: m.symbol ?? null,
          name: m.name ?? null,
          vs_currency: cur,
          current_price: n('current_price'),
          market_cap: n('market_cap'),
          market_cap_rank: m.market_cap_rank ?? null,
          total_volume: n('total_volume'),
          high_24h: n('high_24h'),
          low_24h: n('low_24h'),
          price_change_percentage_24h: n('price_change_percentage_24h'),
          circulating_supply: n('circulating_supply'),
          total_supply: n('total_supply'),
          max_supply: n('max_supply'),
          ath: n('ath'),
          ath_date: m.ath_date ?? null,
          atl: n('atl'),
          atl_date: m.atl_date ?? null,
          last_updated: m.last_updated ?? null,
          ts_ingest: now,
          date: now.toISOString().slice(0, 10),
        });
      }
      if (body.length < perPage) break;
    }
    return { end, rows };
  }

  private backfillWindow(): { from: number; to: number; chunk: number } {
    const from = Date.parse(this.o.required('from'));
    const to = Date.parse(this.o.required('to'));
    if (Number.isNaN(from) || Number.isNaN(to) || to <= from) throw new TributaryError('INVALID_ARGUMENT', 'coingecko backfill: from and to must be ISO dates with from < to');
    const chunkDays = this.o.number('chunkDays', 1, { min: 0.01 })!;
    return { from: Math.floor(from / 1000), to: Math.floor(to / 1000), chunk: Math.floor(chunkDays * 86400) };
  }

  private async pollBackfill(start: Offset, budget: RetryBudget, _limit: ReadLimit): Promise<{ end: Offset; rows: Row[] }> {
    const w = this.backfillWindow();
    const cursor = Number(start.cursor ?? w.from);
    const stop = Math.min(w.to, this.target ?? w.to);
    this.reached = cursor;
    if (cursor >= stop) return { end: start, rows: [] };
    const next = Math.min(cursor + w.chunk, stop);
    const rows: Row[] = [];
    for (const coin of this.coins) {
      for (const cur of this.currencies) {
        const body = await this.getJson<{ prices?: [number, number][]; market_caps?: [number, number][]; total_volumes?: [number, number][] }>(`/coins/${encodeURIComponent(coin)}/market_chart/range`, { vs_currency: cur, from: String(cursor), to: String(next) }, budget);
        const caps = new Map((body.market_caps ?? []).map(([t, v]) => [t, v]));
        const vols = new Map((body.total_volumes ?? []).map(([t, v]) => [t, v]));
        for (const [t, p] of body.prices ?? []) {
          // The window is half-open so chunk boundaries never give a point twice.
          if (t < cursor * 1000 || t >= next * 1000) continue;
          rows.push({ coin, vs_currency: cur, ts: new Date(t), price: p, market_cap: caps.get(t) ?? null, total_volume: vols.get(t) ?? null, date: new Date(t).toISOString().slice(0, 10) });
        }
      }
    }
    this.reached = next;
    return { end: { ...start, cursor: next }, rows };
  }
}
