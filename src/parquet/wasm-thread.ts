import { TributaryError } from '../errors.js';
import type { Worker } from 'node:worker_threads';
import { startThread } from '../threads.js';
import { compiledArrowRsModule } from './arrow-rs.js';
import { BufferPool } from '../arrow/buffer-pool.js';
import '../arrow/detach-early.js'; // before this thread's first chunk is transferred to the encoder: see there
import type { FromWorker, ToWorker } from './wasm-worker.js';
import type { WasmWriterConfig } from './wasm-properties.js';
import type { PartQueue } from './part-queue.js';
import type { Pieces } from './ipc-join.js';
import type { ColumnData, ExtremesPlan, ExtremesResult } from '../arrow/extremes.js';

/** Chunks sent ahead of the writer: enough to keep it busy, few enough to bound memory. */
const DEFAULT_MAX_AHEAD = 2;
/**
 * Chunks sent ahead while the thread is still starting (Node's worker start, then compiling the
 * writer: 50-70 ms): the main thread goes on decoding instead of waiting for the first to be
 * taken. Once started, the writer takes chunks faster than they are decoded.
 */
const STARTING_MAX_AHEAD = 6;

/**
 * A worker thread running the Parquet writer (arrow-rs.ts; see wasm-worker.ts). It is referenced only
 * while a file is open, so an idle encoder thread never keeps the process alive.
 */
export class EncoderThread {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly files = new Map<number, ThreadFile>();
  private broken: Error | undefined;
  private readonly memoryAsked: ((bytes: number) => void)[] = [];
  /** Handed-over chunks' buffers, back from the thread for a decoder's next chunks (arrow/buffer-pool.ts). */
  readonly recycled = new BufferPool();
  /** Settles when the worker has loaded the encoder (or failed to). */
  readonly ready: Promise<void>;
  /** Whether it has (ready settled). */
  private started = false;

