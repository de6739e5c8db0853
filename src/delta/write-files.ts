import { v4 as uuidv4 } from 'uuid';
import * as arrow from 'apache-arrow';
import { showValue, TributaryError } from '../errors.js';
import { Reject } from '../arrow/coerce.js';
import { type Row, rowsToRecordBatch } from '../arrow/record-batch.js';
import { type Compression, defaultKeyValueMetadata, type ParquetEncoder } from '../parquet/encoder.js';
import type { Storage } from '../storage/storage.js';
import type { AddFile } from './actions.js';
import { encodeAddPath, partitionDirectory, partitionValueText } from './partitions.js';
import type { StructType } from './schema.js';
import { computeStats, type StatsOptions } from './stats.js';
import { failpoint } from '../failpoints.js';

export interface WriteOptions {
  encoder: ParquetEncoder;
  compression: Compression;
  /** Files are cut when their estimated size reaches this many bytes. */
  targetFileSize: number;
  /** Spark's maxRecordsPerFile: cut files at this many rows as well (0 = no limit). */
  maxRecordsPerFile?: number;
  rowGroupRows: number;
  stats: StatsOptions;
}

export const DEFAULT_TARGET_FILE_SIZE = 128 * 1024 * 1024;
export const DEFAULT_ROW_GROUP_ROWS = 1024 * 1024;

export interface PartitionGroup {
  values: Record<string, string | null>;
  rows: Row[];
  indices: number[];
}

/**
 * Splits rows by their partition values. Each value is coerced first, so a bad partition value
 * fails with the row and column like any other bad value.
 */
export function groupByPartition(rows: readonly Row[], schema: StructType, partitionColumns: readonly string[], firstRowIndex = 0): PartitionGroup[] {
  if (partitionColumns.length === 0) {
    return [{ values: {}, rows: rows as Row[], indices: rows.map((_, i) => firstRowIndex + i) }];
  }
  const fields = partitionColumns.map((c) => schema.fields.find((f) => f.name === c)!);
  const groups = new Map<string, PartitionGroup>();
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    const index = firstRowIndex + r;
    if (row === null || typeof row !== 'object') throw new TributaryError('ROW_INVALID', `row ${index}: expected an object, got ${showValue(row)}`, { row: index });
    const values: Record<string, string | null> = {};
    for (const f of fields) {
      const raw = row[f.name];
      if ((raw === null || raw === undefined) && !f.nullable) {
        throw new TributaryError('ROW_INVALID', `row ${index}, column "${f.name}": null in a column that is NOT NULL`, { row: index, column: f.name });
      }
      const text = partitionValueText(f.type, raw);
      if (text instanceof Reject) {
        throw new TributaryError('ROW_INVALID', `row ${index}, column "${f.name}": value ${showValue(raw)} ${text.reason}`, { row: index, column: f.name, value: showValue(raw) });
      }
      values[f.name] = text;
    }
    const key = JSON.stringify(partitionColumns.map((c) => values[c]));
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { values, rows: [], indices: [] }));
    const data: Row = {};
    for (const k in row) if (!partitionColumns.includes(k)) data[k] = row[k];
    g.rows.push(data);
    g.indices.push(index);
  }
  return [...groups.values()];
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

/** Encodes one batch per file, writes it under a unique name and describes it as an AddFile. */
async function writeFile(storage: Storage, dir: string, batch: arrow.RecordBatch, dataSchema: StructType, partitionValues: Record<string, string | null>, opts: WriteOptions, seq: number): Promise<AddFile> {
  const table = new arrow.Table([batch]);
  const bytes = await opts.encoder.encode(table, dataSchema, {
    compression: opts.compression,
    rowGroupRows: opts.rowGroupRows,
    keyValueMetadata: defaultKeyValueMetadata(),
  });
  const codec = opts.compression === 'uncompressed' ? '' : `.${opts.compression}`;
  const name = `part-${String(seq).padStart(5, '0')}-${uuidv4()}-c000${codec}.parquet`;
  const rel = dir ? `${dir}/${name}` : name;
  await storage.write(rel, bytes);
  failpoint('during-parquet-write');
  return {
    path: encodeAddPath(rel),
    partitionValues,
    size: bytes.length,
    modificationTime: Date.now(),
    dataChange: true,
    stats: computeStats(batch.data, dataSchema, opts.stats),
  };
}

/**
 * Writes the rows of one partition as data files near the target size. The first file's
 * compressed size calibrates how many rows fit the target, so later cuts are close.
 */
export async function writePartition(storage: Storage, group: PartitionGroup, dataSchema: StructType, partitionColumns: readonly string[], opts: WriteOptions, seqStart = 0): Promise<AddFile[]> {
  const dir = partitionDirectory(partitionColumns, group.values);
  const batch = rowsToRecordBatch(group.rows, dataSchema, { rowIndices: group.indices });
  return writeBatch(storage, dir, batch, dataSchema, group.values, opts, seqStart);
}

export async function writeBatch(storage: Storage, dir: string, batch: arrow.RecordBatch, dataSchema: StructType, partitionValues: Record<string, string | null>, opts: WriteOptions, seqStart = 0): Promise<AddFile[]> {
  const n = batch.numRows;
  const memBytes = Math.max(1, batchBytes(batch));
  // Assume 3x compression until a real file tells us better.
  let bytesPerRow = memBytes / Math.max(1, n) / 3;
  const adds: AddFile[] = [];
  let start = 0;
  let seq = seqStart;
  while (start < n) {
    let rows = Math.max(1, Math.min(n - start, Math.floor(opts.targetFileSize / Math.max(bytesPerRow, 1e-9))));
    if (opts.maxRecordsPerFile) rows = Math.min(rows, opts.maxRecordsPerFile);
    const slice = start === 0 && rows >= n ? batch : batch.slice(start, start + rows);
    const add = await writeFile(storage, dir, slice, dataSchema, partitionValues, opts, seq++);
    adds.push(add);
    bytesPerRow = add.size / Math.max(1, slice.numRows);
    start += rows;
  }
  return adds;
}
