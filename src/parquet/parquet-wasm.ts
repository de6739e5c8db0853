import { besideModule } from '../threads.js';
import { TributaryError } from '../errors.js';
import * as arrow from 'apache-arrow';
import type { StructType } from '../schema/schema.js';
import { BufferingFileWriter, checkEncodeOptions, type EncodeOptions, type ParquetHandler, type ParquetFileWriter } from './handler.js';
import { plainColumns } from './plain-columns.js';
import { writeParquetFile } from './arrow-rs.js';
import { EncoderThread } from './wasm-thread.js';
import { WasmCompactor } from './compact.js';
import { readParquetRowGroups, readParquetToArrow } from './reader.js';
import { LocalParquetStream } from './wasm-stream-file.js';
import { PartQueue } from './part-queue.js';
import { batchPieces, isHandedOver, schemaMessage } from '../arrow/ipc-pieces.js';
import type { BufferPool } from '../arrow/buffer-pool.js';
import { columnsOf, type ColumnExtremes } from '../arrow/extremes.js';

export interface ParquetWasmOptions {
  /**
   * Encode large files on a worker thread, overlapped with building the next chunk: 'auto' (the
   * default) does so for files of more than `threadMinRows` rows (default 65,536: more than one
   * chunk, so there is something to overlap) when a worker can be started. 'own': as 'auto', and
   * compactions too, on a thread of this handler's own instead of the process's shared one,
   * started on first use and ended by close() (see there).
   */
  thread?: 'auto' | 'never' | 'own';
  threadMinRows?: number;
}

/**
 * The engine named "parquet-wasm": the arrow-rs Parquet writer (the one delta-rs uses) compiled to
 * WASM (arrow-rs.ts, the project's build of it; parquet-wasm's reads). Arrow data crosses into
 * WASM memory as an IPC stream, which costs a copy but keeps the two Arrow implementations
 * decoupled.
 */
export class ParquetWasmHandler implements ParquetHandler {
  readonly name = 'parquet-wasm' as const;
  /** OPTIMIZE's fast path: compaction on the encoder thread (with thread 'never', streamed through the writer on this thread). */
  readonly compactor = new WasmCompactor(() => this.thread(), true);
  /** Files encoded on the encoder thread (the rest were encoded on the calling thread). */
  filesOnThread = 0;
  private own: EncoderThread | undefined;
  constructor(private readonly options: ParquetWasmOptions = {}) {}

  private thread(): EncoderThread | undefined {
    const mode = this.options.thread ?? 'auto';
    if (mode === 'never') return undefined;
    if (mode === 'auto') return sharedThread();
    if (this.own?.usable) return this.own;
    return (this.own = new EncoderThread(encoderThreadUrl()));
  }

  /**
   * Ends the thread of its own (thread 'own'). A thread's WebAssembly memory never shrinks, and
   * an idle thread keeps it and its V8 isolate: a long-lived stream's background compaction that
   * kept the 1 M-row row group of its largest file in WebAssembly memory held it for good (the
   * soak's step of 23-31 MiB of RSS at its first large compaction). Ended, both go back to the OS.
   */
  async close(): Promise<void> {
    const t = this.own;
    this.own = undefined;
    await t?.terminate();
  }

  async encode(table: arrow.Table, _schema: StructType, opts: EncodeOptions): Promise<Uint8Array> {
    checkEncodeOptions(opts);
    const first = table.batches[0];
    return writeParquetFile({ ...opts, plainColumns: first ? plainColumns(first) : [] }, [arrow.tableToIPC(table, 'stream')]);
  }

  read(bytes: Uint8Array, columns?: string[]): arrow.Table {
    return readParquetToArrow(bytes, columns);
  }

  readRowGroups(bytes: Uint8Array, columns?: string[]): AsyncIterable<arrow.Table> {
    return readParquetRowGroups(bytes, columns);
  }

  prestart(): void {
    if ((this.options.thread ?? 'auto') === 'auto') sharedThread();
  }

  /** The encoder thread's (the one this handler's files go to), when it has one. */
  recycledBuffers(): BufferPool | undefined {
    return this.thread()?.recycled;
  }

  /** On this thread, not the encoder thread: its caller waits for the file anyway, and a bound here is one a test can see. */
  openBounded(_schema: StructType, opts: EncodeOptions): ParquetFileWriter {
    checkEncodeOptions(opts);
    return new StreamedFileWriter(opts);
  }

  open(schema: StructType, opts: EncodeOptions, rowsHint: number, extremes?: ColumnExtremes): ParquetFileWriter {
    checkEncodeOptions(opts);
    const thread = rowsHint > (this.options.threadMinRows ?? 65_536) ? this.thread() : undefined;
    const here = () => new BufferingFileWriter((t) => this.encode(t, schema, opts));
    return thread ? new ThreadedFileWriter(thread, opts, here, () => this.filesOnThread++, extremes) : here();
  }
}

/**
 * Sends each chunk to the encoder thread as an IPC stream of its own. If the thread cannot start,
 * the file is encoded here instead (and its parts, when taken, are the whole file at finish).
 * Given the file's `extremes`, it adds every chunk's stats to them: a handed-over chunk's on the
 * thread (its buffers go there anyway, and this thread is the busier one: it decodes the next
 * chunk meanwhile), any other's here.
 */
