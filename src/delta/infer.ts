import { TributaryError } from '../errors.js';
import type { Row } from '../arrow/record-batch.js';
import { JsonNumber } from '../json/json-number.js';
import { NULL_ONLY } from '../json/ndjson-wasm.js';
import { type DataType, decimal, field, primitive, type StructField, struct, type StructType } from '../schema/schema.js';

/**
 * The table's schema with what rows bring that it lacks, for mergeSchema without an explicit
 * input schema: new columns, and new fields inside the table's structs at any depth (also a
 * struct's inside an array or a map's values), typed by the rules of Spark's JSON inference:
 * integers are long (beyond 64 bits DECIMAL(digits, 0), beyond 38 digits double), other numbers
 * double (numbers of two of those types in one column: the wider, as Spark's compatibleType: long
 * and a decimal DECIMAL(max(20, digits), 0), anything and double double), text string,
 * objects structs, arrays arrays; a column or field that is only ever null, and the elements of
 * arrays that are only ever empty, are string (Spark's canonical type for what it saw no value
 * of). Unlike Spark, new fields keep the order they first appear in (Spark sorts them by name),
 * and a value of two different kinds (a string and a number, an object and an array) is refused
 * rather than widened to string: an input schema settles it. Columns and fields the table has
 * keep their types; whether their values fit is the coercion's to say, row by row.
 */
export function inferSchema(rows: readonly Row[], table: StructType): StructType {
  const inference = new SchemaInference(table);
  rows.forEach((row, i) => inference.add(row, i));
  return inference.schema();
}

/**
 * inferSchema a row at a time, for input read as a stream: what the rows say is folded in as
 * each comes (a row is not kept), so a file's schema is inferred in the memory of its widest
 * row, not of the file. `row` is the row's index in the input, for messages.
 */
export class SchemaInference {
  private seen: Seen | undefined;
  private readonly names: Names = new Map();
  private count = 0;

  constructor(private readonly table: StructType) {}

  /** Rows added so far. */
  get rows(): number {
    return this.count;
  }

  add(row: Row, index: number): void {
    this.seen = unify(this.seen, infer(row ?? {}, this.table, '', index, this.names), '');
    this.count++;
  }

  /** A row of a shape already added (the same keys, each value of the same kind): it adds nothing but its count. */
  again(): void {
    this.count++;
  }

  /**
   * The positions whose type the rows so far (and the table) have settled, as a schema: a row
   * whose every value has one of these types, at one of these positions, adds nothing to the
   * inference but its count (unify keeps what it has: the same type, or the wider number with
   * its first row). A field only ever null so far is marked NULL_ONLY (a null there adds nothing,
   * a value is new); arrays only ever empty, their elements only ever null, structs with no
   * field, maps and inferred decimals are left out: a value there is for `add`. For a schema
   * pass that skips the rows it can show add nothing (json/settled-lines.ts).
   */
  settled(): StructType {
    return ((this.seen ? settledType(this.seen) : settledTable(this.table)) as StructType | undefined) ?? struct([]);
  }

  /** The table's schema with what the rows added bring (the table's own when no row brings anything). */
  schema(): StructType {
    return canonical(this.seen ?? { type: this.table, row: 0 }, '') as StructType;
  }
}

/**
 * What the rows so far say of a position: its type, with `undefined` for positions only ever
 * null (decided at the end) and the row that first said it (for messages).
 */
interface Seen {
  type: DataType | undefined;
  row: number;
  /** For a struct: its fields as seen, the table's first. */
  fields?: Map<string, { name: string; seen: Seen }>;
  /** For an array or a map: its elements' or values'. */
  inner?: Seen;
}

/** The table's structs' fields by lower-cased name (Delta's names are case-insensitive), built once per struct. */
type Names = Map<StructType, Map<string, StructField>>;
function fieldsByName(t: StructType, names: Names): Map<string, StructField> {
  let m = names.get(t);
  if (!m) names.set(t, (m = new Map(t.fields.map((f) => [f.name.toLowerCase(), f]))));
  return m;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Uint8Array) && !(v instanceof JsonNumber) && !(v instanceof Map);

