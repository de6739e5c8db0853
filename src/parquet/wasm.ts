/**
 * parquet-wasm, instantiated on first use from one compiled WebAssembly.Module per thread, and
 * shared when a thread has compiled it: the encoder thread is handed this thread's module
 * (workerData) when there is one, so that V8 compiles and tiers up the 5 MB module once instead of
 * once per thread, most of a short-lived command's start. Compiled when first used, not when
 * imported: a large append encodes on the encoder thread only, and compiling on the main thread
 * (24 ms) held up its first decoded chunk for nothing; the thread then compiles its own, while it
 * waits for that chunk.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isMainThread, workerData } from 'node:worker_threads';
import * as parquetWasm from 'parquet-wasm/esm';
import '../arrow/detach-early.js'; // WebAssembly memory that grows detaches its buffer: see there

// The project's TypeScript lib has no WebAssembly declarations (no DOM); this is all we use.
type WasmModule = object;
const { Module } = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => WasmModule } }).WebAssembly;

/** Set once this thread's instance is ready (compiled, or handed over, and instantiated). */
let compiled: WasmModule | undefined;

function compile(): WasmModule {
  const given = !isMainThread && (workerData as { wasmModule?: unknown } | null)?.wasmModule;
  if (given instanceof Module) return given;
  const require = createRequire(import.meta.url);
  return new Module(readFileSync(require.resolve('parquet-wasm/esm/parquet_wasm_bg.wasm')));
}

function load(): void {
  if (compiled) return;
  const m = compile();
  parquetWasm.initSync({ module: m as never });
  compiled = m;
}

/** This thread's compiled module, if it has compiled one: for a thread started from here to share. */
export function compiledWasmModule(): WasmModule | undefined {
  return compiled;
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