class ThreadedFileWriter implements ParquetFileWriter {
  private file: ReturnType<EncoderThread['open']> | undefined;
  private local: ParquetFileWriter | undefined;
  private out: PartQueue | undefined;
  private rows = 0;
  /** Rows whose stats the thread gathers. */
  private rowsForThreadStats = 0;
  readonly addsExtremes: boolean;
  /** The last batch's schema and its IPC message (batches of one append share their schema object). */
  private schema: { of: arrow.Schema; msg: Uint8Array } | undefined;
  constructor(
    private readonly thread: EncoderThread,
    private readonly opts: EncodeOptions,
    private readonly fallback: () => ParquetFileWriter,
    private readonly onThread: () => void,
    private readonly extremes?: ColumnExtremes,
  ) {
    this.addsExtremes = extremes !== undefined;
  }
  async write(batch: arrow.RecordBatch): Promise<void> {
    if (!this.file && !this.local) {
      // Opened at once, not once the thread has started: its messages wait for it, and this
      // thread decodes the next chunks meanwhile (waiting held up a large append's first chunk,
      // 27 ms of a 0.65 s append, README "NDJSON to Delta"). A thread that then fails to start
      // fails the file, with its reason; one already known to have failed is not used.
      if (this.thread.usable) this.file = this.thread.open({ ...this.opts, plainColumns: plainColumns(batch) }, undefined, this.out, this.extremes?.plan);
      else this.local = this.fallback();
    }
    // A handed-over batch's buffers move to the thread (no copy here); any other is copied into an IPC stream.
    const handedOver = !this.local && isHandedOver(batch);
    if (!handedOver) this.extremes?.add(batch.data);
    if (this.local) return this.local.write(batch);
    this.rows += batch.numRows;
    if (!handedOver) return this.file!.write(arrow.tableToIPC(new arrow.Table([batch]), 'stream'));
    if (this.schema?.of !== batch.schema) this.schema = { of: batch.schema, msg: schemaMessage(batch.schema) };
    const { pieces, transfer } = batchPieces(batch, this.schema.msg);
    let columns;
    if (this.extremes) {
      columns = columnsOf(batch.data, this.extremes.plan);
      this.rowsForThreadStats += batch.numRows;
    }
    await this.file!.writePieces(pieces, transfer, columns);
  }
  parts(): AsyncIterable<Uint8Array> {
    if (this.file || this.local) throw new Error('the parts of a Parquet file are taken before its first chunk');
    return (this.out ??= new PartQueue());
  }

  async finish(): Promise<Uint8Array> {
    if (this.local) {
      const bytes = await this.local.finish();
      if (!this.out) return bytes;
      this.out.push(bytes);
      this.out.end();
      return new Uint8Array(0);
    }
    if (!this.file) throw new Error('a Parquet file needs at least one chunk');
    const file = this.file;
    return file.finish().then((bytes) => {
      if (file.rows !== this.rows) throw new TributaryError('INTERNAL', `the encoder thread wrote ${file.rows} of ${this.rows} rows`);
      if (this.extremes) {
        const got = file.extremes?.rows ?? 0;
        if (got !== this.rowsForThreadStats) throw new TributaryError('INTERNAL', `the encoder thread gathered the stats of ${got} of ${this.rowsForThreadStats} rows`);
        if (file.extremes) this.extremes.merge(file.extremes);
      }
      this.onThread();
      return bytes;
    });
  }
  abort(): void {
    this.out?.fail(new Error('the Parquet file was aborted'));
    this.local?.abort();
    this.file?.abort();
  }
}

/**
 * Each chunk goes to the arrow-rs writer as soon as it is written (LocalParquetStream), which
 * frees it once taken: WebAssembly memory holds a chunk and the row group being built.
 */
class StreamedFileWriter implements ParquetFileWriter {
  private file: LocalParquetStream | undefined;
  private rows = 0;
  constructor(private readonly opts: EncodeOptions) {}
  async write(batch: arrow.RecordBatch): Promise<void> {
    this.file ??= new LocalParquetStream({ ...this.opts, plainColumns: plainColumns(batch) });
    this.rows += batch.numRows;
    await this.file.write(arrow.tableToIPC(new arrow.Table([batch]), 'stream'));
  }
  async finish(): Promise<Uint8Array> {
    if (!this.file) throw new TributaryError('INTERNAL', 'a Parquet file needs at least one chunk');
    const bytes = await this.file.finish();
    if (this.file.rows !== this.rows) throw new TributaryError('INTERNAL', `the Parquet writer wrote ${this.file.rows} of ${this.rows} rows`);
    return bytes;
  }
  abort(): void {
    this.file?.abort();
  }
}

let shared: EncoderThread | undefined | null;

/**
 * One encoder thread for the process, started on first use (like libuv's thread pool): a
 * thread per append would cost more than it saves. Undefined once it has failed.
 */
export function sharedThread(): EncoderThread | undefined {
  if (shared === undefined) shared = new EncoderThread(encoderThreadUrl());
  if (shared && !shared.usable) shared = null;
  return shared ?? undefined;
}

/**
 * The encoder thread's module: its TypeScript source under tsx (tests), else the built one. Found
 * from the folder above this module's, so that the CLI's bundle (dist/cli-bundle/, one level
 * below dist/ as parquet/ is) finds the same file.
 */
function encoderThreadUrl(): URL {
  return besideModule(import.meta.url, '../parquet/wasm-worker');
}
