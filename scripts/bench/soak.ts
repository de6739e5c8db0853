/**
 * `npm run bench` soak and overhead sections (also `npx tsx scripts/bench/soak.ts [--quick]`):
 *   - soak: the rate source, 1,000 rows per batch, 20,000 batches back to back (--quick: 3,000),
 *     with auto-compaction on and off; RSS (after two full GCs; see child-soak.mjs), glibc's main heap ([heap] in smaps), the
 *     tombstone count and the table's file count every 1,000
 *     batches (--quick: 500); per-batch p50 of the first and the last 1,000 batches (--quick: 500);
 *     --compact=on|off runs one of the two, --only=soak|overhead one section; the soak children
 *     run with the deployment settings the README recommends for a long-lived `run` (TUNED_ENV
 *     and TUNED_FLAGS below: they can only be set before the process starts), since 2026-12-04
 *     by default: a soak of an untuned process measures a deployment the README advises against;
 *     --untuned runs them without (the figures of before), --arenas=N sets MALLOC_ARENA_MAX=N
 *     instead of 4; --tuned is accepted for the commands of earlier runs (it is the default).
 *     Pass: RSS flat (the last sample within 10% of the first after warm-up) and under 150 MB, and
 *     with auto-compaction the last p50 within 1.2x of the first.
 *   - overhead: 100 rows per batch, 2,000 batches (--quick: 500), with the metrics server and the
 *     dashboard on (scraped every second, one dashboard page connected to /events) and off, the
 *     two side by side (same load), twice: the streaming p50 with them on vs off (at most +5%).
 * Each run is its own child process, running dist/ (built first) as `tributary run` does. JSON
 * lands in <cache>/bench/soak-latest.json. Report the load average with the figures.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CACHE = process.env.TRIBUTARY_CACHE ? resolve(process.env.TRIBUTARY_CACHE) : join(ROOT, '.cache');
const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
// --compact=on|off: one soak run only (so the two can run as separate processes on a busy machine).
const compactOnly = process.argv.find((a) => a.startsWith('--compact='))?.slice('--compact='.length);
const tuned = !process.argv.includes('--untuned');
/**
 * MALLOC_ARENA_MAX (glibc), 4 unless --arenas=N. Threads then share N malloc arenas
 * instead of up to 8 per core: the memory of the threads that come and go (auto-compaction's
 * encoder thread above level 0, libuv's pool) is reused from the shared arenas instead of growing
 * arenas of their own, at the price of a larger main heap from the start.
 */
const arenas = process.argv.find((a) => a.startsWith('--arenas='))?.slice('--arenas='.length) ?? '4';
/**
 * glibc: a fixed mmap threshold of 32 KiB. By default glibc raises it to the size of every large
 * block freed (up to 32 MiB), so later buffers of up to that size come from the malloc heaps, whose
 * high-water marks stay; fixed, each block of 32 KiB or more is mapped and unmapped on its own.
 * 32 KiB rather than 128 (until 2026-12-04): a stream's 32-64 KiB buffers (a batch's Arrow
 * buffers and Parquet pages, read chunks) then stay out of the heaps too; the soak's level went
 * from 127-135 to 97-101 MiB at 4,000 batches (64 KiB: 127-131; 16 KiB: 96-101, more syscalls).
 */
const TUNED_ENV: Record<string, string> = { MALLOC_MMAP_THRESHOLD_: '32768', MALLOC_ARENA_MAX: arenas };
/** V8: a young generation of 2 x 4 MiB semi-spaces instead of up to 2 x 16 MiB. */
const TUNED_FLAGS = ['--max-semi-space-size=4'];
const sizes = quick ? { batches: 3000, every: 500, overheadBatches: 500 } : { batches: 20_000, every: 1000, overheadBatches: 2000 };

interface ChildResult {
  durations: number[];
  samples: { batch: number; rssMiB: number; rssOneGcMiB?: number; heapMiB: number; files: number | null; seconds: number; brkHeapMiB?: number; tombstones?: number | null; load1?: number }[];
  peakRssKiB: number;
}

