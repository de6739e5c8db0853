/**
 * `npm run bench [-- --quick]`: Tributary (parquet-wasm and parquetjs engines) against delta-rs
 * (Python deltalake + pyarrow), from in-memory records to a committed Delta table.
 *
 * Cases (full / --quick sizes):
 *   narrow   1,000,000 / 100,000 records `coin STRING, price DOUBLE, ts TIMESTAMP`, one append
 *   wide       100,000 /  10,000 records, 30 columns (string, long, double, boolean, timestamp,
 *                                date, decimal(18,4), some nulls), one append
 *   appends  1,000 / 200 consecutive appends of 100 narrow records to one table
 *
 * Every contender/case runs in its own child process (Node for Tributary, the interop venv's Python
 * for delta-rs) under /usr/bin/time -v for its peak RSS; each child loads the same NDJSON records
 * (generated here once from --seed), warms up on a small table, then times --runs runs (median
 * reported) or the append sequence. The tables written last are compared afterwards (delta-rs reads
 * all of them; their rows must be identical).
 *
 * Output: tables on stdout, progress on stderr, JSON in <cache>/bench/latest[-quick][-partial].json
 * (<cache> = $TRIBUTARY_CACHE or <repo>/.cache) plus a timestamped copy in <cache>/bench/history/.
 *
 * Options: --quick, --seed N (42), --runs N (3), --cases narrow,wide,appends,
 *          --warmup-rows N (default min(rows, 150,000): enough for V8 to tier up the hot loops and,
 *          for Tributary, to start the encoder thread it uses for files of more than 65,536 rows
 *          and to tier up its WASM; one warm-up append for every contender),
 *          --timeout SECONDS (per child; 420 full, 180 quick), --keep (keep the temp directory),
 *          --wait-idle SECONDS (30; 0 = off): before each child, wait up to this long for the rest of
 *          the machine to go idle (at most 180 s in all),
 *          --retries N (1): re-run a contender once more when other processes used > 15% of a core
 *          while it ran (the least disturbed attempt is kept; none are started after 6 min).
 *
 * The machine should be otherwise idle: the 1-minute load average before and after the run is
 * recorded, and a warning printed when something else was using the CPU.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NARROW_DDL, WIDE_COLUMNS, WIDE_DDL, narrowRecords, wideRecords, writeNdjson } from './gen.js';
import type { ChildSpec } from './spec.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const CACHE = process.env.TRIBUTARY_CACHE ? resolve(process.env.TRIBUTARY_CACHE) : join(ROOT, '.cache');
const VENV_PYTHON = join(CACHE, 'venv', 'spark4', 'bin', 'python');
const TIME_BIN = '/usr/bin/time';

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  quick: boolean;
  seed: number;
  runs: number;
  cases: Set<string>;
  timeoutS: number;
  keep: boolean;
  warmupRows?: number;
  waitIdleS: number;
  retries: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, seed: 42, runs: 3, cases: new Set(['narrow', 'wide', 'appends']), timeoutS: 0, keep: false, waitIdleS: 30, retries: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--quick':
        o.quick = true;
        break;
      case '--seed':
        o.seed = Number(value());
        break;
      case '--runs':
        o.runs = Number(value());
        break;
      case '--cases':
        o.cases = new Set(value().split(',').map((s) => s.trim()).filter(Boolean));
        break;
      case '--timeout':
        o.timeoutS = Number(value());
        break;
      case '--warmup-rows':
        o.warmupRows = Number(value());
        break;
      case '--wait-idle':
        o.waitIdleS = Number(value());
        break;
      case '--retries':
        o.retries = Number(value());
        break;
      case '--keep':
        o.keep = true;
        break;
      case '--help':
      case '-h':
        process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0].replace(/^\/\*\*?|^ \* ?/gm, '') + '\n');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a} (see --help)`);
    }
  }
  if (!Number.isInteger(o.seed) || !(o.runs >= 1)) throw new Error('--seed must be an integer and --runs >= 1');
  for (const c of o.cases) if (!['narrow', 'wide', 'appends'].includes(c)) throw new Error(`unknown case ${c}`);
  if (!o.timeoutS) o.timeoutS = o.quick ? 180 : 420;
  return o;
}

// ---------------------------------------------------------------------------------------------
// Child processes

interface TimeStats {
  maxRssKb?: number;
  wallSeconds?: number;
  userSeconds?: number;
  systemSeconds?: number;
}

interface ChildOutcome {
  ok: boolean;
  error?: string;
  result?: Record<string, unknown> & { ok: boolean; error?: string };
  time: TimeStats;
  wallSeconds: number;
  stderrTail: string;
  /** CPU seconds the rest of the machine used while this child ran (busy time minus the child's). */
  foreignCpuSeconds?: number;
}

