/**
 * Arrow input to `DeltaTable.append`: a library user who already holds Arrow record batches (from
 * a Flight stream, DuckDB, another Arrow producer) appends them to a new table. Plain JavaScript
 * against the built package, so that the same script measures any commit:
 *
 *   node scripts/bench/arrow-append.mjs [<dist/index.js of the build to measure>] [rows] [runs]
 *
 * Prints one JSON line: rows, best and median seconds over the runs, and peak RSS. Every run
 * appends to a fresh directory and the row count of the commit is checked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as arrow from 'apache-arrow';

const entry = resolve(process.argv[2] ?? 'dist/index.js');
const rows = Number(process.argv[3] ?? 1_000_000);
const runs = Number(process.argv[4] ?? 3);
const { DeltaTable, parseDdl } = await import(pathToFileURL(entry).href);

const COINS = ['bitcoin', 'ethereum', 'solana', 'cardano', 'dogecoin', 'polkadot', 'tron', 'litecoin'];
const schema = parseDdl('coin STRING, vs_currency STRING, price DOUBLE, market_cap DOUBLE, last_updated_at BIGINT, ts_ingest TIMESTAMP');

/** CoinGecko-shaped batches of 65,536 rows, built with the Arrow builders once, outside the timing. */
function batches() {
  const out = [];
  const t0 = Date.UTC(2026, 0, 1) * 1000;
  for (let from = 0; from < rows; from += 65_536) {
    const n = Math.min(65_536, rows - from);
    const coin = [], vs = [], price = new Float64Array(n), cap = new Float64Array(n), upd = new BigInt64Array(n), ts = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      const r = from + i;
      coin.push(COINS[r % COINS.length]);
      vs.push(r % 3 === 0 ? 'eur' : 'usd');
      price[i] = 1000 + Math.sin(r) * 999.123456789;
      cap[i] = price[i] * 19_000_000.5;
      upd[i] = BigInt(1_767_225_600 + r);
      ts[i] = BigInt(t0 + r * 1_000_003);
    }
    out.push(
      new arrow.RecordBatch({
        coin: arrow.vectorFromArray(coin, new arrow.Utf8()).data[0],
        vs_currency: arrow.vectorFromArray(vs, new arrow.Utf8()).data[0],
        price: arrow.makeData({ type: new arrow.Float64(), length: n, data: price }),
        market_cap: arrow.makeData({ type: new arrow.Float64(), length: n, data: cap }),
        last_updated_at: arrow.makeData({ type: new arrow.Int64(), length: n, data: upd }),
        ts_ingest: arrow.makeData({ type: new arrow.TimestampMicrosecond('UTC'), length: n, data: ts }),
      }),
    );
  }
  return out;
}

const input = batches();
const times = [];
for (let i = 0; i < runs; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-arrow-append-'));
  try {
    const table = await DeltaTable.forPath(join(dir, 't'));
    const t = process.hrtime.bigint();
    const result = await table.append(input, { create: { schema, partitionColumns: [] } });
    times.push(Number(process.hrtime.bigint() - t) / 1e9);
    if (result.numRecords !== rows) throw new Error(`committed ${result.numRecords} rows, expected ${rows}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const sorted = [...times].sort((a, b) => a - b);
console.log(JSON.stringify({ entry, rows, runs, best: sorted[0], median: sorted[Math.floor(sorted.length / 2)], times, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }));
process.exit(0);
