/**
 * `npm run bench` section "Table features": what an append costs on a table with the features a
 * platform turns on (column mapping, row tracking, a CHECK constraint, a generated column)
 * against the same append to a plain table, the way users run it: a whole `tributary append`
 * process from the same NDJSON file. Target (issue 14): at most 1.2x.
 *
 * Runs are interleaved (plain, featured, plain, ...) so that a change in the machine's load hits
 * both alike; the median of --runs (5) is reported, with the 1-minute load average before and
 * after. Each table is created by a first, untimed append; every timed append adds --rows rows.
 *
 *   npx tsx scripts/bench/features.ts [--rows N (300000)] [--runs N (5)] [--quick]
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(ROOT, 'bin', 'tributary.js');
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const quick = process.argv.includes('--quick');
const rows = arg('--rows', quick ? 50_000 : 300_000);
const runs = arg('--runs', quick ? 3 : 5);

const SCHEMA = 'ts TIMESTAMP, value BIGINT, price DOUBLE, coin STRING';
const TABLES = {
  plain: { schema: SCHEMA, properties: [] as string[] },
  featured: {
    // The generated day is left out of the input: the append computes it, as Spark would.
    schema: `${SCHEMA}, \`day of ts\` DATE GENERATED ALWAYS AS (CAST(ts AS DATE))`,
    properties: ['delta.columnMapping.mode=name', 'delta.enableRowTracking=true', 'delta.constraints.nonneg=value >= 0 AND price > 0'],
  },
};

async function writeInput(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  const coins = ['bitcoin', 'ethereum', 'solana', 'cardano', 'polkadot'];
  for (let i = 0; i < n; i++) {
    const ts = new Date(Date.UTC(2026, 11, 1) + i * 1000).toISOString().replace('Z', '123Z');
    const line = `{"ts":"${ts}","value":${i},"price":${(1 + (i % 997) * 1.000173).toPrecision(17)},"coin":"${coins[i % 5]}"}\n`;
    if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
}

function append(table: string, input: string, extra: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, 'append', table, '--input', input, ...extra], { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`append to ${table} failed: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const dir = await mkdtemp(join(os.tmpdir(), 'tributary-bench-features-'));
  try {
    const input = join(dir, 'input.ndjson');
    await writeInput(input, rows);
    const loadBefore = os.loadavg()[0];
    for (const [name, t] of Object.entries(TABLES)) {
      append(join(dir, name), input, ['--schema', t.schema, ...t.properties.flatMap((p) => ['--property', p])]);
    }
    const times: Record<string, number[]> = { plain: [], featured: [] };
    for (let i = 0; i < runs; i++) for (const name of Object.keys(TABLES)) times[name].push(append(join(dir, name), input, []));
    const plain = median(times.plain);
    const featured = median(times.featured);
    const ratio = featured / plain;
    console.log(`\nTable features: tributary append of ${rows.toLocaleString('en')} NDJSON rows, median of ${runs} interleaved runs (load ${loadBefore.toFixed(2)} -> ${os.loadavg()[0].toFixed(2)})`);
    console.log(`  plain table                                              ${plain.toFixed(0)} ms`);
    console.log(`  column mapping + row tracking + CHECK + generated column ${featured.toFixed(0)} ms`);
    console.log(`  ratio ${ratio.toFixed(2)}x (target: at most 1.20x) ${ratio <= 1.2 ? 'met' : 'NOT met'}`);
    console.log(JSON.stringify({ bench: 'features', rows, runs, plainMs: times.plain, featuredMs: times.featured, ratio }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
