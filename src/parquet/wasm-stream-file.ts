import { TributaryError } from '../errors.js';
import { pw, type PW } from './wasm.js';
import { enqueueAndFree } from './wasm-input.js';
import { type WasmWriterConfig, writerProperties } from './wasm-properties.js';

/**
 * One Parquet file written chunk by chunk by the arrow-rs writer on this thread (what the encoder
 * thread does in wasm-worker.ts, without the thread): each IPC chunk is handed to the writer when
 * it asks for the next one, and write() waits until it did, so WebAssembly memory holds a row
 * group and the file's bytes, never the whole input at once. Auto-compaction of a stream uses it:
 * a second thread would be a second V8 isolate kept alive for good.
 */
export class LocalParquetStream {
  /** Rows the writer took. */
  rows = 0;
  private readonly queue: Uint8Array[] = [];
  private waiting: (() => void) | undefined;
  private taken: (() => void) | undefined;
  private closed = false;
  private failure: Error | undefined;
  private readonly parts: Promise<Uint8Array[]>;

  constructor(config: WasmWriterConfig) {
    const input = new ReadableStream<PW.RecordBatch>(
      {
        pull: async (controller) => {
          while (!this.queue.length && !this.closed) await new Promise<void>((r) => (this.waiting = r));
          const chunk = this.queue.shift();
          const taken = this.taken;
          this.taken = undefined;
          taken?.();
          if (!chunk || this.failure) return controller.close();
          try {
            this.rows += enqueueAndFree(pw.Table.fromIPCStream(chunk), controller);
          } catch (e) {
            // The writer would end the file at a failing input: keep why, and refuse the file.
            this.failure = e instanceof Error ? e : new Error(String(e));
            controller.close();
          }
        },
      },
      { highWaterMark: 0 },
    );
    const output = pw.transformParquetStream(input, writerProperties(config)) as Promise<ReadableStream<Uint8Array>>;
    this.parts = (async () => {
      const parts: Uint8Array[] = [];
      for await (const p of await output) parts.push(p);
      return parts;
    })();
    this.parts.catch(() => undefined);
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  /** Hands one Arrow IPC chunk to the writer; resolves once the writer has taken it. */
  async write(ipc: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    await new Promise<void>((resolve) => {
      this.taken = resolve;
      this.queue.push(ipc);
      this.wake();
    });
  }

  /** The file's bytes. */
  async finish(): Promise<Uint8Array> {
    this.closed = true;
    this.wake();
    const parts = await this.parts;
    if (this.failure) throw new TributaryError('PARQUET_INVALID', `Parquet writer: ${this.failure.message}`);
    if (parts.length === 1) return parts[0];
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let pos = 0;
    for (const p of parts) {
      bytes.set(p, pos);
      pos += p.length;
    }
    return bytes;
  }

  abort(): void {
    this.closed = true;
    this.queue.length = 0;
    this.wake();
    this.parts.catch(() => undefined);
  }
}
