import { v4 as uuidv4 } from 'uuid';
import * as arrow from 'apache-arrow';
import { checkWholeNumber, showValue, TributaryError } from '../errors.js';
import { conformBatch } from '../arrow/conform.js';
import { type Row, rowsToRecordBatch } from '../arrow/record-batch.js';
import { takeBatch } from '../arrow/take.js';
import { type Compression, defaultKeyValueMetadata, type EncodeOptions, MAX_ROW_GROUP_ROWS, type ParquetHandler, type ParquetFileWriter } from '../parquet/handler.js';
import { discard, type Storage } from '../storage/storage.js';
import type { AddFile } from './actions.js';
import { encodeAddPath, MAX_NAME_BYTES, overlongDirectoryName, partitionDirectory, partitionTextAt } from './partitions.js';
import type { StructType } from '../schema/schema.js';
import { StatsCollector, type StatsOptions } from './stats.js';
import { failpoint } from '../failpoints.js';
import { setField } from '../arrow/own-fields.js';
import { Reject, type TimestampNumbers } from '../arrow/coerce.js';

export interface WriteOptions {
  /** Encodes the data files. */
  parquet: ParquetHandler;
  compression: Compression;
  /** Files are cut when their estimated size reaches this many bytes. */
  targetFileSize: number;
  /** Spark's maxRecordsPerFile: cut files at this many rows as well (0 = no limit). */
  maxRecordsPerFile?: number;
  rowGroupRows: number;
  stats: StatsOptions;
}

export const DEFAULT_TARGET_FILE_SIZE = 128 * 1024 * 1024;
/**
 * Rows per row group of an append's or a stream's files: 256 Ki, polars' default (pyarrow and
 * arrow-rs write 1 Mi, DuckDB 120 Ki). The encoder holds the open row group in WebAssembly memory,
 * which never shrinks, and writes it out when it closes: with 1 Mi rows a 1M-line NDJSON append
 * held 50 MB more and ended with the whole file's flush after the last line (measured: 1.32-1.48 s
 * against 1.21-1.30 s, peak RSS 238-254 against 195-207 MiB, README "NDJSON to Delta").
 * OPTIMIZE, which writes files to be read for long, keeps 1 Mi (OPTIMIZE_ROW_GROUP_ROWS).
 */
export const DEFAULT_ROW_GROUP_ROWS = 256 * 1024;
/** Rows per row group of the files OPTIMIZE writes: arrow-rs's and pyarrow's default. */
export const OPTIMIZE_ROW_GROUP_ROWS = 1024 * 1024;

/**
 * The sizes a writer cuts files and row groups at, checked before any row is encoded: a NaN
 * target would cut nothing, 0 a file per row, and a row-group size of 0 traps in WebAssembly.
 */
export function checkWriteOptions(opts: Pick<WriteOptions, 'targetFileSize' | 'maxRecordsPerFile' | 'rowGroupRows'>): void {
  checkWholeNumber('targetFileSize', opts.targetFileSize, 1);
  if (opts.maxRecordsPerFile !== undefined) checkWholeNumber('maxRecordsPerFile', opts.maxRecordsPerFile, 0);
  checkWholeNumber('rowGroupRows', opts.rowGroupRows, 1, MAX_ROW_GROUP_ROWS);
}

export function dataSchemaOf(schema: StructType, partitionColumns: readonly string[]): StructType {
  return { kind: 'struct', fields: schema.fields.filter((f) => !partitionColumns.includes(f.name)) };
}

/** Rough in-memory size of a batch, the basis for cutting files near the target size. */
function batchBytes(b: arrow.RecordBatch): number {
  let n = 0;
  const walk = (d: arrow.Data) => {
    for (const buf of [d.values, d.valueOffsets, d.nullBitmap] as (ArrayBufferView | undefined)[]) if (buf) n += buf.byteLength;
    d.children.forEach(walk);
  };
  walk(b.data);
  return n;
}

/**
 * Rows are built into Arrow and handed to the encoder in chunks of this many: small enough that
 * a chunk's buffers die young (no full garbage collection over the caller's rows), large enough
 * that per-chunk costs vanish, and the encoder thread works on one chunk while the next is built.
 */
export const CHUNK_ROWS = 65_536;

/**
 * What an append takes: rows (plain objects), Arrow data in memory, or a stream of Arrow batches
 * (AsyncIterable), which is written as it arrives: memory holds a few batches and the files being
 * written, not the input.
 */
