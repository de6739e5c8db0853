/**
 * `npm run bench [-- --quick]`: the write benchmark (scripts/bench/run.ts: Tributary vs delta-rs),
 * the streaming benchmark (scripts/bench/streaming.ts: Tributary vs PySpark Structured
 * Streaming), the OPTIMIZE benchmark (scripts/bench/optimize.ts: Tributary vs delta-rs) and "NDJSON
 * to Delta" (scripts/bench/ndjson.ts: the CLI vs pyarrow/polars + delta-rs, add --big for 50M lines), each
 * in its own process, with the same arguments.
 */
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
let status = 0;
for (const script of ['scripts/bench/run.ts', 'scripts/bench/streaming.ts', 'scripts/bench/optimize.ts', 'scripts/bench/ndjson.ts']) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args.filter((a) => script.endsWith('run.ts') || a === '--quick' || (script.endsWith('ndjson.ts') && a === '--big'))], { stdio: 'inherit' });
  if (r.status !== 0) status = r.status ?? 1;
}
process.exit(status);
