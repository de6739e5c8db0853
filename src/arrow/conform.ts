import * as arrow from 'apache-arrow';
import { valid } from './to-rows.js';
import { isUtf8 } from 'node:buffer';
import { TributaryError } from '../errors.js';
import type { DataType, StructType } from '../schema/schema.js';
import { MAX_DAYS, MAX_MICROS, MIN_DAYS, MIN_MICROS } from './coerce.js';
import { type Row, rowsToRecordBatch } from './record-batch.js';
import { arrowToRows } from './to-rows.js';
import { toArrowSchema } from './types.js';
import { ownField, setField } from './own-fields.js';
import { variantProblem } from './variant/decode.js';
import { Variant } from './variant/variant.js';

/**
 * Arrow input made into a batch of the table's Arrow schema, validated exactly as rows are.
 * A column whose Arrow type is already the table's passes through as it is (no copy), after
 * checks on its buffers: NOT NULL, the decimal's precision, the date and timestamp range, and
 * well-formed UTF-8, through structs and lists (the decoder's batches with nested columns pass
 * without being turned into rows and back). Anything else (another type, a map, a value those checks doubt)
 * goes through the row path for this batch, which coerces what it can and words every refusal
 * exactly as for rows: the same input gives the same table or the same error either way.
 */
export function conformBatch(batch: arrow.RecordBatch, schema: StructType, firstRowIndex: number): arrow.RecordBatch {
  const target = toArrowSchema(schema);
  const byName = new Map(batch.schema.fields.map((f, i) => [f.name, i]));
  const children: arrow.Data[] = [];
  let fast = batch.schema.fields.every((f) => schema.fields.some((g) => g.name === f.name));
  for (let c = 0; fast && c < schema.fields.length; c++) {
    const field = schema.fields[c];
    const i = byName.get(field.name);
    if (i === undefined) {
      // A column the input does not have is null, if the table allows it.
      if (!field.nullable) fast = false;
      else children.push(nullData(target.fields[c].type, batch.numRows));
      continue;
    }
    const d = batch.data.children[i];
    if (!sameType(d.type, target.fields[c].type) || !fastChecks(d, field.type, field.nullable)) fast = false;
    else children.push(d);
  }
  if (fast) {
    const data = arrow.makeData({ type: new arrow.Struct(target.fields), length: batch.numRows, nullCount: 0, children });
    return new arrow.RecordBatch(target, data);
  }
  // The row path: exact coercion and the same messages as for rows (the first bad row wins).
  const rows: Row[] = arrowToRows(batch);
  wrapVariants(rows, batch, schema);
  return rowsToRecordBatch(rows, schema, { firstRowIndex });
}

/**
 * A variant column given in its stored form (a struct of `value` and `metadata` binaries) holds
 * encoded variants, not objects with two binary fields: its cells go to the builder as Variants,
 * which checks and copies them.
 */
function wrapVariants(rows: Row[], batch: arrow.RecordBatch, schema: StructType): void {
  for (const f of schema.fields) {
    if (f.type.kind !== 'variant') continue;
    const t = batch.schema.fields.find((x) => x.name === f.name)?.type;
    if (!t || !arrow.DataType.isStruct(t) || t.children.length !== 2 || !t.children.every((c) => (c.name === 'value' || c.name === 'metadata') && arrow.DataType.isBinary(c.type))) continue;
    for (const r of rows) {
      const cell = ownField(r, f.name) as { value: Uint8Array; metadata: Uint8Array } | null | undefined;
      if (cell) setField(r, f.name, new Variant(cell.metadata, cell.value));
    }
  }
}

function sameType(a: arrow.DataType, b: arrow.DataType): boolean {
  return String(a) === String(b) && a.typeId === b.typeId && (!arrow.DataType.isTimestamp(a) || (a.unit === (b as arrow.Timestamp).unit && (a.timezone ?? null) === ((b as arrow.Timestamp).timezone ?? null)));
}

function nullData(type: arrow.DataType, n: number): arrow.Data {
  const b = arrow.makeBuilder({ type, nullValues: [null] });
  for (let i = 0; i < n; i++) b.append(null);
  return b.finish().flush();
}

/** The high 32-bit words (two's complement, rounded down) of the timestamp range's ends. */
const MIN_MICROS_HI = Number(MIN_MICROS >> 32n);
const MAX_MICROS_HI = Number(MAX_MICROS >> 32n);

