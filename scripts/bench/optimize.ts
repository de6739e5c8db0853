/**
 * `npm run bench` OPTIMIZE section: a table of 10,000 small files (100 rows each; 1,000 with
 * --quick) is compacted into ~128 MB files by Tributary and, on an identical copy, by delta-rs
 * `optimize.compact()`, each in its own process: time, peak RSS, and the row counts after.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDdl } from '../../src/delta/ddl.js';
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

const tmp = await mkdtemp(join(os.tmpdir(), 'tributary-bench-opt-'));
try {
  const a = join(tmp, 'a');
  process.stderr.write(`optimize: building a table of ${FILES} files x 100 rows...\n`);
  const t = await DeltaTable.forPath(a);
  const coins = ['bitcoin', 'ethereum', 'solana', 'cardano', 'dogecoin'];
  const rows = Array.from({ length: FILES * 100 }, (_, i) => ({ coin: coins[i % 5], price: (i % 100000) / 7, ts: 1_790_000_000_000 + i * 1000 }));
  await t.append(rows, { create: { schema: parseDdl('coin STRING, price DOUBLE, ts TIMESTAMP') }, maxRecordsPerFile: 100, checkpoint: false });
  const b = join(tmp, 'b');
  await cp(a, b, { recursive: true });
  process.stderr.write('optimize: Tributary...\n');
  const trib = await child(process.execPath, ['--import', 'tsx', 'scripts/bench/child-optimize.ts', a]);
  process.stderr.write('optimize: delta-rs...\n');
  const drs = await child(PY, ['scripts/bench/child_optimize.py', b]).catch((e) => ({ error: String(e) }) as unknown as Record<string, number>);
  const count = async (p: string) => {
    const s = (await DeltaTable.open(p)).snapshot;
    return s.files.reduce((n, f) => n + JSON.parse(f.stats ?? '{"numRecords":0}').numRecords, 0);
  };
  const result = { files: FILES, rows: FILES * 100, tributary: { ...trib, rowsAfter: await count(a) }, deltaRs: { ...drs, rowsAfter: drs.error ? null : await count(b) } };
  console.log(`\nOPTIMIZE ${FILES} files x 100 rows -> ~128 MB files`);
  console.log(`  Tributary  ${trib.ms} ms  peak RSS ${Math.round(trib.peakRssKiB / 1024)} MiB  files after ${trib.filesAfter}  rows ${result.tributary.rowsAfter}`);
  if (drs.error) console.log(`  delta-rs   error: ${String(drs.error).slice(0, 300)}`);
  else {
    console.log(`  delta-rs   ${drs.ms} ms  peak RSS ${Math.round(drs.peakRssKiB / 1024)} MiB  files after ${drs.filesAfter}  rows ${result.deltaRs.rowsAfter}`);
    console.log(`  speed ratio (delta-rs time / Tributary time): ${(drs.ms / trib.ms).toFixed(2)}x`);
  }
  await mkdir(join(CACHE, 'bench'), { recursive: true });
  await writeFile(join(CACHE, 'bench', quick ? 'optimize-latest-quick.json' : 'optimize-latest.json'), JSON.stringify(result, null, 2));
} finally {
  await rm(tmp, { recursive: true, force: true });
}