/** What value `v` (at `path`, in row `row`) says, given the table's type there if it has one. */
function infer(v: unknown, known: DataType | undefined, path: string, row: number, names: Names): Seen {
  if (v === null || v === undefined) return { type: known, row };
  if (known) {
    if (known.kind === 'struct' && isObject(v)) {
      const byName = fieldsByName(known, names);
      const fields = new Map<string, { name: string; seen: Seen }>();
      for (const [k, x] of Object.entries(v)) {
        const f = byName.get(k.toLowerCase());
        if (!f) sameInCase(fields, k, path, row);
        fields.set(k.toLowerCase(), { name: f ? f.name : k, seen: infer(x, f?.type, `${prefix(path)}${k}`, row, names) });
      }
      return { type: known, row, fields };
    }
    if (known.kind === 'array' && Array.isArray(v)) return { type: known, row, inner: elements(v, known.elementType, `${path}.element`, row, names) };
    if (known.kind === 'map' && (isObject(v) || v instanceof Map)) {
      const values = v instanceof Map ? [...v.values()] : Object.values(v);
      return { type: known, row, inner: elements(values, known.valueType, `${path}.value`, row, names) };
    }
    // A primitive, or a value of another shape: the coercion lands it or refuses it.
    return { type: known, row };
  }
  if (typeof v === 'string') return { type: primitive('string'), row };
  if (typeof v === 'boolean') return { type: primitive('boolean'), row };
  if (typeof v === 'bigint') return { type: integral(v), row };
  if (typeof v === 'number') return { type: primitive(Number.isInteger(v) ? 'long' : 'double'), row };
  if (v instanceof JsonNumber) return { type: /^-?\d+$/.test(v.text) ? integral(BigInt(v.text)) : primitive('double'), row };
  if (v instanceof Date) return { type: primitive('timestamp'), row };
  if (v instanceof Uint8Array) return { type: primitive('binary'), row };
  if (Array.isArray(v)) return { type: ARRAY, row, inner: elements(v, undefined, `${path}.element`, row, names) };
  if (isObject(v)) {
    const fields = new Map<string, { name: string; seen: Seen }>();
    for (const [k, x] of Object.entries(v)) {
      sameInCase(fields, k, path, row);
      fields.set(k.toLowerCase(), { name: k, seen: infer(x, undefined, `${prefix(path)}${k}`, row, names) });
    }
    return { type: STRUCT, row, fields };
  }
  throw new TributaryError('SCHEMA_MISMATCH', `row ${row}, column "${path}": cannot infer a type for ${typeof v === 'object' ? (v as object).constructor?.name ?? 'this object' : typeof v}; pass an input schema (--schema) with --merge-schema`, { row });
}

/** New keys of one object that differ only in case would be one column: refused. */
function sameInCase(fields: Map<string, { name: string }>, k: string, path: string, row: number): void {
  const other = fields.get(k.toLowerCase());
  if (other) throw new TributaryError('SCHEMA_MISMATCH', `row ${row}${path ? `, column "${path}"` : ''}: the keys "${other.name}" and "${k}" differ only in case, and Delta's names are case-insensitive; pass an input schema`, { row });
}

/** Placeholders for a new array's and struct's type: their parts are in `inner` and `fields`. */
const ARRAY: DataType = { kind: 'array', elementType: primitive('string'), containsNull: true };
const STRUCT: DataType = struct([]);

function elements(items: readonly unknown[], known: DataType | undefined, path: string, row: number, names: Names): Seen | undefined {
  let seen: Seen | undefined;
  for (const x of items) seen = unify(seen, infer(x, known, path, row, names), path);
  return seen;
}

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/**
 * An integer's type as Spark's JSON inference gives it: long when it fits (Jackson's INT or
 * LONG), else a decimal of its digits (BIG_INTEGER), else (over 38 digits) double.
 */
