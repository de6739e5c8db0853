import { readFileSync } from 'node:fs';
import * as arrow from 'apache-arrow';
import { checkWholeNumber, isTributaryError, TributaryError } from '../../errors.js';
import { toArrowSchema } from '../../arrow/types.js';
import { concatBatches } from '../../arrow/concat.js';
import { makeEncoder } from '../../parquet/engines.js';
import type { Action, AddFile, RemoveFile } from '../actions.js';
import { commit } from '../commit.js';
import { decodeAddPath, partitionDirectory } from '../partitions.js';
import { conformBatch, dataFileError, prefetch, readFile } from '../read.js';
import { concatParquetFiles } from '../../parquet/ipc-concat.js';
import { pw } from '../../parquet/wasm.js';
import { plainColumns } from '../../parquet/wasm-properties.js';
import { sharedThread } from '../../parquet/parquet-wasm.js';
import type { ThreadFile } from '../../parquet/wasm-thread.js';
import type { Snapshot } from '../snapshot.js';
import { mergeStats } from '../stats-merge.js';
import { discard } from '../../storage/storage.js';
import { defaultKeyValueMetadata } from '../../parquet/encoder.js';
import { readParquetToArrow } from '../../parquet/reader.js';
import { computeStats } from '../stats.js';
import { encodeAddPath } from '../partitions.js';
import type { StructType } from '../../schema/schema.js';
import { v4 as uuidv4 } from 'uuid';
import type { DeltaTable } from '../table.js';
import { CHUNK_ROWS, dataSchemaOf, DEFAULT_ROW_GROUP_ROWS, writeBatch, type WriteOptions } from '../write-files.js';
import { FlatParquetReader } from '../../parquet/flat-reader.js';
import { parsePartitionPredicate, type PartitionPredicate } from './predicate.js';

export interface OptimizeOptions {
  /** Partition predicate, e.g. "date = '2026-11-28'" (partition columns only, AND of =). */
  where?: string;
  targetFileSize?: number;
  /** A partition is compacted only when it has at least this many small files. */
  minFiles?: number;
  engine?: WriteOptions['encoder'];
  /** Marks the commit as auto-compaction (operationParameters.auto). */
  auto?: boolean;
  /** Called as input files are compacted (a file at a time), for progress displays. */
  onProgress?: (p: OptimizeProgress) => void;
}

/** Files and bytes of the small files being compacted: done of the total planned. */
export interface OptimizeProgress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

export interface OptimizeMetrics {
  version: number | undefined;
  numFilesRemoved: number;
  numFilesAdded: number;
  numBytesRemoved: number;
  numBytesAdded: number;
  partitionsOptimized: number;
  numBatches: number;
}

const DEFAULT_TARGET = 128 * 1024 * 1024;

/**
 * OPTIMIZE (bin-packing): per partition, small files are grouped into bins near the target size
 * and each bin is rewritten as new files, all in one commit of remove + add with dataChange=false
 * (streaming readers skip it). Bins are read and written one at a time, so memory is bounded by
 * one bin, not the table. Concurrent blind appends do not conflict; a concurrent operation that
 * removed any of the same files does, and this one then gives up, removing what it wrote.
 */
