/**
 * The npm package as a user gets it: `npm pack` on a copy of this checkout (so the prepack build
 * never touches the dist/ that other tests run), the tarball's exact file list and size, then
 * `npm install ./tributary-x.y.z.tgz` into an empty project under the OS temp directory (no
 * ancestor node_modules, no NODE_PATH: it sees only what the tarball and the registry give it),
 * and real commands there on Node 20 and Node 22: `npx tributary` append/read, run with a built-in
 * source, run with a TypeScript job file, the library imported by name, and a TypeScript program
 * type-checked against the shipped declarations.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHE_DIR, nodeBinary } from '../support/node-bin.js';

const REPO = path.resolve('.');
const SLOW = 15 * 60_000;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** An environment without what npm or vitest put in ours (npm_* settings, NODE_PATH, loaders). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) || k === 'NODE_PATH' || k === 'NODE_OPTIONS' || k === 'INIT_CWD' || k.startsWith('VITEST') || k === 'TRIBUTARY_DEBUG') continue;
    env[k] = v;
  }
  // A package cache outside the repo: repeated runs install from it instead of downloading again.
  env.npm_config_cache = process.env.npm_config_cache ?? path.join(CACHE_DIR, 'npm');
  env.npm_config_update_notifier = 'false';
  return { ...env, ...extra };
}

/** Runs a command with no standard input (a process that exits without reading it cannot fail a write). */
function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function ok(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Result> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

/** Runs `tributary dashboard <checkpoint> --port 0` and hands its base URL to `f`; then SIGTERM. */
async function withDashboard(node: string, bin: string, cwd: string, env: NodeJS.ProcessEnv, checkpoint: string, f: (base: string) => Promise<void>): Promise<void> {
  const p = spawn(node, [bin, 'dashboard', checkpoint, '--port', '0'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const closed = new Promise<number | null>((r) => p.on('close', r));
  const base = await new Promise<string>((resolve, reject) => {
    p.stderr.on('data', (d) => {
      err += d;
      const m = /dashboard of .* at (http:\/\/\S+\/)/.exec(err);
      if (m) resolve(m[1]);
    });
    void closed.then((code) => reject(new Error(`tributary dashboard exited ${code}: ${err}`)));
  });
  try {
    await f(base);
  } finally {
    p.kill('SIGTERM');
    expect(await closed).toBe(0);
  }
}

/** Every file under `dir`, as paths relative to it with forward slashes. */
function walk(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(dir, r));
    else out.push(r);
  }
  return out;
}

const SCHEMA = 'id BIGINT NOT NULL, name STRING, amount DECIMAL(10,2), ts TIMESTAMP';
const ROWS = ['{"id": 1, "name": "a", "amount": "1.50", "ts": "2026-11-28T10:00:00Z"}', '{"id": 2, "name": "b", "amount": 2.25, "ts": "2026-11-28 10:00:01"}', '{"id": 9007199254740993, "name": null, "amount": null, "ts": null}'].join('\n') + '\n';

/** A TypeScript job file as a user writes one: types and a value imported from the package by name. */
const JOB_TS = `import { writeFileSync } from 'node:fs';
import { TributaryError, type StreamingQuery, type Tributary } from 'tributary';

interface JobContext {
  args: string[];
}

export default function job(t: Tributary, { args }: JobContext): StreamingQuery {
  const [table, checkpoint, marker] = args;
  if (!marker) throw new TributaryError('INVALID_ARGUMENT', 'usage: tributary run job.ts <table> <checkpoint> <marker>');
  writeFileSync(marker, process.version);
  return t.readStream.format('rate').option('rowsPerBatch', '7').load()
    .writeStream.format('delta').option('checkpointLocation', checkpoint).trigger({ once: true }).start(table);
}
`;

/** The library from plain JavaScript: a batch append and a stream through the default session. */
const LIB_MJS = `import { DeltaTable, parseDdl, tributary } from 'tributary';
const [dir] = process.argv.slice(2);
const table = await DeltaTable.forPath(dir + '/batch');
await table.append([{ coin: 'btc', price: 1.5 }, { coin: 'eth', price: null }], { create: { schema: parseDdl('coin STRING NOT NULL, price DOUBLE'), partitionColumns: [] } });
const q = tributary.readStream.format('rate').option('rowsPerBatch', '3').load()
  .writeStream.format('delta').option('checkpointLocation', dir + '/cp').trigger({ once: true }).start(dir + '/stream');
await q.awaitTermination();
const batch = await (await DeltaTable.open(dir + '/batch')).read();
const stream = await (await DeltaTable.open(dir + '/stream')).read();
console.log(JSON.stringify({
  node: process.version,
  resolved: import.meta.resolve('tributary'),
  batch: { rows: batch.numRows, coins: batch.getChild('coin').toArray() },
  stream: { rows: stream.numRows, values: Array.from(stream.getChild('value').toArray(), String) },
}));
`;

/** Type-checked against the declarations: wrong uses must be errors, so \`any\` would fail it. */
const CHECK_TS = `import { DeltaTable, parseDdl, tributary, TributaryError, type StreamingQuery, type StreamingQueryProgress } from 'tributary';
import type { Tributary } from 'tributary';

const table: DeltaTable = await DeltaTable.forPath('./typed');
const version: number = table.version;
await table.append([{ a: 1 }], { create: { schema: parseDdl('a BIGINT'), partitionColumns: [] } });
const q: StreamingQuery = tributary.readStream.format('rate').load().writeStream.format('delta').option('checkpointLocation', 'cp').start('t');
const rows = (p: StreamingQueryProgress): number => p.numInputRows;
const session: Tributary = tributary;
const e = new TributaryError('INVALID_ARGUMENT', 'x');
// @ts-expect-error: the version is a number
const wrong: string = table.version;
// @ts-expect-error: error codes are a closed set
new TributaryError('NOT_A_CODE', 'x');
export { version, q, rows, session, e, wrong };
`;

describe('the npm package', () => {
  let work: string;
  let tgz: string;
  let proj: string;
  let tarFiles: string[];
  let srcModules: string[];
  let bundleFiles: string[];
  let version: string;

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'tributary-package-'));
    // A copy of the checkout as git sees it (tracked and new files, not ignored ones: no dist/,
    // .cache/ or data/), built and packed there with the repo's dev tools.
    const copy = path.join(work, 'checkout');
    const listed = await ok('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO });
    for (const f of listed.stdout.split('\0')) {
      if (!f || f === 'node_modules' || !existsSync(path.join(REPO, f)) || lstatSync(path.join(REPO, f)).isDirectory()) continue;
      mkdirSync(path.dirname(path.join(copy, f)), { recursive: true });
      cpSync(path.join(REPO, f), path.join(copy, f));
    }
    symlinkSync(realpathSync(path.join(REPO, 'node_modules')), path.join(copy, 'node_modules'));
    version = (JSON.parse(readFileSync(path.join(copy, 'package.json'), 'utf8')) as { version: string }).version;
    const packed = await ok('npm', ['pack', '--pack-destination', work], { cwd: copy });
    tgz = path.join(work, `tributary-${version}.tgz`);
    expect(packed.stdout.trim().split('\n').pop()).toBe(path.basename(tgz));
    const listing = await ok('tar', ['-tzf', tgz], { cwd: work });
    tarFiles = listing.stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, '')).sort();
    srcModules = walk(path.join(copy, 'src')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
    // The CLI's bundle (scripts/bundle-cli.mjs), built by prepack: its entry and chunks named by content.
    bundleFiles = readdirSync(path.join(copy, 'dist', 'cli-bundle')).map((f) => `dist/cli-bundle/${f}`);

    proj = path.join(work, 'project');
    mkdirSync(proj);
    writeFileSync(path.join(proj, 'package.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', private: true, type: 'module' }, null, 2));
    await ok('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tgz], { cwd: proj });
  }, SLOW);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('holds exactly what a user needs: bin/, the JavaScript and declarations of every src/ module, the CLI bundle, README, CHANGELOG, LICENSE', () => {
    expect(bundleFiles).toContain('dist/cli-bundle/bin.js');
    expect(bundleFiles).toContain('dist/cli-bundle/decode-worker.js');
    expect(bundleFiles).toContain('dist/cli-bundle/infer-worker.js');
    for (const f of bundleFiles) expect(f).toMatch(/^dist\/cli-bundle\/(bin|decode-worker|infer-worker|chunk-[A-Z0-9]+)\.js$/);
    // The NDJSON accelerator's module, once: dist/json/ndjson-wasm.js and the bundle's chunks load it from there.
    const expected = ['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE', 'bin/tributary.js', 'dist/json/ndjson-decode.wasm', 'dist/parquet/parquet-encode.wasm', ...srcModules.flatMap((m) => [`dist/${m}.js`, `dist/${m}.d.ts`]), ...bundleFiles].sort();
    expect(tarFiles).toEqual(expected);
    // Spelled out, what the equality above already excludes.
    for (const f of tarFiles) expect(f).not.toMatch(/^(src|test|scripts|simulator|fixtures|jobs|\.cache|\.ci|node_modules)\/|\.map$|\.test\.|tsconfig|vitest/);
    expect(tarFiles).toContain('dist/parquet/wasm-worker.js');
    expect(srcModules.length).toBeGreaterThan(50);
  });

  it('is small (the README reports the figures)', () => {
    const packedBytes = statSync(tgz).size;
    const unpackedBytes = walk(path.join(proj, 'node_modules', 'tributary')).reduce((n, f) => n + statSync(path.join(proj, 'node_modules', 'tributary', f)).size, 0);
    console.log(`tarball ${path.basename(tgz)}: ${packedBytes} bytes packed, ${unpackedBytes} bytes unpacked, ${tarFiles.length} files`);
    // Measured 334,974 / 1,103,464 bytes (2026-12-02, with the ops modules); 736,449 / 2,565,511
    // with the CLI bundle (2026-12-03): room for growth, but shipping source maps, tests or
    // fixtures would break it. 1 MB packed and 3.5 MB unpacked since the NDJSON accelerator's
    // WebAssembly module (64 KB, 2026-12-06: 935,943 / 3,112,459 bytes with two copies of it).
    // 2.5 MB packed and 9.5 MB unpacked since the Parquet writer's (5.7 MB, 2.1 MB packed;
    // 2026-12-06: 2,120,074 / 8,845,637 bytes).
    expect(packedBytes).toBeLessThan(2_500_000);
    expect(unpackedBytes).toBeLessThan(9_500_000);
  });

  it('declares as dependencies only what runtime needs; optional features are optional peers; an exports map', () => {
    const pkg = JSON.parse(readFileSync(path.join(proj, 'node_modules', 'tributary', 'package.json'), 'utf8'));
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['apache-arrow', 'cli-progress', 'commander', 'croner', 'lossless-json', 'parquet-wasm', 'prom-client', 'tsx', 'undici', 'uplot', 'uuid']);
    const optional = ['@aws-sdk/client-s3', '@azure/identity', '@azure/storage-blob', '@dsnp/parquetjs', '@google-cloud/storage'];
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual(optional);
    for (const p of optional) expect(pkg.peerDependenciesMeta[p]).toEqual({ optional: true });
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(pkg.bin).toEqual({ tributary: './bin/tributary.js' });
  });

  it('installs from the tarball and the registry alone: no dev-only or optional packages, nothing from the repo', () => {
    const installed = path.join(proj, 'node_modules');
    expect(lstatSync(path.join(installed, 'tributary')).isSymbolicLink()).toBe(false);
    expect(realpathSync(path.join(installed, 'tributary')).startsWith(realpathSync(proj))).toBe(true);
    for (const p of ['vitest', 'typescript', 'fast-check', 'azurite', '@types/uuid', '@aws-sdk/client-s3', '@google-cloud/storage', '@azure/storage-blob', '@azure/identity', '@dsnp/parquetjs']) {
      expect(existsSync(path.join(installed, p)), p).toBe(false);
    }
    expect(existsSync(path.join(installed, 'tributary', 'dist', 'cli', 'bin.js'))).toBe(true);
    expect(existsSync(path.join(installed, 'tributary', 'src'))).toBe(false);
  });

  for (const major of [20, 22]) {
    it(`on Node ${major}: npx tributary append/read, run with a built-in source and with a .ts job file, and the library by name`, async () => {
      const node = nodeBinary(major, cleanEnv());
      // The bin's `#!/usr/bin/env node` and npx both take the first node on PATH.
      const env = cleanEnv({ PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH}` });
      const dir = mkdtempSync(path.join(proj, `node${major}-`));
      const tributary = (...args: string[]) => run('npx', ['--no-install', 'tributary', ...args], { cwd: dir, env });

      expect((await ok(node, ['--version'], { cwd: dir, env })).stdout).toMatch(new RegExp(`^v${major}\\.`));
      expect(await tributary('--version')).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });

      writeFileSync(path.join(dir, 'rows.ndjson'), ROWS);
      const appended = await tributary('append', 't', '--input', 'rows.ndjson', '--schema', SCHEMA);
      expect(appended).toMatchObject({ code: 0, stderr: '' });
      expect(appended.stdout).toMatch(/^appended 3 rows in 1 file\(s\) as version 0 of /);
      const read = await tributary('read', 't');
      expect(read.code).toBe(0);
      // A long beyond 2^53 comes back digit for digit.
      expect(read.stdout.trim().split('\n').map((l) => /"id":(\d+)/.exec(l)?.[1])).toEqual(['1', '2', '9007199254740993']);
      // A new table without --schema from a file over 16 MiB: the schema pass's thread
      // (infer-worker.js of the CLI bundle) starts from the installed package; a column on the
      // last line only is in the committed schema, so the thread's answer was used.
      let large = '';
      for (let i = 0; i < 100_000; i++) large += `{"id":${i},"pad":"${'x'.repeat(160)}"}\n`;
      writeFileSync(path.join(dir, 'large.ndjson'), large + '{"id":-1,"late":true}\n');
      const created = await tributary('append', 'inferred', '--input', 'large.ndjson', '--json');
      expect(created.stderr).toBe('');
      expect(JSON.parse(created.stdout)).toMatchObject({ version: 0, numRecords: 100_001 });
      expect(JSON.parse((await tributary('inspect', 'inferred', '--json')).stdout).schemaDdl).toBe('id BIGINT, pad STRING, late BOOLEAN');

      const rate = await tributary('run', '--format', 'rate', '--option', 'rowsPerBatch=5', '--checkpoint', 'cp-rate', '--trigger', 'once', 'rate');
      expect(rate.code, rate.stderr).toBe(0);
      expect(rate.stdout).toMatch(/^batch 0: 5 rows in \d+ ms -> version 0; /);
      expect((await tributary('read', 'rate')).stdout.trim().split('\n')).toHaveLength(5);
      // The dashboard of that checkpoint, served by the installed package: the page, and uPlot's
      // files from the installed uplot dependency (no CDN, nothing copied from the repo).
      await withDashboard(node, path.join(proj, 'node_modules', 'tributary', 'bin', 'tributary.js'), dir, env, 'cp-rate', async (base) => {
        const page = await fetch(base);
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('assets/uPlot.iife.min.js');
        const js = await fetch(new URL('assets/uPlot.iife.min.js', base));
        expect(js.status).toBe(200);
        expect((await js.arrayBuffer()).byteLength).toBe(statSync(path.join(proj, 'node_modules', 'uplot', 'dist', 'uPlot.iife.min.js')).size);
        expect((await fetch(new URL('assets/uPlot.min.css', base))).status).toBe(200);
        const state = (await (await fetch(new URL('api/state', base))).json()) as { queries: { progress: unknown[]; table: { version: number } }[] };
        expect(state.queries[0].progress).toHaveLength(1);
        expect(state.queries[0].table.version).toBe(0);
      });

      writeFileSync(path.join(dir, 'job.ts'), JOB_TS);
      const job = await tributary('run', 'job.ts', 'job-table', 'cp-job', 'marker.txt');
      expect(job.code, job.stderr).toBe(0);
      expect(readFileSync(path.join(dir, 'marker.txt'), 'utf8')).toMatch(new RegExp(`^v${major}\\.`));
      expect((await tributary('read', 'job-table')).stdout.trim().split('\n')).toHaveLength(7);

      writeFileSync(path.join(dir, 'lib.mjs'), LIB_MJS);
      const lib = JSON.parse((await ok(node, ['lib.mjs', path.join(dir, 'lib')], { cwd: dir, env })).stdout);
      expect(lib.node).toMatch(new RegExp(`^v${major}\\.`));
      expect(lib.resolved).toBe(`file://${realpathSync(proj)}/node_modules/tributary/dist/index.js`);
      expect(lib.batch).toEqual({ rows: 2, coins: ['btc', 'eth'] });
      expect(lib.stream).toEqual({ rows: 3, values: ['0', '1', '2'] });
    }, SLOW);
  }

  it('--engine parquetjs without @dsnp/parquetjs fails in one line naming the package; once installed, it works', async () => {
    const dir = mkdtempSync(path.join(proj, 'parquetjs-'));
    writeFileSync(path.join(dir, 'rows.ndjson'), ROWS);
    const tributary = (...args: string[]) => run('npx', ['--no-install', 'tributary', ...args], { cwd: dir });
    const missing = await tributary('append', 't', '--input', 'rows.ndjson', '--schema', SCHEMA, '--engine', 'parquetjs');
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toBe('tributary: error [DEPENDENCY_MISSING]: the parquetjs engine needs the package @dsnp/parquetjs, which is not installed: run npm install @dsnp/parquetjs\n');
    expect(existsSync(path.join(dir, 't'))).toBe(false);

    const range = JSON.parse(readFileSync(path.join(proj, 'node_modules', 'tributary', 'package.json'), 'utf8')).peerDependencies['@dsnp/parquetjs'];
    await ok('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', `@dsnp/parquetjs@${range}`], { cwd: proj });
    const written = await tributary('append', 't', '--input', 'rows.ndjson', '--schema', SCHEMA, '--engine', 'parquetjs');
    expect(written).toMatchObject({ code: 0, stderr: '' });
    expect((await tributary('read', 't')).stdout.trim().split('\n')).toHaveLength(3);
  }, SLOW);

  it('type-checks a TypeScript program against the shipped declarations (strict, library checks on)', async () => {
    const typescript = JSON.parse(readFileSync(path.join(REPO, 'node_modules', 'typescript', 'package.json'), 'utf8')).version;
    await ok('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--save-dev', `typescript@${typescript}`, '@types/node@20'], { cwd: proj });
    const dir = mkdtempSync(path.join(proj, 'typed-'));
    writeFileSync(path.join(dir, 'check.ts'), CHECK_TS);
    writeFileSync(path.join(dir, 'job.ts'), JOB_TS);
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, include: ['*.ts'] }),
    );
    const tsc = await run('npx', ['--no-install', 'tsc', '-p', 'tsconfig.json'], { cwd: dir });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);
    // The same program with the package's declarations gone no longer compiles: they are what it checked against.
    rmSync(path.join(proj, 'node_modules', 'tributary', 'dist', 'index.d.ts'));
    const without = await run('npx', ['--no-install', 'tsc', '-p', 'tsconfig.json'], { cwd: dir });
    expect(without.code).not.toBe(0);
  }, SLOW);
});
