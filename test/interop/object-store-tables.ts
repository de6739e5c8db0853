/**
 * Tables on the object-store servers for the interop suite to judge: on each of moto (S3),
 * fake-gcs-server (GCS) and Azurite (Azure Blob), 4 writer processes x 25 appends of 20 rows,
 * started together on one table (test/support/writers.ts). The servers' environment comes from
 * scripts/object-stores/servers.ts (scripts/interop/run.sh exports it); every store is reached
 * through it alone, as a user's job would be. Writes a manifest of what each table must hold.
 *
 *   npx tsx test/interop/object-store-tables.ts <manifest.json>
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { DeltaTable } from '../../src/delta/table.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { storageFor } from '../../src/storage/uri.js';
import { runWriters } from '../support/writers.js';

const out = process.argv[2];
if (!out) throw new Error('usage: object-store-tables.ts <manifest.json>');
// Fewer than test/storage/concurrency.test.ts's 8 x 50, which already proves the writers on
// every store: here the tables are for delta-rs to judge, and 8 x 50 on three stores took
// 16 minutes of the suite on a loaded 2-core machine (moto serves one request at a time).
const WRITERS = 4;
const APPENDS = 25;
const ROWS = 20;
const INTEROP_BUCKET = 'tributary-interop';

const run = randomUUID().slice(0, 8);
const tables = [];
for (const store of ['s3', 'gcs', 'azure'] as const) {
  const uri = `${{ s3: 's3', gcs: 'gs', azure: 'az' }[store]}://${INTEROP_BUCKET}/concurrent-${run}`;
  // The CLI never creates buckets; the suite does, as a user would with their cloud's tools.
  const storage = (await storageFor(uri)) as ObjectStore;
  await storage.ensureBucket();
  const t = await DeltaTable.forPath(storage);
  await t.append([], { create: { schema: parseDdl('id BIGINT NOT NULL, worker INT') } });
  const t0 = Date.now();
  const writers = await runWriters(uri, {}, WRITERS, APPENDS, ROWS);
  for (const [i, w] of writers.entries()) if (w.code !== 0 || w.stderr !== '') throw new Error(`${store} writer ${i} exited ${w.code}: ${w.stderr}`);
  const retries = writers.reduce((n, w) => n + w.retries, 0);
  process.stderr.write(`interop: ${store}: ${WRITERS} writers x ${APPENDS} appends of ${ROWS} rows in ${Date.now() - t0} ms, ${retries} lost races retried\n`);
  tables.push({ store, uri, writers: WRITERS, appends: APPENDS, rows: ROWS, version: WRITERS * APPENDS, retries });
  await t.storage.close?.();
}
writeFileSync(out, JSON.stringify({ bucket: INTEROP_BUCKET, tables }, null, 2));