export async function optimize(table: DeltaTable, opts: OptimizeOptions = {}): Promise<OptimizeMetrics> {
  const snap = table.snapshot;
  const target = checkWholeNumber('targetFileSize', opts.targetFileSize ?? DEFAULT_TARGET, 1);
  const minFiles = checkWholeNumber('minFiles', opts.minFiles ?? 2, 1);
  const pred: PartitionPredicate = parsePartitionPredicate(opts.where, snap.partitionColumns);
  const groups = new Map<string, AddFile[]>();
  for (const f of snap.files) {
    if (f.deletionVector) continue;
    if (!pred.matches(f.partitionValues)) continue;
    if (f.size >= target * 0.75) continue; // already big enough
    const key = JSON.stringify(snap.partitionColumns.map((c) => f.partitionValues[c] ?? null));
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(f);
  }
  const dataSchema = dataSchemaOf(snap.schema, snap.partitionColumns);
  const arrowSchema = toArrowSchema(dataSchema);
  const wopts: WriteOptions = {
    encoder: opts.engine ?? makeEncoder('parquet-wasm'),
    compression: 'snappy',
    targetFileSize: target,
    rowGroupRows: DEFAULT_ROW_GROUP_ROWS,
    stats: { numIndexedCols: snap.config.numIndexedCols, stringPrefixLength: snap.config.stringPrefixLength },
  };
  const removes: RemoveFile[] = [];
  const adds: AddFile[] = [];
  // The plan, counted up front only for a progress display: the bins the loop below compacts.
  const planned = opts.onProgress ? [...groups.values()].filter((files) => files.length >= minFiles).flatMap((files) => binsOf(files, target)).filter((b) => b.length >= 2) : [];
  const progress = progressCounter(opts.onProgress, planned);
  let partitions = 0;
  let numBatches = 0;
  const now = Date.now();
  try {
    for (const files of groups.values()) {
      if (files.length < minFiles) continue;
      partitions++;
      for (const b of binsOf(files, target)) {
        if (b.length < 2) continue;
        numBatches++;
        const tick = progress.bin();
        const values = b[0].partitionValues;
        const dir = partitionDirectory(snap.partitionColumns, values);
        // Fast path: on the encoder thread, without decoding the files into JavaScript values.
        const compacted = opts.engine ? undefined : await compactOnThread(snap, b, dataSchema, arrowSchema, tick);
        if (compacted) {
          const merged = mergeStats(b.map((f) => f.stats ?? undefined), dataSchema, wopts.stats);
          const inputRows = merged === undefined ? undefined : (JSON.parse(merged) as { numRecords: number }).numRecords;
          if (inputRows !== undefined && compacted.rows !== undefined && compacted.rows !== inputRows) {
            throw new TributaryError('INTERNAL', `OPTIMIZE: the compacted file holds ${compacted.rows} rows where its ${b.length} inputs hold ${inputRows}; nothing was committed`);
          }
          const stats = merged ?? statsOf(compacted.bytes, dataSchema, arrowSchema, wopts);
          adds.push(await storeCompacted(table, dir, compacted.bytes, values, stats, adds.length));
        } else {
          const batches: arrow.RecordBatch[] = [];
          for await (const { file, bytes } of prefetch(snap, b, 64)) {
            batches.push(...(await readFile(snap, file, dataSchema, arrowSchema, bytes)));
            tick(file);
          }
          const merged = concatBatches(batches, arrowSchema);
          const written = await writeBatch(table.storage, dir, merged, dataSchema, { ...values }, wopts, adds.length);
          for (const w of written) adds.push({ ...w, dataChange: false });
        }
        progress.binDone(b);
        for (const f of b) {
          removes.push({ path: f.path, deletionTimestamp: now, dataChange: false, extendedFileMetadata: true, partitionValues: f.partitionValues, size: f.size, ...(f.stats ? { stats: f.stats } : {}) });
        }
      }
    }
  } catch (e) {
    await removeWritten(table, adds);
    throw e;
  }
  const metrics: OptimizeMetrics = {
    version: undefined,
    numFilesRemoved: removes.length,
    numFilesAdded: adds.length,
    numBytesRemoved: removes.reduce((n, r) => n + (r.size ?? 0), 0),
    numBytesAdded: adds.reduce((n, a) => n + a.size, 0),
    partitionsOptimized: partitions,
    numBatches,
  };
  if (!removes.length) return metrics;
  const actions: Action[] = [...removes.map((r) => ({ remove: r })), ...adds.map((a) => ({ add: a }))];
  try {
    const r = await commit(table.storage, snap, {
      actions,
      isBlindAppend: false,
      commitInfo: {
        operation: 'OPTIMIZE',
        operationParameters: { predicate: JSON.stringify(opts.where ? [opts.where] : []), zOrderBy: '[]', clusterBy: '[]', auto: String(opts.auto ?? false) },
        operationMetrics: {
          numRemovedFiles: String(metrics.numFilesRemoved),
          numAddedFiles: String(metrics.numFilesAdded),
          numRemovedBytes: String(metrics.numBytesRemoved),
          numAddedBytes: String(metrics.numBytesAdded),
          numBatches: String(numBatches),
          numPartitionsOptimized: String(partitions),
        },
      },
    });
    metrics.version = r.version;
    table.adoptSnapshot(r.snapshot);
  } catch (e) {
    await removeWritten(table, adds);
    await table.refresh().catch(() => undefined);
    if (e instanceof TributaryError && e.code === 'COMMIT_CONFLICT') {
      throw new TributaryError('COMMIT_CONFLICT', `OPTIMIZE gave up: ${e.message}; the table is unchanged, run it again`, e.details);
    }
    throw e;
  }
  await table.afterCommit();
  return metrics;
}

