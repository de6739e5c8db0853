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
  for (const b of builders) b.reserve(rows.length);
  const first = opts.firstRowIndex ?? 0;
  const indexOf = (r: number) => (opts.rowIndices ? opts.rowIndices[r] : first + r);
  // Shape first (every row an object, no unknown column), then one column at a time: each inner
  // loop calls a single builder, which V8 inlines far better than row-by-row dispatch.
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new TributaryError('ROW_INVALID', `row ${indexOf(r)}: expected an object with the table's columns, got ${showValue(row)}`, { row: indexOf(r) });
    }
    for (const k in row) {
      if (!known.has(k)) {
        throw new TributaryError('ROW_INVALID', `row ${indexOf(r)}, column "${k}": not a column of the table (columns: ${names.join(', ')}); use mergeSchema to add columns`, {
          row: indexOf(r),
          column: k,
        });
      }
    }
  }
  try {
    for (let c = 0; c < builders.length; c++) {
      const b = builders[c];
      const name = names[c];
      if (opts.rowIndices) for (let r = 0; r < rows.length; r++) b.append(rows[r][name], opts.rowIndices[r]);
      else for (let r = 0; r < rows.length; r++) b.append(rows[r][name], first + r);
    }
  } catch (e) {
    // Report the first bad row of the input, as a row-by-row pass would.
    if (e instanceof TributaryError && e.code === 'ROW_INVALID') throw firstBadRow(rows, schema, opts, e);
    throw e;
  }
  const children = builders.map((b) => b.finish());
  const arrowSchema = toArrowSchema(schema);
  const data = arrow.makeData({ type: new arrow.Struct(arrowSchema.fields), length: rows.length, nullCount: 0, children });
  return new arrow.RecordBatch(arrowSchema, data);
}

/** Re-validates row by row (only after a failure) to name the earliest bad row. */
function firstBadRow(rows: readonly Row[], schema: StructType, opts: RowsToBatchOptions, found: TributaryError): TributaryError {
  const row = found.details.row as number;
  const first = opts.firstRowIndex ?? 0;
  const end = opts.rowIndices ? opts.rowIndices.indexOf(row) : row - first;
  const builders = schema.fields.map((f) => makeColumnBuilder(f.type, f.nullable).setPath(f.name));
  for (let r = 0; r < end; r++) {
    try {
      builders.forEach((b, c) => b.append(rows[r][schema.fields[c].name], opts.rowIndices ? opts.rowIndices[r] : first + r));
    } catch (e) {
      if (e instanceof TributaryError) return e;
    }
  }
  return found;
}