  constructor(url: URL) {
    // This thread's compiled writer when it has one (arrow-rs.ts); else the thread compiles its own.
    this.worker = startThread(url, { arrowRsModule: compiledArrowRsModule() });
    let started: (v: void) => void = () => undefined;
    let failed: (e: Error) => void = () => undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      started = resolve;
      failed = reject;
    });
    this.ready.catch(() => undefined);
    this.worker.on('message', (m: FromWorker) => {
      if (m.op === 'ready') {
        this.started = true;
        started();
      }
      else if (m.op === 'memory') this.memoryAsked.shift()?.(m.bytes);
      else if (m.op === 'recycle') for (const b of m.buffers) this.recycled.put(b);
      else this.files.get(m.id)?.onMessage(m);
    });
    this.worker.on('error', (e) => {
      failed(e);
      this.fail(e);
    });
    this.worker.on('exit', (code) => {
      const e = new Error(`the Parquet encoder thread exited (code ${code})`);
      failed(e);
      this.fail(e);
    });
    // Referenced until ready, so a caller awaiting `ready` is not left behind by an exiting process.
    this.ready.then(() => (this.files.size ? undefined : this.worker.unref()), () => undefined);
  }

  get usable(): boolean {
    return !this.broken;
  }

  private fail(e: Error) {
    this.broken ??= e;
    for (const f of this.files.values()) f.onMessage({ op: 'error', id: 0, message: e.message });
    this.files.clear();
    this.worker.unref();
  }

  /**
   * Opens a file on the thread. With `parts`, its bytes arrive there as the writer produces them
   * (finish then resolves to no bytes), and sending waits while the store is behind with them.
   * With `extremes`, the thread gathers the stats of the chunks sent with their columns.
   * `maxAhead`: chunks sent and not yet taken, at most (by default 2, 6 while the thread starts).
   */
  open(config: WasmWriterConfig, maxAhead?: number, parts?: PartQueue, extremes?: ExtremesPlan): ThreadFile {
    const id = this.nextId++;
    const file = new ThreadFile(id, () => maxAhead ?? (this.started ? DEFAULT_MAX_AHEAD : STARTING_MAX_AHEAD), (m, t) => this.worker.postMessage(m, t ?? []), () => {
      this.files.delete(id);
      if (!this.files.size) this.worker.unref();
    }, parts);
    if (this.broken) {
      file.onMessage({ op: 'error', id, message: this.broken.message });
      return file;
    }
    this.files.set(id, file);
    this.worker.ref();
    this.worker.postMessage({ op: 'open', id, config, streamed: parts !== undefined, extremes } satisfies ToWorker);
    return file;
  }

  /**
   * The thread's WebAssembly memory in bytes. It never shrinks, so this is the high-water mark
   * of what the writer held: what a memory test counts instead of timing RSS.
   */
  async wasmMemoryBytes(): Promise<number> {
    await this.ready;
    return new Promise((resolve) => {
      this.memoryAsked.push(resolve);
      this.worker.postMessage({ op: 'memory', id: 0 } satisfies ToWorker);
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

export class ThreadFile {
  private ahead = 0;
  private wakeSender: (() => void) | undefined;
  private failure: Error | undefined;
  private result: { resolve: (b: Uint8Array) => void; reject: (e: Error) => void } | undefined;
  /** Rows the writer took, known once finish() has resolved. */
  rows = 0;
  /** The stats the thread gathered (opened with a plan), known once finish() has resolved. */
  extremes: ExtremesResult | undefined;

  constructor(
    private readonly id: number,
    /** Chunks that may be unconsumed at once (more while the thread starts). */
    private readonly maxAhead: () => number,
    private readonly send: (m: ToWorker, transfer?: ArrayBuffer[]) => void,
    private readonly release: () => void,
    private readonly parts?: PartQueue,
  ) {}

  onMessage(m: FromWorker) {
    if (m.op === 'consumed') this.ahead--;
    else if (m.op === 'part') this.parts?.push(m.bytes);
    else if (m.op === 'done') {
      this.rows = m.rows;
      this.extremes = m.extremes;
      this.release();
      // Every part was posted before 'done' (one port, in order): the file is complete.
      this.parts?.end();
      this.result?.resolve(m.bytes);
    } else if (m.op === 'error') {
      this.failure = m.code ? new TributaryError(m.code, `Parquet encoder thread: ${m.message}`) : new Error(`Parquet encoder thread: ${m.message}`);
      this.release();
      this.parts?.fail(this.failure);
      this.result?.reject(this.failure);
    }
    const w = this.wakeSender;
    this.wakeSender = undefined;
    w?.();
  }

  /** Chunks sent and not yet taken by the writer. */
  get backlog(): number {
    return this.ahead;
  }

  /** Sends one IPC chunk (its buffer is transferred), waiting while the writer is behind. */
  async write(ipc: Uint8Array): Promise<void> {
    await this.room();
    const own = transferable(ipc);
    this.send({ op: 'write', id: this.id, ipc: own }, [own.buffer as ArrayBuffer]);
  }

  /**
   * Sends one chunk as the pieces of its IPC stream (arrow/ipc-pieces.ts), with the buffers to
   * transfer, and the columns (views of those buffers) whose stats the thread is to gather.
   */
  async writePieces(pieces: Pieces, transfer: ArrayBuffer[], columns?: ColumnData): Promise<void> {
    await this.room();
    this.send({ op: 'writePieces', id: this.id, pieces, columns }, transfer);
  }

  /** Sends a whole Parquet file whose rows the writer appends (decoded on the thread). */
  async writeParquet(parquet: Uint8Array): Promise<void> {
    await this.room();
    const own = transferable(parquet);
    this.send({ op: 'writeParquet', id: this.id, parquet: own }, [own.buffer as ArrayBuffer]);
  }

  /**
   * Waits while `maxAhead` chunks are unconsumed, or while as many of the file's parts wait for
   * the store (the writer makes a part of the chunks it is sent), then counts one more.
   */
  private async room(): Promise<void> {
    while (this.ahead >= this.maxAhead() && !this.failure) await new Promise<void>((r) => (this.wakeSender = r));
    await this.parts?.room(this.maxAhead());
    if (this.failure) throw this.failure;
    this.ahead++;
  }

  finish(): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.result = { resolve, reject };
      this.send({ op: 'finish', id: this.id });
    });
  }

  abort(): void {
    this.parts?.fail(new Error('the Parquet file was aborted'));
    if (this.failure) return;
    this.send({ op: 'abort', id: this.id });
    this.release();
  }
}

/** Transfer needs a buffer of its own; a view into a larger one is copied first. */
function transferable(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}