export type TableInput = readonly Row[] | arrow.Table | readonly arrow.RecordBatch[] | AsyncIterable<arrow.RecordBatch>;

/** Input held in memory (rows or Arrow), as opposed to a stream of batches. */
export type MemoryInput = Exclude<TableInput, AsyncIterable<arrow.RecordBatch>>;

export const isStreamInput = (input: TableInput): input is AsyncIterable<arrow.RecordBatch> =>
  typeof (input as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function';

export const isArrowInput = (input: MemoryInput): input is arrow.Table | readonly arrow.RecordBatch[] =>
  input instanceof arrow.Table || (input.length > 0 && input[0] instanceof arrow.RecordBatch);

export function inputRows(input: MemoryInput): number {
  if (input instanceof arrow.Table) return input.numRows;
  if (isArrowInput(input)) return (input as readonly arrow.RecordBatch[]).reduce((n, b) => n + b.numRows, 0);
  return input.length;
}

/**
 * A stream of batches with its beginning read ahead: the first batch (whose schema a
 * mergeSchema append adds to the table) and, when the whole stream fits in one chunk, its row
 * count, so that a small input is encoded as a small file (DataFileWriter's rowsHint) rather than
 * on the encoder thread. At most `lookAheadRows` (CHUNK_ROWS) rows and one more batch are read
 * ahead; with 0, just the first batch (for a stream known to be large: see AppendOptions.largeStream).
 */
export interface PeekedStream {
  first: arrow.RecordBatch | undefined;
  /** The stream's rows when it ended within the look-ahead; undefined when it goes on. */
  rows: number | undefined;
  /** The whole stream, when it ended within the look-ahead: it can then be read again (a replan). */
  all: readonly arrow.RecordBatch[] | undefined;
  batches: AsyncIterable<arrow.RecordBatch>;
}

export async function peekStream(input: AsyncIterable<arrow.RecordBatch>, lookAheadRows = CHUNK_ROWS): Promise<PeekedStream> {
  const it = input[Symbol.asyncIterator]();
  const ahead: arrow.RecordBatch[] = [];
  let rows = 0;
  let ended = false;
  try {
    while (rows <= lookAheadRows) {
      const r = await it.next();
      if (r.done) {
        ended = true;
        break;
      }
      ahead.push(r.value);
      rows += r.value.numRows;
    }
  } catch (e) {
    await it.return?.().catch(() => undefined);
    throw e;
  }
  const all = ended ? [...ahead] : undefined;
  async function* batches(): AsyncGenerator<arrow.RecordBatch> {
    try {
      while (ahead.length) yield ahead.shift()!;
      if (ended) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      // A consumer that stops early (a bad row, a failed store) stops the source too: a file
      // being read is closed, a decoder stops decoding.
      if (!ended) await it.return?.().catch(() => undefined);
    }
  }
  return { first: ahead[0], rows: ended ? rows : undefined, all, batches: batches() };
}

/**
 * The input as Arrow batches of the table's schema, CHUNK_ROWS rows at a time, each validated as
 * it is made: where values enter, they become Arrow once. Rows go through the column builders
 * (coercion, row/column/value messages); Arrow input through conformBatch (the same checks, no
 * copy when its types are the table's). Chunks are made only when asked for, so their buffers die
 * young.
 */
export function* inputChunks(input: MemoryInput, schema: StructType, timestampNumbers?: TimestampNumbers): Generator<InputChunk> {
  if (isArrowInput(input)) {
    const batches = input instanceof arrow.Table ? input.batches : (input as readonly arrow.RecordBatch[]);
    const state = { first: 0 };
    for (const b of batches) yield* batchChunks(b, schema, state);
    return;
  }
  const rows = input as readonly Row[];
  for (let from = 0; from < rows.length; from += CHUNK_ROWS) {
    const to = Math.min(rows.length, from + CHUNK_ROWS);
    yield { batch: rowsToRecordBatch(rows, schema, { from, to, timestampNumbers }), firstRowIndex: from };
  }
}

export interface InputChunk {
  batch: arrow.RecordBatch;
  firstRowIndex: number;
}

/** One Arrow batch as conformed chunks of at most CHUNK_ROWS rows; `state.first` is its first row's index, moved past it. */
function* batchChunks(b: arrow.RecordBatch, schema: StructType, state: { first: number }): Generator<InputChunk> {
  for (let from = 0; from < b.numRows; from += CHUNK_ROWS) {
    const to = Math.min(b.numRows, from + CHUNK_ROWS);
    const part = from === 0 && to === b.numRows ? b : b.slice(from, to);
    yield { batch: conformBatch(part, schema, state.first + from), firstRowIndex: state.first + from };
  }
  state.first += b.numRows;
}

/** inputChunks for a stream of batches: each is conformed when it arrives, never more than one at a time. */
export async function* streamChunks(batches: AsyncIterable<arrow.RecordBatch>, schema: StructType): AsyncGenerator<InputChunk> {
  const state = { first: 0 };
  for await (const b of batches) yield* batchChunks(b, schema, state);
}

/** One partition's share of a chunk: its value texts and its rows' data columns. */
export interface PartitionSlice {
  values: Record<string, string | null>;
  batch: arrow.RecordBatch;
}

/**
 * Splits a chunk of the table's schema by partition (by row index, in Arrow), dropping the
 * partition columns, which Delta keeps in the log. Consecutive rows with the same values share a
 * key without building it again (ingested rows usually come grouped, by date say). A value whose
 * directory name no file system would take is refused before anything is written.
 */
export function splitByPartition(
  batch: arrow.RecordBatch,
  schema: StructType,
  partitionColumns: readonly string[],
  firstRowIndex: number,
  /** The column's name for messages (the logical name, when `schema` is a column-mapped table's physical schema). */
  displayName: (column: string) => string = (c) => c,
): PartitionSlice[] {
  const dataIdx = schema.fields.map((f, i) => (partitionColumns.includes(f.name) ? -1 : i)).filter((i) => i >= 0);
  const dataSchema = new arrow.Schema(dataIdx.map((i) => batch.schema.fields[i]));
  const project = (b: arrow.RecordBatch) =>
    new arrow.RecordBatch(dataSchema, arrow.makeData({ type: new arrow.Struct(dataSchema.fields), length: b.numRows, nullCount: 0, children: dataIdx.map((i) => b.data.children[i]) }));
  if (partitionColumns.length === 0) return [{ values: {}, batch: project(batch) }];
  const cols = partitionColumns.map((c) => {
    const i = schema.fields.findIndex((f) => f.name === c);
    return { name: c, type: schema.fields[i].type, nullable: schema.fields[i].nullable, data: batch.data.children[i] };
  });
  const groups = new Map<string, { values: Record<string, string | null>; idx: number[] }>();
  let prevKey = '';
  let prev: { values: Record<string, string | null>; idx: number[] } | undefined;
  const texts: (string | null)[] = new Array(cols.length);
  for (let r = 0; r < batch.numRows; r++) {
    for (let c = 0; c < cols.length; c++) {
      const text = partitionTextAt(cols[c].type, cols[c].data, r);
      if (text instanceof Reject) {
        // Only a BINARY value that is not UTF-8 has no partition text (partitions.ts).
        const o = cols[c].data.valueOffsets as Int32Array;
        const shown = showValue((cols[c].data.values as Uint8Array).slice(o[r], o[r + 1]));
        throw new TributaryError('PARTITION_INVALID', `row ${firstRowIndex + r}, column "${displayName(cols[c].name)}": value ${shown} ${text.reason}`, { row: firstRowIndex + r, column: displayName(cols[c].name), value: shown });
      }
      // A null here from a NOT NULL column is an empty string or binary (nulls were refused when
      // the batch was built): Delta stores an empty partition value as null, which readers then
      // refuse for the column (delta-rs cannot open the table, Spark's scan fails). Spark refuses
      // the row (DELTA_NOT_NULL_CONSTRAINT_VIOLATED); so does this.
      if (text === null && !cols[c].nullable) {
        const name = displayName(cols[c].name);
        throw new TributaryError('ROW_INVALID', `row ${firstRowIndex + r}, column "${name}": an empty value in a NOT NULL partition column (Delta stores an empty partition value as null)`, { row: firstRowIndex + r, column: name });
      }
      texts[c] = text;
    }
    const key = JSON.stringify(texts);
    if (prev && key === prevKey) {
      prev.idx.push(r);
      continue;
    }
    let g = groups.get(key);
    if (!g) {
      const values: Record<string, string | null> = {};
      cols.forEach((c, k) => setField(values, c.name, texts[k]));
      for (const [k, c] of cols.entries()) {
        // The text just set for the column (texts[k] is values' entry for it).
        const bytes = overlongDirectoryName(c.name, texts[k]);
        if (bytes !== undefined) {
          const shown = showValue(texts[k]);
          throw new TributaryError(
            'PARTITION_INVALID',
            `row ${firstRowIndex + r}, column "${displayName(c.name)}": value ${shown} (${[...(texts[k] ?? '')].length} characters) makes a partition directory name of ${bytes} bytes after Hive escaping; file systems allow ${MAX_NAME_BYTES}`,
            { row: firstRowIndex + r, column: displayName(c.name), value: shown, bytes },
          );
        }
      }
      groups.set(key, (g = { values, idx: [] }));
    }
    g.idx.push(r);
    prev = g;
    prevKey = key;
  }
  const out: PartitionSlice[] = [];
  for (const g of groups.values()) {
    const whole = g.idx.length === batch.numRows;
    out.push({ values: g.values, batch: project(whole ? batch : takeBatch(batch, Int32Array.from(g.idx))) });
  }
  return out;
}

/** One data file being written: the encoder's writer, the stats so far, and its row budget. */
interface OpenFile {
  writer: ParquetFileWriter;
  stats: StatsCollector;
  rows: number;
  limit: number;
  /** Path relative to the table root. */
  rel: string;
  values: Record<string, string | null>;
  /** The store taking the file's parts as they are encoded (Storage.writeStream), when it is streamed. */
  storing?: Promise<void>;
  /** Why `storing` failed, seen before the file is finished so that writing stops early. */
  storeFailure?: unknown;
  /** Bytes of the file stored so far (streamed files). */
  size: number;
}

/**
 * Writes data files for one commit: one open file per partition, cut near the target size (the
 * first row groups' compressed size calibrates how many rows fit) and at maxRecordsPerFile, with
 * exact stats gathered chunk by chunk. When the encoder makes a file in parts and the store takes
 * a stream, the file is stored as it is encoded, a row group at a time (the store stages it and
 * publishes it whole once its footer is in), so memory holds a row group or two per open file,
 * not the file; otherwise a finished file is stored at once. Either way memory holds the files
 * being written, not the whole commit; if anything fails, `abort` removes every file this writer
 * stored or was storing (no commit refers to them) and the table is as it was.
 */
export class DataFileWriter {
  private readonly open = new Map<string, OpenFile>();
  private readonly stored: AddFile[] = [];
  private bytesPerRow: number | undefined;
  private seq = 0;
  private readonly encodeOpts: EncodeOptions;

  constructor(
    private readonly storage: Storage,
    private readonly dataSchema: StructType,
    private readonly partitionColumns: readonly string[],
    private readonly opts: WriteOptions,
    /** Rows this writer will get in all, when known: lets a small file skip the encoder thread. */
    private readonly rowsHint = Number.MAX_SAFE_INTEGER,
  ) {
    checkWriteOptions(opts);
    this.encodeOpts = { compression: opts.compression, rowGroupRows: opts.rowGroupRows, keyValueMetadata: defaultKeyValueMetadata() };
  }

  /** Rows of one partition (data columns only). */
  async write(values: Record<string, string | null>, batch: arrow.RecordBatch): Promise<void> {
    const key = JSON.stringify(this.partitionColumns.map((c) => values[c] ?? null));
    let pos = 0;
    while (pos < batch.numRows) {
      let f = this.open.get(key);
      if (!f) {
        // Assume 3x compression until a real file tells us better.
        this.bytesPerRow ??= Math.max(1, batchBytes(batch)) / Math.max(1, batch.numRows) / 3;
        let limit = Math.max(1, Math.floor(this.opts.targetFileSize / Math.max(this.bytesPerRow, 1e-9)));
        if (this.opts.maxRecordsPerFile) limit = Math.min(limit, this.opts.maxRecordsPerFile);
        // A commit of one chunk knows each file's rows; a larger one only the total.
        const hint = this.rowsHint <= CHUNK_ROWS ? batch.numRows - pos : this.rowsHint;
        const stats = new StatsCollector(this.dataSchema, this.opts.stats);
        const writer = this.opts.parquet.open(this.dataSchema, this.encodeOpts, Math.min(limit, hint), stats.extremes);
        f = { writer, stats, rows: 0, limit, rel: this.newPath(values), values, size: 0 };
        this.open.set(key, f);
        if (writer.parts && this.storage.writeStream) this.startStoring(f, writer.parts());
      }
      if (f.storeFailure) throw f.storeFailure;
      if (f.rows >= f.limit) {
        // Its stored row groups showed that fewer rows fit than guessed (see calibrate).
        await this.close(key, f);
        continue;
      }
      const take = Math.min(batch.numRows - pos, f.limit - f.rows);
      const part = pos === 0 && take === batch.numRows ? batch : batch.slice(pos, pos + take);
      // An encoder thread gathers a chunk's stats itself when it can (off this thread, which builds the next chunk).
      if (!f.writer.addsExtremes) f.stats.add(part.data);
      await f.writer.write(part);
      f.rows += take;
      pos += take;
      if (f.rows >= f.limit) await this.close(key, f);
    }
  }

  /** Finishes every open file; the AddFiles are ready to commit. */
  async finish(): Promise<AddFile[]> {
    for (const [key, f] of [...this.open]) await this.close(key, f);
    return this.stored;
  }

  /** After a failure: drops the open files (a file being streamed is abandoned: its staging goes) and removes the stored ones. */
  async abort(): Promise<void> {
    const open = [...this.open.values()];
    this.open.clear();
    for (const f of open) f.writer.abort();
    for (const f of open) await f.storing?.catch(() => undefined);
    await discard(this.storage, this.stored.map((a) => decodeURIComponent(a.path)));
    this.stored.length = 0;
  }

  private newPath(values: Record<string, string | null>): string {
    const codec = this.opts.compression === 'uncompressed' ? '' : `.${this.opts.compression}`;
    const name = `part-${String(this.seq++).padStart(5, '0')}-${uuidv4()}-c000${codec}.parquet`;
    const dir = partitionDirectory(this.partitionColumns, values);
    return dir ? `${dir}/${name}` : name;
  }

  /** Hands the file's parts to the store as the encoder makes them; see `calibrate`. */
  private startStoring(f: OpenFile, parts: AsyncIterable<Uint8Array>): void {
    const self = this;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const part of parts) {
        yield part;
        // The store has taken the part; the file is not published before the parts end.
        f.size += part.length;
        self.calibrate(f);
        failpoint('during-parquet-stream');
      }
    }
    f.storing = this.storage.writeStream!(f.rel, counted());
    f.storing.catch((e: unknown) => (f.storeFailure ??= e));
  }

  /**
   * Recounts how many rows fit in the target size from the row groups stored so far (every part
   * but the footer ends one or more whole row groups of rowGroupRows rows; the encoder may be a
   * few chunks behind the rows sent, so rows are counted in whole row groups): the first file is
   * cut from real sizes, not the 3x compression guess, which made it 30% larger than the target.
   */
  private calibrate(f: OpenFile): void {
    const flushed = Math.floor(f.rows / this.opts.rowGroupRows) * this.opts.rowGroupRows;
    if (flushed === 0) return;
    this.bytesPerRow = f.size / flushed;
    let limit = Math.max(1, Math.floor(this.opts.targetFileSize / this.bytesPerRow));
    if (this.opts.maxRecordsPerFile) limit = Math.min(limit, this.opts.maxRecordsPerFile);
    f.limit = limit;
  }

  private async close(key: string, f: OpenFile): Promise<void> {
    this.open.delete(key);
    // Stats once the encoder has finished: it may have gathered them (see addsExtremes).
    const add: AddFile = { path: encodeAddPath(f.rel), partitionValues: f.values, size: 0, modificationTime: Date.now(), dataChange: true, stats: null };
    // Recorded before it is stored: a store that fails half-way is cleaned up by abort too.
    this.stored.push(add);
    try {
      const bytes = await f.writer.finish();
      if (f.storing) await f.storing;
      else {
        await this.storage.write(f.rel, bytes);
        f.size = bytes.length;
      }
    } catch (e) {
      // The file may still be streaming (the encoder failed): its staging must go before abort's cleanup.
      f.writer.abort();
      await f.storing?.catch(() => undefined);
      throw e;
    }
    failpoint('during-parquet-write');
    add.stats = f.stats.toJSON();
    add.size = f.size;
    this.bytesPerRow = f.size / Math.max(1, f.rows);
    add.modificationTime = Date.now();
  }
}

/** Encodes and stores one Arrow batch of data columns as files of one partition (OPTIMIZE). */
export async function writeBatch(storage: Storage, batch: arrow.RecordBatch, dataSchema: StructType, partitionColumns: readonly string[], partitionValues: Record<string, string | null>, opts: WriteOptions): Promise<AddFile[]> {
  const w = new DataFileWriter(storage, dataSchema, partitionColumns, opts, batch.numRows);
  try {
    for (let pos = 0; pos < batch.numRows; pos += CHUNK_ROWS) await w.write(partitionValues, batch.slice(pos, Math.min(batch.numRows, pos + CHUNK_ROWS)));
    return await w.finish();
  } catch (e) {
    await w.abort();
    throw e;
  }
}
