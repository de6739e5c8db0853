/**
 * parquet-wasm, the reader (reader.ts, and OPTIMIZE's compaction on this thread): instantiated on
 * first use, compiled once per thread. Every file is written by arrow-rs.ts instead (the same
 * arrow-rs, built for speed); the encoder thread does not load this module at all.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as parquetWasm from 'parquet-wasm/esm';
import '../arrow/detach-early.js'; // WebAssembly memory that grows detaches its buffer: see there

let loaded = false;

function load(): void {
  if (loaded) return;
  const require = createRequire(import.meta.url);
  // The project's TypeScript lib has no WebAssembly declarations (no DOM).
  const { Module } = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => object } }).WebAssembly;
  parquetWasm.initSync({ module: new Module(readFileSync(require.resolve('parquet-wasm/esm/parquet_wasm_bg.wasm'))) as never });
  loaded = true;
}

/** parquet-wasm's exports, instantiated on the first one used (the wasm-bindgen functions need the instance). */
export const pw: typeof parquetWasm = new Proxy(parquetWasm, {
  get(target, key) {
    load();
    return Reflect.get(target, key);
  },
});

/** parquet-wasm's types (`PW.Table`), which a value cannot name. */
export type * as PW from 'parquet-wasm/esm';

/** Whether this thread has loaded parquet-wasm (its tests: first use, not import, loads it). */
export function parquetWasmLoaded(): boolean {
  return loaded;
}
