/**
 * `npm run bench [-- --quick]`: the write benchmark (scripts/bench/run.ts: Tributary vs delta-rs),
 * the streaming benchmark (scripts/bench/streaming.ts: Tributary vs PySpark Structured
 * Streaming), the OPTIMIZE benchmark (scripts/bench/optimize.ts: Tributary vs delta-rs), "NDJSON
 * to Delta" (scripts/bench/ndjson.ts: the CLI vs pyarrow/polars + delta-rs, add --big for 50M
 * lines), the object-store benchmark (scripts/bench/object-store.ts: Tributary vs delta-rs on one
 * S3 server), the soak and overhead benchmark (scripts/bench/soak.ts: RSS and per-batch time over
 * 20,000 batches, metrics and dashboard on vs off) and the table-features benchmark
 * (scripts/bench/features.ts: appends to a table with column mapping, row tracking, a CHECK
 * constraint and a generated column vs a plain table), each in its own process, with the same
 * arguments.
 */
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
let status = 0;
for (const script of ['scripts/bench/run.ts', 'scripts/bench/streaming.ts', 'scripts/bench/optimize.ts', 'scripts/bench/ndjson.ts', 'scripts/bench/object-store.ts', 'scripts/bench/soak.ts', 'scripts/bench/features.ts']) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args.filter((a) => script.endsWith('run.ts') || a === '--quick' || (script.endsWith('ndjson.ts') && a === '--big'))], { stdio: 'inherit' });
  if (r.status !== 0) status = r.status ?? 1;
}
process.exit(status);
