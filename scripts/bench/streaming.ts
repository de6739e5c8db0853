/**
 * `npm run bench` streaming section (also `npx tsx scripts/bench/streaming.ts [--quick]`):
 *   - Tributary: rate source, 100 rows per batch, 1,000 batches back to back into Delta: p50/p99
 *     of the time per batch end to end (offset log to commit log);
 *   - PySpark 4 Structured Streaming, a Python rate-like Data Source writing Delta, same shape
 *     (fewer batches: a Spark batch takes far longer), measured in the same run: ratio of p50s;
 *   - process start to first committed batch (`tributary run ... --trigger once`), median of 5;
 *   - RSS every 1,000 batches over 10,000 batches.
 * Each contender runs in its own child process. JSON lands in <cache>/bench/streaming-latest.json.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CACHE = process.env.TRIBUTARY_CACHE ? resolve(process.env.TRIBUTARY_CACHE) : join(ROOT, '.cache');
const PY = join(CACHE, 'venv', 'spark4', 'bin', 'python');
const quick = process.argv.includes('--quick');
const sizes = quick ? { batches: 200, sparkBatches: 15, rssBatches: 2000, starts: 3 } : { batches: 1000, sparkBatches: 60, rssBatches: 10000, starts: 5 };

function run(cmd: string, args: string[], opts: { timeoutMs: number; cwd?: string }): Promise<{ code: number | null; stdout: string; stderr: string; firstLineMs?: number; ms: number }> {
  return new Promise((res) => {
    const t0 = performance.now();
    const p = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: { ...process.env, TZ: 'UTC' } });
    let stdout = '';
    let stderr = '';
    let firstLineMs: number | undefined;
    p.stdout.on('data', (d) => {
      if (firstLineMs === undefined) firstLineMs = performance.now() - t0;
      stdout += d;
    });
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr, firstLineMs, ms: performance.now() - t0 });
    });
  });
}

const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const median = (xs: number[]) => pct(xs, 0.5);
const lastJson = (s: string) => JSON.parse(s.trim().split('\n').pop()!);

export async function streamingBench(): Promise<Record<string, unknown>> {
  const tmp = await mkdtemp(join(os.tmpdir(), 'tributary-bench-stream-'));
  const result: Record<string, unknown> = { quick, sizes };
  try {
    process.stderr.write(`streaming: Tributary, ${sizes.batches} batches of 100 rows...\n`);
    const trib = await run(process.execPath, ['--import', 'tsx', '--expose-gc', 'scripts/bench/child-stream.ts', join(tmp, 'a'), String(sizes.batches), '100', '100000000'], { timeoutMs: 600_000 });
    if (trib.code !== 0) throw new Error(`tributary child failed: ${trib.stderr}`);
    const td = lastJson(trib.stdout) as { durations: number[]; peakRssKiB: number };
    result.tributary = { p50Ms: pct(td.durations, 0.5), p99Ms: pct(td.durations, 0.99), maxMs: Math.max(...td.durations), batches: td.durations.length, peakRssMiB: Math.round(td.peakRssKiB / 1024) };

    process.stderr.write('streaming: process start to first committed batch...\n');
    const starts: number[] = [];
    const bin = existsSync(join(ROOT, 'dist/cli/bin.js')) ? 'dist' : 'tsx';
    for (let i = 0; i < sizes.starts; i++) {
      const d = join(tmp, `start${i}`);
      const r = await run(process.execPath, ['bin/tributary.js', 'run', '--format', 'rate', '--option', 'rowsPerBatch=100', '--checkpoint', join(d, 'cp'), '--trigger', 'once', join(d, 't')], { timeoutMs: 60_000 });
      if (r.code !== 0 || r.firstLineMs === undefined) throw new Error(`start run failed: ${r.stderr}`);
      starts.push(Math.round(r.firstLineMs));
    }
    result.startToFirstBatch = { medianMs: median(starts), runsMs: starts, cli: bin };

    process.stderr.write(`streaming: RSS over ${sizes.rssBatches} batches...\n`);
    const rssRun = await run(process.execPath, ['--import', 'tsx', '--expose-gc', 'scripts/bench/child-stream.ts', join(tmp, 'rss'), String(sizes.rssBatches), '100', String(sizes.rssBatches / 10)], { timeoutMs: 1_800_000 });
    if (rssRun.code !== 0) throw new Error(`rss child failed: ${rssRun.stderr}`);
    const rd = lastJson(rssRun.stdout) as { durations: number[]; rss: { batch: number; rssMiB: number; heapMiB: number }[] };
    const firstK = rd.durations.slice(0, 1000);
    const lastK = rd.durations.slice(-1000);
    result.rss = { samples: rd.rss, p50FirstThousandMs: pct(firstK, 0.5), p50LastThousandMs: pct(lastK, 0.5), p99LastThousandMs: pct(lastK, 0.99) };

    if (existsSync(PY)) {
      process.stderr.write(`streaming: PySpark Structured Streaming, ${sizes.sparkBatches} batches of 100 rows...\n`);
      const sp = await run(PY, ['scripts/bench/child_spark_stream.py', join(tmp, 'spark'), String(sizes.sparkBatches), '100', join(CACHE, 'ivy')], { timeoutMs: 900_000 });
      if (sp.code !== 0) result.spark = { error: sp.stderr.slice(-2000) };
      else {
        const sd = lastJson(sp.stdout) as { durations: number[]; spark: string; startToFirstBatchS: number; peakRssKiB: number };
        // The first batches include Spark's warm-up; judge steady state.
        const steady = sd.durations.slice(Math.min(5, Math.floor(sd.durations.length / 3)));
        result.spark = { version: sd.spark, p50Ms: pct(steady, 0.5), p99Ms: pct(steady, 0.99), batches: sd.durations.length, startToFirstBatchMs: Math.round(sd.startToFirstBatchS * 1000), driverPeakRssMiB: Math.round(sd.peakRssKiB / 1024) };
        const t = result.tributary as { p50Ms: number };
        (result.spark as Record<string, unknown>).ratioP50 = Math.round(((result.spark as { p50Ms: number }).p50Ms / Math.max(t.p50Ms, 0.5)) * 10) / 10;
      }
    } else result.spark = { error: `no PySpark environment at ${PY} (run scripts/interop/setup-env.sh)` };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return result;
}

export function printStreaming(r: Record<string, unknown>): void {
  const t = r.tributary as Record<string, number>;
  const s = r.spark as Record<string, number | string>;
  const st = r.startToFirstBatch as { medianMs: number };
  const rss = r.rss as { samples: { batch: number; rssMiB: number; heapMiB: number }[]; p50FirstThousandMs: number; p50LastThousandMs: number; p99LastThousandMs: number };
  console.log('\nStreaming: rate source, 100 rows per batch, end to end per batch (offset log -> commit log)');
  console.log(`  Tributary   ${t.batches} batches   p50 ${t.p50Ms} ms   p99 ${t.p99Ms} ms   max ${t.maxMs} ms   peak RSS ${t.peakRssMiB} MiB`);
  if (s.error) console.log(`  PySpark     error: ${String(s.error).split('\n').slice(-3).join(' ')}`);
  else console.log(`  PySpark ${s.version} ${s.batches} batches   p50 ${s.p50Ms} ms   p99 ${s.p99Ms} ms   start->first batch ${s.startToFirstBatchMs} ms   -> Tributary p50 is ${s.ratioP50}x lower`);
  console.log(`  Process start to first committed batch (tributary run --trigger once): median ${st.medianMs} ms`);
  console.log(`  RSS over ${rss.samples.at(-1)?.batch} batches (after GC): ${rss.samples.map((x) => `${x.batch}:${x.rssMiB}MiB/heap ${x.heapMiB}`).join('  ')}`);
  console.log(`  per-batch p50 first 1,000: ${rss.p50FirstThousandMs} ms, last 1,000: ${rss.p50LastThousandMs} ms (p99 ${rss.p99LastThousandMs} ms)`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await streamingBench();
  printStreaming(r);
  await mkdir(join(CACHE, 'bench'), { recursive: true });
  await writeFile(join(CACHE, 'bench', quick ? 'streaming-latest-quick.json' : 'streaming-latest.json'), JSON.stringify(r, null, 2));
}