/** First-fit bins of a partition's small files in path order, each up to the target size. */
function binsOf(files: AddFile[], target: number): AddFile[][] {
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  const bins: AddFile[][] = [];
  let bin: AddFile[] = [];
  let binBytes = 0;
  for (const f of files) {
    if (bin.length && binBytes + f.size > target) {
      bins.push(bin);
      bin = [];
      binBytes = 0;
    }
    bin.push(f);
    binBytes += f.size;
  }
  if (bin.length) bins.push(bin);
  return bins;
}

/**
 * Counts compacted files for `onProgress`. A bin's files are ticked as they are read; a bin that
 * falls back from the fast path to the general one reads its files again, so a file counts once
 * (the `seen` set), and the totals are set exactly when the bin is done.
 */
function progressCounter(onProgress: OptimizeOptions['onProgress'], bins: AddFile[][]) {
  const sizeOf = (files: AddFile[]) => files.reduce((n, f) => n + f.size, 0);
  const total = { files: bins.reduce((n, b) => n + b.length, 0), bytes: bins.reduce((n, b) => n + sizeOf(b), 0) };
  const done = { files: 0, bytes: 0 };
  const emit = (files: number, bytes: number) => onProgress?.({ filesDone: files, filesTotal: total.files, bytesDone: bytes, bytesTotal: total.bytes });
  emit(0, 0);
  let seen = new Set<AddFile>();
  let seenBytes = 0;
  return {
    /** Starts a bin; returns the tick for each of its files read. */
    bin(): (file: AddFile) => void {
      seen = new Set();
      seenBytes = 0;
      return (file) => {
        if (!onProgress || seen.has(file)) return;
        seen.add(file);
        seenBytes += file.size;
        emit(done.files + seen.size, done.bytes + seenBytes);
      };
    },
    binDone(files: AddFile[]): void {
      done.files += files.length;
      done.bytes += sizeOf(files);
      emit(done.files, done.bytes);
    },
  };
}

/** Stats of compacted bytes by reading them back, when the inputs' stats cannot be merged. */
function statsOf(bytes: Uint8Array, dataSchema: StructType, arrowSchema: arrow.Schema, wopts: WriteOptions): string {
  const back = readParquetToArrow(bytes);
  const merged = concatBatches(back.batches.map((rb) => conformBatch(rb, dataSchema, arrowSchema)), arrowSchema);
  return computeStats(merged.data, dataSchema, wopts.stats);
}

async function storeCompacted(table: DeltaTable, dir: string, bytes: Uint8Array, values: Record<string, string | null>, stats: string, seq: number): Promise<AddFile> {
  const name = `part-${String(seq).padStart(5, '0')}-${uuidv4()}-c000.snappy.parquet`;
  const rel = dir ? `${dir}/${name}` : name;
  await table.storage.write(rel, bytes);
  return { path: encodeAddPath(rel), partitionValues: { ...values }, size: bytes.length, modificationTime: Date.now(), dataChange: false, stats };
}

