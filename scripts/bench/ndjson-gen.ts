/**
 * The inputs of the "NDJSON to Delta" benchmark (scripts/bench/ndjson.ts), generated line by line
 * from a seed, so a file of any size (the 50M-line case) is streamed out and never held.
 *
 * - CoinGecko-shaped (/simple/price records): `coin`, `vs_currency` strings, `price` and
 *   `market_cap` doubles printed with 17 significant digits (full precision: the reader must
 *   round, and round right), `last_updated_at` long, `ts_ingest` ISO-8601 with microseconds;
 *   about 150 bytes a line.
 * - Wide: 30 columns of every kind an ingestion table has: strings, longs, an int, doubles of 17
 *   digits, booleans, ISO timestamps with microseconds, dates, DECIMAL(18,4) numbers, nulls in
 *   several columns, a nested struct and a list.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { COINS, mulberry32 } from './gen.js';

export const COINGECKO_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['coin', 'STRING'],
  ['vs_currency', 'STRING'],
  ['price', 'DOUBLE'],
  ['market_cap', 'DOUBLE'],
  ['last_updated_at', 'BIGINT'],
  ['ts_ingest', 'TIMESTAMP'],
];

/** Column specs the Python peers turn into Arrow types: DDL names, or a struct/list. */
export type ColumnSpec = string | { struct: ReadonlyArray<readonly [string, ColumnSpec]> } | { list: ColumnSpec };

export const WIDE_COLUMNS: ReadonlyArray<readonly [string, ColumnSpec]> = [
  ['id', 'BIGINT'],
  ['coin', 'STRING'],
  ['exchange', 'STRING'],
  ['side', 'STRING'],
  ['trader', 'STRING'],
  ['note', 'STRING'],
  ['quote', 'STRING'],
  ['qty', 'BIGINT'],
  ['seq', 'BIGINT'],
  ['user_id', 'BIGINT'],
  ['level', 'INT'],
  ['price', 'DOUBLE'],
  ['volume', 'DOUBLE'],
  ['bid', 'DOUBLE'],
  ['ask', 'DOUBLE'],
  ['fee', 'DOUBLE'],
  ['change_pct', 'DOUBLE'],
  ['is_maker', 'BOOLEAN'],
  ['flagged', 'BOOLEAN'],
  ['ts', 'TIMESTAMP'],
  ['created_at', 'TIMESTAMP'],
  ['settled_at', 'TIMESTAMP'],
  ['trade_date', 'DATE'],
  ['settle_date', 'DATE'],
  ['amount', 'DECIMAL(18,4)'],
  ['notional', 'DECIMAL(18,4)'],
  ['fee_amount', 'DECIMAL(18,4)'],
  ['venue', { struct: [['id', 'BIGINT'], ['name', 'STRING']] }],
  ['tags', { list: 'STRING' }],
  ['score', 'DOUBLE'],
];

const ddlType = (t: ColumnSpec): string =>
  typeof t === 'string' ? t : 'struct' in t ? `STRUCT<${t.struct.map(([n, c]) => `${n}: ${ddlType(c)}`).join(', ')}>` : `ARRAY<${ddlType(t.list)}>`;

/** A DDL schema string (what `tributary append --schema` takes). */
export const ddlOf = (columns: ReadonlyArray<readonly [string, ColumnSpec]>) => columns.map(([n, t]) => `${n} ${ddlType(t)}`).join(', ');

const CURRENCIES = ['usd', 'eur', 'btc', 'eth', 'jpy', 'gbp'];
const EXCHANGES = ['binance', 'coinbase', 'kraken', 'bitstamp', 'okx', 'bybit', 'kucoin', 'gemini'];
const QUOTES = ['USD', 'USDT', 'EUR', 'USDC', 'BTC'];
const TAGS = ['spot', 'margin', 'otc', 'api', 'web', 'mobile', 'twap', 'iceberg'];
const VENUES = ['NY4', 'LD4', 'TY3', 'SG1', 'FR2'];
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ';
/** 2024-05-01T00:00:00Z in seconds. */
const START = 1_714_521_600;

/** 17 significant digits: every double prints this way exactly, and most need all 17 to round-trip. */
const full = (x: number) => x.toPrecision(17);

