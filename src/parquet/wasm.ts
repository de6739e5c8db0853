/**
 * parquet-wasm, instantiated from one compiled WebAssembly.Module per process. The module is
 * compiled here once and handed to the encoder thread (workerData), so both threads run the same
 * compiled code: V8 compiles and tiers up the 5 MB module once instead of once per thread, which
 * is most of a short-lived command's start-up cost.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isMainThread, workerData } from 'node:worker_threads';
import * as pw from 'parquet-wasm/esm';

// The project's TypeScript lib has no WebAssembly declarations (no DOM); this is all we use.
type WasmModule = object;
const { Module } = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => WasmModule } }).WebAssembly;

function compile(): WasmModule {
  const given = !isMainThread && (workerData as { wasmModule?: unknown } | null)?.wasmModule;
  if (given instanceof Module) return given;
  const require = createRequire(import.meta.url);
  return new Module(readFileSync(require.resolve('parquet-wasm/esm/parquet_wasm_bg.wasm')));
}

export const wasmModule = compile();
pw.initSync({ module: wasmModule as never });

export { pw };