/** A bin's file as the encoder thread takes it: a local path it reads itself, or the bytes. */
interface Input {
  file: AddFile;
  path?: string;
  bytes?: Uint8Array;
}

async function* inputs(snap: Snapshot, files: AddFile[]): AsyncGenerator<Input> {
  const storage = snap.storage;
  if (storage.localPath) for (const file of files) yield { file, path: storage.localPath(decodeAddPath(file.path, storage.root)) };
  else for await (const { file, bytes } of prefetch(snap, files, 64)) yield { file, bytes };
}

// A small local file is read faster by a blocking read than by an async round trip; a plain
// Uint8Array view, because a Buffer's subarray is several times slower in the readers' loops.
const bytesOf = (snap: Snapshot, input: Input): Uint8Array => {
  if (input.bytes) return input.bytes;
  let b: Buffer;
  try {
    b = readFileSync(input.path!);
  } catch (e) {
    // Named like the general reader names it: which file, and whether it is gone.
    throw dataFileError(snap, decodeAddPath(input.file.path, snap.storage.root), e, (e as NodeJS.ErrnoException).code === 'ENOENT');
  }
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

const ENCODE_OPTS = { compression: 'snappy' as const, rowGroupRows: DEFAULT_ROW_GROUP_ROWS };

/**
 * Compacts a bin into the bytes of one Parquet file, on the encoder thread; undefined sends the
 * bin down the general path. Flat tables (the common ingestion shape) have their files read in
 * JavaScript and sent as 64K-row chunks; others go Parquet to Parquet in WASM.
 */
async function compactOnThread(snap: Snapshot, files: AddFile[], dataSchema: StructType, arrowSchema: arrow.Schema, tick: (file: AddFile) => void): Promise<{ bytes: Uint8Array; rows?: number } | undefined> {
  const reader = FlatParquetReader.for(arrowSchema, CHUNK_ROWS);
  return reader ? compactFlat(snap, files, dataSchema, arrowSchema, reader, tick) : compactInWasm(snap, files, arrowSchema, tick);
}

/**
 * The files' rows are read here by the flat Parquet reader into Arrow chunks of the table's
 * types, while the encoder thread writes the previous chunk. A file the reader refuses (another
 * writer's encoding or types, or a damaged file) is read by the general reader, which conforms
 * it to the table's types or names the file in its error, and joins the same stream.
 */
async function compactFlat(snap: Snapshot, files: AddFile[], dataSchema: StructType, arrowSchema: arrow.Schema, reader: FlatParquetReader, tick: (file: AddFile) => void): Promise<{ bytes: Uint8Array; rows: number } | undefined> {
  const thread = sharedThread();
  if (!thread) return undefined;
  let out: ThreadFile | undefined;
  let sent = 0;
  const send = async (batch: arrow.RecordBatch) => {
    out ??= thread.open({ ...ENCODE_OPTS, keyValueMetadata: defaultKeyValueMetadata(), plainColumns: plainColumns(batch) });
    sent += batch.numRows;
    await out.write(arrow.tableToIPC(new arrow.Table([batch]), 'stream'));
  };
  try {
    for await (const input of inputs(snap, files)) {
      const bytes = bytesOf(snap, input);
      if (reader.append(bytes)) {
        tick(input.file);
        if (reader.rows >= CHUNK_ROWS) await send(reader.flush());
        continue;
      }
      if (reader.rows) await send(reader.flush());
      for (const rb of await readFile(snap, input.file, dataSchema, arrowSchema, bytes)) if (rb.numRows) await send(rb);
      tick(input.file);
    }
    if (reader.rows) await send(reader.flush());
    if (!out) return undefined;
    const bytes = await out.finish();
    if (out.rows !== sent) throw new TributaryError('INTERNAL', `OPTIMIZE: the encoder thread wrote ${out.rows} of ${sent} rows; nothing was committed`);
    return { bytes, rows: out.rows };
  } catch (e) {
    out?.abort();
    // The thread could not start (or died): the general path encodes on this thread.
    if (!thread.usable) return undefined;
    throw e;
  }
}

/** Files whose rows the main thread decodes itself once this many wait for the encoder thread. */
const LOCAL_DECODE_BACKLOG = 16;

/**
 * Concatenates the rows of Parquet files into one Parquet file in WASM, on the encoder thread:
 * the thread decodes files and writes the rows as they come, and when it falls behind, this
 * thread decodes files too and hands over their Arrow data, so both cores work. Undefined when
 * the files do not all have exactly the table's Arrow types (other writers' files, older
 * schemas): the caller then takes the general path, which conforms every file. Also undefined
 * when WebAssembly could not read a file (damaged): the general path reads the bin file by
 * file and names the file in its error.
 */
async function compactInWasm(snap: Snapshot, files: AddFile[], arrowSchema: arrow.Schema, tick: (file: AddFile) => void): Promise<{ bytes: Uint8Array; rows?: number } | undefined> {
  const encodeOpts = { ...ENCODE_OPTS, keyValueMetadata: defaultKeyValueMetadata() };
  const here = async () => {
    try {
      const bytes = await concatParquetFiles(
        (async function* () {
          for await (const { bytes } of prefetch(snap, files, 64)) yield bytes;
        })(),
        encodeOpts,
      );
      return bytes && { bytes };
    } catch (e) {
      if (isTributaryError(e)) throw e;
      return undefined;
    }
  };
  // Not waiting for the thread to start: its messages queue meanwhile, and this thread decodes
  // files itself while the backlog is long, so start-up time is not idle time.
  const thread = sharedThread();
  if (!thread) return here();
  let out: ThreadFile | undefined;
  const open = (bytes: Uint8Array): ThreadFile | undefined => {
    const first = readParquetToArrow(bytes);
    if (!sameTypes(first.schema, arrowSchema) || !first.batches.length) return undefined;
    return thread.open({ ...encodeOpts, plainColumns: plainColumns(first.batches[0]) }, 64);
  };
  try {
    for await (const input of inputs(snap, files)) {
      if (!out) {
        const head = bytesOf(snap, input);
        out = open(head);
        if (!out) return undefined;
        await out.writeParquet(head);
        tick(input.file);
        continue;
      }
      // Acknowledgements arrive as messages: let them in before judging the backlog.
      if (out.backlog >= LOCAL_DECODE_BACKLOG) await new Promise((r) => setImmediate(r));
      if (out.backlog >= LOCAL_DECODE_BACKLOG) await out.write(pw.readParquet(bytesOf(snap, input)).intoIPCStream());
      else if (input.path) await out.writeParquetFile(input.path);
      else await out.writeParquet(input.bytes!);
      tick(input.file);
    }
    if (!out) return undefined;
    return { bytes: await out.finish(), rows: out.rows };
  } catch (e) {
    out?.abort();
    if (String((e as Error)?.message).includes('SCHEMA_MISMATCH')) return undefined;
    // The thread could not start (or died): compact on this thread instead.
    if (!thread.usable) return here();
    if (isTributaryError(e)) throw e;
    return undefined;
  }
}

/** Same field names and Arrow types (nullability and metadata aside), recursively. */
function sameTypes(a: arrow.Schema, b: arrow.Schema): boolean {
  const sig = (s: arrow.Schema) => JSON.stringify(s.fields.map((f) => [f.name, String(f.type)]));
  return sig(a) === sig(b);
}

async function removeWritten(table: DeltaTable, adds: AddFile[]) {
  await discard(table.storage, adds.map((a) => decodeAddPath(a.path, table.storage.root)));
}

