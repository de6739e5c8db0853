/**
 * `npm run bench [-- --quick]`: the write benchmark (scripts/bench/run.ts: Tributary vs delta-rs),
 * the streaming benchmark (scripts/bench/streaming.ts: Tributary vs PySpark Structured
 * Streaming), the OPTIMIZE benchmark (scripts/bench/optimize.ts: Tributary vs delta-rs) and the
 * soak and overhead benchmark (scripts/bench/soak.ts: RSS and per-batch time over 20,000 batches,
 * metrics and dashboard on vs off), each
 * in its own process, with the same arguments.
 */
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
let status = 0;
for (const script of ['scripts/bench/run.ts', 'scripts/bench/streaming.ts', 'scripts/bench/optimize.ts', 'scripts/bench/soak.ts']) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args.filter((a) => script.endsWith('run.ts') || a === '--quick')], { stdio: 'inherit' });
  if (r.status !== 0) status = r.status ?? 1;
}
process.exit(status);
