import * as arrow from 'apache-arrow';
import { v4 as uuidv4 } from 'uuid';
import { checkWholeNumber, TributaryError } from '../../errors.js';
import { concatBatches } from '../../arrow/concat.js';
import { toArrowSchema } from '../../arrow/types.js';
import type { CompactInput, ParquetCompactor, ParquetHandler } from '../../parquet/handler.js';
import type { StructType } from '../../schema/schema.js';
import { discard } from '../../storage/storage.js';
import type { Action, AddFile, RemoveFile } from '../actions.js';
import { commit } from '../commit.js';
import { decodeAddPath, encodeAddPath, partitionDirectory } from '../partitions.js';
import { clusteringBins, clusteringColumnsOf, columnReference, logicalPath } from '../clustering.js';
import { conformBatch, prefetch, readFile } from '../read.js';
import { clusterBin } from './cluster.js';
import type { Snapshot } from '../snapshot.js';
import { mergeStats } from '../stats-merge.js';
import { computeStats } from '../stats.js';
import type { DeltaTable } from '../table.js';
import { dataSchemaOf, DEFAULT_ROW_GROUP_ROWS, writeBatch, type WriteOptions } from '../write-files.js';
import { parsePartitionPredicate, type PartitionPredicate } from './predicate.js';

export interface OptimizeOptions {
  /** Partition predicate, e.g. "date = '2026-11-28'" (partition columns only, AND of =). */
  where?: string;
  targetFileSize?: number;
  /** A partition is compacted only when it has at least this many small files. */
  minFiles?: number;
  /** A Parquet handler for the new files other than the table's (its compactor, if any, is used too). */
  engine?: ParquetHandler;
  /** Marks the commit as auto-compaction (operationParameters.auto). */
  auto?: boolean;
  /** Called as input files are compacted (a file at a time), for progress displays. */
  onProgress?: (p: OptimizeProgress) => void;
  /**
   * Clustered tables: the input bytes one clustering run sorts together (a ZCube, held in memory);
   * a ZCube that reached it is left alone by later runs, smaller ones are merged with new files.
   */
  zCubeSize?: number;
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
/** Spark's is 100 GiB (minCubeSize), sorted by a cluster; one process sorts this much in memory. */
export const DEFAULT_ZCUBE_SIZE = 1024 * 1024 * 1024;

/**
 * OPTIMIZE (bin-packing): per partition, small files are grouped into bins near the target size
 * and each bin is rewritten as new files, all in one commit of remove + add with dataChange=false
 * (streaming readers skip it). Bins are read and written one at a time, so memory is bounded by
 * one bin, not the table. Concurrent blind appends do not conflict; a concurrent operation that
 * removed any of the same files does, and this one then gives up, removing what it wrote.
 * A clustered table is clustered instead, as Spark does it: see clustering.ts and cluster.ts.
 */
export async function optimize(table: DeltaTable, opts: OptimizeOptions = {}): Promise<OptimizeMetrics> {
  const snap = table.snapshot;
  const target = checkWholeNumber('targetFileSize', opts.targetFileSize ?? DEFAULT_TARGET, 1);
  const minFiles = checkWholeNumber('minFiles', opts.minFiles ?? 2, 1);
  const zCubeSize = checkWholeNumber('zCubeSize', opts.zCubeSize ?? DEFAULT_ZCUBE_SIZE, 1);
  // A clustered table (with clustering columns) is clustered, not bin-packed (../clustering.ts).
  const clusteringColumns = clusteringColumnsOf(snap.protocol, snap.state.domains) ?? [];
  const clusterPaths = clusteringColumns.map((c) => logicalPath(snap.schema, c));
  const clusterBy = clusterPaths.map(columnReference);
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
  const parquet = opts.engine ?? table.engine.parquet;
  const wopts: WriteOptions = {
    parquet,
    compression: 'snappy',
    targetFileSize: target,
    rowGroupRows: DEFAULT_ROW_GROUP_ROWS,
    stats: { numIndexedCols: snap.config.numIndexedCols, stringPrefixLength: snap.config.stringPrefixLength },
  };
  const removes: RemoveFile[] = [];
  const adds: AddFile[] = [];
  // Per partition, the bins to rewrite: small files packed near the target size, or, clustering,
  // the ZCubes to write (every file not yet in a large enough ZCube, whatever its size).
  const plan: AddFile[][][] = clusterPaths.length
    ? [clusteringBins(snap.files, clusterBy, zCubeSize, zCubeSize)].filter((bins) => bins.length > 0)
    : [...groups.values()].filter((files) => files.length >= minFiles).map((files) => binsOf(files, target).filter((b) => b.length >= 2));
  const progress = progressCounter(opts.onProgress, opts.onProgress ? plan.flat() : []);
  let partitions = 0;
  let numBatches = 0;
  const now = Date.now();
  try {
    for (const bins of plan) {
      partitions++;
      for (const b of bins) {
        numBatches++;
        const tick = progress.bin();
        const values = b[0].partitionValues;
        const dir = partitionDirectory(snap.partitionColumns, values);
        // Fast path: the Parquet handler's compactor, when it has one (parquet-wasm: the encoder
        // thread, without decoding the files into JavaScript values).
        const compacted = !clusterPaths.length && parquet.compactor ? await compactBin(snap, parquet.compactor, b, dataSchema, arrowSchema, tick) : undefined;
        if (clusterPaths.length) {
          adds.push(...(await clusterBin(table, snap, b, dataSchema, arrowSchema, clusterPaths, clusterBy, wopts, tick)));
        } else if (compacted) {
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
          const written = await writeBatch(table.storage, merged, dataSchema, snap.partitionColumns, { ...values }, wopts);
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
        operationParameters: {
          predicate: JSON.stringify(opts.where ? [opts.where] : []),
          zOrderBy: '[]',
          clusterBy: JSON.stringify(clusterBy),
          auto: String(opts.auto ?? false),
          ...(clusterPaths.length ? { isFull: 'false' } : {}),
        },
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
  const back = wopts.parquet.read(bytes);
  const merged = concatBatches(back.batches.map((rb) => conformBatch(rb, dataSchema, arrowSchema)), arrowSchema);
  return computeStats(merged.data, dataSchema, wopts.stats);
}

async function storeCompacted(table: DeltaTable, dir: string, bytes: Uint8Array, values: Record<string, string | null>, stats: string, seq: number): Promise<AddFile> {
  const name = `part-${String(seq).padStart(5, '0')}-${uuidv4()}-c000.snappy.parquet`;
  const rel = dir ? `${dir}/${name}` : name;
  await table.storage.write(rel, bytes);
  return { path: encodeAddPath(rel), partitionValues: { ...values }, size: bytes.length, modificationTime: Date.now(), dataChange: false, stats };
}

/**
 * A bin through the compactor: the files are read through the table's storage (64 ahead), and
 * a file the compactor's fast path refuses is read by the general reader, which conforms it to
 * the table's types or names it in its error.
 */
function compactBin(snap: Snapshot, compactor: ParquetCompactor, files: AddFile[], dataSchema: StructType, arrowSchema: arrow.Schema, tick: (file: AddFile) => void): Promise<{ bytes: Uint8Array; rows?: number } | undefined> {
  const byName = new Map(files.map((f) => [f.path, f]));
  const inputs = (async function* (): AsyncGenerator<CompactInput> {
    // A file counts as compacted once the compactor asks for the next one.
    for await (const { file, bytes } of prefetch(snap, files, 64)) {
      yield { name: file.path, bytes };
      tick(file);
    }
  })();
  return compactor.compact(inputs, arrowSchema, (input) => readFile(snap, byName.get(input.name)!, dataSchema, arrowSchema, input.bytes));
}

async function removeWritten(table: DeltaTable, adds: AddFile[]) {
  await discard(table.storage, adds.map((a) => decodeAddPath(a.path, table.storage.root)));
}