/** Busy CPU seconds of the whole machine so far, from /proc/stat (undefined elsewhere). */
function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...
    const busy = f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] ?? 0);
    return busy / 100; // USER_HZ
  } catch {
    return undefined;
  }
}

const useTime = existsSync(TIME_BIN);
let activeChild: ReturnType<typeof spawn> | undefined;

function parseTimeFile(text: string): TimeStats {
  const num = (re: RegExp) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const wall = /Elapsed \(wall clock\) time[^:]*: ([\d:.]+)/.exec(text)?.[1];
  let wallSeconds: number | undefined;
  if (wall) wallSeconds = wall.split(':').reduce((acc, p) => acc * 60 + Number(p), 0);
  return {
    maxRssKb: num(/Maximum resident set size \(kbytes\): (\d+)/),
    userSeconds: num(/User time \(seconds\): ([\d.]+)/),
    systemSeconds: num(/System time \(seconds\): ([\d.]+)/),
    wallSeconds,
  };
}

async function runChild(label: string, exe: string, args: string[], env: Record<string, string>, timeoutS: number, logPath: string): Promise<ChildOutcome> {
  const timeFile = `${logPath}.time`;
  const [cmd, cmdArgs] = useTime ? [TIME_BIN, ['-v', '-o', timeFile, exe, ...args]] : [exe, args];
  const started = performance.now();
  const busyBefore = machineBusySeconds();
  const log = createWriteStream(logPath);
  return new Promise<ChildOutcome>((resolvePromise) => {
    const child = spawn(cmd, cmdArgs, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group, so a timeout kills the whole tree
    });
    activeChild = child;
    let stdout = '';
    let stderrTail = '';
    let timedOut = false;
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      log.write(d);
    });
    child.stderr!.on('data', (d: Buffer) => {
      stderrTail = (stderrTail + d.toString()).slice(-4000);
      log.write(d);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutS * 1000);
    const finish = async (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      clearTimeout(timer);
      activeChild = undefined;
      log.end();
      const wallSeconds = (performance.now() - started) / 1000;
      let time: TimeStats = {};
      if (useTime) time = parseTimeFile(await readFile(timeFile, 'utf8').catch(() => ''));
      const line = stdout.split('\n').find((l) => l.startsWith('@@BENCH_RESULT '));
      let result: ChildOutcome['result'];
      if (line) {
        try {
          result = JSON.parse(line.slice('@@BENCH_RESULT '.length));
        } catch {
          /* reported below */
        }
      }
      let error: string | undefined;
      if (spawnError) error = `could not start ${label}: ${spawnError.message}`;
      else if (timedOut) error = `timed out after ${timeoutS} s (killed)`;
      else if (!result) error = `no result (exit ${code ?? signal}); stderr: ${lastLines(stderrTail, 6)}`;
      else if (!result.ok) error = result.error ?? 'failed';
      const busyAfter = machineBusySeconds();
      const childCpu = time.userSeconds !== undefined ? time.userSeconds + (time.systemSeconds ?? 0) : undefined;
      const foreignCpuSeconds = busyBefore !== undefined && busyAfter !== undefined && childCpu !== undefined ? Math.max(0, busyAfter - busyBefore - childCpu) : undefined;
      resolvePromise({ ok: !error, error, result, time, wallSeconds, stderrTail, foreignCpuSeconds });
    };
    child.on('error', (e) => void finish(null, null, e));
    child.on('close', (code, signal) => void finish(code, signal));
  });
}

function killGroup(child: ReturnType<typeof spawn>) {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

let idleBudgetS = 180;

/** Waits (up to maxS, within the overall budget) until other processes use < 15% of one core. */
async function waitForIdle(maxS: number): Promise<void> {
  const deadline = performance.now() + Math.min(maxS, idleBudgetS) * 1000;
  const started = performance.now();
  let warned = false;
  for (;;) {
    const b0 = machineBusySeconds();
    const c0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 1000));
    const b1 = machineBusySeconds();
    if (b0 === undefined || b1 === undefined) return;
    const c = process.cpuUsage(c0);
    const others = b1 - b0 - (c.user + c.system) / 1e6;
    if (others < 0.15 || performance.now() >= deadline) break;
    if (!warned) progress(`waiting for the machine to go idle (other processes use ${(others * 100).toFixed(0)}% of a core)`);
    warned = true;
  }
  idleBudgetS = Math.max(0, idleBudgetS - (performance.now() - started) / 1000);
}

