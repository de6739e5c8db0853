import { TributaryError } from '../errors.js';
import { ArrowRsFile, concatBytes } from './arrow-rs.js';
import type { WasmWriterConfig } from './wasm-properties.js';

/**
 * One Parquet file written chunk by chunk by the arrow-rs writer on this thread (what the encoder
 * thread does in wasm-worker.ts, without the thread): each IPC chunk is encoded as it is written,
 * so WebAssembly memory holds a row group and the file's bytes, never the whole input at once.
 * Auto-compaction of a stream uses it: a second thread would be a second V8 isolate kept alive
 * for good.
 */
export class LocalParquetStream {
  private readonly file: ArrowRsFile;
  private readonly parts: Uint8Array[] = [];
  private failure: Error | undefined;

  constructor(config: WasmWriterConfig) {
    this.file = new ArrowRsFile(config);
  }

  /** Rows the writer took. */
  get rows(): number {
    return this.file.rows;
  }

  /** Hands one Arrow IPC chunk to the writer. */
  async write(ipc: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    try {
      this.file.writeIpc(ipc);
    } catch (e) {
      // Kept: finish refuses the file.
      this.failure = e instanceof Error ? e : new Error(String(e));
      throw this.failure;
    }
    const p = this.file.take();
    if (p) this.parts.push(p);
  }

  /** The file's bytes. */
  async finish(): Promise<Uint8Array> {
    if (this.failure) {
      this.file.close();
      throw new TributaryError('PARQUET_INVALID', `Parquet writer: ${this.failure.message}`);
    }
    return concatBytes([...this.parts, this.file.finish()]);
  }

  abort(): void {
    this.file.close();
    this.parts.length = 0;
  }
}
