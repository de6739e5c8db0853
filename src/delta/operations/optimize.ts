import * as arrow from 'apache-arrow';
import { TributaryError } from '../../errors.js';
import { toArrowSchema } from '../../arrow/types.js';
import { concatBatches } from '../../arrow/concat.js';
import { makeEncoder } from '../../parquet/engines.js';
import type { Action, AddFile, RemoveFile } from '../actions.js';
import { commit } from '../commit.js';
import { decodeAddPath, partitionDirectory } from '../partitions.js';
import { conformBatch, prefetch, readFile } from '../read.js';
import { concatParquetFiles } from '../../parquet/ipc-concat.js';
import { defaultKeyValueMetadata } from '../../parquet/encoder.js';
import { readParquetToArrow } from '../../parquet/reader.js';
import { computeStats } from '../stats.js';
import { encodeAddPath } from '../partitions.js';
import type { StructType } from '../schema.js';
import { v4 as uuidv4 } from 'uuid';
import type { DeltaTable } from '../table.js';
import { dataSchemaOf, DEFAULT_ROW_GROUP_ROWS, writeBatch, type WriteOptions } from '../write-files.js';
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
  const target = opts.targetFileSize ?? DEFAULT_TARGET;
  const minFiles = opts.minFiles ?? 2;
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
  let partitions = 0;
  let numBatches = 0;
  const now = Date.now();
  try {
    for (const files of groups.values()) {
      if (files.length < minFiles) continue;
      partitions++;
      // First-fit bins in path order, each up to the target size.
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
      for (const b of bins) {
        if (b.length < 2) continue;
        numBatches++;
        const values = b[0].partitionValues;
        const dir = partitionDirectory(snap.partitionColumns, values);
        const raw: Uint8Array[] = [];
        async function* reading() {
          for await (const { bytes } of prefetch(snap, b, 64)) {
            raw.push(bytes);
            yield bytes;
          }
        }
        // Fast path: identical schemas are spliced in WASM, with no JavaScript decoding.
        const spliced = opts.engine ? undefined : await concatParquetFiles(reading(), { compression: 'snappy', rowGroupRows: DEFAULT_ROW_GROUP_ROWS, keyValueMetadata: defaultKeyValueMetadata() });
        if (!spliced) for await (const { bytes } of prefetch(snap, b.slice(raw.length), 64)) raw.push(bytes);
        if (spliced) {
          adds.push({ ...(await addForBytes(table, dir, spliced, dataSchema, arrowSchema, values, wopts, adds.length)), dataChange: false });
        } else {
          const batches: arrow.RecordBatch[] = [];
          for (let i = 0; i < b.length; i++) batches.push(...(await readFile(snap, b[i], dataSchema, arrowSchema, raw[i])));
          const merged = concatBatches(batches, arrowSchema);
          const written = await writeBatch(table.storage, dir, merged, dataSchema, { ...values }, wopts, adds.length);
          for (const w of written) adds.push({ ...w, dataChange: false });
        }
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

/** Writes already-encoded Parquet bytes as a data file; stats come from reading them back. */
async function addForBytes(table: DeltaTable, dir: string, bytes: Uint8Array, dataSchema: StructType, arrowSchema: arrow.Schema, values: Record<string, string | null>, wopts: WriteOptions, seq: number): Promise<AddFile> {
  const back = readParquetToArrow(bytes);
  const batches = back.batches.map((rb) => conformBatch(rb, dataSchema, arrowSchema));
  const merged = concatBatches(batches, arrowSchema);
  const name = `part-${String(seq).padStart(5, '0')}-${uuidv4()}-c000.snappy.parquet`;
  const rel = dir ? `${dir}/${name}` : name;
  await table.storage.write(rel, bytes);
  return { path: encodeAddPath(rel), partitionValues: { ...values }, size: bytes.length, modificationTime: Date.now(), dataChange: false, stats: computeStats(merged.data, dataSchema, wopts.stats) };
}

async function removeWritten(table: DeltaTable, adds: AddFile[]) {
  for (const a of adds) await table.storage.delete(decodeAddPath(a.path, table.storage.root)).catch(() => undefined);
}

