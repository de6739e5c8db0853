/**
 * Builds dist/cli-bundle/: the CLI (dist/cli/bin.js, compiled by tsc first) and what it imports,
 * apache-arrow above all, as a few ES modules (bin.js and chunks: each command, imported on demand
 * by cli/main.ts, in chunks of its own). bin/tributary.js runs it for every command but `run`.
 *
 * Why: Node 20 loads an ES module graph file by file (resolve, read, compile each), and
 * apache-arrow's ESM build is about 150 files. Importing it took 0.21 s of a 0.29 s start of
 * `tributary append` (measured 2026-12-03: `node -e "await import('apache-arrow')"` 0.21-0.23 s, the same
 * code as one file 0.11-0.12 s; Python's `import pyarrow.json, deltalake` 0.10 s). A cron job that
 * appends a few rows is mostly that start (5 rows: 0.46-0.50 s before, 0.23-0.27 s from the
 * bundle, with another process busy on one of the two cores). Node 20 has no module compile cache.
 * One file without chunks measured no better (0.45-0.47 s): every command's code, undici and
 * prom-client included, parsed at every start.
 *
 * Why not `run`: a job file imports the library (`tributary`, dist/index.js) and often
 * apache-arrow itself; the code that runs its query must be those same module instances (Arrow
 * batches are recognised with instanceof), so `run` keeps the unbundled dist/.
 *
 * Kept outside the bundle: parquet-wasm (its WebAssembly file is found from its package), tsx
 * (loads TypeScript job files, files of its own), the optional cloud SDKs (imported by name when
 * a table's URI asks for them) and @dsnp/parquetjs (optional: its chunk is imported only for
 * `--engine parquetjs`, so a missing package fails only then, as before). The encoder thread's
 * module (dist/parquet/wasm-worker.js, a few small files besides the writer's) stays a file of its
 * own; the code that starts it finds it from dist/<folder>/, which the bundle is in too. The
 * decoding thread's module is bundled too, as dist/cli-bundle/decode-worker.js and the chunks it
 * shares with the CLI (it imports apache-arrow: unbundled, each decoding thread started by loading
 * its ~150 files again, 0.15 s of CPU measured on a 1,000-line append with one thread);
 * parallel-decoder.ts starts the decode-worker.js beside itself, which from the bundle is this one.
 * The schema pass's thread (dist/cli/infer-worker.js, started by cli/infer-thread.ts) likewise.
 *
 * The project's WebAssembly modules (src/json/ndjson-decode.wasm, the NDJSON accelerator, and
 * src/parquet/parquet-encode.wasm, the Parquet writer; built from native/ by
 * scripts/build-wasm.mjs and committed) are copied to dist/json/ and dist/parquet/ (tsc copies no
 * such file), where the bundle's chunks find them too (../json/, ../parquet/ from dist/cli-bundle/).
 *
 *   node scripts/bundle-cli.mjs      (npm run build and build:package run it after tsc)
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** dist/version.js reads ../package.json from where it sits; in the bundle (dist/cli-bundle/) that is the wrong folder, so the version is written in. */
const version = {
  name: 'version',
  setup(b) {
    b.onLoad({ filter: /[\\/]dist[\\/]version\.js$/ }, () => ({ contents: `export const VERSION = ${JSON.stringify(pkg.version)};\n`, loader: 'js' }));
  },
};

// Chunk names change with their content: last build's must not linger in the package.
rmSync(join(ROOT, 'dist/cli-bundle'), { recursive: true, force: true });
mkdirSync(join(ROOT, 'dist/json'), { recursive: true });
copyFileSync(join(ROOT, 'src/json/ndjson-decode.wasm'), join(ROOT, 'dist/json/ndjson-decode.wasm'));
mkdirSync(join(ROOT, 'dist/parquet'), { recursive: true });
copyFileSync(join(ROOT, 'src/parquet/parquet-encode.wasm'), join(ROOT, 'dist/parquet/parquet-encode.wasm'));

/** `run` never starts from the bundle (see above): its command, and what only it needs (HTTP sources, the scheduler, the ops server), stay out. */
const withoutRun = {
  name: 'without-run',
  setup(b) {
    b.onResolve({ filter: /^\.\/commands\/run\.js$/ }, (args) => (args.importer.endsWith(`${join('dist', 'cli', 'main.js')}`) ? { path: '../cli/commands/run.js', external: true } : undefined));
  },
};

await build({
  // The decoding thread's module is an entry of its own (see above), sharing the CLI's chunks
  // (apache-arrow's among them) rather than carrying a second copy of them.
  entryPoints: { bin: join(ROOT, 'dist/cli/bin.js'), 'decode-worker': join(ROOT, 'dist/json/decode-worker.js'), 'infer-worker': join(ROOT, 'dist/cli/infer-worker.js') },
  outdir: join(ROOT, 'dist/cli-bundle'),
  // Each command (imported on demand by cli/main.ts) in a chunk of its own, loaded only when run.
  splitting: true,
  chunkNames: 'chunk-[hash]',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The bundle's own CommonJS dependencies (commander, cli-progress, ...) call require(): give the ES module one.
  banner: { js: "import { createRequire as __tributaryRequire } from 'node:module';\nconst require = __tributaryRequire(import.meta.url);" },
  external: ['parquet-wasm', 'parquet-wasm/*', 'tsx', 'tsx/*', '@aws-sdk/*', '@azure/*', '@google-cloud/*', '@dsnp/parquetjs'],
  plugins: [version, withoutRun],
  legalComments: 'none',
  // Smaller files to read and parse; names are kept (error messages and stack traces stay readable).
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