/** Checks a column of the table's own Arrow type without copying it; false sends it to the row path. */
function fastChecks(d: arrow.Data, t: DataType, nullable: boolean): boolean {
  if (!nullable && d.nullCount > 0) return false;
  if (t.kind === 'variant') return variantsWellFormed(d);
  if (t.kind === 'struct') {
    // Each field by the same checks (a NOT NULL field with any null at all takes the row path,
    // which knows whether its struct was null there).
    return t.fields.every((f, i) => d.children[i] !== undefined && fastChecks(d.children[i], f.type, f.nullable));
  }
  if (t.kind === 'array') {
    // The elements, all of them (those of null lists too: a false only means the row path).
    const child = d.children[0];
    return child !== undefined && fastChecks(child, t.elementType, t.containsNull);
  }
  if (t.kind !== 'primitive' && t.kind !== 'decimal') return false; // a map: the row path
  if (d.length === 0) return true;
  if (t.kind === 'decimal') return decimalsFit(d, t.precision);
  switch (t.name) {
    case 'string':
      return isUtf8((d.values as Uint8Array).subarray((d.valueOffsets as Int32Array)[0], (d.valueOffsets as Int32Array)[d.length]));
    case 'date': {
      const v = d.values as Int32Array;
      for (let i = 0; i < d.length; i++) if ((v[i] < MIN_DAYS || v[i] > MAX_DAYS) && valid(d, i)) return false;
      return true;
    }
    case 'timestamp':
    case 'timestamp_ntz': {
      const v = d.values as BigInt64Array;
      // Nearly every value's high word lies strictly between the range ends' high words: it is
      // in range, decided on an int32 (reading a BigInt64Array element makes a BigInt).
      const w = new Int32Array(v.buffer, v.byteOffset, v.length * 2);
      for (let i = 0; i < d.length; i++) {
        const h = w[2 * i + 1];
        if (h > MIN_MICROS_HI && h < MAX_MICROS_HI) continue;
        if ((v[i] < MIN_MICROS || v[i] > MAX_MICROS) && valid(d, i)) return false;
      }
      return true;
    }
    default:
      // Fixed-width numbers and booleans: every bit pattern is a value of the type.
      return true;
  }
}

/** |unscaled| < 10^precision for every valid 128-bit value (two's complement, little-endian words). */
function decimalsFit(d: arrow.Data, precision: number): boolean {
  const w = d.values as Uint32Array;
  const limit = 10n ** BigInt(precision);
  // Values within ±2^53 (the top 75 bits all sign) are exact as doubles and are compared without
  // a BigInt: with 10^precision up to 10^15 (exact too); every one of them fits a wider precision.
  const small = precision <= 15 ? 10 ** precision : Infinity;
  for (let i = 0; i < d.length; i++) {
    if (!valid(d, i)) continue;
    const w0 = w[i * 4];
    const w1 = w[i * 4 + 1];
    const w2 = w[i * 4 + 2];
    const w3 = w[i * 4 + 3];
    if (w3 === 0 && w2 === 0 && w1 < 0x200000) {
      if (w1 * 4294967296 + w0 < small) continue;
      return false;
    }
    if (w3 === 0xffffffff && w2 === 0xffffffff && w1 >= 0xffe00000) {
      // The magnitude, 2^64 - (w1 * 2^32 + w0), in two exact parts.
      if ((0xffffffff - w1) * 4294967296 + (4294967296 - w0) < small) continue;
      return false;
    }
    let x = 0n;
    for (let k = 3; k >= 0; k--) x = (x << 32n) | BigInt(w[i * 4 + k]);
    x = BigInt.asIntN(128, x);
    if ((x < 0n ? -x : x) >= limit) return false;
  }
  return true;
}

/** Encoded variants (value, metadata) that Spark can read; anything doubtful takes the row path. */
function variantsWellFormed(d: arrow.Data): boolean {
  const [value, metadata] = d.children;
  const bytes = (c: arrow.Data, i: number) => {
    const o = c.valueOffsets as Int32Array;
    return (c.values as Uint8Array).subarray(o[i], o[i + 1]);
  };
  for (let i = 0; i < d.length; i++) {
    if (!valid(d, i)) continue;
    if (!valid(value, i) || !valid(metadata, i) || variantProblem(bytes(metadata, i), bytes(value, i)) !== undefined) return false;
  }
  return true;
}

