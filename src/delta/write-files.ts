import { v4 as uuidv4 } from 'uuid';
import * as arrow from 'apache-arrow';
import { checkWholeNumber, showValue, TributaryError } from '../errors.js';
import { Reject } from '../arrow/coerce.js';
import { type Row, rowsToRecordBatch } from '../arrow/record-batch.js';
import { type Compression, defaultKeyValueMetadata, MAX_ROW_GROUP_ROWS, type ParquetEncoder } from '../parquet/encoder.js';
import type { Storage } from '../storage/storage.js';
import type { AddFile } from './actions.js';
import { encodeAddPath, MAX_NAME_BYTES, overlongDirectoryName, partitionValueText } from './partitions.js';
import type { StructType } from '../schema/schema.js';
import { StatsCollector, type StatsOptions } from './stats.js';
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

/**
 * The sizes a writer cuts files and row groups at, checked before any row is encoded: a NaN
 * target would cut nothing, 0 a file per row, and a row-group size of 0 traps in WebAssembly.
 */
export function checkWriteOptions(opts: Pick<WriteOptions, 'targetFileSize' | 'maxRecordsPerFile' | 'rowGroupRows'>): void {
  checkWholeNumber('targetFileSize', opts.targetFileSize, 1);
  if (opts.maxRecordsPerFile !== undefined) checkWholeNumber('maxRecordsPerFile', opts.maxRecordsPerFile, 0);
  checkWholeNumber('rowGroupRows', opts.rowGroupRows, 1, MAX_ROW_GROUP_ROWS);
}

export interface PartitionGroup {
  values: Record<string, string | null>;
  rows: Row[];
  /** Input index of each row; undefined when the rows are the input itself, from firstRowIndex. */
  indices: number[] | undefined;
  firstRowIndex: number;
}

/**
 * Splits rows by their partition values. Each value is coerced first, so a bad partition value
 * fails with the row and column like any other bad value.
 */