/** One child run; with `ops`, scrapes /metrics every second and keeps a dashboard event stream open meanwhile. */
function child(args: string[], ops: boolean, withTuning = false): Promise<ChildResult> {
  return new Promise((res, rej) => {
    const flags = withTuning ? TUNED_FLAGS : [];
    const env = withTuning ? { ...process.env, ...TUNED_ENV } : process.env;
    const p = spawn(process.execPath, ['--expose-gc', ...flags, 'scripts/bench/child-soak.mjs', ...args, ...(ops ? ['0'] : [])], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    const events = new AbortController();
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => {
      err += d;
      if (String(d).includes('soak: ')) process.stderr.write(String(d).split('\n').filter((l) => l.startsWith('soak: ')).map((l) => `  ${l}\n`).join(''));
      const m = /ops at (http:\/\/\S+\/)/.exec(err);
      if (m && !timer) {
        const base = m[1];
        void fetch(new URL('events', base), { signal: events.signal }).then(async (r) => {
          for await (const _ of r.body!) {
            // A dashboard page reading its updates.
          }
        }).catch(() => undefined);
        timer = setInterval(() => void fetch(new URL('metrics', base)).then((r) => r.text()).catch(() => undefined), 1000);
      }
    });
    p.on('close', (code) => {
      clearInterval(timer);
      events.abort();
      if (code !== 0) return rej(new Error(`soak child exited ${code}: ${err.slice(-2000)}`));
      res(JSON.parse(out.trim().split('\n').pop()!) as ChildResult);
    });
  });
}

const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const mean = (xs: number[]) => Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 10) / 10;

export async function soakBench(): Promise<Record<string, unknown>> {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  const tmp = await mkdtemp(join(os.tmpdir(), 'tributary-bench-soak-'));
  const result: Record<string, unknown> = { quick, sizes, tuned: tuned ? { env: TUNED_ENV, flags: TUNED_FLAGS } : false, loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 10) / 10) };
  try {
    if (!only || only === 'soak') {
      for (const compact of (['on', 'off'] as const).filter((c) => !compactOnly || c === compactOnly)) {
        process.stderr.write(`soak: ${sizes.batches} batches of 1,000 rows, autoCompact ${compact}...\n`);
        const r = await child([join(tmp, `soak-${compact}`), String(sizes.batches), '1000', String(sizes.every), compact], false, tuned);
        await rm(join(tmp, `soak-${compact}`), { recursive: true, force: true });
        const window = sizes.every;
        const first = r.durations.slice(0, window);
        const last = r.durations.slice(-window);
        const warm = r.samples.slice(1);
        const rss = r.samples.map((s) => s.rssMiB);
        result[`autoCompact-${compact}`] = {
          samples: r.samples,
          p50FirstMs: pct(first, 0.5),
          p50LastMs: pct(last, 0.5),
          meanFirstMs: mean(first),
          meanLastMs: mean(last),
          p50Ratio: Math.round((pct(last, 0.5) / Math.max(pct(first, 0.5), 0.5)) * 100) / 100,
          maxRssMiB: Math.max(...rss),
          // The same samples one GC earlier (child-soak.mjs: buffers a GC found dead, not yet freed).
          maxRssOneGcMiB: Math.max(...r.samples.map((x) => x.rssOneGcMiB ?? x.rssMiB)),
          rssDriftPct: warm.length > 1 ? Math.round(((warm.at(-1)!.rssMiB - warm[0].rssMiB) / warm[0].rssMiB) * 1000) / 10 : 0,
          peakRssMiB: Math.round(r.peakRssKiB / 1024),
          seconds: r.samples.at(-1)?.seconds,
        };
      }
    }
    if (!only || only === 'overhead') {
      const p50s: { off: number[]; on: number[] } = { off: [], on: [] };
      // Off and on run at the same time, twice: on a shared machine whose load moves by the
      // minute, runs one after the other compare two loads (measured: 22/24 ms off vs 29/32 ms on
      // in alternation at load 20, and 41 vs 41 ms side by side); side by side they share one.
      for (let rep = 0; rep < 2; rep++) {
        process.stderr.write(`overhead: ${sizes.overheadBatches} batches of 100 rows, metrics and dashboard off and on side by side (${rep + 1} of 2)...\n`);
        await Promise.all((['off', 'on'] as const).map(async (mode) => {
          const dir = join(tmp, `overhead-${mode}-${rep}`);
          const r = await child([dir, String(sizes.overheadBatches), '100', String(sizes.overheadBatches), 'off'], mode === 'on');
          await rm(dir, { recursive: true, force: true });
          p50s[mode].push(pct(r.durations.slice(Math.min(50, r.durations.length >> 2)), 0.5));
        }));
      }
      const off = pct(p50s.off, 0.5);
      const on = pct(p50s.on, 0.5);
      result.overhead = { p50OffMs: p50s.off, p50OnMs: p50s.on, ratio: Math.round((Math.min(...p50s.on) / Math.max(Math.min(...p50s.off), 0.5)) * 100) / 100, medianOff: off, medianOn: on };
    }
    result.loadAverageAtEnd = os.loadavg().map((x) => Math.round(x * 10) / 10);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return result;
}