const lastLines = (s: string, n: number) => s.trim().split('\n').slice(-n).join(' | ');

// ---------------------------------------------------------------------------------------------
// Contenders

interface Contender {
  id: string;
  label: string;
  side: 'tributary' | 'delta-rs';
  engine: string;
  target?: 'uri' | 'table';
  /** Informational rows are shown but not used for the ratios. */
  info?: boolean;
}

const THROUGHPUT_CONTENDERS: Contender[] = [
  { id: 'tributary-parquet-wasm', label: 'Tributary parquet-wasm', side: 'tributary', engine: 'parquet-wasm' },
  { id: 'tributary-parquetjs', label: 'Tributary parquetjs', side: 'tributary', engine: 'parquetjs' },
  { id: 'delta-rs', label: 'delta-rs', side: 'delta-rs', engine: 'fast' },
  { id: 'delta-rs-native', label: 'delta-rs (datetime/date objs)', side: 'delta-rs', engine: 'native', info: true },
];

const APPEND_CONTENDERS: Contender[] = [
  { id: 'tributary-parquet-wasm', label: 'Tributary parquet-wasm', side: 'tributary', engine: 'parquet-wasm' },
  { id: 'delta-rs-table', label: 'delta-rs (DeltaTable reused)', side: 'delta-rs', engine: 'fast', target: 'table' },
  { id: 'delta-rs-uri', label: 'delta-rs (path each call)', side: 'delta-rs', engine: 'fast', target: 'uri' },
];

function childCommand(c: Contender, python: string | undefined): { exe: string; args: string[] } | string {
  if (c.side === 'tributary') return { exe: process.execPath, args: ['--import', 'tsx', '--expose-gc', join(HERE, 'child-tributary.ts')] };
  if (!python) return 'the Python venv with deltalake is not available (see scripts/interop/setup-env.sh)';
  return { exe: python, args: [join(HERE, 'child_deltars.py'), 'run'] };
}

// ---------------------------------------------------------------------------------------------
// Statistics

const median = (xs: number[]) => quantile(xs, 0.5);

/** Nearest-rank quantile (p99 of 1000 samples is the 990th smallest). */
function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  if (q === 0.5 && s.length % 2 === 0) return (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

// ---------------------------------------------------------------------------------------------
// Formatting

const fmtInt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
const fmt = (n: number | undefined, d: number) => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(d));
const mb = (kb: number | undefined) => (kb === undefined ? '-' : (kb / 1024).toFixed(0));