function integral(v: bigint): DataType {
  if (v >= LONG_MIN && v <= LONG_MAX) return primitive('long');
  const digits = (v < 0n ? -v : v).toString().length;
  return digits <= 38 ? decimal(digits, 0) : primitive('double');
}

/** Long as Spark widens it against a decimal (DecimalType.forType(LongType)). */
const LONG_AS_DECIMAL = { precision: 20, scale: 0 };

const isNumber = (t: DataType) => t.kind === 'decimal' || (t.kind === 'primitive' && (t.name === 'long' || t.name === 'double'));
const asDecimal = (t: DataType) => (t.kind === 'decimal' ? t : t.kind === 'primitive' && t.name === 'long' ? LONG_AS_DECIMAL : undefined);

/** Two numeric types as one, by Spark's JsonInferSchema.compatibleType; undefined when either is not numeric. */
function widerNumber(a: DataType, b: DataType): DataType | undefined {
  if (!isNumber(a) || !isNumber(b)) return undefined;
  const x = asDecimal(a);
  const y = asDecimal(b);
  if (!x || !y) return primitive('double');
  const scale = Math.max(x.scale, y.scale);
  const range = Math.max(x.precision - x.scale, y.precision - y.scale);
  return range + scale > 38 ? primitive('double') : decimal(range + scale, scale);
}

const kindOf = (t: DataType | undefined) => (t === undefined ? 'null' : t.kind === 'primitive' ? t.name : t.kind === 'struct' ? 'object' : t.kind === 'array' ? 'array' : t.kind);

/** Two rows' (or elements') findings at one position, as one. */
function unify(a: Seen | undefined, b: Seen | undefined, path: string): Seen | undefined {
  if (!a) return b;
  if (!b) return a;
  if (a.type === undefined) return b.type === undefined ? a : b;
  if (b.type === undefined) return a;
  // A table's struct seen as an object in one row, and as null (or as a value of another shape,
  // the coercion's to refuse) in another.
  if (a.type === b.type && !a.fields !== !b.fields) return a.fields ? a : b;
  if (a.fields && b.fields) {
    // Every Seen is built for one row and then owned by the accumulator alone: merged in place
    // (a copy per row was a Map of every column per row).
    const fields = a.fields;
    for (const [k, f] of b.fields) {
      const g = fields.get(k);
      if (g && g.name !== f.name) throw new TributaryError('SCHEMA_MISMATCH', `row ${f.seen.row}, column "${prefix(path)}${f.name}": row ${g.seen.row} named it "${g.name}"; names that differ only in case are one Delta column: pass an input schema`, { row: f.seen.row });
      fields.set(k, g ? { name: g.name, seen: unify(g.seen, f.seen, `${prefix(path)}${g.name}`)! } : f);
    }
    return a;
  }
  if (a.type.kind === 'array' && b.type.kind === 'array') return { ...a, inner: unify(a.inner, b.inner, `${path}.element`) };
  if (a.type.kind === 'map' && b.type.kind === 'map') return { ...a, inner: unify(a.inner, b.inner, `${path}.value`) };
  if (a.type === b.type) return a;
  if (a.type.kind === 'primitive' && b.type.kind === 'primitive' && a.type.name === b.type.name) return a;
  const wider = widerNumber(a.type, b.type);
  if (wider) return { type: wider, row: a.row };
  throw new TributaryError('SCHEMA_MISMATCH', `column "${path}": row ${a.row} has ${article(kindOf(a.type))} but row ${b.row} ${article(kindOf(b.type))}; pass an input schema (--schema) to say its type`, { row: b.row });
}

const prefix = (path: string) => (path === '' ? '' : `${path}.`);
const article = (k: string) => (/^[aeiou]/.test(k) ? `an ${k}` : `a ${k}`);

