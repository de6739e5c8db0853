import * as arrow from 'apache-arrow';
import type { StructType } from '../schema/schema.js';
import type { BufferPool } from '../arrow/buffer-pool.js';
import type { ColumnExtremes } from '../arrow/extremes.js';
import { checkWholeNumber, showValue, TributaryError } from '../errors.js';

export type Compression = 'snappy' | 'zstd' | 'uncompressed';

export interface EncodeOptions {
  compression: Compression;
  /** Maximum rows per row group. */
  rowGroupRows: number;
  /** Footer key-value metadata. */
  keyValueMetadata?: Record<string, string>;
  /**
   * Statistics per column chunk only, without the page index (each page's min/max, kept by the
   * writer until the file closes): for files read whole, such as checkpoints.
   */
  chunkStatisticsOnly?: boolean;
}

/** arrow-rs takes the row-group size as a 32-bit usize in WebAssembly (larger values wrap). */
export const MAX_ROW_GROUP_ROWS = 2 ** 31 - 1;

export const COMPRESSIONS: readonly Compression[] = ['snappy', 'zstd', 'uncompressed'];

/** Every encoder checks its options first: a bad value must be a typed error, not a WASM trap. */
export function checkEncodeOptions(opts: EncodeOptions): void {
  checkWholeNumber('rowGroupRows', opts.rowGroupRows, 1, MAX_ROW_GROUP_ROWS);
  if (!COMPRESSIONS.includes(opts.compression)) {
    throw new TributaryError('INVALID_ARGUMENT', `unknown compression ${showValue(opts.compression)} (${COMPRESSIONS.join(', ')})`);
  }
}

/**
 * Everything Parquet the Delta layer needs, behind one interface (delta-kernel-rs's
 * ParquetHandler): writing data and checkpoint files, reading files into Arrow, and, when an
 * implementation can, compacting many files into one (OPTIMIZE). Writers receive the Delta schema
 * too, so a non-Arrow encoder can choose Parquet types from Delta types rather than
 * reverse-engineering them. Both implementations must produce the same physical layout (see
 * src/arrow/types.ts).
 */
export interface ParquetHandler {
  readonly name: EngineName;
  encode(table: arrow.Table, schema: StructType, opts: EncodeOptions): Promise<Uint8Array>;
  /**
   * Starts one file that receives its rows chunk by chunk. `rowsHint` is how many rows the file
   * is expected to get (an encoder may do small files differently from large ones). With
   * `extremes` (the file's stats so far), an encoder may gather each chunk's into it itself
   * (on its thread, where the chunk goes anyway): it says so with `addsExtremes`.
   */
  open(schema: StructType, opts: EncodeOptions, rowsHint: number, extremes?: ColumnExtremes): ParquetFileWriter;
  /**
   * Optional: one file whose chunks are encoded on the calling thread as they arrive and are
   * never held together (row groups of at most `rowGroupRows`), so the encoder's memory is
   * bounded by a chunk and a row group, not by the file. For files as large as the table's
   * state (checkpoints): WebAssembly memory never shrinks, so one whole-file encode would raise
   * it for good. Callers without it use `open`.
   */
  openBounded?(schema: StructType, opts: EncodeOptions): ParquetFileWriter;
  /** Optional: a file's row groups one at a time (only those of `columns` it has, when given), so a reader need not hold the whole file decoded. */
  readRowGroups?(bytes: Uint8Array, columns?: string[]): AsyncIterable<arrow.Table>;
  /** A Parquet file's bytes as Arrow (only `columns`, when given), in the file's own types. */
  read(bytes: Uint8Array, columns?: string[]): arrow.Table;
  /** Optional: many files into one without the general read/conform/write path (OPTIMIZE). */
  readonly compactor?: ParquetCompactor;
  /**
   * Optional: get ready for large files now (start an encoder thread), so that starting it
   * overlaps whatever the caller does before its first file (reading the table, the input's
   * first chunk) instead of delaying that file. Does not keep the process alive.
   */
  prestart?(): void;
  /**
   * Optional: the buffers of handed-over batches (arrow/ipc-pieces.ts) that this handler gives
   * back once it has taken them, for the code building the next batches (arrow/buffer-pool.ts).
   */
  recycledBuffers?(): BufferPool | undefined;
}

/** One input of a compaction: its bytes, and a name for messages. */
export interface CompactInput {
  name: string;
  bytes: Uint8Array;
}

/**
 * Compacts files of one table into the bytes of one Parquet file of `schema`. A file the fast
 * path cannot take is handed to `general`, the caller's reader, which conforms it to the table's
 * types (or names it in its error) and whose batches join the same output. Undefined declines the
 * whole bin (e.g. the files' types differ from the table's): the caller then takes its general
 * path. `rows` is what the written file holds, for the caller to check against its inputs.
 */
export interface ParquetCompactor {
  compact(inputs: AsyncIterable<CompactInput>, schema: arrow.Schema, general: (input: CompactInput) => Promise<arrow.RecordBatch[]>): Promise<{ bytes: Uint8Array; rows?: number } | undefined>;
}

/** One Parquet file being written: chunks in, bytes out. */
export interface ParquetFileWriter {
  write(batch: arrow.RecordBatch): Promise<void>;
  /**
   * True when every chunk written is in the `extremes` the file was opened with once finish()
   * has resolved (the caller then does not add them); otherwise the caller adds them.
   */
  readonly addsExtremes?: boolean;
  /** The file's bytes; empty when they were taken as `parts` (resolves once the last is out). */
  finish(): Promise<Uint8Array>;
  /**
   * Optional, for encoders that make a file a row group at a time: the file's bytes handed out
   * as they are made, in order, rather than whole from finish, so that a caller storing them as
   * they come (Storage.writeStream) never holds the file. Taken before the first write, once.
   * The parts end after finish() with the footer; they fail (never end) if the file fails or is
   * aborted, so a store publishes only a complete file. Writing waits while parts are not taken.
   */
  parts?(): AsyncIterable<Uint8Array>;
  /** Drops the file after a failure; its bytes are never produced. */
  abort(): void;
}

/** For encoders that need a whole file at once: chunks are kept until finish. */
export class BufferingFileWriter implements ParquetFileWriter {
  private batches: arrow.RecordBatch[] = [];
  constructor(private readonly encode: (table: arrow.Table) => Promise<Uint8Array>) {}
  async write(batch: arrow.RecordBatch): Promise<void> {
    this.batches.push(batch);
  }
  finish(): Promise<Uint8Array> {
    const t = new arrow.Table(this.batches);
    this.batches = [];
    return this.encode(t);
  }
  abort(): void {
    this.batches = [];
  }
}

export type EngineName = 'parquet-wasm' | 'parquetjs';

export const ENGINE_NAMES: readonly EngineName[] = ['parquet-wasm', 'parquetjs'];

/** Footer metadata for every data file we write. */
export function defaultKeyValueMetadata(): Record<string, string> {
  // Spark 3.x refuses (datetimeRebaseModeInRead=EXCEPTION) dates before 1582 and timestamps
  // before 1900 in Parquet files that lack this key, because it cannot tell whether the writer
  // used the hybrid Julian calendar. We always write proleptic Gregorian, which is what this key
  // (any version >= 3.0) tells Spark.
  return { 'org.apache.spark.version': '3.5.0', 'writer.engine': 'tributary' };
}
