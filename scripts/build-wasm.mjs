/**
 * Builds the NDJSON accelerator (native/ndjson-decode, Rust) for WebAssembly and writes it to
 * src/json/ndjson-decode.wasm, which is committed: a checkout and the npm package use that file,
 * so only a change to the crate, and the test that checks the file, need Rust (rustup: the
 * crate's rust-toolchain.toml pins the compiler and its wasm32 target, which rustup installs on
 * first use). The build is reproducible: test/json/ndjson-wasm.test.ts builds the crate again and
 * requires the committed file to be its bytes.
 *
 *   node scripts/build-wasm.mjs            build, and write src/json/ndjson-decode.wasm
 *   node scripts/build-wasm.mjs --check    build, and fail unless the committed file is the same
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CRATE = join(ROOT, 'native', 'ndjson-decode');
const OUT = join(ROOT, 'src', 'json', 'ndjson-decode.wasm');
// Under the project's ignored cache, as every other tool's files.
const TARGET = join(process.env.TRIBUTARY_CACHE ?? join(ROOT, '.cache'), 'cargo-target');

const cargo = [process.env.CARGO, join(homedir(), '.cargo', 'bin', 'cargo'), 'cargo'].find((c) => c && (c === 'cargo' || existsSync(c)));
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
  console.error(`build-wasm: cargo failed (${r.error?.message ?? `exit ${r.status}`}); it needs Rust and its wasm32-unknown-unknown target (rustup target add wasm32-unknown-unknown)`);
  process.exit(1);
}
const built = readFileSync(join(TARGET, 'wasm32-unknown-unknown', 'release', 'tributary_ndjson_decode.wasm'));
if (process.argv.includes('--check')) {
  const committed = readFileSync(OUT);
  if (!committed.equals(built)) {
    console.error(`build-wasm: ${OUT} (${committed.length} bytes) is not what native/ndjson-decode builds (${built.length} bytes): run node scripts/build-wasm.mjs and commit it`);
    process.exit(1);
  }
  console.log(`build-wasm: ${OUT} is the crate's build (${built.length} bytes)`);
} else {
  writeFileSync(OUT, built);
  console.log(`build-wasm: wrote ${OUT} (${built.length} bytes)`);
}