export function groupByPartition(rows: readonly Row[], schema: StructType, partitionColumns: readonly string[], firstRowIndex = 0): PartitionGroup[] {
  if (partitionColumns.length === 0) {
    return [{ values: {}, rows: rows as Row[], indices: undefined, firstRowIndex }];
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
    if (!g) {
      for (const f of fields) {
        const bytes = overlongDirectoryName(f.name, values[f.name]);
        if (bytes !== undefined) {
          throw new TributaryError(
            'PARTITION_INVALID',
            `row ${index}, column "${f.name}": value ${showValue(row[f.name])} (${[...(values[f.name] ?? '')].length} characters) makes a partition directory name of ${bytes} bytes after Hive escaping; file systems allow ${MAX_NAME_BYTES}`,
            { row: index, column: f.name, value: showValue(row[f.name]), bytes },
          );
        }
      }
      groups.set(key, (g = { values, rows: [], indices: [], firstRowIndex: 0 }));
    }
    const data: Row = {};
    for (const k in row) if (!partitionColumns.includes(k)) data[k] = row[k];
    g.rows.push(data);
    g.indices!.push(index);
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

/**
 * Rows are built into Arrow and handed to the encoder in chunks of this many: small enough that
 * a chunk's buffers die young (no full garbage collection over the caller's rows), large enough
 * that per-chunk costs vanish, and the encoder thread works on one chunk while the next is built.
 */
export const CHUNK_ROWS = 65_536;

/** The rows of one file-set, handed out as Arrow chunks of at most `max` rows. */
export interface ChunkSource {
  readonly total: number;
  next(max: number): arrow.RecordBatch | undefined;
}

/** Builds (and so validates) each chunk of a partition's rows only when the encoder wants it. */
export function rowChunks(group: PartitionGroup, dataSchema: StructType): ChunkSource {
  let pos = 0;
  const rows = group.rows;
  return {
    total: rows.length,
    next(max) {
      if (pos >= rows.length) return undefined;
      const end = Math.min(rows.length, pos + max);
      const batch = rowsToRecordBatch(rows, dataSchema, { from: pos, to: end, firstRowIndex: group.firstRowIndex, rowIndices: group.indices?.slice(pos, end) });
      pos = end;
      return batch;
    },
  };
}

export function batchChunks(batch: arrow.RecordBatch): ChunkSource {
  let pos = 0;
  return {
    total: batch.numRows,
    next(max) {
      if (pos >= batch.numRows) return undefined;
      const end = Math.min(batch.numRows, pos + max);
      const chunk = pos === 0 && end === batch.numRows ? batch : batch.slice(pos, end);
      pos = end;
      return chunk;
    },
  };
}

/** A data file encoded in memory and described, not yet in storage. */
export interface EncodedFile {
  rel: string;
  bytes: Uint8Array;
  add: AddFile;
}

/**
 * Encodes a partition's rows as data files near the target size, chunk by chunk, with exact
 * stats gathered on the way. Nothing touches storage: a bad value in the last chunk fails the
 * append before any file exists. The first file's compressed size calibrates how many rows fit
 * the target, so later cuts are close.
 */
export async function encodeFiles(source: ChunkSource, dir: string, dataSchema: StructType, partitionValues: Record<string, string | null>, opts: WriteOptions, seqStart = 0): Promise<EncodedFile[]> {
  checkWriteOptions(opts);
  const out: EncodedFile[] = [];
  const encodeOpts = { compression: opts.compression, rowGroupRows: opts.rowGroupRows, keyValueMetadata: defaultKeyValueMetadata() };
  let bytesPerRow: number | undefined;
  let carry: arrow.RecordBatch | undefined;
  let left = source.total;
  let seq = seqStart;
  for (;;) {
    let chunk = carry ?? source.next(Math.min(CHUNK_ROWS, opts.maxRecordsPerFile || CHUNK_ROWS));
    carry = undefined;
    if (!chunk) break;
    // Assume 3x compression until a real file tells us better.
    bytesPerRow ??= Math.max(1, batchBytes(chunk)) / Math.max(1, chunk.numRows) / 3;
    let limit = Math.max(1, Math.floor(opts.targetFileSize / Math.max(bytesPerRow, 1e-9)));
    if (opts.maxRecordsPerFile) limit = Math.min(limit, opts.maxRecordsPerFile);
    const writer = opts.encoder.open(dataSchema, encodeOpts, Math.min(limit, left));
    const stats = new StatsCollector(dataSchema, opts.stats);
    let rows = 0;
    let bytes: Uint8Array;
    try {
      while (chunk) {
        if (rows + chunk.numRows > limit) {
          carry = chunk.slice(limit - rows);
          chunk = chunk.slice(0, limit - rows);
        }
        stats.add(chunk.data);
        await writer.write(chunk);
        rows += chunk.numRows;
        if (carry || rows >= limit) break;
        chunk = source.next(Math.min(CHUNK_ROWS, limit - rows));
      }
      bytes = await writer.finish();
    } catch (e) {
      writer.abort();
      throw e;
    }
    left -= rows;
    bytesPerRow = bytes.length / Math.max(1, rows);
    const codec = opts.compression === 'uncompressed' ? '' : `.${opts.compression}`;
    const name = `part-${String(seq++).padStart(5, '0')}-${uuidv4()}-c000${codec}.parquet`;
    const rel = dir ? `${dir}/${name}` : name;
    out.push({
      rel,
      bytes,
      add: { path: encodeAddPath(rel), partitionValues, size: bytes.length, modificationTime: Date.now(), dataChange: true, stats: stats.toJSON() },
    });
  }
  return out;
}

/** Puts encoded files into storage; their AddFiles are ready to commit once this returns. */
export async function storeFiles(storage: Storage, files: EncodedFile[]): Promise<AddFile[]> {
  const adds: AddFile[] = [];
  for (const f of files) {
    await storage.write(f.rel, f.bytes);
    failpoint('during-parquet-write');
    f.add.modificationTime = Date.now();
    adds.push(f.add);
  }
  return adds;
}

/** Encodes and stores one Arrow batch as data files (OPTIMIZE, Arrow-input sinks). */
export async function writeBatch(storage: Storage, dir: string, batch: arrow.RecordBatch, dataSchema: StructType, partitionValues: Record<string, string | null>, opts: WriteOptions, seqStart = 0): Promise<AddFile[]> {
  return storeFiles(storage, await encodeFiles(batchChunks(batch), dir, dataSchema, partitionValues, opts, seqStart));
}
