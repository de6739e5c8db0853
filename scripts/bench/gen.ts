/**
 * Deterministic benchmark records. The parent process generates them once from a seed and writes
 * them as NDJSON; every contender (Tributary in Node, delta-rs in Python) loads the same file and
 * converts each value to its own fastest in-memory form before the clock starts, so all of them
 * write exactly the same values.
 *
 * NDJSON value forms (what both loaders start from):
 *   string -> JSON string; long -> JSON integer (always a safe integer); double -> JSON number
 *   (shortest round-trip text, exact in both languages); boolean; timestamp -> integer epoch
 *   milliseconds; date -> "YYYY-MM-DD"; decimal(18,4) -> JSON string with exactly 4 fraction digits.
 *   Nulls are JSON null.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/** mulberry32: tiny, fast, good enough for benchmark data; identical on every platform. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// CoinGecko-style coin ids with a rough reference price each (USD).
export const COINS: ReadonlyArray<readonly [string, number]> = [
  ['bitcoin', 64000], ['ethereum', 3200], ['tether', 1], ['binancecoin', 580], ['solana', 150],
  ['ripple', 0.52], ['usd-coin', 1], ['staked-ether', 3190], ['dogecoin', 0.15], ['cardano', 0.45],
  ['tron', 0.12], ['avalanche-2', 35], ['shiba-inu', 0.000024], ['wrapped-bitcoin', 63900], ['chainlink', 14],
  ['polkadot', 7], ['bitcoin-cash', 480], ['near', 6], ['uniswap', 9], ['litecoin', 82],
  ['matic-network', 0.7], ['internet-computer', 12], ['dai', 1], ['ethereum-classic', 27], ['aptos', 9],
  ['stellar', 0.11], ['cosmos', 8.5], ['okb', 50], ['filecoin', 5.8], ['hedera-hashgraph', 0.09],
  ['mantle', 0.9], ['arbitrum', 1.1], ['cronos', 0.1], ['vechain', 0.03], ['render-token', 8],
  ['optimism', 2.5], ['injective-protocol', 25], ['maker', 2800], ['the-graph', 0.25], ['immutable-x', 2.1],
  ['kaspa', 0.12], ['monero', 130], ['sui', 1.1], ['algorand', 0.18], ['fantom', 0.7],
  ['theta-token', 2], ['aave', 95], ['lido-dao', 2], ['pepe', 0.000012], ['bittensor', 400],
];

const EXCHANGES = ['binance', 'coinbase', 'kraken', 'bitstamp', 'okx', 'bybit', 'kucoin', 'gemini', 'bitfinex', 'htx', 'gate', 'mexc'];
const ORDER_TYPES = ['limit', 'market', 'stop', 'stop_limit'];
const QUOTES = ['USD', 'USDT', 'EUR', 'USDC', 'BTC'];
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ';

/** 2024-01-01T00:00:00Z */
const START_MS = 1_704_067_200_000;
const DAY_MS = 86_400_000;

const round = (x: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Significant-digit rounding, so that tiny prices (shiba-inu) keep their precision. */
const roundSig = (x: number, sig: number) => (x === 0 ? 0 : Number(x.toPrecision(sig)));

export const NARROW_DDL = 'coin STRING, price DOUBLE, ts TIMESTAMP';

export interface NarrowRecord {
  coin: string;
  price: number;
  ts: number;
}

export function* narrowRecords(n: number, seed: number): Generator<NarrowRecord> {
  const r = mulberry32(seed);
  for (let i = 0; i < n; i++) {
    const [coin, base] = COINS[Math.floor(r() * COINS.length)];
    const price = roundSig(base * (0.9 + 0.2 * r()), 10);
    // ~2.6 s apart on average: 1M records cover about a month.
    const ts = START_MS + i * 2592 + Math.floor(r() * 2000);
    yield { coin, price, ts };
  }
}

// 30 columns: 5 long, 7 string, 7 double, 3 boolean, 3 timestamp, 2 date, 3 decimal(18,4).
export const WIDE_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['id', 'LONG'],
  ['coin', 'STRING'],
  ['exchange', 'STRING'],
  ['side', 'STRING'],
  ['order_type', 'STRING'],
  ['quote_currency', 'STRING'],
  ['trader', 'STRING'],
  ['note', 'STRING'],
  ['qty', 'LONG'],
  ['seq', 'LONG'],
  ['user_id', 'LONG'],
  ['bytes', 'LONG'],
  ['price', 'DOUBLE'],
  ['volume', 'DOUBLE'],
  ['bid', 'DOUBLE'],
  ['ask', 'DOUBLE'],
  ['fee', 'DOUBLE'],
  ['vwap', 'DOUBLE'],
  ['change_pct', 'DOUBLE'],
  ['is_maker', 'BOOLEAN'],
  ['is_buy', 'BOOLEAN'],
  ['flagged', 'BOOLEAN'],
  ['ts', 'TIMESTAMP'],
  ['created_at', 'TIMESTAMP'],
  ['settled_at', 'TIMESTAMP'],
  ['trade_date', 'DATE'],
  ['settle_date', 'DATE'],
  ['amount', 'DECIMAL(18,4)'],
  ['notional', 'DECIMAL(18,4)'],
  ['fee_amount', 'DECIMAL(18,4)'],
];
export const WIDE_DDL = WIDE_COLUMNS.map(([n, t]) => `${n} ${t}`).join(', ');

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Unscaled decimal(18,4) below 1e14 (< 2^53) -> "iiii.ffff". */
function decimalText(unscaled: number): string {
  const s = String(unscaled).padStart(5, '0');
  return `${s.slice(0, -4)}.${s.slice(-4)}`;
}