function isoMicros(seconds: number, micros: number): string {
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${String(micros).padStart(6, '0')}Z`;
}

/** Lines [from, to) of the CoinGecko-shaped input; the same lines for the same seed, however it is cut. */
export function coingeckoLines(from: number, to: number, seed: number): string {
  const r = mulberry32(seed + from);
  let out = '';
  for (let i = from; i < to; i++) {
    const [coin, base] = COINS[Math.floor(r() * COINS.length)];
    const price = base * (0.9 + 0.2 * r());
    const cap = price * (1e6 + r() * 2e10);
    const updated = START + Math.floor(i / 50);
    out += `{"coin":"${coin}","vs_currency":"${CURRENCIES[i % CURRENCIES.length]}","price":${full(price)},"market_cap":${full(cap)},"last_updated_at":${updated},"ts_ingest":"${isoMicros(updated + Math.floor(r() * 5), Math.floor(r() * 1e6))}"}\n`;
  }
  return out;
}

/** A DECIMAL(18,4) as JSON number text with its four fraction digits. */
function decimal4(unscaled: number): string {
  const s = String(unscaled).padStart(5, '0');
  return `${s.slice(0, -4)}.${s.slice(-4)}`;
}

/** Lines [from, to) of the wide input. */
export function wideLines(from: number, to: number, seed: number): string {
  const r = mulberry32(seed * 7919 + from);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  let out = '';
  for (let i = from; i < to; i++) {
    const [coin, base] = pick(COINS);
    const price = base * (0.9 + 0.2 * r());
    const spread = price * 0.0005 * r();
    const ts = START + Math.floor(i / 10);
    const qty = 1 + Math.floor(r() * 1_000_000);
    let note = '';
    const noteLen = 8 + Math.floor(r() * 25);
    for (let k = 0; k < noteLen; k++) note += ALNUM[Math.floor(r() * ALNUM.length)];
    const nTags = Math.floor(r() * 4);
    const tags: string[] = [];
    for (let k = 0; k < nTags; k++) tags.push(pick(TAGS));
    const day = new Date(ts * 1000).toISOString().slice(0, 10);
    const settleDay = new Date((ts + 2 * 86_400) * 1000).toISOString().slice(0, 10);
    const parts = [
      `"id":${i + 1}`,
      `"coin":"${coin}"`,
      `"exchange":"${pick(EXCHANGES)}"`,
      `"side":"${r() < 0.5 ? 'buy' : 'sell'}"`,
      `"trader":"trader-${Math.floor(r() * 5000)}"`,
      `"note":${r() < 0.1 ? 'null' : `"${note}"`}`,
      `"quote":"${pick(QUOTES)}"`,
      `"qty":${qty}`,
      `"seq":${1_000_000_000_000 + i * 7 + Math.floor(r() * 7)}`,
      `"user_id":${r() < 0.05 ? 'null' : Math.floor(r() * 10_000_000)}`,
      `"level":${Math.floor(r() * 100) - 50}`,
      `"price":${full(price)}`,
      `"volume":${full(qty * r() * 10)}`,
      `"bid":${full(price - spread)}`,
      `"ask":${full(price + spread)}`,
      `"fee":${r() < 0.05 ? 'null' : full(r() * 25)}`,
      `"change_pct":${full((r() - 0.5) * 20)}`,
      `"is_maker":${r() < 0.4}`,
      `"flagged":${r() < 0.02 ? 'null' : r() < 0.01}`,
      `"ts":"${isoMicros(ts, Math.floor(r() * 1e6))}"`,
      `"created_at":"${isoMicros(ts - 1 - Math.floor(r() * 5), Math.floor(r() * 1e6))}"`,
      `"settled_at":${r() < 0.05 ? 'null' : `"${isoMicros(ts + 1 + Math.floor(r() * 3600), Math.floor(r() * 1e6))}"`}`,
      `"trade_date":"${day}"`,
      `"settle_date":"${settleDay}"`,
      `"amount":${decimal4(Math.floor(r() * 1e9) * 100_000 + Math.floor(r() * 100_000))}`,
      `"notional":${decimal4(Math.floor(r() * 1e7) * 10_000 + Math.floor(r() * 10_000))}`,
      `"fee_amount":${r() < 0.05 ? 'null' : decimal4(Math.floor(r() * 10_000_000))}`,
      `"venue":{"id":${Math.floor(r() * 5)},"name":"${pick(VENUES)}"}`,
      `"tags":${JSON.stringify(tags)}`,
      `"score":${full(r())}`,
    ];
    out += `{${parts.join(',')}}\n`;
  }
  return out;
}

/** Writes lines [0, n) of `lines` to `out` in blocks, waiting when it is full; resolves with the bytes written. */
export async function streamLines(out: Writable, n: number, lines: (from: number, to: number) => string, block = 10_000): Promise<number> {
  let bytes = 0;
  for (let from = 0; from < n; from += block) {
    const text = lines(from, Math.min(n, from + block));
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  }
  return bytes;
}

export async function writeLines(path: string, n: number, lines: (from: number, to: number) => string): Promise<number> {
  const out = createWriteStream(path);
  const bytes = await streamLines(out, n, lines);
  out.end();
  await once(out, 'finish');
  return bytes;
}

// `node --import tsx scripts/bench/ndjson-gen.ts coingecko|wide N` writes N lines to stdout (the --big case pipes it).
if (import.meta.url === `file://${process.argv[1]}`) {
  const [kind, n, seed] = process.argv.slice(2);
  const gen = kind === 'wide' ? wideLines : coingeckoLines;
  await streamLines(process.stdout, Number(n), (a, b) => gen(a, b, Number(seed ?? 12)));
}
