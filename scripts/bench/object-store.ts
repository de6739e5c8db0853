/**
 * `npm run bench` object-store section: Tributary against delta-rs (Python deltalake), both
 * writing Delta tables to the same S3 server (moto, started here on loopback, served one request
 * at a time) with the same storage options, in the same run:
 *
 *   appends   100 appends of 100 narrow records to one table: p50 (and p90) per commit
 *   bulk      one append of 1,000,000 narrow records: seconds and rows/s
 *   writers   4 writer processes appending 25 x 100 records each to one table at once (released
 *             together from a barrier): commits per second over the whole table, lost races
 *
 * --quick: 20 appends, 100,000 records, 4 x 5 appends. Every case runs in its own child process
 * (scripts/bench/child-object-store.ts, child_deltars_object_store.py), loading the same NDJSON
 * records and warming up on another table before its clock starts. Ratios are delta-rs / Tributary
 * (time) or Tributary / delta-rs (commits per second): above 1 means Tributary is faster. After
 * each case the table's rows are counted from its log, so a contender that lost rows shows.
 * moto is not S3: what it measures is each client's requests and work per commit against the
 * same server, not S3's latency. The 1-minute load average before and after is recorded.
 *
 * Output: a table on stdout, JSON in <cache>/bench/object-store-latest[-quick].json.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeltaTable } from '../../src/delta/table.js';
import { S3Store } from '../../src/storage/s3.js';
import { startObjectStores } from '../object-stores/servers.js';
import { NARROW_DDL, narrowRecords, writeNdjson } from './gen.js';
import type { ObjectStoreChildSpec } from './child-object-store.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const CACHE = process.env.TRIBUTARY_CACHE ? resolve(process.env.TRIBUTARY_CACHE) : join(ROOT, '.cache');
const PY = join(CACHE, 'venv', 'spark4', 'bin', 'python');
const quick = process.argv.includes('--quick');
const SIZES = quick ? { appends: 20, bulk: 100_000, writers: 4, writerAppends: 5 } : { appends: 100, bulk: 1_000_000, writers: 4, writerAppends: 25 };
const BATCH = 100;
const BUCKET = 'tributary-bench';

type Side = 'tributary' | 'delta-rs';
type Result = Record<string, unknown> & { ok: boolean; error?: string };

const progress = (m: string) => process.stderr.write(`[object-store bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

interface Child {
  result: Promise<Result>;
  /** Resolves once the child printed "ready" (writers only). */
  ready: Promise<void>;
  go(): void;
}

function child(side: Side, spec: ObjectStoreChildSpec): Child {
  const [cmd, args] = side === 'tributary' ? [process.execPath, ['--import', 'tsx', join(HERE, 'child-object-store.ts')]] : [PY, [join(HERE, 'child_deltars_object_store.py')]];
  const p = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, OS_BENCH_SPEC: JSON.stringify(spec) }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  p.stdout.on('data', (d) => {
    out += d;
    if (out.includes('ready\n')) markReady();
  });
  p.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
  const result = new Promise<Result>((res) => {
    p.on('error', (e) => res({ ok: false, error: `could not start: ${e.message}` }));
    p.on('close', (code) => {
      markReady();
      const line = out.split('\n').find((l) => l.startsWith('@@BENCH_RESULT '));
      res(line ? (JSON.parse(line.slice('@@BENCH_RESULT '.length)) as Result) : { ok: false, error: `no result (exit ${code}): ${err.trim().split('\n').slice(-3).join(' | ')}` });
    });
  });
  return { result, ready, go: () => p.stdin.end('go\n') };
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (q === 0.5 && s.length % 2 === 0) return (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

const fmt = (n: number | undefined, d = 1) => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(d));

