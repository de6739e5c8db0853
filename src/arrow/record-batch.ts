import * as arrow from 'apache-arrow';
import { caseHint, showValue, TributaryError } from '../errors.js';
import type { StructType } from '../schema/schema.js';
import type { Allocator } from './arena.js';
import { type BuildOptions, type ColumnBuilder, makeColumnBuilder } from './builders.js';
import { toArrowSchema } from './types.js';
import { inheritedName, ownField } from './own-fields.js';

export type Row = Record<string, unknown>;

export interface RowsToBatchOptions {
  /** Index reported for rows[0] in errors (rows are numbered from 0 in the caller's input). */
  firstRowIndex?: number;
  /** Original input index of each row built, when the rows are a subset (one partition of an append). */
  rowIndices?: readonly number[];
  /** Build rows[from, to) only (a chunk), without copying the array. */
  from?: number;
  to?: number;
  /** Where the batch's buffers come from (default: each its own allocation; see arena.ts). */
  alloc?: Allocator;
  /** What a number in a timestamp column counts (see TimestampNumbers): milliseconds unless the rows came from JSON text. */
  timestampNumbers?: BuildOptions['timestampNumbers'];
}

/** One builder per column of the schema, each knowing its column's path for messages. */
export function columnBuilders(schema: StructType, alloc?: Allocator, opts?: BuildOptions): ColumnBuilder[] {
  return schema.fields.map((f) => makeColumnBuilder(f.type, f.nullable, alloc, opts).setPath(f.name));
}

/** The builders' columns as one record batch of the schema. */
export function buildersToBatch(schema: StructType, builders: readonly ColumnBuilder[], length: number, arrowSchema = toArrowSchema(schema)): arrow.RecordBatch {
  const children = builders.map((b) => b.finish());
  const data = arrow.makeData({ type: new arrow.Struct(arrowSchema.fields), length, nullCount: 0, children });
  return new arrow.RecordBatch(arrowSchema, data);
}

/**
 * Why a row does not fit the table's columns (not an object, or a key that is no column), or
 * undefined. Keys are looked at in the order `for...in` gives them, which is the row's own
 * order except that integer-like keys come first.
 */
export function rowShapeProblem(row: unknown, index: number, names: readonly string[]): TributaryError | undefined {
  if (row === null || typeof row !== 'object' || Array.isArray(row)) {
    return new TributaryError('ROW_INVALID', `row ${index}: expected an object with the table's columns, got ${showValue(row)}`, { row: index });
  }
  // Rows usually hold the columns in schema order: then each key is one pointer comparison.
  let i = 0;
  for (const k in row) {
    if (k !== names[i] && !names.includes(k)) {
      // Delta names are case-insensitive: such a key can never be added, and is a typo of the column.
      const hint = caseHint(k, names, 'table') ?? 'use mergeSchema to add columns';
      return new TributaryError('ROW_INVALID', `row ${index}, column "${k}": not a column of the table (columns: ${names.join(', ')}); ${hint}`, {
        row: index,
        column: k,
      });
    }
    i++;
  }
  return undefined;
}

/**
 * The first problem of one row, as an append reports it: a key that is not a column first, then
 * the first bad column in schema order; undefined when the row lands. `builders` (one per column,
 * see columnBuilders) may be reused across rows; a failed row leaves them unusable.
 */
export function rowProblem(row: unknown, index: number, schema: StructType, builders: readonly ColumnBuilder[] = columnBuilders(schema)): TributaryError | undefined {
  const fields = schema.fields;
  const shape = rowShapeProblem(
    row,
    index,
    fields.map((f) => f.name),
  );
  if (shape) return shape;
  for (let c = 0; c < fields.length; c++) {
    try {
      builders[c].append(ownField(row as Row, fields[c].name), index);
    } catch (e) {
      if (e instanceof TributaryError) return e;
      throw e;
    }
  }
  return undefined;
}

/**
 * Rows (plain objects) -> one Arrow record batch with the schema's columns, validating and
 * coercing every value. Throws a ROW_INVALID error naming the first bad row (in input order; in
 * a row, a key that is not a column, then the first bad column in schema order), its column and value.
 */
export function rowsToRecordBatch(rows: readonly Row[], schema: StructType, opts: RowsToBatchOptions = {}): arrow.RecordBatch {
  const from = opts.from ?? 0;
  const to = opts.to ?? rows.length;
  const n = to - from;
  const names = schema.fields.map((f) => f.name);
  const builders = columnBuilders(schema, opts.alloc, opts);
  for (const b of builders) b.reserve(n);
  const first = opts.firstRowIndex ?? 0;
  const indexOf = (r: number) => (opts.rowIndices ? opts.rowIndices[r - from] : first + r);
  // Shape first (every row an object, no unknown column), then one column at a time: each inner
  // loop calls a single builder, which V8 inlines far better than row-by-row dispatch.
  for (let r = from; r < to; r++) {
    const shape = rowShapeProblem(rows[r], indexOf(r), names);
    // An earlier row may still hold a bad value: that one is the first problem.
    if (shape) throw firstBadRow(rows, schema, opts, shape);
  }
  try {
    for (let c = 0; c < builders.length; c++) {
      if (inheritedName(names[c])) builders[c].appendOwnColumn(rows, names[c], from, to, first, opts.rowIndices);
      else builders[c].appendColumn(rows, names[c], from, to, first, opts.rowIndices);
    }
  } catch (e) {
    // Report the first bad row of the input, as a row-by-row pass would.
    if (e instanceof TributaryError && e.code === 'ROW_INVALID') throw firstBadRow(rows, schema, opts, e);
    throw e;
  }
  return buildersToBatch(schema, builders, n);
}

/**
 * Re-validates row by row (only after a failure) up to the row that failed, to name the earliest
 * bad row: the rows before `found`'s passed the shape check, so only their values can fail.
 */
function firstBadRow(rows: readonly Row[], schema: StructType, opts: RowsToBatchOptions, found: TributaryError): TributaryError {
  const from = opts.from ?? 0;
  const to = opts.to ?? rows.length;
  const first = opts.firstRowIndex ?? 0;
  const indexOf = (r: number) => (opts.rowIndices ? opts.rowIndices[r - from] : first + r);
  const builders = columnBuilders(schema, undefined, opts);
  for (let r = from; r < to; r++) {
    if (indexOf(r) === found.details.row) break;
    const e = rowProblem(rows[r], indexOf(r), schema, builders);
    if (e) return e;
  }
  return found;
}