function table(headers: string[], rows: string[][], leftCols = 1): string {
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < leftCols ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ').trimEnd();
  return [line(headers), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Environment

function pythonUsable(py: string): boolean {
  if (!existsSync(py)) return false;
  const r = spawnSync(py, ['-c', 'import deltalake, pyarrow'], { stdio: 'ignore', timeout: 60_000 });
  return r.status === 0;
}

function ensurePython(): string | undefined {
  if (pythonUsable(VENV_PYTHON)) return VENV_PYTHON;
  progress(`delta-rs venv missing or incomplete at ${VENV_PYTHON}; running scripts/interop/setup-env.sh`);
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'interop', 'setup-env.sh')], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], timeout: 30 * 60_000 });
  if (r.status !== 0) progress(`setup-env.sh failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
  return pythonUsable(VENV_PYTHON) ? VENV_PYTHON : undefined;
}

function pkgVersion(name: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

function progress(msg: string) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

// ---------------------------------------------------------------------------------------------
// Main

interface ThroughputEntry {
  contender: Contender;
  error?: string;
  runsSeconds?: number[];
  medianSeconds?: number;
  rowsPerSecond?: number;
  ratioVsDeltaRs?: number;
  bytes?: number;
  files?: number;
  fromPylistMedianSeconds?: number;
  writeMedianSeconds?: number;
  peakRssKb?: number;
  selfMaxRssKb?: number;
  rssLoadedKb?: number;
  cpuSeconds?: number;
  childWallSeconds: number;
  attempts?: number;
  /** CPU the rest of the machine used during this child, in % of one core. */
  otherCpuPct?: number;
  tableDir?: string;
}

interface AppendEntry {
  contender: Contender;
  error?: string;
  p50Ms?: number;
  p90Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  meanMs?: number;
  first100P50Ms?: number;
  last100P50Ms?: number;
  checkpointAppends?: number[];
  checkpointP50Ms?: number;
  nonCheckpointP50Ms?: number;
  totalSeconds?: number;
  finalVersion?: number;
  ratioDeltaRsP50OverThis?: number;
  peakRssKb?: number;
  selfMaxRssKb?: number;
  rssLoadedKb?: number;
  cpuSeconds?: number;
  childWallSeconds: number;
  attempts?: number;
  otherCpuPct?: number;
  latenciesMs?: number[];
  tableDir?: string;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const sizes = opts.quick
    ? { narrow: 100_000, wide: 10_000, appends: 200, batchRows: 100 }
    : { narrow: 1_000_000, wide: 100_000, appends: 1_000, batchRows: 100 };
  const warmupFor = (rows: number) => opts.warmupRows ?? Math.min(rows, 150_000);
  const loadBefore = os.loadavg()[0];
  if (loadBefore > 0.7) progress(`warning: 1-minute load average is ${loadBefore.toFixed(2)} before the run; other processes will skew the figures`);
  const warmupAppends = 20;

  progress(`mode ${opts.quick ? 'quick' : 'full'}; seed ${opts.seed}; ${opts.runs} timed runs per throughput case; child timeout ${opts.timeoutS} s`);
  const python = ensurePython();
  if (!python) progress('delta-rs contenders will be reported as errors');

  const tmp = await mkdtemp(join(os.tmpdir(), 'tributary-bench-'));
  const cleanup = async () => {
    if (!opts.keep) await rm(tmp, { recursive: true, force: true });
  };
  const onSignal = (sig: NodeJS.Signals) => {
    progress(`${sig}: stopping`);
    if (activeChild) killGroup(activeChild);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    // Machine and versions.
    let pyInfo: Record<string, unknown> = {};
    if (python) {
      const r = spawnSync(python, [join(HERE, 'child_deltars.py'), 'info'], { encoding: 'utf8', timeout: 120_000 });
      const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('@@BENCH_RESULT '));
      if (line) pyInfo = JSON.parse(line.slice(15));
    }
    const cpus = os.cpus();
    const machine = {
      cpuModel: cpus[0]?.model?.trim(),
      cores: cpus.length,
      availableParallelism: os.availableParallelism(),
      memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      python: pyInfo.python,
      pyarrow: pyInfo.pyarrow,
      deltalake: pyInfo.deltalake,
      tributary: (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version,
      parquetWasm: pkgVersion('parquet-wasm'),
      parquetjs: pkgVersion('@dsnp/parquetjs'),
      apacheArrow: pkgVersion('apache-arrow'),
      tsx: pkgVersion('tsx'),
      peakRssSource: useTime ? '/usr/bin/time -v (Maximum resident set size)' : 'child self-report (process.resourceUsage().maxRSS / getrusage ru_maxrss)',
    };

    // Input data, once.
    const narrowPath = join(tmp, 'narrow.ndjson');
    const widePath = join(tmp, 'wide.ndjson');
    const narrowCount = Math.max(opts.cases.has('narrow') ? sizes.narrow : 0, opts.cases.has('appends') ? sizes.appends * sizes.batchRows : 0);
    let t0 = performance.now();
    const narrowBytes = narrowCount ? await writeNdjson(narrowPath, narrowRecords(narrowCount, opts.seed)) : 0;
    const wideBytes = opts.cases.has('wide') ? await writeNdjson(widePath, wideRecords(sizes.wide, opts.seed + 1)) : 0;
    progress(`generated ${fmtInt(narrowCount)} narrow + ${fmtInt(opts.cases.has('wide') ? sizes.wide : 0)} wide records (${((narrowBytes + wideBytes) / 2 ** 20).toFixed(0)} MiB NDJSON) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const narrowColumns = NARROW_DDL.split(',').map((s) => s.trim().split(/\s+/) as [string, string]);
    const logDir = join(tmp, 'logs');
    await mkdir(logDir, { recursive: true });

    const base = (kind: ChildSpec['kind'], dataset: 'narrow' | 'wide'): Omit<ChildSpec, 'engine' | 'workDir'> => ({
      kind,
      input: dataset === 'narrow' ? narrowPath : widePath,
      rows: dataset === 'narrow' ? sizes.narrow : sizes.wide,
      ddl: dataset === 'narrow' ? NARROW_DDL : WIDE_DDL,
      columns: dataset === 'narrow' ? narrowColumns : WIDE_COLUMNS,
      runs: opts.runs,
      warmupRows: warmupFor(dataset === 'narrow' ? sizes.narrow : sizes.wide),
    });

    const otherPct = (o: ChildOutcome) => (o.foreignCpuSeconds !== undefined && o.wallSeconds > 0 ? (100 * o.foreignCpuSeconds) / o.wallSeconds : undefined);
    const BUSY_PCT = 15;
    // Re-runs of disturbed contenders stop once the run is this old, to stay near the time target.
    const retryUntil = startedAt.getTime() + (opts.quick ? 150 : 360) * 1000;

    async function runContender(caseName: string, c: Contender, spec: Omit<ChildSpec, 'engine' | 'workDir'>): Promise<ChildOutcome & { attempts: number }> {
      const cmd = childCommand(c, python);
      if (typeof cmd === 'string') return { ok: false, error: cmd, time: {}, wallSeconds: 0, stderrTail: '', attempts: 0 };
      const workDir = join(tmp, `${caseName}-${c.id}`);
      const full: ChildSpec = { ...spec, engine: c.engine, workDir, ...(c.target ? { target: c.target } : {}) };
      let best: ChildOutcome | undefined;
      let attempts = 0;
      for (;;) {
        await rm(workDir, { recursive: true, force: true });
        await mkdir(workDir, { recursive: true });
        if (opts.waitIdleS > 0) await waitForIdle(opts.waitIdleS);
        attempts++;
        progress(`${caseName}: ${c.label}${attempts > 1 ? ` (attempt ${attempts})` : ''} ...`);
        const out = await runChild(c.label, cmd.exe, cmd.args, { BENCH_SPEC: JSON.stringify(full) }, opts.timeoutS, join(logDir, `${caseName}-${c.id}-${attempts}.log`));
        const busy = otherPct(out) ?? 0;
        progress(`${caseName}: ${c.label} ${out.ok ? 'done' : `error: ${out.error}`} (${out.wallSeconds.toFixed(1)} s${busy > BUSY_PCT ? `; other processes used ${busy.toFixed(0)}% of a core` : ''})`);
        if (!best || (out.ok && (!best.ok || busy < (otherPct(best) ?? 0)))) best = out;
        if (!out.ok || busy <= BUSY_PCT || attempts > opts.retries || Date.now() > retryUntil) break;
      }
      return { ...best, attempts };
    }

    const peak = (o: ChildOutcome) => o.time.maxRssKb ?? (o.result?.selfMaxRssKb as number | undefined);
    const cpu = (o: ChildOutcome) =>
      o.time.userSeconds !== undefined ? o.time.userSeconds + (o.time.systemSeconds ?? 0) : ((o.result?.cpuUserSeconds as number) ?? NaN) + ((o.result?.cpuSystemSeconds as number) ?? NaN);

    // Throughput cases.
    const throughput: Record<string, ThroughputEntry[]> = {};
    for (const caseName of ['narrow', 'wide'] as const) {
      if (!opts.cases.has(caseName)) continue;
      const entries: ThroughputEntry[] = [];
      for (const c of THROUGHPUT_CONTENDERS) {
        const out = await runContender(caseName, c, base('throughput', caseName));
        const e: ThroughputEntry = { contender: c, childWallSeconds: out.wallSeconds, attempts: out.attempts, otherCpuPct: otherPct(out), peakRssKb: peak(out) };
        if (!out.ok || !out.result) {
          e.error = out.error;
        } else {
          const r = out.result as unknown as { runs: { seconds: number; bytes: number; files: number; fromPylistSeconds?: number; writeSeconds?: number }[]; rows: number; rssLoadedKb: number; selfMaxRssKb: number; tableDir: string };
          e.runsSeconds = r.runs.map((x) => x.seconds);
          e.medianSeconds = median(e.runsSeconds);
          e.rowsPerSecond = r.rows / e.medianSeconds;
          e.bytes = r.runs[r.runs.length - 1].bytes;
          e.files = r.runs[r.runs.length - 1].files;
          if (r.runs[0].fromPylistSeconds !== undefined) {
            e.fromPylistMedianSeconds = median(r.runs.map((x) => x.fromPylistSeconds!));
            e.writeMedianSeconds = median(r.runs.map((x) => x.writeSeconds!));
          }
          e.rssLoadedKb = r.rssLoadedKb;
          e.selfMaxRssKb = r.selfMaxRssKb;
          e.cpuSeconds = cpu(out);
          e.tableDir = r.tableDir;
        }
        entries.push(e);
      }
      const ref = entries.find((e) => e.contender.id === 'delta-rs' && e.rowsPerSecond);
      for (const e of entries) if (ref && e.rowsPerSecond && e.contender.side === 'tributary') e.ratioVsDeltaRs = e.rowsPerSecond / ref.rowsPerSecond!;
      throughput[caseName] = entries;
    }

    // Append latency.
    let appends: AppendEntry[] | undefined;
    if (opts.cases.has('appends')) {
      appends = [];
      const spec = { ...base('appends', 'narrow'), appends: sizes.appends, batchRows: sizes.batchRows, warmupAppends };
      for (const c of APPEND_CONTENDERS) {
        const out = await runContender('appends', c, spec);
        const e: AppendEntry = { contender: c, childWallSeconds: out.wallSeconds, attempts: out.attempts, otherCpuPct: otherPct(out), peakRssKb: peak(out) };
        if (!out.ok || !out.result) {
          e.error = out.error;
        } else {
          const r = out.result as unknown as { latenciesMs: number[]; checkpointAppends: number[]; totalSeconds: number; finalVersion: number; rssLoadedKb: number; selfMaxRssKb: number; tableDir: string };
          const lat = r.latenciesMs;
          const ck = new Set(r.checkpointAppends);
          Object.assign(e, {
            p50Ms: median(lat),
            p90Ms: quantile(lat, 0.9),
            p99Ms: quantile(lat, 0.99),
            maxMs: Math.max(...lat),
            meanMs: mean(lat),
            first100P50Ms: median(lat.slice(0, 100)),
            last100P50Ms: median(lat.slice(-100)),
            checkpointAppends: r.checkpointAppends,
            checkpointP50Ms: ck.size ? median(lat.filter((_, i) => ck.has(i))) : undefined,
            nonCheckpointP50Ms: median(lat.filter((_, i) => !ck.has(i))),
            totalSeconds: r.totalSeconds,
            finalVersion: r.finalVersion,
            rssLoadedKb: r.rssLoadedKb,
            selfMaxRssKb: r.selfMaxRssKb,
            cpuSeconds: cpu(out),
            latenciesMs: lat.map((x) => Math.round(x * 1000) / 1000),
            tableDir: r.tableDir,
          });
        }
        appends.push(e);
      }
      const deltaRs = appends.filter((e) => e.contender.side === 'delta-rs' && e.p50Ms !== undefined);
      const best = deltaRs.length ? deltaRs.reduce((a, b) => (b.p50Ms! < a.p50Ms! ? b : a)) : undefined;
      for (const e of appends) if (best && e.p50Ms && e.contender.side === 'tributary') e.ratioDeltaRsP50OverThis = best.p50Ms! / e.p50Ms;
    }

    // Verification: delta-rs reads every table; all must hold the same rows as delta-rs's own.
    let verification: unknown[] = [];
    if (python) {
      const groups: unknown[] = [];
      const addGroup = (caseName: string, entries: { contender: Contender; tableDir?: string }[], refId: string, keys: string[]) => {
        const ref = entries.find((e) => e.contender.id === refId && e.tableDir);
        const others = entries.filter((e) => e !== ref && e.tableDir);
        if (ref && others.length) groups.push({ case: caseName, keys, reference: { label: ref.contender.label, path: ref.tableDir }, others: others.map((o) => ({ label: o.contender.label, path: o.tableDir })) });
      };
      if (throughput.narrow) addGroup('narrow', throughput.narrow, 'delta-rs', ['ts']);
      if (throughput.wide) addGroup('wide', throughput.wide, 'delta-rs', ['id']);
      if (appends) addGroup('appends', appends, 'delta-rs-table', ['ts']);
      if (groups.length) {
        progress('verifying: delta-rs reads every table written and compares the rows');
        t0 = performance.now();
        const out = await runChild('verify', python, [join(HERE, 'child_deltars.py'), 'verify'], { BENCH_VERIFY: JSON.stringify({ groups }) }, opts.timeoutS, join(logDir, 'verify.log'));
        verification = out.ok && out.result ? (out.result.checks as unknown[]) : [{ error: out.error }];
        progress(`verification ${out.ok ? 'done' : 'failed'} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      }
    }

    const finishedAt = new Date();
    const report = {
      mode: opts.quick ? 'quick' : 'full',
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      seed: opts.seed,
      sizes: { ...sizes, runs: opts.runs, warmupRows: { narrow: warmupFor(sizes.narrow), wide: warmupFor(sizes.wide) }, warmupAppends },
      loadAverage1m: { before: loadBefore, after: os.loadavg()[0] },
      machine,
      valueForms: {
        tributary: 'timestamps epoch-ms numbers, dates Date objects, decimals strings, longs numbers',
        'delta-rs': 'timestamps int epoch-µs, dates int days, decimals decimal.Decimal, longs int; timed: pa.Table.from_pylist(records, schema) + write_deltalake(mode="append")',
        'delta-rs-native': 'as delta-rs but datetime.datetime(UTC) / datetime.date objects',
      },
      throughput: Object.fromEntries(Object.entries(throughput).map(([k, v]) => [k, v.map(({ tableDir: _t, ...rest }) => rest)])),
      appends: appends?.map(({ tableDir: _t, ...rest }) => rest),
      verification,
    };

    printReport(report, throughput, appends, sizes, opts);

    const outDir = join(CACHE, 'bench');
    await mkdir(join(outDir, 'history'), { recursive: true });
    const json = JSON.stringify(report, null, 2) + '\n';
    const partial = opts.cases.size < 3 ? '-partial' : '';
    const latest = join(outDir, `latest${opts.quick ? '-quick' : ''}${partial}.json`);
    await writeFile(latest, json);
    await writeFile(join(outDir, 'history', `${startedAt.toISOString().replace(/[:.]/g, '-')}${opts.quick ? '-quick' : ''}${partial}.json`), json);
    process.stdout.write(`\nJSON: ${latest}\n`);
  } finally {
    await cleanup();
    if (opts.keep) progress(`kept ${tmp}`);
  }
}

function printReport(
  report: { machine: Record<string, unknown>; verification: unknown[]; durationSeconds: number; seed: number; loadAverage1m: { before: number; after: number } },
  throughput: Record<string, ThroughputEntry[]>,
  appends: AppendEntry[] | undefined,
  sizes: { narrow: number; wide: number; appends: number; batchRows: number },
  opts: Options,
) {
  const m = report.machine;
  const out: string[] = [];
  out.push(`Tributary benchmark (${opts.quick ? 'quick' : 'full'}), seed ${report.seed}, ${report.durationSeconds.toFixed(0)} s total`);
  out.push(`machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGb} GB; ${m.os}`);
  out.push(`node ${m.node}, parquet-wasm ${m.parquetWasm}, @dsnp/parquetjs ${m.parquetjs}, apache-arrow ${m.apacheArrow}; python ${m.python ?? '-'}, pyarrow ${m.pyarrow ?? '-'}, deltalake ${m.deltalake ?? '-'}`);
  out.push(`peak RSS: ${m.peakRssSource}; whole child process (includes the loaded records, the warm-up and all runs)`);
  out.push('other CPU % = CPU used by other processes while the contender ran, in % of one core (should be ~0)');
  const load = report.loadAverage1m;
  if (load.before > 0.7) out.push(`WARNING: the 1-minute load average was ${load.before.toFixed(2)} when the run started`);
  const busy = [...Object.entries(throughput).flatMap(([k, v]) => v.map((e) => ({ ...e, caseName: k }))), ...(appends ?? []).map((e) => ({ ...e, caseName: 'appends' }))].filter(
    (e) => (e.otherCpuPct ?? 0) > 15,
  );
  if (busy.length) out.push(`WARNING: other processes used > 15% of a core during: ${busy.map((e) => `${e.caseName}/${e.contender.label} (${e.otherCpuPct!.toFixed(0)}%)`).join(', ')}; those figures are skewed`);

  const titles: Record<string, string> = {
    narrow: `${fmtInt(sizes.narrow)} narrow records (${NARROW_DDL}), one append to a new table`,
    wide: `${fmtInt(sizes.wide)} wide records (30 columns: 7 string, 5 long, 7 double, 3 boolean, 3 timestamp, 2 date, 3 decimal(18,4)), one append`,
  };
  for (const [caseName, entries] of Object.entries(throughput)) {
    out.push('', `== ${titles[caseName]}; median of ${opts.runs}`);
    const rows = entries.map((e) => {
      if (e.error) return [e.contender.label, `error: ${e.error}`];
      return [
        e.contender.label + (e.contender.info ? ' *' : ''),
        fmt(e.medianSeconds, 3),
        fmtInt(e.rowsPerSecond!),
        e.ratioVsDeltaRs !== undefined ? `${e.ratioVsDeltaRs.toFixed(2)}x` : e.contender.id === 'delta-rs' ? '1.00x' : '',
        e.runsSeconds!.map((s) => s.toFixed(2)).join(' '),
        e.fromPylistMedianSeconds !== undefined ? `${e.fromPylistMedianSeconds.toFixed(2)}+${e.writeMedianSeconds!.toFixed(2)}` : '',
        ((e.bytes ?? 0) / 2 ** 20).toFixed(1),
        mb(e.rssLoadedKb),
        mb(e.peakRssKb),
        fmt(e.cpuSeconds, 1),
        fmt(e.otherCpuPct, 0),
      ];
    });
    out.push(
      tableWithErrors(['contender', 'median s', 'rows/s', 'vs delta-rs', 'runs (s)', 'pylist+write s', 'file MiB', 'RSS loaded MiB', 'peak RSS MiB', 'CPU s', 'other CPU %'], rows),
    );
  }
  if (Object.keys(throughput).length) {
    out.push('vs delta-rs = Tributary rows/s / delta-rs rows/s (>1: Tributary faster). * = informational, not used for ratios.');
  }

  if (appends) {
    out.push('', `== ${fmtInt(sizes.appends)} consecutive appends of ${sizes.batchRows} narrow records to one table; per-append latency in ms`);
    const rows = appends.map((e) => {
      if (e.error) return [e.contender.label, `error: ${e.error}`];
      return [
        e.contender.label,
        fmt(e.p50Ms, 2),
        fmt(e.p90Ms, 2),
        fmt(e.p99Ms, 2),
        fmt(e.maxMs, 1),
        fmt(e.meanMs, 2),
        fmt(e.first100P50Ms, 2),
        fmt(e.last100P50Ms, 2),
        `${e.checkpointAppends!.length}`,
        fmt(e.checkpointP50Ms, 2),
        fmt(e.totalSeconds, 1),
        e.ratioDeltaRsP50OverThis !== undefined ? `${e.ratioDeltaRsP50OverThis.toFixed(2)}x` : '',
        mb(e.peakRssKb),
        fmt(e.otherCpuPct, 0),
      ];
    });
    out.push(tableWithErrors(['contender', 'p50', 'p90', 'p99', 'max', 'mean', 'first100 p50', 'last100 p50', 'ckpts', 'ckpt p50', 'total s', 'ratio', 'peak RSS MiB', 'other CPU %'], rows));
    out.push('ratio = best delta-rs p50 / Tributary p50 (>1: Tributary faster). ckpts = appends that wrote a checkpoint');
    out.push('(Tributary: every 10 versions by default; delta-rs: every 100, its default delta.checkpointInterval).');
  }

  if (report.verification.length) {
    out.push('', '== verification (delta-rs reads each table; rows compared with delta-rs\'s own table, sorted)');
    for (const v of report.verification as { case?: string; table?: string; equal?: boolean; rows?: number; error?: string; differingColumns?: string[] }[]) {
      if (!v.case) out.push(`  error: ${v.error}`);
      else out.push(`  ${v.case.padEnd(8)} ${String(v.table).padEnd(30)} ${v.equal ? 'identical' : `DIFFERENT${v.error ? `: ${v.error}` : ''}${v.differingColumns ? ` (columns ${v.differingColumns.join(', ')})` : ''}`} (${fmtInt(v.rows ?? NaN)} rows)`);
    }
  }
  process.stdout.write(out.join('\n') + '\n');
}

/** A table where an error row spans the figure columns. */
function tableWithErrors(headers: string[], rows: string[][]): string {
  const ok = rows.filter((r) => r.length === headers.length);
  const text = table(headers, ok).split('\n');
  const out = text.slice(0, 2);
  let i = 2;
  for (const r of rows) {
    if (r.length === headers.length) out.push(text[i++]);
    else out.push(`${r[0].padEnd(Math.max(headers[0].length, ...ok.map((x) => x[0].length)))}  ${r[1]}`);
  }
  return out.join('\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
