import * as arrow from 'apache-arrow';
import { showValue, TributaryError } from '../errors.js';
import type { StructType } from '../schema/schema.js';
import { type ColumnBuilder, makeColumnBuilder } from './builders.js';
import { toArrowSchema } from './types.js';

export type Row = Record<string, unknown>;

export interface RowsToBatchOptions {
  /** Index reported for rows[0] in errors (rows are numbered from 0 in the caller's input). */
  firstRowIndex?: number;
  /** Original input index of each row built, when the rows are a subset (one partition of an append). */
  rowIndices?: readonly number[];
  /** Build rows[from, to) only (a chunk), without copying the array. */
  from?: number;
  to?: number;
}

/**
 * Rows (plain objects) -> one Arrow record batch with the schema's columns, validating and
 * coercing every value. Throws a ROW_INVALID error naming the first bad row, column and value.
 */
export function rowsToRecordBatch(rows: readonly Row[], schema: StructType, opts: RowsToBatchOptions = {}): arrow.RecordBatch {
  const from = opts.from ?? 0;
  const to = opts.to ?? rows.length;
  const n = to - from;
  const names = schema.fields.map((f) => f.name);
  const builders: ColumnBuilder[] = schema.fields.map((f) => makeColumnBuilder(f.type, f.nullable).setPath(f.name));
  for (const b of builders) b.reserve(n);
  const first = opts.firstRowIndex ?? 0;
  const indexOf = (r: number) => (opts.rowIndices ? opts.rowIndices[r - from] : first + r);
  // Shape first (every row an object, no unknown column), then one column at a time: each inner
  // loop calls a single builder, which V8 inlines far better than row-by-row dispatch.
  for (let r = from; r < to; r++) {
    const row = rows[r];
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new TributaryError('ROW_INVALID', `row ${indexOf(r)}: expected an object with the table's columns, got ${showValue(row)}`, { row: indexOf(r) });
    }
    // Rows usually hold the columns in schema order: then each key is one pointer comparison.
    let i = 0;
    for (const k in row) {
      if (k !== names[i] && !names.includes(k)) {
        throw new TributaryError('ROW_INVALID', `row ${indexOf(r)}, column "${k}": not a column of the table (columns: ${names.join(', ')}); use mergeSchema to add columns`, {
          row: indexOf(r),
          column: k,
        });
      }
      i++;
    }
  }
  try {
    for (let c = 0; c < builders.length; c++) builders[c].appendColumn(rows, names[c], from, to, first, opts.rowIndices);
  } catch (e) {
    // Report the first bad row of the input, as a row-by-row pass would.
    if (e instanceof TributaryError && e.code === 'ROW_INVALID') throw firstBadRow(rows, schema, opts, e);
    throw e;
  }
  const children = builders.map((b) => b.finish());
  const arrowSchema = toArrowSchema(schema);
  const data = arrow.makeData({ type: new arrow.Struct(arrowSchema.fields), length: n, nullCount: 0, children });
  return new arrow.RecordBatch(arrowSchema, data);
}

/** Re-validates row by row (only after a failure) to name the earliest bad row. */
function firstBadRow(rows: readonly Row[], schema: StructType, opts: RowsToBatchOptions, found: TributaryError): TributaryError {
  const from = opts.from ?? 0;
  const to = opts.to ?? rows.length;
  const first = opts.firstRowIndex ?? 0;
  const indexOf = (r: number) => (opts.rowIndices ? opts.rowIndices[r - from] : first + r);
  const builders = schema.fields.map((f) => makeColumnBuilder(f.type, f.nullable).setPath(f.name));
  for (let r = from; r < to; r++) {
    if (indexOf(r) === found.details.row) break;
    try {
      builders.forEach((b, c) => b.append(rows[r][schema.fields[c].name], indexOf(r)));
    } catch (e) {
      if (e instanceof TributaryError) return e;
    }
  }
  return found;
}
