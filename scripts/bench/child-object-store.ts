/**
 * Tributary's side of the object-store benchmark (scripts/bench/object-store.ts), one case per
 * process: `node --import tsx child-object-store.ts` with the case in OS_BENCH_SPEC (JSON).
 * Records are loaded from the shared NDJSON file and converted before any clock starts (as in
 * child-tributary.ts); tables are URIs on the benchmark's S3 server, reached with the storage
 * options in the spec. Prints one `@@BENCH_RESULT {json}` line.
 *
 * Cases: `appends` (warm-up appends to one table, then `appends` timed appends of `batchRows`
 * to another: one latency per commit), `bulk` (a warm-up append, then one timed append of
 * `rows`), `writer` (one of several concurrent writers: opens the table, prints "ready", waits
 * for a line on stdin, then appends `appends` times and reports its commits and lost races).
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { DeltaTable } from '../../src/delta/table.js';
import { parseDdl } from '../../src/schema/ddl.js';

export interface ObjectStoreChildSpec {
  kind: 'appends' | 'bulk' | 'writer';
  /** Table URI (s3://...); the warm-up uses `${uri}-warmup`. */
  uri: string;
  storageOptions: Record<string, string>;
  input: string;
  ddl: string;
  rows: number;
  appends: number;
  batchRows: number;
  warmupAppends: number;
  warmupRows: number;
  /** Writer number: its slice of the records (writers append different rows). */
  worker?: number;
}

const spec = JSON.parse(process.env.OS_BENCH_SPEC ?? '{}') as ObjectStoreChildSpec;
const schema = parseDdl(spec.ddl);
const create = { schema, partitionColumns: [] as string[] };
const opts = { storageOptions: spec.storageOptions };
const now = () => performance.now();

async function load(limit: number, skip = 0): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  let seen = 0;
  const rl = createInterface({ input: createReadStream(spec.input), crlfDelay: Infinity });
  for await (const line of rl) {
    if (rows.length >= limit) break;
    if (!line) continue;
    if (seen++ < skip) continue;
    rows.push(JSON.parse(line) as Record<string, unknown>);
  }
  rl.close();
  if (rows.length < limit) throw new Error(`${spec.input} holds too few records (${rows.length} of ${limit})`);
  return rows;
}

async function appends() {
  const rows = await load(spec.appends * spec.batchRows);
  const batch = (k: number) => rows.slice((k % spec.appends) * spec.batchRows, ((k % spec.appends) + 1) * spec.batchRows);
  const warm = await DeltaTable.forPath(`${spec.uri}-warmup`, opts);
  for (let k = 0; k < spec.warmupAppends; k++) await warm.append(batch(k), { create });
  const t = await DeltaTable.forPath(spec.uri, opts);
  const latenciesMs: number[] = [];
  const t0 = now();
  for (let k = 0; k < spec.appends; k++) {
    const s = now();
    await t.append(batch(k), { create });
    latenciesMs.push(now() - s);
  }
  return { latenciesMs, totalSeconds: (now() - t0) / 1000, finalVersion: t.version };
}

async function bulk() {
  const rows = await load(spec.rows);
  const warm = await DeltaTable.forPath(`${spec.uri}-warmup`, opts);
  await warm.append(rows.slice(0, spec.warmupRows), { create });
  const t0 = now();
  const t = await DeltaTable.forPath(spec.uri, opts);
  const r = await t.append(rows, { create });
  return { seconds: (now() - t0) / 1000, files: r.files.length, bytes: r.numBytes, finalVersion: t.version };
}

async function writer() {
  const rows = await load(spec.appends * spec.batchRows, (spec.worker ?? 0) * spec.appends * spec.batchRows);
  const t = await DeltaTable.open(spec.uri, undefined, opts);
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => lines.once('line', () => resolve()));
  lines.close();
  const t0 = now();
  let retries = 0;
  for (let k = 0; k < spec.appends; k++) retries += (await t.append(rows.slice(k * spec.batchRows, (k + 1) * spec.batchRows))).retries;
  return { commits: spec.appends, retries, seconds: (now() - t0) / 1000, errors: 0 };
}

try {
  const result = spec.kind === 'appends' ? await appends() : spec.kind === 'bulk' ? await bulk() : await writer();
  process.stdout.write(`@@BENCH_RESULT ${JSON.stringify({ ok: true, ...result })}\n`);
} catch (e) {
  const err = e as Error & { code?: string };
  process.stdout.write(`@@BENCH_RESULT ${JSON.stringify({ ok: false, error: `${err.code ? `${err.code}: ` : ''}${err.message ?? String(e)}` })}\n`);
  process.exitCode = 1;
}