/** A table's field as SchemaInference.settled() has it (nullable: a null there adds nothing either). */
function settledField(name: string, t: DataType): StructField | undefined {
  const type = settledTable(t);
  return type && field(name, type, true);
}

function settledTable(t: DataType): DataType | undefined {
  if (t.kind === 'struct') {
    const fields = t.fields.map((f) => settledField(f.name, f.type)).filter((f): f is StructField => f !== undefined);
    return fields.length ? struct(fields) : undefined;
  }
  if (t.kind === 'array') {
    const elementType = settledTable(t.elementType);
    return elementType && { ...t, elementType, containsNull: true };
  }
  return t.kind === 'map' ? undefined : t;
}

/** What settled() keeps of a position (undefined: nothing). */
function settledType(s: Seen): DataType | undefined {
  const t = s.type;
  if (t === undefined || t.kind === 'map') return undefined;
  if (s.fields) {
    const fields: StructField[] = [];
    const byName = new Map((t.kind === 'struct' ? t.fields : []).map((f) => [f.name.toLowerCase(), f]));
    // The table's fields no row has had yet keep the table's type; the rest are as seen.
    for (const f of byName.values()) {
      const kept = s.fields.has(f.name.toLowerCase()) ? undefined : settledField(f.name, f.type);
      if (kept) fields.push(kept);
    }
    for (const { name, seen } of s.fields.values()) {
      // A field only ever null so far: the module takes a null there, any value is news.
      if (seen.type === undefined) fields.push(field(name, primitive('string'), true, { [NULL_ONLY]: true }));
      else {
        const type = settledType(seen);
        if (type) fields.push(field(name, type, true));
      }
    }
    return fields.length ? struct(fields) : undefined;
  }
  if (t.kind === 'array') {
    // ARRAY is the placeholder of a new array: its elements are what `inner` says, or unknown.
    const elementType = s.inner ? settledType(s.inner) : t === ARRAY ? undefined : settledTable(t.elementType);
    return elementType && { ...t, elementType, containsNull: true };
  }
  if (t.kind === 'struct') return settledTable(t);
  // An inferred decimal (DECIMAL(p, 0), of an integer past a long) is widened by values the
  // module would take into it: a long below 20 digits (to DECIMAL(20, 0), Spark's rule), 1.0 (a
  // double to the inference). So it is left out; a table's decimal of scale 0, which cannot be
  // told from one here, too.
  if (t.kind === 'decimal' && t.scale === 0) return undefined;
  return t;
}

/** The type found, with positions only ever null made string, as Spark's JSON inference does. */
function canonical(s: Seen, path: string): DataType {
  const t = s.type ?? primitive('string');
  if (s.fields) {
    const fields: StructField[] = [];
    const known = t.kind === 'struct' ? t.fields : [];
    // The table's fields first, in its order, keeping their nullability and metadata; then the
    // new ones, nullable (the table's rows have none of them), in the order they appeared.
    for (const f of known) {
      const found = s.fields.get(f.name.toLowerCase());
      fields.push(found ? { ...f, type: canonical(found.seen, `${prefix(path)}${f.name}`) } : f);
    }
    const table = new Set(known.map((f) => f.name.toLowerCase()));
    for (const [k, { name, seen }] of s.fields) {
      if (!table.has(k)) fields.push(field(name, canonical(seen, `${prefix(path)}${name}`), true));
    }
    if (fields.length === 0) throw new TributaryError('SCHEMA_MISMATCH', `row ${s.row}, column "${path}": only empty objects, so its fields cannot be inferred (Delta has no struct without fields); pass an input schema (--schema) with --merge-schema`, { row: s.row });
    return struct(fields);
  }
  if (t.kind === 'array') return s.inner ? { ...t, elementType: canonical(s.inner, `${path}.element`) } : t;
  if (t.kind === 'map') return s.inner ? { ...t, valueType: canonical(s.inner, `${path}.value`) } : t;
  return t;
}
