/**
 * Micro-benchmark of NDJSON -> Arrow for a known schema (issue 12): the schema-directed decoder
 * (src/json/ndjson-decoder.ts) against the reference path (NdjsonRowReader: exact parse per
 * line, then rowsToRecordBatch), on CoinGecko-shaped lines generated deterministically in memory
 * and fed in 64 KiB chunks as a file stream gives them. Decoding only: no Parquet, no table.
 *
 *   node --import tsx scripts/bench/decode.ts [--rows 1000000] [--runs 5] [--only decoder|reference]
 *
 * Reports the best of `runs` (after one warm-up), in MB/s of input and rows/s. Both paths are
 * checked to give the same values first, on a sample.
 */
import { performance, PerformanceObserver } from 'node:perf_hooks';
import type * as arrow from 'apache-arrow';
import { NdjsonRowReader, ndjsonToBatches } from '../../src/cli/input.js';
import { NdjsonDecoder } from '../../src/json/ndjson-decoder.js';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { COINS, mulberry32 } from './gen.js';

export const COINGECKO_DDL = 'coin STRING, vs_currency STRING, price DOUBLE, market_cap DOUBLE, last_updated_at BIGINT, ts_ingest TIMESTAMP';

const CURRENCIES = ['usd', 'eur', 'btc', 'eth', 'jpy', 'gbp'];

/** CoinGecko /simple/price records, one per line: doubles printed with full precision, ISO timestamps with microseconds. */
export function coingeckoLines(n: number, seed = 12): Buffer {
  const r = mulberry32(seed);
  const start = Date.UTC(2024, 4, 1) / 1000;
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const [coin, base] = COINS[Math.floor(r() * COINS.length)];
    const price = base * (0.9 + 0.2 * r());
    const cap = price * (1e6 + r() * 2e10);
    const updated = start + Math.floor(i / 50);
    const us = Math.floor(r() * 1e6);
    const ts = new Date((updated + Math.floor(r() * 5)) * 1000).toISOString().slice(0, 19) + '.' + String(us).padStart(6, '0') + 'Z';
    parts.push(`{"coin":${JSON.stringify(coin)},"vs_currency":"${CURRENCIES[i % CURRENCIES.length]}","price":${price},"market_cap":${cap},"last_updated_at":${updated},"ts_ingest":"${ts}"}\n`);
  }
  return Buffer.from(parts.join(''));
}

function chunks(buf: Buffer, size = 65_536): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

function decoder(input: Buffer[], schema = parseDdl(COINGECKO_DDL)): arrow.RecordBatch[] {
  const d = new NdjsonDecoder({ schema, name: 'bench' });
  const out: arrow.RecordBatch[] = [];
  for (const c of input) for (const b of d.push(c)) out.push(b);
  for (const b of d.end()) out.push(b);
  return out;
}

function reference(input: Buffer[], schema = parseDdl(COINGECKO_DDL)): arrow.RecordBatch[] {
  const r = new NdjsonRowReader('bench');
  for (const c of input) r.push(c);
  return ndjsonToBatches(r.end(), schema);
}

/** Milliseconds spent in garbage collection so far (GC is part of what a path costs). */
let gcTotal = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcTotal += e.duration;
}).observe({ entryTypes: ['gc'] });

async function main() {
  const argv = process.argv.slice(2);
  const arg = (name: string, def: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : def;
  };
  const rows = Number(arg('rows', '1000000'));
  const runs = Number(arg('runs', '5'));
  const only = arg('only', '');
  const buf = coingeckoLines(rows);
  const input = chunks(buf);
  const mb = buf.length / 1e6;
  console.log(`${rows} CoinGecko-shaped lines, ${mb.toFixed(1)} MB (${(buf.length / rows).toFixed(0)} bytes a line), fed in 64 KiB chunks`);

  // Same values from both paths (a sample), before anything is timed.
  const sample = chunks(coingeckoLines(5000, 7));
  const a = decoder(sample).flatMap((b) => arrowToRows(b));
  const b = reference(sample).flatMap((b) => arrowToRows(b));
  if (JSON.stringify(a, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)) !== JSON.stringify(b, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))) throw new Error('the decoder and the reference disagree');

  const results: Record<string, number> = {};
  for (const [label, run] of [
    ['decoder', decoder],
    ['reference', reference],
  ] as const) {
    if (only && only !== label) continue;
    let best = Infinity;
    let bestCpu = Infinity;
    let gcMs = 0;
    let n = 0;
    for (let i = 0; i <= runs; i++) {
      const gc0 = gcTotal;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const out = run(input);
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(c0);
      n = out.reduce((s, x) => s + x.numRows, 0);
      // GC entries are delivered asynchronously: let them arrive before reading the total.
      await new Promise((r) => setTimeout(r, 50));
      // The first run warms up.
      if (i > 0 && ms < best) {
        best = ms;
        bestCpu = (cpu.user + cpu.system) / 1000;
        gcMs = gcTotal - gc0;
      }
    }
    if (n !== rows) throw new Error(`${label}: ${n} rows, expected ${rows}`);
    results[label] = best;
    console.log(
      `${label.padEnd(10)} ${best.toFixed(0).padStart(6)} ms  ${(mb / (best / 1000)).toFixed(0).padStart(5)} MB/s  ${(((rows / best) * 1000) / 1e6).toFixed(2).padStart(5)} M rows/s  (cpu ${bestCpu.toFixed(0)} ms, gc ${gcMs.toFixed(0)} ms)`,
    );
  }
  if (results.decoder && results.reference) console.log(`decoder is ${(results.reference / results.decoder).toFixed(1)}x the reference path`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
