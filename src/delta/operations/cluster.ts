import * as arrow from 'apache-arrow';
import { v4 as uuidv4 } from 'uuid';
import { concatBatches } from '../../arrow/concat.js';
import { rangeIds } from '../../arrow/range-ids.js';
import { takeBatch } from '../../arrow/take.js';
import { TributaryError } from '../../errors.js';
import type { AddFile } from '../actions.js';
import { clusteredFile } from '../clustering.js';
import { prefetch } from '../read.js';
import type { RowTrackingRewrite } from './row-tracking-rewrite.js';
import type { Snapshot } from '../snapshot.js';
import { hilbertIndexNumber, MAX_NUMBER_BITS } from '../space-filling-curve.js';
import type { DeltaTable } from '../table.js';
import { writeBatch, type WriteOptions } from '../write-files.js';

/**
 * One bin of a clustering OPTIMIZE (the I/O half; the rules are in ../clustering.ts): the files'
 * rows are read, ordered along the space-filling curve of their clustering columns, and written
 * as one new ZCube of about binBytes / targetFileSize files (delta-spark's approxNumFiles), each a
 * contiguous stretch of the curve, so each covers a small range of every clustering column.
 */
export async function clusterBin(
  table: DeltaTable,
  snap: Snapshot,
  files: AddFile[],
  clustering: ClusteringRun,
  rewrite: RowTrackingRewrite,
  wopts: WriteOptions,
  tick: (file: AddFile) => void,
): Promise<AddFile[]> {
  const batches: arrow.RecordBatch[] = [];
  for await (const { file, bytes } of prefetch(snap, files, 64)) {
    batches.push(...(await rewrite.read(file, bytes)));
    tick(file);
  }
  // Rows deletion vectors deleted are gone; when nothing is left, nothing replaces the files.
  const rows = batches.filter((b) => b.numRows > 0);
  if (!rows.length) return [];
  const merged = concatBatches(rows, rewrite.arrowSchema);
  const sorted = takeBatch(merged, curveOrder(merged, clustering.columns));
  const binBytes = files.reduce((n, f) => n + f.size, 0);
  const numFiles = Math.max(1, Math.floor(binBytes / wopts.targetFileSize));
  // Files are cut by rows, evenly: the curve order, not the encoder's size estimate, decides what goes together.
  const rowsPerFile = Math.max(1, Math.ceil(sorted.numRows / numFiles));
  // Clustered tables are never partitioned (Spark refuses both), so the files go at the root.
  const written = await writeBatch(table.storage, sorted, rewrite.fileSchema, [], {}, { ...wopts, targetFileSize: Number.MAX_SAFE_INTEGER, maxRecordsPerFile: rowsPerFile });
  const zCubeId = uuidv4();
  return written.map((a) => clusteredFile({ ...a, stats: rewrite.tableStats(a.stats) ?? undefined }, zCubeId, clustering.logicalNames));
}

/** The clustering of one OPTIMIZE: the columns as the rows name them (physical paths) and as Spark prints them. */
export interface ClusteringRun {
  columns: readonly (readonly string[])[];
  logicalNames: readonly string[];
}

/** delta-spark's spark.databricks.io.skipping.mdc.rangeId.max, and the bits its ids take. */
export const NUM_RANGE_IDS = 1000;
const RANGE_ID_BITS = 10;

/**
 * The rows of `batch` in clustering order: each clustering column's values become range ids (about
 * equal-sized quantiles, 0..999), and rows are sorted by their point's position on the curve
 * through those ids: Hilbert for two or more columns, plain id order (Z-order of one dimension)
 * for one, as delta-spark's MultiDimClustering chooses. Ties keep the rows' order.
 */
export function curveOrder(batch: arrow.RecordBatch, columns: readonly (readonly string[])[]): Int32Array {
  const n = batch.numRows;
  const ids = columns.map((path) => {
    const c = leafColumn(batch, path);
    return rangeIds(c.data, c.present, NUM_RANGE_IDS);
  });
  const dims = ids.length;
  if (dims * RANGE_ID_BITS > MAX_NUMBER_BITS) throw new TributaryError('INTERNAL', `clustering by ${dims} columns does not fit a curve position in a number`);
  const keys = new Float64Array(n);
  if (dims === 1) keys.set(ids[0]);
  else {
    const point = new Uint32Array(dims);
    const scratch = new Uint32Array(dims);
    for (let r = 0; r < n; r++) {
      for (let k = 0; k < dims; k++) point[k] = ids[k][r];
      keys[r] = hilbertIndexNumber(point, RANGE_ID_BITS, scratch);
    }
  }
  const order = Int32Array.from({ length: n }, (_, i) => i);
  return order.sort((a, b) => keys[a] - keys[b] || a - b);
}

/** A clustering column's data (a top-level column or a field inside structs) and which rows hold a value. */
function leafColumn(batch: arrow.RecordBatch, path: readonly string[]): { data: arrow.Data; present: (row: number) => boolean } {
  const chain: arrow.Data[] = [];
  let fields = batch.schema.fields;
  let data: arrow.Data = batch.data;
  for (const part of path) {
    const i = fields.findIndex((f) => f.name === part);
    if (i < 0) throw new TributaryError('INTERNAL', `clustering column ${path.join('.')} is not in the data`);
    data = data.children[i];
    chain.push(data);
    fields = arrow.DataType.isStruct(data.type) ? data.type.children : [];
  }
  const valid = (d: arrow.Data, r: number) => {
    if (!d.nullBitmap || d.nullCount === 0 || d.nullBitmap.length === 0) return true;
    const j = d.offset + r;
    return (d.nullBitmap[j >> 3] & (1 << (j & 7))) !== 0;
  };
  // A field of a null struct is null.
  return { data, present: (r) => chain.every((d) => valid(d, r)) };
}
