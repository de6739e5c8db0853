/**
 * The Parquet writer every file is written with: arrow-rs's ArrowWriter (the one delta-rs uses),
 * version 59.3.0, the one parquet-wasm 0.8.0 carries, built by the project for speed
 * (native/parquet-encode, by scripts/build-wasm.mjs into parquet-encode.wasm beside this module,
 * committed). npm's parquet-wasm is built for size (opt-level "s"), and on the path users take
 * most, an NDJSON append, the encoder thread is what the whole command waits for: this build
 * encodes the same table in about 25% less time, writes the same bytes (the test of this module
 * compares them), and the encoder thread no longer compiles parquet-wasm's 5 MB module at all.
 * parquet-wasm still reads (reader.ts, OPTIMIZE's compaction on this thread).
 *
 * No wasm-bindgen: a few synchronous calls. One instance per thread, compiled once per thread or
 * handed to a thread by the one that started it (wasm-thread.ts), as parquet-wasm's was.
 */
import { readFileSync } from 'node:fs';
import { isMainThread, workerData } from 'node:worker_threads';
import '../arrow/detach-early.js'; // WebAssembly memory that grows detaches its buffer: see there
import { writerSettings, type WasmWriterConfig } from './wasm-properties.js';

interface Exports {
  memory: { buffer: ArrayBuffer };
  alloc(n: number): number;
  dealloc(p: number, n: number): void;
  error_ptr(): number;
  error_len(): number;
  open(p: number, n: number): number;
  write_ipc(h: number, p: number, n: number): bigint;
  write_parquet(h: number, p: number, n: number): bigint;
  out_ptr(h: number): number;
  out_len(h: number): number;
  out_clear(h: number): void;
  finish(h: number): bigint;
  close(h: number): void;
}

// The project's TypeScript lib has no WebAssembly declarations (no DOM); this is all we use.
type WasmModule = object;
const WA = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => WasmModule; Instance: new (m: WasmModule, imports: object) => { exports: unknown } } }).WebAssembly;

let compiled: WasmModule | undefined;
let instance: Exports | undefined;

/** This thread's compiled module: handed over by the thread that started this one, or compiled here. */
export function arrowRsModule(): WasmModule {
  if (compiled) return compiled;
  const given = !isMainThread && (workerData as { arrowRsModule?: unknown } | null)?.arrowRsModule;
  // From dist/parquet/ and src/parquet/ the file beside this module; from the CLI bundle (dist/cli-bundle/) the one of dist/parquet/.
  compiled = given instanceof WA.Module ? given : new WA.Module(readFileSync(new URL('../parquet/parquet-encode.wasm', import.meta.url)));
  return compiled;
}

/** This thread's compiled module if it has one: for a thread started from here to share. */
export function compiledArrowRsModule(): WasmModule | undefined {
  return compiled;
}

function wasm(): Exports {
  return (instance ??= new WA.Instance(arrowRsModule(), {}).exports as Exports);
}

/** WebAssembly memory this thread's writer holds (it never shrinks). */
export function arrowRsMemoryBytes(): number {
  return instance ? instance.memory.buffer.byteLength : 0;
}

/** A failure of the writer; `code` when the caller acts on it (a chunk whose Arrow schema is not the file's). */
export class ArrowRsWriteError extends Error {
  constructor(
    message: string,
    readonly code?: 'SCHEMA_MISMATCH',
  ) {
    super(message);
  }
}

const FAILED = -1n;
const SCHEMA_MISMATCH = -2n;

function lastError(w: Exports): string {
  return new TextDecoder().decode(new Uint8Array(w.memory.buffer, w.error_ptr(), w.error_len()));
}

/**
 * One Parquet file being written. Chunks go in as Arrow IPC streams (or whole Parquet files);
 * the bytes come out as the writer produces them (the header and each row group as it fills, the
 * rest at finish), so memory holds the open row group, not the file. Every call is synchronous.
 */
export class ArrowRsFile {
  /** Rows written. */
  rows = 0;
  private readonly w = wasm();
  private handle: number;

  constructor(config: WasmWriterConfig) {
    const settings = writerSettings(config);
    this.handle = this.withCopy(settings.length, (dst) => dst.set(settings), (p, n) => this.w.open(p, n));
    if (!this.handle) throw new ArrowRsWriteError(`Parquet writer settings: ${lastError(this.w)}`);
  }

  /** Writes a chunk given as an Arrow IPC stream. */
  writeIpc(ipc: Uint8Array): void {
    this.writeIpcFrom(ipc.length, (dst) => dst.set(ipc));
  }

  /**
   * Writes a chunk whose IPC stream, `size` bytes, `fill` writes straight into the writer's
   * memory (ipc-join.ts): the encoder thread's chunks arrive in pieces, joined there once.
   */
  writeIpcFrom(size: number, fill: (dst: Uint8Array) => void): void {
    this.rows += this.checked(this.withCopy(size, fill, (p, n) => this.w.write_ipc(this.handle, p, n)));
  }

  /** Writes every row of a whole Parquet file (OPTIMIZE), decoded in WebAssembly, never in JavaScript. */
  writeParquet(bytes: Uint8Array): void {
    this.rows += this.checked(this.withCopy(bytes.length, (dst) => dst.set(bytes), (p, n) => this.w.write_parquet(this.handle, p, n)));
  }

  /** The bytes produced since the last take (a copy), or undefined when there are none. */
  take(): Uint8Array | undefined {
    const n = this.w.out_len(this.handle);
    if (!n) return undefined;
    const bytes = new Uint8Array(this.w.memory.buffer, this.w.out_ptr(this.handle), n).slice();
    this.w.out_clear(this.handle);
    return bytes;
  }

  /** Ends the file: its remaining bytes (no bytes at all when it took no rows: no schema, no file). */
  finish(): Uint8Array {
    this.checked(this.w.finish(this.handle));
    const rest = this.take() ?? new Uint8Array(0);
    this.close();
    return rest;
  }

  /** Frees the file's memory (a finished file's is freed by finish). */
  close(): void {
    if (this.handle) this.w.close(this.handle);
    this.handle = 0;
  }

  private checked(r: bigint): number {
    if (r === SCHEMA_MISMATCH) throw new ArrowRsWriteError(lastError(this.w), 'SCHEMA_MISMATCH');
    if (r === FAILED) throw new ArrowRsWriteError(lastError(this.w));
    return Number(r);
  }

  /** `size` bytes of the writer's memory, filled by `fill`, given to `call`, then freed. */
  private withCopy<R>(size: number, fill: (dst: Uint8Array) => void, call: (p: number, n: number) => R): R {
    const p = this.w.alloc(size);
    try {
      // The view is taken after alloc: memory that grew detached the buffer before it.
      fill(new Uint8Array(this.w.memory.buffer, p, size));
      return call(p, size);
    } finally {
      this.w.dealloc(p, size);
    }
  }
}

/** A whole file from IPC chunks, on this thread. */
export function writeParquetFile(config: WasmWriterConfig, chunks: Iterable<Uint8Array>): Uint8Array {
  const file = new ArrowRsFile(config);
  try {
    const parts: Uint8Array[] = [];
    for (const c of chunks) {
      file.writeIpc(c);
      const p = file.take();
      if (p) parts.push(p);
    }
    parts.push(file.finish());
    return concatBytes(parts);
  } finally {
    file.close();
  }
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
