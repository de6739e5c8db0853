/**
 * `npm run demo`: the main job on the embedded default, with no network beyond loopback.
 *  1. starts the CoinGecko-compatible simulator on a free loopback port (prices move, and
 *     last_updated_at advances every 2 seconds);
 *  2. runs jobs/coingecko-prices.ts against it for about 20 seconds (DEMO_SECONDS) with a
 *     2-second trigger, into ./data/coingecko_prices (partitioned by date);
 *  3. stops the query gracefully, prints the table summary and the PySpark lines that read it.
 */
import * as path from 'node:path';
import coingeckoPrices from '../jobs/coingecko-prices.js';
import { progressLine } from '../src/cli/commands/run.js';
import { DeltaTable } from '../src/delta/table.js';
import { Tributary } from '../src/session.js';
import { startSimulator } from '../simulator/coingecko.js';

const seconds = Number(process.env.DEMO_SECONDS ?? 20);
const sim = await startSimulator({ updateEverySec: 2 });
console.log(`CoinGecko simulator at ${sim.baseUrl}`);
process.env.COINGECKO_BASE_URL = sim.baseUrl;
process.env.TRIBUTARY_TRIGGER ??= '2 seconds';
process.env.COINGECKO_CALLS_PER_MINUTE ??= '120';
const data = path.resolve(process.env.TRIBUTARY_DATA ?? 'data');
process.env.TRIBUTARY_DATA = data;

const t = new Tributary();
t.streams.addListener({ onQueryProgress: ({ progress }) => console.log(progressLine(progress)) });
const q = coingeckoPrices(t);
console.log(`streaming for ${seconds} s (query ${q.name}) ...`);
await new Promise((r) => setTimeout(r, seconds * 1000));
await q.stop();
const e = q.exception();
await sim.close();
if (e) {
  console.error(`the query failed: ${e.message}`);
  process.exit(1);
}

const table = path.join(data, 'coingecko_prices');
const snap = (await DeltaTable.open(table)).snapshot;
const rows = snap.files.reduce((n, f) => n + (f.stats ? JSON.parse(f.stats).numRecords : 0), 0);
console.log(`
${table}
  version ${snap.version}, ${snap.files.length} data files, ${rows} rows, partitioned by [${snap.partitionColumns.join(', ')}]
  simulator answered ${sim.stats().total} requests

Read it from PySpark (pip install pyspark delta-spark):
  from delta import configure_spark_with_delta_pip
  from pyspark.sql import SparkSession
  spark = configure_spark_with_delta_pip(SparkSession.builder
      .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
      .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")).getOrCreate()
  df = spark.read.format("delta").load("${table}")
  df.orderBy("last_updated_at").show()
  df.groupBy("coin", "vs_currency").agg({"price": "avg"}).show()
Or here: npx tributary inspect ${table}   |   npx tributary history ${table}`);