const loadBefore = os.loadavg();
const servers = await startObjectStores();
const tmp = await mkdtemp(join(os.tmpdir(), 'tributary-bench-s3-'));
try {
  const storageOptions = {
    aws_endpoint_url: servers.s3.endpoint,
    aws_allow_http: 'true',
    aws_region: servers.s3.region,
    aws_access_key_id: servers.s3.accessKeyId,
    aws_secret_access_key: servers.s3.secretAccessKey,
  };
  const bucket = new S3Store({ bucket: BUCKET, endpoint: servers.s3.endpoint, region: servers.s3.region, forcePathStyle: true, allowHttp: true, credentials: { accessKeyId: servers.s3.accessKeyId, secretAccessKey: servers.s3.secretAccessKey } });
  await bucket.ensureBucket();
  await bucket.close();
  const input = join(tmp, 'narrow.ndjson');
  const records = Math.max(SIZES.bulk, SIZES.appends * BATCH, SIZES.writers * SIZES.writerAppends * BATCH);
  await writeNdjson(input, narrowRecords(records, 42));
  progress(`moto at ${servers.s3.endpoint}; ${records.toLocaleString('en-US')} records; load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')}`);
  const base = { storageOptions, input, ddl: NARROW_DDL, rows: SIZES.bulk, appends: SIZES.appends, batchRows: BATCH, warmupAppends: 10, warmupRows: Math.min(SIZES.bulk, 100_000) };
  const uri = (name: string) => `s3://${BUCKET}/${name}`;

  /** Rows in the table at `at`, from its log (numRecords of every file). */
  async function rowsIn(at: string): Promise<number> {
    const t = await DeltaTable.open(at, undefined, { storageOptions });
    const n = t.snapshot.files.reduce((s, f) => s + (JSON.parse(f.stats ?? '{"numRecords":0}') as { numRecords: number }).numRecords, 0);
    await t.storage.close?.();
    return n;
  }

  const results: Record<string, Record<Side, Result & { rowsInTable?: number }>> = { appends: {} as never, bulk: {} as never, writers: {} as never };
  for (const side of ['tributary', 'delta-rs'] as const) {
    progress(`${side}: ${SIZES.appends} appends of ${BATCH} records`);
    const at = uri(`appends-${side}`);
    results.appends[side] = { ...(await child(side, { ...base, kind: 'appends', uri: at }).result), rowsInTable: await rowsIn(at).catch(() => undefined) };
  }
  for (const side of ['tributary', 'delta-rs'] as const) {
    progress(`${side}: one append of ${SIZES.bulk.toLocaleString('en-US')} records`);
    const at = uri(`bulk-${side}`);
    results.bulk[side] = { ...(await child(side, { ...base, kind: 'bulk', uri: at }).result), rowsInTable: await rowsIn(at).catch(() => undefined) };
  }
  for (const side of ['tributary', 'delta-rs'] as const) {
    progress(`${side}: ${SIZES.writers} writers x ${SIZES.writerAppends} appends of ${BATCH} records, at once`);
    const at = uri(`writers-${side}`);
    // The table exists before the writers start (created by each side's own first append).
    await child(side, { ...base, kind: 'appends', uri: at, appends: 1, warmupAppends: 0 }).result;
    const writers = Array.from({ length: SIZES.writers }, (_, w) => child(side, { ...base, kind: 'writer', uri: at, appends: SIZES.writerAppends, worker: w }));
    await Promise.all(writers.map((w) => w.ready));
    const t0 = performance.now();
    for (const w of writers) w.go();
    const each = await Promise.all(writers.map((w) => w.result));
    const seconds = (performance.now() - t0) / 1000;
    const commits = each.reduce((n, r) => n + Number(r.commits ?? 0), 0);
    const failed = each.filter((r) => !r.ok);
    results.writers[side] = {
      ok: failed.length === 0,
      error: failed[0]?.error,
      seconds,
      commits,
      commitsPerSecond: commits / seconds,
      errors: each.reduce((n, r) => n + Number(r.errors ?? 0), 0),
      firstError: each.find((r) => r.firstError)?.firstError,
      lostRaces: side === 'tributary' ? each.reduce((n, r) => n + Number(r.retries ?? 0), 0) : undefined,
      rowsInTable: await rowsIn(at).catch(() => undefined),
    };
  }

  const lat = (r: Result) => (r.ok ? (r.latenciesMs as number[]) : []);
  const a = results.appends;
  const b = results.bulk;
  const w = results.writers;
  const p50 = { tributary: quantile(lat(a.tributary), 0.5), 'delta-rs': quantile(lat(a['delta-rs']), 0.5) };
  const p90 = { tributary: quantile(lat(a.tributary), 0.9), 'delta-rs': quantile(lat(a['delta-rs']), 0.9) };
  const loadAfter = os.loadavg();
  const summary = {
    date: new Date().toISOString(),
    quick,
    sizes: { ...SIZES, batchRows: BATCH },
    server: 'moto 5.2.5 (one request at a time), loopback',
    loadAverage: { before: loadBefore, after: loadAfter },
    appends: { p50Ms: p50, p90Ms: p90, ratioP50: p50['delta-rs'] / p50.tributary, rows: { tributary: a.tributary.rowsInTable, 'delta-rs': a['delta-rs'].rowsInTable }, errors: { tributary: a.tributary.error, 'delta-rs': a['delta-rs'].error } },
    bulk: {
      seconds: { tributary: b.tributary.seconds, 'delta-rs': b['delta-rs'].seconds },
      ratio: Number(b['delta-rs'].seconds) / Number(b.tributary.seconds),
      rows: { tributary: b.tributary.rowsInTable, 'delta-rs': b['delta-rs'].rowsInTable },
      errors: { tributary: b.tributary.error, 'delta-rs': b['delta-rs'].error },
    },
    writers: { tributary: w.tributary, 'delta-rs': w['delta-rs'], ratio: Number(w.tributary.commitsPerSecond) / Number(w['delta-rs'].commitsPerSecond) },
  };

  const line = (cells: string[]) => console.log(cells.map((c, i) => (i === 0 ? c.padEnd(44) : c.padStart(22))).join(''));
  console.log(`\nObject store (S3 API, moto on loopback), same server, same storage options; load average ${loadBefore[0].toFixed(2)} -> ${loadAfter[0].toFixed(2)}`);
  line(['case', 'Tributary', 'delta-rs', 'ratio']);
  line([`${SIZES.appends} appends x ${BATCH} rows, p50 per commit`, `${fmt(p50.tributary)} ms`, `${fmt(p50['delta-rs'])} ms`, `${fmt(summary.appends.ratioP50, 2)}x`]);
  line(['  p90 per commit', `${fmt(p90.tributary)} ms`, `${fmt(p90['delta-rs'])} ms`, '']);
  line([`one append of ${SIZES.bulk.toLocaleString('en-US')} rows`, `${fmt(Number(b.tributary.seconds), 2)} s`, `${fmt(Number(b['delta-rs'].seconds), 2)} s`, `${fmt(summary.bulk.ratio, 2)}x`]);
  line([
    `${SIZES.writers} writers x ${SIZES.writerAppends} appends, commits/s`,
    `${fmt(Number(w.tributary.commitsPerSecond))} (${w.tributary.commits}/${SIZES.writers * SIZES.writerAppends})`,
    `${fmt(Number(w['delta-rs'].commitsPerSecond))} (${w['delta-rs'].commits}/${SIZES.writers * SIZES.writerAppends})`,
    `${fmt(summary.writers.ratio, 2)}x`,
  ]);
  const rowsLine = (label: string, r: Record<Side, Result & { rowsInTable?: number }>, want: number) => {
    for (const side of ['tributary', 'delta-rs'] as const) {
      if (!r[side].ok) console.log(`  ${label} ${side}: ERROR ${String(r[side].error).slice(0, 300)}`);
      else if (r[side].rowsInTable !== want) console.log(`  ${label} ${side}: table holds ${r[side].rowsInTable} rows, expected ${want}`);
    }
  };
  rowsLine('appends', a, SIZES.appends * BATCH);
  rowsLine('bulk', b, SIZES.bulk);
  rowsLine('writers', w, (SIZES.writers * SIZES.writerAppends + 1) * BATCH);
  if (w['delta-rs'].firstError) console.log(`  writers delta-rs: ${w['delta-rs'].errors} commit(s) failed, first: ${String(w['delta-rs'].firstError).slice(0, 300)}`);
  if (w.tributary.lostRaces !== undefined) console.log(`  writers Tributary: ${w.tributary.lostRaces} lost races retried`);
  await mkdir(join(CACHE, 'bench'), { recursive: true });
  await writeFile(join(CACHE, 'bench', quick ? 'object-store-latest-quick.json' : 'object-store-latest.json'), JSON.stringify({ ...summary, raw: results }, null, 2));
  const failed = [a, b].some((r) => !r.tributary.ok || !r['delta-rs'].ok) || !w.tributary.ok;
  process.exitCode = failed ? 1 : 0;
} finally {
  await servers.stop();
  await rm(tmp, { recursive: true, force: true });
}
