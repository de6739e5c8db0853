import { TributaryError } from '../errors.js';
import type { Row } from '../arrow/record-batch.js';
import { JsonNumber } from '../json/json-number.js';
import { type DataType, field, primitive, type StructField, struct, type StructType } from '../schema/schema.js';

/**
 * Types for columns the table does not have yet, for mergeSchema without an explicit input
 * schema: the same narrow rules as Spark's JSON inference (integers are long, other numbers
 * double, text string). Nested values need an explicit schema.
 */
export function inferSchema(rows: readonly Row[], table: StructType): StructType {
  const known = new Set(table.fields.map((f) => f.name.toLowerCase()));
  const found = new Map<string, { type: DataType; row: number }>();
  rows.forEach((row, i) => {
    for (const [k, v] of Object.entries(row ?? {})) {
      if (known.has(k.toLowerCase()) || v === null || v === undefined) continue;
      const t = inferValue(v, k, i);
      const prev = found.get(k);
      if (!prev) found.set(k, { type: t, row: i });
      else if (prev.type.kind === 'primitive' && t.kind === 'primitive' && prev.type.name !== t.name) {
        if ([prev.type.name, t.name].every((n) => n === 'long' || n === 'double')) found.set(k, { type: primitive('double'), row: prev.row });
        else throw new TributaryError('SCHEMA_MISMATCH', `column "${k}": row ${prev.row} has a ${prev.type.name} but row ${i} a ${t.name}; pass an input schema`);
      }
    }
  });
  const extra: StructField[] = [...found].map(([name, { type }]) => field(name, type, true));
  return struct([...table.fields, ...extra]);
}

function inferValue(v: unknown, col: string, row: number): DataType {
  if (typeof v === 'string') return primitive('string');
  if (typeof v === 'boolean') return primitive('boolean');
  if (typeof v === 'bigint') return primitive('long');
  if (typeof v === 'number') return primitive(Number.isInteger(v) ? 'long' : 'double');
  if (v instanceof JsonNumber) return primitive(/^-?\d+$/.test(v.text) ? 'long' : 'double');
  throw new TributaryError('SCHEMA_MISMATCH', `row ${row}, column "${col}": cannot infer the type of a new ${Array.isArray(v) ? 'array' : 'object'} column; pass an input schema (--schema) with --merge-schema`);
}
