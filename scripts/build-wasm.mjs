/**
 * Builds the project's WebAssembly modules from their Rust crates and writes them beside the
 * TypeScript that loads them, where they are committed: a checkout and the npm package use those
 * files, so only a change to a crate, and the tests that check the files, need Rust (rustup: each
 * crate's rust-toolchain.toml pins the compiler and its wasm32 target, which rustup installs on
 * first use) and, for the Parquet writer's zstd, clang (Debian's package; .ci/run installs it).
 * The builds are reproducible: test/json/ndjson-wasm.test.ts and
 * test/parquet/arrow-rs-writer.test.ts build them again and require the committed files' bytes.
 *
 *   native/ndjson-decode   -> src/json/ndjson-decode.wasm      the NDJSON accelerator
 *   native/parquet-encode  -> src/parquet/parquet-encode.wasm  the Parquet writer (arrow-rs)
 *
 *   node scripts/build-wasm.mjs [crate]            build (both, or the one named), and write the files
 *   node scripts/build-wasm.mjs [crate] --check    build, and fail unless the committed files are the same
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CRATES = {
  'ndjson-decode': { out: join(ROOT, 'src', 'json', 'ndjson-decode.wasm'), lib: 'tributary_ndjson_decode' },
  'parquet-encode': { out: join(ROOT, 'src', 'parquet', 'parquet-encode.wasm'), lib: 'tributary_parquet_encode' },
};
const named = process.argv.slice(2).filter((a) => !a.startsWith('--'));
for (const n of named) if (!(n in CRATES)) throw new Error(`build-wasm: no crate ${n} (${Object.keys(CRATES).join(', ')})`);
// The build folder is at the same path in every checkout, not under the project's .cache: the
// Parquet writer's bytes depend on it (the C objects of zstd, named after it, are linked in the
// order of their names; the same crate built in cargo-target/ and cargo-target/parquet-encode/
// differed by 8 bytes), as they depend on CARGO_HOME's (panic messages name the crates' sources
// there): both under the home folder, the same on every machine of the project's kind. A folder
// per crate, so that the two tests that rebuild them (in parallel) do not wait on one cargo lock.
const TARGETS = join(homedir(), '.cache', 'tributary', 'cargo-target');

const cargo = [process.env.CARGO, join(homedir(), '.cargo', 'bin', 'cargo'), 'cargo'].find((c) => c && (c === 'cargo' || existsSync(c)));
function build(name, { out: OUT, lib }) {
  const CRATE = join(ROOT, 'native', name);
  const TARGET = join(TARGETS, name);
  // The pinned toolchain's wasm32 target, added when missing (rustup installs a toolchain file's
  // targets with the toolchain, not into one already there).
  const rustup = [join(homedir(), '.cargo', 'bin', 'rustup'), 'rustup'].find((c) => c === 'rustup' || existsSync(c));
  const channel = /channel\s*=\s*"([^"]+)"/.exec(readFileSync(join(CRATE, 'rust-toolchain.toml'), 'utf8'))[1];
  const installed = spawnSync(rustup, ['target', 'list', '--installed', '--toolchain', channel], { cwd: CRATE, encoding: 'utf8' });
  if (installed.status === 0 && !installed.stdout.split('\n').includes('wasm32-unknown-unknown')) {
    console.log(`build-wasm: rustup target add wasm32-unknown-unknown --toolchain ${channel}`);
    spawnSync(rustup, ['target', 'add', 'wasm32-unknown-unknown', '--toolchain', channel], { cwd: CRATE, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  // From the crate's folder: rustup takes its rust-toolchain.toml (the pinned compiler, and the
  // wasm32 target, installed on first use) from the directory cargo runs in.
  const r = spawnSync(cargo, ['build', '--release', '--locked', '--target', 'wasm32-unknown-unknown'], {
    cwd: CRATE,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, CARGO_TARGET_DIR: TARGET },
  });
  if (r.error || r.status !== 0) {
    console.error(`build-wasm: cargo failed (${r.error?.message ?? `exit ${r.status}`}); it needs Rust and its wasm32-unknown-unknown target (rustup target add wasm32-unknown-unknown)${name === 'parquet-encode' ? ', and clang for zstd\'s C sources (apt-get install clang)' : ''}`);
    return false;
  }
  const built = readFileSync(join(TARGET, 'wasm32-unknown-unknown', 'release', `${lib}.wasm`));
  if (process.argv.includes('--check')) {
    const committed = readFileSync(OUT);
    if (!committed.equals(built)) {
      console.error(`build-wasm: ${OUT} (${committed.length} bytes) is not what native/${name} builds (${built.length} bytes): run node scripts/build-wasm.mjs and commit it`);
      return false;
    }
    console.log(`build-wasm: ${OUT} is the crate's build (${built.length} bytes)`);
  } else {
    writeFileSync(OUT, built);
    console.log(`build-wasm: wrote ${OUT} (${built.length} bytes)`);
  }
}

let ok = true;
for (const [name, crate] of Object.entries(CRATES)) if (!named.length || named.includes(name)) ok = build(name, crate) !== false && ok;
process.exit(ok ? 0 : 1);
