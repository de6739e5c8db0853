/**
 * `npm run bench` OPTIMIZE section: a table of 10,000 small files (100 rows each; 1,000 with
 * --quick) is compacted into ~128 MB files by Tributary and, on an identical copy, by delta-rs
 * `optimize.compact()`, each in its own process: time, peak RSS, and the row counts after.
 * Twice: in a fresh process (a one-shot `tributary optimize`, paying for WASM compilation and
 * tier-up and the JIT's warm-up, which native delta-rs does not have; on the built code, as the
 * CLI runs it), and in a warm process that has compacted a 1,000-file table first
 * (auto-compaction in a long-running job), like the write benchmark's warm-up. Both contenders
 * get the same treatment in each.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDdl } from '../../src/schema/ddl.js';
import { DeltaTable } from '../../src/delta/table.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CACHE = process.env.TRIBUTARY_CACHE ? resolve(process.env.TRIBUTARY_CACHE) : join(ROOT, '.cache');
const PY = join(CACHE, 'venv', 'spark4', 'bin', 'python');
const quick = process.argv.includes('--quick');
const FILES = quick ? 1000 : 10_000;

function child(cmd: string, args: string[]): Promise<Record<string, number>> {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { cwd: ROOT });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => (code === 0 ? res(JSON.parse(out.trim().split('\n').pop()!)) : rej(new Error(`${cmd} failed: ${err.slice(-1500)}`))));
  });
}

// The Tributary child runs the built code, as the CLI does: build it from these sources first.
process.stderr.write('optimize: building dist/...\n');
await new Promise<void>((res, rej) => spawn('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' }).on('close', (code) => (code === 0 ? res() : rej(new Error(`npm run build exited ${code}`)))));

const tmp = await mkdtemp(join(os.tmpdir(), 'tributary-bench-opt-'));
try {
  const a = join(tmp, 'a');
  process.stderr.write(`optimize: building a table of ${FILES} files x 100 rows...\n`);
  const t = await DeltaTable.forPath(a);
  const coins = ['bitcoin', 'ethereum', 'solana', 'cardano', 'dogecoin'];
  const rows = Array.from({ length: FILES * 100 }, (_, i) => ({ coin: coins[i % 5], price: (i % 100000) / 7, ts: 1_790_000_000_000 + i * 1000 }));
  await t.append(rows, { create: { schema: parseDdl('coin STRING, price DOUBLE, ts TIMESTAMP') }, maxRecordsPerFile: 100, checkpoint: false });
  const copy = async (name: string, from = a) => {
    const p = join(tmp, name);
    await cp(from, p, { recursive: true });
    return p;
  };
  const b = await copy('b');
  const a2 = await copy('a2');
  const b2 = await copy('b2');
  const w = join(tmp, 'w');
  const wt = await DeltaTable.forPath(w);
  await wt.append(rows.slice(0, 100_000), { create: { schema: parseDdl('coin STRING, price DOUBLE, ts TIMESTAMP') }, maxRecordsPerFile: 100, checkpoint: false });
  const w1 = await copy('w1', w);
  const w2 = await copy('w2', w);
  const tribChild = (args: string[]) => child(process.execPath, ['scripts/bench/child-optimize.mjs', ...args]);
  const drsChild = (args: string[]) => child(PY, ['scripts/bench/child_optimize.py', ...args]).catch((e) => ({ error: String(e) }) as unknown as Record<string, number>);
  process.stderr.write('optimize: Tributary (fresh process)...\n');
  const trib = await tribChild([a]);
  process.stderr.write('optimize: delta-rs (fresh process)...\n');
  const drs = await drsChild([b]);
  process.stderr.write('optimize: Tributary (warm process)...\n');
  const tribWarm = await tribChild([a2, w1]);
  process.stderr.write('optimize: delta-rs (warm process)...\n');
  const drsWarm = await drsChild([b2, w2]);
  const count = async (p: string) => {
    const s = (await DeltaTable.open(p)).snapshot;
    return s.files.reduce((n, f) => n + JSON.parse(f.stats ?? '{"numRecords":0}').numRecords, 0);
  };
  const result = {
    files: FILES,
    rows: FILES * 100,
    tributary: { ...trib, rowsAfter: await count(a) },
    deltaRs: { ...drs, rowsAfter: drs.error ? null : await count(b) },
    warm: { tributary: { ...tribWarm, rowsAfter: await count(a2) }, deltaRs: { ...drsWarm, rowsAfter: drsWarm.error ? null : await count(b2) } },
  };
  console.log(`\nOPTIMIZE ${FILES} files x 100 rows -> ~128 MB files`);
  const show = (label: string, tr: Record<string, number>, dr: Record<string, number>, trRows: number, drRows: number | null) => {
    console.log(`  ${label}`);
    console.log(`    Tributary  ${tr.ms} ms  peak RSS ${Math.round(tr.peakRssKiB / 1024)} MiB  files after ${tr.filesAfter}  rows ${trRows}`);
    if (dr.error) return console.log(`    delta-rs   error: ${String(dr.error).slice(0, 300)}`);
    console.log(`    delta-rs   ${dr.ms} ms  peak RSS ${Math.round(dr.peakRssKiB / 1024)} MiB  files after ${dr.filesAfter}  rows ${drRows}`);
    console.log(`    speed ratio (delta-rs time / Tributary time): ${(dr.ms / tr.ms).toFixed(2)}x`);
  };
  show('fresh process (one-shot CLI):', trib, drs, result.tributary.rowsAfter, result.deltaRs.rowsAfter);
  show('warm process (after compacting a 1,000-file table):', tribWarm, drsWarm, result.warm.tributary.rowsAfter, result.warm.deltaRs.rowsAfter);
  await mkdir(join(CACHE, 'bench'), { recursive: true });
  await writeFile(join(CACHE, 'bench', quick ? 'optimize-latest-quick.json' : 'optimize-latest.json'), JSON.stringify(result, null, 2));
} finally {
  await rm(tmp, { recursive: true, force: true });
}
