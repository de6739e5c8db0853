import * as arrow from 'apache-arrow';
import { toArrowSchema } from '../../arrow/types.js';
import { field, primitive, type StructType } from '../../schema/schema.js';
import type { AddFile } from '../actions.js';
import { readFile } from '../read.js';
import { DeletionVectorLoader, dropDeletedRows } from '../deletion-vector.js';
import { decodeAddPath } from '../partitions.js';
import { materializedColumns, preservedRowTracking } from '../row-tracking.js';
import type { Snapshot } from '../snapshot.js';

/**
 * How a rewrite (OPTIMIZE) keeps row ids stable, as delta-spark does (RowTracking
 * .preserveRowTrackingColumns): while row tracking is enabled, the new files carry each row's id
 * and commit version in the hidden columns the table configuration names; the new files then
 * get fresh baseRowIds like any new file (commit.ts), which readers use only for rows without a
 * materialized id. The hidden columns are data columns of the file, never of the table schema,
 * so readers that project the table schema (ours, delta-rs) never show them.
 */
export interface RowTrackingRewrite {
  /** The data schema plus the two materialized columns (nullable longs, last). */
  fileSchema: StructType;
  arrowSchema: arrow.Schema;
  /** Reads one input file with its rows' ids and commit versions filled in (deleted rows left out). */
  read(file: AddFile, bytes: Uint8Array, dvs?: DeletionVectorLoader): Promise<arrow.RecordBatch[]>;
  /** A new file's stats without the hidden columns (Spark collects stats of table columns only). */
  tableStats(stats: string | null | undefined): string | null | undefined;
}

/** commitInfo tags of a rewrite that kept row ids (delta-spark's PreservedRowTrackingTag). */
export const PRESERVED_ROW_TRACKING_TAG: Readonly<Record<string, string>> = { 'delta.rowTracking.preserved': 'true' };

/** A removed file keeps its row tracking fields in the remove action, as Spark writes it. */
export function rowTrackingFields(f: AddFile): Pick<AddFile, 'baseRowId' | 'defaultRowCommitVersion'> {
  return {
    ...(f.baseRowId != null ? { baseRowId: f.baseRowId } : {}),
    ...(f.defaultRowCommitVersion != null ? { defaultRowCommitVersion: f.defaultRowCommitVersion } : {}),
  };
}

/** The rewrite plan of a table whose row ids must be preserved, or undefined. */
export function rowTrackingRewrite(snap: Snapshot, dataSchema: StructType): RowTrackingRewrite | undefined {
  const cols = materializedColumns(snap.protocol, snap.metadata);
  if (!cols) return undefined;
  const fileSchema: StructType = { kind: 'struct', fields: [...dataSchema.fields, field(cols.rowId, primitive('long')), field(cols.rowCommitVersion, primitive('long'))] };
  const arrowSchema = toArrowSchema(fileSchema);
  const n = dataSchema.fields.length;
  const hidden = [cols.rowId, cols.rowCommitVersion];
  return {
    fileSchema,
    arrowSchema,
    tableStats(stats) {
      if (!stats) return stats;
      const j = JSON.parse(stats) as Record<string, unknown>;
      for (const k of ['minValues', 'maxValues', 'nullCount']) {
        const m = j[k] as Record<string, unknown> | undefined;
        if (m) for (const h of hidden) delete m[h];
      }
      return JSON.stringify(j);
    },
    async read(file, bytes, dvs) {
      // Files written before (appends) have no materialized columns: they read as nulls here.
      // A row's id is baseRowId + its index in the file, deleted rows counted: the ids are
      // computed over every row, and the rows a deletion vector deletes are dropped after.
      const batches = await readFile(snap, { ...file, deletionVector: null }, fileSchema, arrowSchema, bytes);
      const total = batches.reduce((k, b) => k + b.numRows, 0);
      const ids: (bigint | null)[] = [];
      const versions: (bigint | null)[] = [];
      for (const b of batches) {
        const idCol = b.getChildAt(n)!;
        const vCol = b.getChildAt(n + 1)!;
        for (let i = 0; i < b.numRows; i++) {
          ids.push(idCol.get(i) as bigint | null);
          versions.push(vCol.get(i) as bigint | null);
        }
      }
      const { rowIds, rowCommitVersions } = preservedRowTracking(file, total, (i) => ids[i], (i) => versions[i]);
      let at = 0;
      const out = batches.map((b) => {
        const len = b.numRows;
        const children = [
          ...b.data.children.slice(0, n),
          arrow.makeData({ type: new arrow.Int64(), length: len, nullCount: 0, data: rowIds.subarray(at, at + len) }),
          arrow.makeData({ type: new arrow.Int64(), length: len, nullCount: 0, data: rowCommitVersions.subarray(at, at + len) }),
        ];
        at += len;
        return new arrow.RecordBatch(arrowSchema, arrow.makeData({ type: new arrow.Struct(arrowSchema.fields), length: len, nullCount: 0, children }));
      });
      if (!file.deletionVector) return out;
      const path = decodeAddPath(file.path, snap.storage.root);
      return dropDeletedRows(out, await (dvs ?? new DeletionVectorLoader(snap.storage)).deletedRows(file.deletionVector, path), path);
    },
  };
}
