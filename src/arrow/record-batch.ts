import * as arrow from 'apache-arrow';
import { showValue, TributaryError } from '../errors.js';
import type { StructType } from '../delta/schema.js';
import { type ColumnBuilder, makeColumnBuilder } from './builders.js';
import { toArrowSchema } from './types.js';

export type Row = Record<string, unknown>;

export interface RowsToBatchOptions {
  /** Index reported for rows[0] in errors (rows are numbered from 0 in the caller's input). */
  firstRowIndex?: number;
  /** Original input index of each row, when the rows are a subset (one partition of an append). */
  rowIndices?: readonly number[];
}

/**
 * Rows (plain objects) -> one Arrow record batch with the schema's columns, validating and
 * coercing every value. Throws a ROW_INVALID error naming the first bad row, column and value.
 */
export function rowsToRecordBatch(rows: readonly Row[], schema: StructType, opts: RowsToBatchOptions = {}): arrow.RecordBatch {
  const names = schema.fields.map((f) => f.name);
  const known = new Set(names);
  const builders: ColumnBuilder[] = schema.fields.map((f) => makeColumnBuilder(f.type, f.nullable).setPath(f.name));
  const first = opts.firstRowIndex ?? 0;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    const index = opts.rowIndices ? opts.rowIndices[r] : first + r;
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new TributaryError('ROW_INVALID', `row ${index}: expected an object with the table's columns, got ${showValue(row)}`, { row: index });
    }
    for (const k in row) {
      if (!known.has(k)) {
        throw new TributaryError('ROW_INVALID', `row ${index}, column "${k}": not a column of the table (columns: ${names.join(', ')}); use mergeSchema to add columns`, {
          row: index,
          column: k,
        });
      }
    }
    for (let c = 0; c < builders.length; c++) builders[c].append(row[names[c]], index);
  }
  const children = builders.map((b) => b.finish());
  const arrowSchema = toArrowSchema(schema);
  const data = arrow.makeData({ type: new arrow.Struct(arrowSchema.fields), length: rows.length, nullCount: 0, children });
  return new arrow.RecordBatch(arrowSchema, data);
}