export type WideRecord = Record<string, string | number | boolean | null>;

export function* wideRecords(n: number, seed: number): Generator<WideRecord> {
  const r = mulberry32(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  for (let i = 0; i < n; i++) {
    const [coin, base] = pick(COINS);
    const price = roundSig(base * (0.9 + 0.2 * r()), 10);
    const spread = price * 0.0005 * r();
    const ts = START_MS + i * 25_920 + Math.floor(r() * 20_000);
    const qty = 1 + Math.floor(r() * 1_000_000);
    const noteLen = 8 + Math.floor(r() * 33);
    let note: string | null = '';
    for (let k = 0; k < noteLen; k++) note += ALNUM[Math.floor(r() * ALNUM.length)];
    if (r() < 0.1) note = null;
    const amountUnscaled = Math.floor(r() * 1e9) * 100_000 + Math.floor(r() * 100_000);
    const notionalUnscaled = Math.floor(r() * 1e7) * 10_000 + Math.floor(r() * 10_000);
    const feeUnscaled = Math.floor(r() * 10_000_000);
    const settled = r() < 0.05 ? null : ts + 1000 + Math.floor(r() * 3_600_000);
    const flagged = r() < 0.02 ? null : r() < 0.01;
    const feeNull = r() < 0.05;
    yield {
      id: i + 1,
      coin,
      exchange: pick(EXCHANGES),
      side: r() < 0.5 ? 'buy' : 'sell',
      order_type: pick(ORDER_TYPES),
      quote_currency: pick(QUOTES),
      trader: `trader-${Math.floor(r() * 5000)}`,
      note,
      qty,
      seq: 1_000_000_000_000 + i * 7 + Math.floor(r() * 7),
      user_id: Math.floor(r() * 10_000_000),
      bytes: Math.floor(r() * 2 ** 40),
      price,
      volume: round(qty * r() * 10, 6),
      bid: roundSig(price - spread, 10),
      ask: roundSig(price + spread, 10),
      fee: round(r() * 25, 8),
      vwap: roundSig(price * (0.995 + 0.01 * r()), 10),
      change_pct: round((r() - 0.5) * 20, 4),
      is_maker: r() < 0.4,
      is_buy: r() < 0.5,
      flagged,
      ts,
      created_at: ts - Math.floor(r() * 5000),
      settled_at: settled,
      trade_date: isoDate(ts),
      settle_date: isoDate(ts + 2 * DAY_MS),
      amount: decimalText(amountUnscaled),
      notional: decimalText(notionalUnscaled),
      fee_amount: feeNull ? null : decimalText(feeUnscaled),
    };
  }
}

/** Writes records as NDJSON; resolves with the number of bytes written. */
export async function writeNdjson(path: string, records: Iterable<object>): Promise<number> {
  const out = createWriteStream(path);
  let buf = '';
  let bytes = 0;
  for (const rec of records) {
    buf += JSON.stringify(rec) + '\n';
    if (buf.length > 1 << 20) {
      bytes += Buffer.byteLength(buf);
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  bytes += Buffer.byteLength(buf);
  out.end(buf);
  await once(out, 'finish');
  return bytes;
}
