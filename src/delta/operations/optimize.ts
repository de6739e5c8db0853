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
import { DeletionVectorLoader } from '../deletion-vector.js';
import { checkWritable } from '../protocol-support.js';
import { conformBatch, prefetch, readFile } from '../read.js';
import { clusterBin, type ClusteringRun } from './cluster.js';
import type { Snapshot } from '../snapshot.js';
import { mergeStats } from '../stats-merge.js';
import { computeStats } from '../stats.js';
import type { DeltaTable } from '../table.js';
import { dataSchemaOf, OPTIMIZE_ROW_GROUP_ROWS, writeBatch, type WriteOptions } from '../write-files.js';
import { parsePartitionPredicate, type PartitionPredicate } from './predicate.js';
import { columnMappingMode, logicalPartitionValues, physicalSchema, relabelBatch } from '../column-mapping.js';
import { PRESERVED_ROW_TRACKING_TAG, rowTrackingFields, rowTrackingRewrite, type RowTrackingRewrite } from './row-tracking-rewrite.js';
import type { ColumnMappingMode } from '../column-mapping.js';
import { ownField } from '../../arrow/own-fields.js';

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
  /** Only the files this accepts are compacted (auto-compaction takes one level of its tiers). */
  include?: (file: AddFile) => boolean;
  /** Tags on the new files (`add.tags`; auto-compaction records the level of what it wrote). */
  tags?: Record<string, string>;
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
  checkWritable(snap.protocol, snap.metadata, table.storage.root);
  const target = checkWholeNumber('targetFileSize', opts.targetFileSize ?? DEFAULT_TARGET, 1);
  const minFiles = checkWholeNumber('minFiles', opts.minFiles ?? 2, 1);
  const zCubeSize = checkWholeNumber('zCubeSize', opts.zCubeSize ?? DEFAULT_ZCUBE_SIZE, 1);
  // A clustered table (with clustering columns) is clustered, not bin-packed (../clustering.ts).
  // The domain names physical columns, which is how the rows being rewritten name them too.
  const clusteringColumns = clusteringColumnsOf(snap.protocol, snap.state.domains) ?? [];
  const clusterBy = clusteringColumns.map((c) => columnReference(logicalPath(snap.schema, c)));
  const clustering: ClusteringRun | undefined = clusteringColumns.length ? { columns: clusteringColumns, logicalNames: clusterBy } : undefined;
  const pred: PartitionPredicate = parsePartitionPredicate(opts.where, snap.partitionColumns, (col) => snap.schema.fields.find((f) => f.name === col)!.type);
  // Files hold physical names (column mapping); the predicate names logical partition columns.
  const mode = columnMappingMode(snap.metadata.configuration);
  const partitionColumns = snap.physicalPartitionColumns;
  const groups = new Map<string, AddFile[]>();
  for (const f of snap.files) {
    if (!pred.matches(logicalPartitionValues(f.partitionValues, snap.partitionColumns, partitionColumns))) continue;
    // Already big enough, unless deletion vectors hide enough of its rows (Spark's rule).
    if (f.size >= target * 0.75 && !tooManyDeletedRows(f)) continue;
    if (opts.include && !opts.include(f)) continue;
    const key = JSON.stringify(partitionColumns.map((c) => ownField(f.partitionValues, c) ?? null));
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(f);
  }
  // Files are read as the table's logical columns, and written, like their stats, under the
  // physical names and field ids (the same schema without column mapping).
  const logicalData = dataSchemaOf(snap.schema, snap.partitionColumns);
  const logicalArrow = toArrowSchema(logicalData);
  const dataSchema = dataSchemaOf(physicalSchema(snap.schema, mode), partitionColumns);
  const arrowSchema = toArrowSchema(dataSchema);
  const read = async (file: AddFile, bytes: Uint8Array) => {
    const batches = await readFile(snap, file, logicalData, mode === 'none' ? arrowSchema : logicalArrow, bytes, dvs);
    return mode === 'none' ? batches : batches.map((b) => relabelBatch(b, arrowSchema));
  };
  const parquet = opts.engine ?? table.engine.parquet;
  // Row ids must survive the rewrite: such tables take the general path, which materializes them.
  // Their files are read as logical columns plus the hidden ones (which have no physical name:
  // they are found by their own), then relabelled like the rest.
  const rowTrackingLogical = rowTrackingRewrite(snap, logicalData);
  const rowTracking = rowTrackingLogical && withPhysicalNames(rowTrackingLogical, dataSchema, mode);
  const wopts: WriteOptions = {
    parquet,
    compression: 'snappy',
    targetFileSize: target,
    rowGroupRows: OPTIMIZE_ROW_GROUP_ROWS,
    stats: { numIndexedCols: snap.config.numIndexedCols, stringPrefixLength: snap.config.stringPrefixLength },
  };
  const removes: RemoveFile[] = [];
  const adds: AddFile[] = [];
  // Per partition, the bins to rewrite: small files packed near the target size, or, clustering,
  // the ZCubes to write (every file not yet in a large enough ZCube, whatever its size).
  const plan: AddFile[][][] = clustering
    ? [clusteringBins(opts.include ? snap.files.filter(opts.include) : snap.files, clusterBy, zCubeSize, zCubeSize)].filter((bins) => bins.length > 0)
    : [...groups.values()].filter((files) => files.length >= minFiles).map((files) => binsOf(files, target).filter((b) => b.length >= 2));
  const progress = progressCounter(opts.onProgress, opts.onProgress ? plan.flat() : []);
  let partitions = 0;
  let numBatches = 0;
  let dvsRemoved = 0;
  let dvRowsRemoved = 0;
  const dvs = new DeletionVectorLoader(table.storage);
  // What a clustering run reads and writes: the row-tracking rewrite, or the plain one.
  const rewrite: RowTrackingRewrite = rowTracking
    ? { ...rowTracking, read: (f, bytes) => rowTracking.read(f, bytes, dvs) }
    : { fileSchema: dataSchema, arrowSchema, read: (f, bytes) => read(f, bytes), tableStats: (s) => s };
  const now = Date.now();
  try {
    for (const bins of plan) {
      partitions++;
      for (const b of bins) {
        numBatches++;
        const tick = progress.bin();
        const values = b[0].partitionValues;
        const dir = partitionDirectory(partitionColumns, values);
        // Fast path: the Parquet handler's compactor, when it has one (parquet-wasm: the encoder
        // thread, without decoding the files into JavaScript values). Files with deletion vectors
        // take the general path, which leaves their deleted rows out (and computes the stats of
        // what remains: their logged stats still count the deleted rows). Clustering sorts rows,
        // so it always decodes them.
        const hasDvs = b.some((f) => f.deletionVector);
        const compacted = !clustering && parquet.compactor && !rowTracking && !hasDvs ? await compactBin(snap, parquet.compactor, b, arrowSchema, read, tick) : undefined;
        if (clustering) {
          adds.push(...(await clusterBin(table, snap, b, clustering, rewrite, wopts, tick)));
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
            batches.push(...(rowTracking ? await rowTracking.read(file, bytes, dvs) : await read(file, bytes)));
            tick(file);
          }
          // Every row of the bin may have been deleted: then the files go and nothing replaces them.
          const rows = batches.filter((x) => x.numRows > 0);
          const written = rows.length ? await writeBatch(table.storage, concatBatches(rows, rowTracking?.arrowSchema ?? arrowSchema), rowTracking?.fileSchema ?? dataSchema, partitionColumns, { ...values }, wopts) : [];
          for (const w of written) adds.push({ ...w, ...(rowTracking ? { stats: rowTracking.tableStats(w.stats) } : {}), dataChange: false });
        }
        progress.binDone(b);
        for (const f of b) {
          // The remove names the logical file: its path and its deletion vector.
          removes.push({
            path: f.path,
            deletionTimestamp: now,
            dataChange: false,
            extendedFileMetadata: true,
            partitionValues: f.partitionValues,
            size: f.size,
            ...rowTrackingFields(f),
            ...(f.stats ? { stats: f.stats } : {}),
            ...(f.deletionVector ? { deletionVector: f.deletionVector } : {}),
          });
          if (f.deletionVector) {
            dvsRemoved++;
            dvRowsRemoved += f.deletionVector.cardinality;
          }
        }
      }
    }
  } catch (e) {
    await removeWritten(table, adds);
    throw e;
  }
  if (opts.tags) for (const a of adds) a.tags = { ...a.tags, ...opts.tags };
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
          ...(clustering ? { isFull: 'false' } : {}),
        },
        ...(rowTracking ? { tags: PRESERVED_ROW_TRACKING_TAG } : {}),
        operationMetrics: {
          numRemovedFiles: String(metrics.numFilesRemoved),
          numAddedFiles: String(metrics.numFilesAdded),
          numRemovedBytes: String(metrics.numBytesRemoved),
          numAddedBytes: String(metrics.numBytesAdded),
          numBatches: String(numBatches),
          numPartitionsOptimized: String(partitions),
          numDeletionVectorsRemoved: String(dvsRemoved),
          numDeletionVectorRowsRemoved: String(dvRowsRemoved),
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

/**
 * Spark's OPTIMIZE also rewrites a large file when its deletion vector hides more than 5% of its
 * rows (`optimize.maxDeletedRowsRatio`), or when it has a DV but no row count to judge by.
 */
const MAX_DELETED_ROWS_RATIO = 0.05;

function tooManyDeletedRows(f: AddFile): boolean {
  if (!f.deletionVector) return false;
  const n = f.stats ? (JSON.parse(f.stats) as { numRecords?: number }).numRecords : undefined;
  return typeof n !== 'number' || (n > 0 && f.deletionVector.cardinality / n > MAX_DELETED_ROWS_RATIO);
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
function compactBin(
  snap: Snapshot,
  compactor: ParquetCompactor,
  files: AddFile[],
  arrowSchema: arrow.Schema,
  read: (file: AddFile, bytes: Uint8Array) => Promise<arrow.RecordBatch[]>,
  tick: (file: AddFile) => void,
): Promise<{ bytes: Uint8Array; rows?: number } | undefined> {
  const byName = new Map(files.map((f) => [f.path, f]));
  const inputs = (async function* (): AsyncGenerator<CompactInput> {
    // A file counts as compacted once the compactor asks for the next one.
    for await (const { file, bytes } of prefetch(snap, files, 64)) {
      yield { name: file.path, bytes };
      tick(file);
    }
  })();
  return compactor.compact(inputs, arrowSchema, (input) => read(byName.get(input.name)!, input.bytes));
}

/** A row-tracking rewrite that reads logical columns and writes them under their physical names. */
function withPhysicalNames(rt: RowTrackingRewrite, physicalData: StructType, mode: ColumnMappingMode): RowTrackingRewrite {
  if (mode === 'none') return rt;
  const hidden = rt.fileSchema.fields.slice(physicalData.fields.length);
  const fileSchema: StructType = { kind: 'struct', fields: [...physicalData.fields, ...hidden] };
  const arrowSchema = toArrowSchema(fileSchema);
  return { ...rt, fileSchema, arrowSchema, read: async (file, bytes) => (await rt.read(file, bytes)).map((b) => relabelBatch(b, arrowSchema)) };
}

async function removeWritten(table: DeltaTable, adds: AddFile[]) {
  await discard(table.storage, adds.map((a) => decodeAddPath(a.path, table.storage.root)));
}

