/**
 * `npm run demo`: the embedded default job, on local files only.
 *  1. appends the bundled sample prices (fixtures/sample-prices.ndjson) to ./data/prices,
 *     partitioned by date, exactly as `tributary append` does;
 *  2. streams the built-in `rate` source into ./data/rate with the micro-batch engine
 *     (availableNow: drain what is there, then stop), checkpointed in ./data/_checkpoints/rate;
 *  3. prints both tables' summaries and the PySpark lines that read them.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseJsonExact } from '../src/arrow/values.js';
import { parseSchema } from '../src/delta/ddl.js';
import { DeltaTable } from '../src/delta/table.js';
import { Tributary } from '../src/session.js';

const root = path.resolve('data');
const prices = path.join(root, 'prices');
const schema = parseSchema(readFileSync('fixtures/sample-prices.schema.json', 'utf8'));
const rows = readFileSync('fixtures/sample-prices.ndjson', 'utf8').split('\n').filter(Boolean).map((l) => parseJsonExact(l) as Record<string, unknown>);
const table = await DeltaTable.forPath(prices);
const r = await table.append(rows, { create: { schema, partitionColumns: ['date'] } });
console.log(`prices: appended ${r.numRecords} rows as version ${r.version} of ${prices}`);

const t = new Tributary();
const q = t.readStream
  .format('rate')
  .option('rowsPerBatch', 1000)
  .option('maxRowsPerBatch', 250)
  .load()
  .writeStream.format('delta')
  .option('checkpointLocation', path.join(root, '_checkpoints', 'rate'))
  .trigger({ availableNow: true })
  .start(path.join(root, 'rate'));
await q.awaitTermination();
for (const p of q.recentProgress) console.log(`rate: batch ${p.batchId}: ${p.numInputRows} rows in ${p.durationMs.triggerExecution} ms -> version ${p.deltaVersion}`);

for (const dir of [prices, path.join(root, 'rate')]) {
  const s = (await DeltaTable.open(dir)).snapshot;
  const records = s.files.reduce((n, f) => n + (f.stats ? JSON.parse(f.stats).numRecords : 0), 0);
  console.log(`\n${dir}: version ${s.version}, ${s.files.length} files, ${records} rows, partitioned by [${s.partitionColumns.join(', ')}]`);
}
console.log(`
Read them from PySpark (pip install pyspark delta-spark):
  from delta import configure_spark_with_delta_pip
  from pyspark.sql import SparkSession
  spark = configure_spark_with_delta_pip(SparkSession.builder
      .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
      .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")).getOrCreate()
  spark.read.format("delta").load("${prices}").show()
  spark.read.format("delta").load("${path.join(root, 'rate')}").count()
Or inspect them here: npx tributary inspect ${prices}`);