export function printSoak(r: Record<string, unknown>): void {
  for (const compact of ['on', 'off']) {
    const s = r[`autoCompact-${compact}`] as Record<string, unknown> & { samples: ChildResult['samples'] } | undefined;
    if (!s) continue;
    console.log(`\nSoak: rate source, 1,000 rows per batch, back to back, autoCompact ${compact}${r.tuned ? ` (tuned: ${JSON.stringify(r.tuned)})` : ''}`);
    console.log('  batches   RSS MiB   (1 GC)   [heap] MiB   heap MiB   table files   tombstones   elapsed s   load');
    for (const x of s.samples) console.log(`  ${String(x.batch).padStart(7)}   ${String(x.rssMiB).padStart(7)}   ${String(x.rssOneGcMiB ?? '-').padStart(6)}   ${String(x.brkHeapMiB ?? '-').padStart(10)}   ${String(x.heapMiB).padStart(8)}   ${String(x.files ?? '-').padStart(11)}   ${String(x.tombstones ?? '-').padStart(10)}   ${String(x.seconds).padStart(9)}   ${String(x.load1 ?? '-').padStart(4)}`);
    console.log(`  per-batch p50 first ${s.p50FirstMs} ms, last ${s.p50LastMs} ms (x${s.p50Ratio}); mean first ${s.meanFirstMs} ms, last ${s.meanLastMs} ms; RSS max ${s.maxRssMiB} MiB (after one GC ${s.maxRssOneGcMiB}), drift after warm-up ${s.rssDriftPct}%`);
    // The issue's targets, its "150 MB" read as 10^6 bytes (143 MiB); a sample is rounded to the
    // MiB, so it passes only if its upper end does.
    const maxMiB = s.maxRssMiB as number;
    const verdicts = [
      `under 150 MB: ${(maxMiB + 0.5) * 1048576 < 150e6 ? 'met' : 'NOT met'} (max ${maxMiB} MiB = ${Math.round((maxMiB * 1048576) / 1e6)} MB)`,
      `flat within 10%: ${Math.abs(s.rssDriftPct as number) <= 10 ? 'met' : 'NOT met'}`,
      ...(compact === 'on' ? [`p50 within 1.2x: ${(s.p50Ratio as number) <= 1.2 ? 'met' : 'NOT met'}`] : []),
    ];
    console.log(`  targets: ${verdicts.join('; ')}`);
  }
  const o = r.overhead as Record<string, unknown> | undefined;
  if (o) console.log(`\nOverhead: streaming p50 (100 rows per batch) with metrics + dashboard off ${JSON.stringify(o.p50OffMs)} ms, on ${JSON.stringify(o.p50OnMs)} ms: on/off ${o.ratio}`);
  console.log(`  load average ${JSON.stringify(r.loadAverageAtStart)} at start, ${JSON.stringify(r.loadAverageAtEnd)} at end`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await soakBench();
  printSoak(r);
  await mkdir(join(CACHE, 'bench'), { recursive: true });
  const part = [only, compactOnly && `compact-${compactOnly}`, !tuned && 'untuned', tuned && arenas !== '4' && `arenas${arenas}`].filter(Boolean).map((x) => `-${x}`).join('');
  await writeFile(join(CACHE, 'bench', `soak-latest${part}${quick ? '-quick' : ''}.json`), JSON.stringify(r, null, 2));
}
