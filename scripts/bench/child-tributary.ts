/**
 * One Tributary contender for one benchmark case, in its own process (so that its peak RSS is its
 * own). Started by run.ts as `node --import tsx --expose-gc child-tributary.ts` with the case in
 * the BENCH_SPEC environment variable; prints one `@@BENCH_RESULT {json}` line on stdout.
 *
 * Records are loaded from the shared NDJSON file before any clock starts, and converted to the
 * fastest in-memory form the library takes: timestamps as epoch-millisecond numbers, dates as
 * Date objects, decimals as strings, longs as (safe-integer) numbers.
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DeltaTable } from '../../src/delta/table.js';
import { parseDdl } from '../../src/schema/ddl.js';
import type { EngineName } from '../../src/parquet/handler.js';
import type { ChildSpec } from './spec.js';

const spec = JSON.parse(process.env.BENCH_SPEC ?? '{}') as ChildSpec;
const engine = spec.engine as EngineName;
const schema = parseDdl(spec.ddl);
const dateColumns = spec.columns.filter(([, t]) => t.toUpperCase() === 'DATE').map(([n]) => n);

type Row = Record<string, unknown>;

async function load(path: string, limit: number): Promise<Row[]> {
  const rows: Row[] = [];
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of rl) {
    if (rows.length >= limit) break;
    if (!line) continue;
    const row = JSON.parse(line) as Row;
    for (const c of dateColumns) {
      const v = row[c];
      if (typeof v === 'string') row[c] = new Date(`${v}T00:00:00Z`);
    }
    rows.push(row);
  }
  rl.close();
  if (rows.length < limit) throw new Error(`${path} holds ${rows.length} records, ${limit} wanted`);
  return rows;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const now = () => performance.now();
/**
 * A full collection before each run, then a pause: V8 sweeps the collected heap concurrently and
 * lazily, so an allocation right after gc() pays for sweeping the loaded records' pages, a cost of
 * the benchmark's gc() call rather than of the library.
 */
async function settle() {
  gc();
  await new Promise((r) => setTimeout(r, 250));
}
const create = { schema, partitionColumns: [] as string[] };

async function throughput(rows: Row[]) {
  // Warm-up: a small table (loads the encoder, compiles the WASM module, warms the JIT).
  const warm = join(spec.workDir, 'warmup');
  const wt = await DeltaTable.forPath(warm);
  await wt.append(rows.slice(0, spec.warmupRows), { create, engine });
  await rm(warm, { recursive: true, force: true });

  const runs: { seconds: number; bytes: number; files: number; version: number | undefined }[] = [];
  let last = '';
  for (let i = 0; i < spec.runs; i++) {
    if (last) await rm(last, { recursive: true, force: true });
    const dir = join(spec.workDir, `run${i}`);
    await settle();
    const t0 = now();
    const t = await DeltaTable.forPath(dir);
    const res = await t.append(rows, { create, engine });
    const t1 = now();
    runs.push({ seconds: (t1 - t0) / 1000, bytes: res.numBytes, files: res.files.length, version: res.version });
    last = dir;
  }
  return { runs, tableDir: last };
}

async function appends(rows: Row[]) {
  const batch = spec.batchRows!;
  const batches: Row[][] = [];
  for (let k = 0; k < spec.appends!; k++) batches.push(rows.slice(k * batch, (k + 1) * batch));

  // Warm-up on its own table, long enough to pass a checkpoint.
  const warm = join(spec.workDir, 'warmup');
  const wt = await DeltaTable.forPath(warm);
  for (let k = 0; k < spec.warmupAppends!; k++) await wt.append(batches[k % batches.length], k === 0 ? { create, engine } : { engine });
  await rm(warm, { recursive: true, force: true });

  const dir = join(spec.workDir, 'table');
  gc();
  const latencies: number[] = [];
  const checkpointAt: number[] = [];
  const t = await DeltaTable.forPath(dir);
  const tAll = now();
  for (let k = 0; k < batches.length; k++) {
    const t0 = now();
    const res = await t.append(batches[k], k === 0 ? { create, engine } : { engine });
    latencies.push(now() - t0);
    if (res.checkpoint) checkpointAt.push(k);
  }
  const totalSeconds = (now() - tAll) / 1000;
  return { latenciesMs: latencies, checkpointAppends: checkpointAt, totalSeconds, finalVersion: t.version, tableDir: dir };
}

async function main() {
  const need = spec.kind === 'appends' ? spec.appends! * spec.batchRows! : spec.rows;
  const tLoad = now();
  const rows = await load(spec.input, need);
  const loadSeconds = (now() - tLoad) / 1000;
  gc();
  const rssLoadedKb = Math.round(process.memoryUsage().rss / 1024);
  const result = spec.kind === 'appends' ? await appends(rows) : await throughput(rows);
  const ru = process.resourceUsage();
  const out = {
    ok: true,
    rows: rows.length,
    loadSeconds,
    rssLoadedKb,
    selfMaxRssKb: ru.maxRSS,
    cpuUserSeconds: ru.userCPUTime / 1e6,
    cpuSystemSeconds: ru.systemCPUTime / 1e6,
    ...result,
  };
  process.stdout.write(`@@BENCH_RESULT ${JSON.stringify(out)}\n`);
}

main().catch((e: unknown) => {
  const err = e as Error & { code?: string };
  const message = `${err.code ? `${err.code}: ` : ''}${err.message ?? String(e)}`;
  process.stdout.write(`@@BENCH_RESULT ${JSON.stringify({ ok: false, error: message, stack: err.stack })}\n`);
  process.exitCode = 1;
});
