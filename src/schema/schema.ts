import { TributaryError } from '../errors.js';

/**
 * Delta's schema model (PROTOCOL.md "Schema Serialization Format"), kept as plain data so it can be
 * compared, serialised and walked by pure functions. Serialisation reproduces Spark's
 * `StructType.json` byte for byte: Spark matches exact key sets when it parses a schemaString, so an
 * extra or missing key makes the table unreadable there.
 */
export type PrimitiveTypeName =
  | 'string'
  | 'long'
  | 'integer'
  | 'short'
  | 'byte'
  | 'double'
  | 'float'
  | 'boolean'
  | 'binary'
  | 'date'
  | 'timestamp'
  | 'timestamp_ntz';

export interface PrimitiveType {
  readonly kind: 'primitive';
  readonly name: PrimitiveTypeName;
}
export interface DecimalType {
  readonly kind: 'decimal';
  readonly precision: number;
  readonly scale: number;
}
export interface ArrayType {
  readonly kind: 'array';
  readonly elementType: DataType;
  readonly containsNull: boolean;
}
export interface MapType {
  readonly kind: 'map';
  readonly keyType: DataType;
  readonly valueType: DataType;
  readonly valueContainsNull: boolean;
}
export interface StructField {
  readonly name: string;
  readonly type: DataType;
  readonly nullable: boolean;
  readonly metadata: Record<string, unknown>;
}
export interface StructType {
  readonly kind: 'struct';
  readonly fields: readonly StructField[];
}
/**
 * Spark 4's VARIANT (PROTOCOL.md "Variant Data Type"): semi-structured values in the Variant
 * binary encoding, stored in Parquet as a group of two binary fields (see VARIANT_PHYSICAL).
 */
export interface VariantType {
  readonly kind: 'variant';
}
export type DataType = PrimitiveType | DecimalType | ArrayType | MapType | StructType | VariantType;

export const PRIMITIVE_NAMES: readonly PrimitiveTypeName[] = [
  'string', 'long', 'integer', 'short', 'byte', 'double', 'float', 'boolean', 'binary', 'date', 'timestamp', 'timestamp_ntz',
];

export const primitive = (name: PrimitiveTypeName): PrimitiveType => ({ kind: 'primitive', name });
export const decimal = (precision: number, scale: number): DecimalType => {
  if (!Number.isInteger(precision) || precision < 1 || precision > 38 || !Number.isInteger(scale) || scale < 0 || scale > precision) {
    throw new TributaryError('SCHEMA_INVALID', `decimal(${precision},${scale}) is not a valid Delta decimal: need 1 <= precision <= 38 and 0 <= scale <= precision`);
  }
  return { kind: 'decimal', precision, scale };
};
export const variant = (): VariantType => ({ kind: 'variant' });
export const array = (elementType: DataType, containsNull = true): ArrayType => ({ kind: 'array', elementType, containsNull });
export const map = (keyType: DataType, valueType: DataType, valueContainsNull = true): MapType => ({ kind: 'map', keyType, valueType, valueContainsNull });
export const field = (name: string, type: DataType, nullable = true, metadata: Record<string, unknown> = {}): StructField => ({ name, type, nullable, metadata });
export const struct = (fields: readonly StructField[]): StructType => {
  const seen = new Set<string>();
  for (const f of fields) {
    const k = f.name.toLowerCase();
    // Spark resolves columns case-insensitively by default, so two names differing in case collide.
    if (seen.has(k)) throw new TributaryError('SCHEMA_INVALID', `duplicate column name "${f.name}" (column names are case-insensitive in Delta)`);
    seen.add(k);
  }
  return { kind: 'struct', fields };
};

// ---------------------------------------------------------------------------------------------
// JSON (schemaString) form

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function dataTypeToJson(t: DataType): Json {
  switch (t.kind) {
    case 'primitive':
      return t.name;
    case 'variant':
      return 'variant';
    case 'decimal':
      return `decimal(${t.precision},${t.scale})`;
    case 'array':
      return { type: 'array', elementType: dataTypeToJson(t.elementType), containsNull: t.containsNull };
    case 'map':
      return { type: 'map', keyType: dataTypeToJson(t.keyType), valueType: dataTypeToJson(t.valueType), valueContainsNull: t.valueContainsNull };
    case 'struct':
      return {
        type: 'struct',
        fields: t.fields.map((f) => ({ name: f.name, type: dataTypeToJson(f.type), nullable: f.nullable, metadata: f.metadata as Json })),
      };
  }
}

/** The exact `schemaString` Spark writes for this schema. */
export function schemaToString(schema: StructType): string {
  return JSON.stringify(dataTypeToJson(schema));
}

function fail(msg: string): never {
  throw new TributaryError('SCHEMA_PARSE', msg);
}

const DECIMAL_RE = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/;

export function dataTypeFromJson(j: unknown, where = 'schema'): DataType {
  if (typeof j === 'string') {
    if ((PRIMITIVE_NAMES as readonly string[]).includes(j)) return primitive(j as PrimitiveTypeName);
    if (j === 'decimal') return decimal(10, 0);
    if (j === 'variant') return variant();
    const m = DECIMAL_RE.exec(j);
    if (m) return decimal(Number(m[1]), Number(m[2]));
    return fail(`${where}: unsupported type "${j}"`);
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j)) return fail(`${where}: expected a type, got ${JSON.stringify(j)}`);
  const o = j as Record<string, unknown>;
  switch (o.type) {
    case 'struct': {
      if (!Array.isArray(o.fields)) return fail(`${where}: struct without "fields"`);
      return struct(
        o.fields.map((f: unknown, i: number) => {
          if (f === null || typeof f !== 'object') return fail(`${where}.fields[${i}]: not an object`);
          const fo = f as Record<string, unknown>;
          if (typeof fo.name !== 'string') return fail(`${where}.fields[${i}]: missing "name"`);
          const meta = fo.metadata ?? {};
          if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) return fail(`${where}.${fo.name}: "metadata" must be an object`);
          return field(fo.name, dataTypeFromJson(fo.type, `${where}.${fo.name}`), fo.nullable !== false, meta as Record<string, unknown>);
        }),
      );
    }
    case 'array':
      return array(dataTypeFromJson(o.elementType, `${where}[]`), o.containsNull !== false);
    case 'map':
      return map(dataTypeFromJson(o.keyType, `${where}.key`), dataTypeFromJson(o.valueType, `${where}.value`), o.valueContainsNull !== false);
    default:
      return fail(`${where}: unsupported type ${JSON.stringify(o.type)}`);
  }
}

export function schemaFromJson(j: unknown): StructType {
  const t = dataTypeFromJson(j);
  if (t.kind !== 'struct') return fail('a table schema must be a struct');
  return t;
}

export function parseSchemaString(s: string): StructType {
  let j: unknown;
  try {
    j = JSON.parse(s);
  } catch (e) {
    return fail(`schema is not valid JSON: ${(e as Error).message}`);
  }
  return schemaFromJson(j);
}

// ---------------------------------------------------------------------------------------------
// Helpers used across the writer

export function typeToString(t: DataType): string {
  switch (t.kind) {
    case 'primitive':
      return t.name;
    case 'variant':
      return 'variant';
    case 'decimal':
      return `decimal(${t.precision},${t.scale})`;
    case 'array':
      return `array<${typeToString(t.elementType)}>`;
    case 'map':
      return `map<${typeToString(t.keyType)},${typeToString(t.valueType)}>`;
    case 'struct':
      return `struct<${t.fields.map((f) => `${f.name}:${typeToString(f.type)}`).join(',')}>`;
  }
}

export function typesEqual(a: DataType, b: DataType): boolean {
  return JSON.stringify(dataTypeToJson(a)) === JSON.stringify(dataTypeToJson(b));
}

/**
 * Field metadata that changes nothing about the data or how writers must treat it (an identity
 * column's high-water mark is the writers' own running state, not part of its definition).
 */
const HARMLESS_FIELD_METADATA = new Set(['comment', 'delta.identity.highWaterMark']);

/**
 * The first way `theirs` differs from `ours` (names, order, types, nullability, field metadata
 * other than comments), described for a message; undefined when they are the same schema.
 */
export function schemaDifference(ours: DataType, theirs: DataType, path = ''): string | undefined {
  if (ours.kind === 'struct' && theirs.kind === 'struct') {
    const at = path === '' ? 'the top level' : `"${path}"`;
    const colOf = (name: string) => (path === '' ? name : `${path}.${name}`);
    const names = (t: StructType) => t.fields.map((f) => f.name).join(', ');
    for (const f of ours.fields) {
      if (!theirs.fields.some((g) => g.name === f.name)) return `column "${colOf(f.name)}" is missing there (its columns: ${names(theirs)})`;
    }
    for (const g of theirs.fields) {
      if (!ours.fields.some((f) => f.name === g.name)) return `it has a column "${colOf(g.name)}" this write does not (its columns: ${names(theirs)})`;
    }
    if (names(ours) !== names(theirs)) return `its columns at ${at} are in another order (${names(theirs)}, here ${names(ours)})`;
    for (let i = 0; i < ours.fields.length; i++) {
      const f = ours.fields[i];
      const g = theirs.fields[i];
      const col = colOf(f.name);
      if (f.nullable !== g.nullable) return `column "${col}" is ${g.nullable ? 'nullable' : 'NOT NULL'} there but ${f.nullable ? 'nullable' : 'NOT NULL'} here`;
      const inner = schemaDifference(f.type, g.type, col);
      if (inner) return inner;
      const meta = (m: Record<string, unknown>) => JSON.stringify(Object.keys(m).filter((k) => !HARMLESS_FIELD_METADATA.has(k)).sort().map((k) => [k, m[k]]));
      if (meta(f.metadata) !== meta(g.metadata)) return `column "${col}" has field metadata ${meta(g.metadata)} there but ${meta(f.metadata)} here`;
    }
    return undefined;
  }
  if (ours.kind === 'array' && theirs.kind === 'array') {
    if (ours.containsNull !== theirs.containsNull) return `the elements of "${path}" are ${theirs.containsNull ? 'nullable' : 'NOT NULL'} there but ${ours.containsNull ? 'nullable' : 'NOT NULL'} here`;
    return schemaDifference(ours.elementType, theirs.elementType, `${path}.element`);
  }
  if (ours.kind === 'map' && theirs.kind === 'map') {
    if (ours.valueContainsNull !== theirs.valueContainsNull) return `the values of "${path}" are ${theirs.valueContainsNull ? 'nullable' : 'NOT NULL'} there but ${ours.valueContainsNull ? 'nullable' : 'NOT NULL'} here`;
    return schemaDifference(ours.keyType, theirs.keyType, `${path}.key`) ?? schemaDifference(ours.valueType, theirs.valueType, `${path}.value`);
  }
  if (!typesEqual(ours, theirs)) return `column "${path}" is ${typeToString(theirs)} there but ${typeToString(ours)} here`;
  return undefined;
}

export function containsType(t: DataType, pred: (t: DataType) => boolean): boolean {
  if (pred(t)) return true;
  switch (t.kind) {
    case 'array':
      return containsType(t.elementType, pred);
    case 'map':
      return containsType(t.keyType, pred) || containsType(t.valueType, pred);
    case 'struct':
      return t.fields.some((f) => containsType(f.type, pred));
    default:
      return false;
  }
}

/**
 * The one rule for column names, applied wherever a column is born (a new table, mergeSchema
 * from the CLI, the library or a stream, nested struct fields too). Without column mapping, Spark
 * refuses to read a Delta column whose name holds one of ` ,;{}()\n\t=` (Delta's
 * checkFieldNames); control characters are refused as well, since Parquet and Hive paths have no
 * safe form for them. Undefined when the name is fine.
 */
export function columnNameProblem(name: string, columnMapping = false): string | undefined {
  if (name.length === 0) return 'is empty';
  // Column mapping stores data under physical names (col-<uuid>): Spark takes any name then.
  if (columnMapping) return name.isWellFormed() ? undefined : 'contains half of a UTF-16 surrogate pair';
  const m = /[ ,;{}()\n\t=]|[\u0000-\u001f\u007f]/.exec(name);
  if (m) {
    const c = m[0];
    const shown = c === ' ' ? 'a space' : /[\u0000-\u001f\u007f]/.test(c) ? `the control character U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}` : `"${c}"`;
    return `contains ${shown}, which Spark refuses in Delta column names (no space, any of ,;{}()= or a control character; a table with column mapping allows them)`;
  }
  if (!name.isWellFormed()) return 'contains half of a UTF-16 surrogate pair';
  return undefined;
}

/**
 * Checks a table schema for what Spark would refuse to write. With `columnMapping` (the table has
 * delta.columnMapping.mode name or id) column names are free of the Parquet/Hive character rule.
 */
export function validateTableSchema(schema: StructType, partitionColumns: readonly string[], opts: { columnMapping?: boolean } = {}): void {
  const walk = (t: DataType, path: string) => {
    if (t.kind === 'struct') {
      // Parquet has no empty group, and Spark refuses struct<> in a Delta table.
      if (t.fields.length === 0 && path !== '') {
        throw new TributaryError('SCHEMA_INVALID', `column "${path.slice(0, -1)}" is an empty struct (STRUCT<>); a struct needs at least one field`);
      }
      for (const f of t.fields) {
        const problem = columnNameProblem(f.name, opts.columnMapping);
        if (problem) throw new TributaryError('SCHEMA_INVALID', `column name ${JSON.stringify(path + f.name)} ${problem}`, { column: path + f.name });
        walk(f.type, `${path}${f.name}.`);
      }
    } else if (t.kind === 'array') walk(t.elementType, path);
    else if (t.kind === 'map') {
      walk(t.keyType, path);
      walk(t.valueType, path);
    }
  };
  walk(schema, '');
  if (schema.fields.length === 0) throw new TributaryError('SCHEMA_INVALID', 'a table needs at least one column');
  const seen = new Set<string>();
  for (const p of partitionColumns) {
    const f = schema.fields.find((x) => x.name === p);
    if (!f) throw new TributaryError('SCHEMA_INVALID', `partition column "${p}" is not a column of the schema (columns: ${schema.fields.map((x) => x.name).join(', ')})`);
    if (f.type.kind === 'struct' || f.type.kind === 'array' || f.type.kind === 'map' || f.type.kind === 'variant') {
      throw new TributaryError('SCHEMA_INVALID', `partition column "${p}" has type ${typeToString(f.type)}; partition columns must be primitive`);
    }
    if (seen.has(p)) throw new TributaryError('SCHEMA_INVALID', `partition column "${p}" is listed twice`);
    seen.add(p);
  }
  if (partitionColumns.length === schema.fields.length) {
    throw new TributaryError('SCHEMA_INVALID', 'every column is a partition column; a Delta table needs at least one data column');
  }
}

/**
 * Schema evolution allowed by `mergeSchema`: every existing field kept with the same type, new
 * nullable fields appended (recursively inside structs). Returns the merged schema, or throws
 * naming the first incompatible column.
 */
export function mergeSchemas(table: StructType, incoming: StructType, path = ''): StructType {
  const out: StructField[] = [];
  for (const f of table.fields) {
    const g = incoming.fields.find((x) => x.name.toLowerCase() === f.name.toLowerCase());
    if (!g) {
      out.push(f);
      continue;
    }
    out.push({ ...f, type: mergeTypes(f.type, g.type, `${path}${f.name}`) });
  }
  for (const g of incoming.fields) {
    if (!table.fields.some((f) => f.name.toLowerCase() === g.name.toLowerCase())) {
      // Old files have no such column, so they read as null: the new column must be nullable.
      out.push({ ...g, nullable: true });
    }
  }
  return struct(out);
}

/**
 * A table column's type merged with the input's: structs gain the input's new fields at any
 * depth, also inside arrays and maps (`a.element`, `m.key`, `m.value`, as Spark names those
 * positions), as Spark's mergeSchema does; anything else must be the same type.
 */
function mergeTypes(t: DataType, g: DataType, path: string): DataType {
  if (t.kind === 'struct' && g.kind === 'struct') return mergeSchemas(t, g, `${path}.`);
  if (t.kind === 'array' && g.kind === 'array') return { ...t, elementType: mergeTypes(t.elementType, g.elementType, `${path}.element`) };
  if (t.kind === 'map' && g.kind === 'map') return { ...t, keyType: mergeTypes(t.keyType, g.keyType, `${path}.key`), valueType: mergeTypes(t.valueType, g.valueType, `${path}.value`) };
  if (!typesEqual(withoutFieldMetadata(t), withoutFieldMetadata(g))) {
    throw new TributaryError('SCHEMA_MISMATCH', `column "${path}" has type ${typeToString(t)} in the table but ${typeToString(g)} in the input; changing a column's type is not allowed`);
  }
  return t;
}

/**
 * The type with no field metadata at any depth: the same data type to a reader whatever the
 * fields' comments or column mapping ids (a table's array<struct> against an input's).
 */
export function withoutFieldMetadata(t: DataType): DataType {
  switch (t.kind) {
    case 'struct':
      return { kind: 'struct', fields: t.fields.map((f) => ({ ...f, type: withoutFieldMetadata(f.type), metadata: {} })) };
    case 'array':
      return { ...t, elementType: withoutFieldMetadata(t.elementType) };
    case 'map':
      return { ...t, keyType: withoutFieldMetadata(t.keyType), valueType: withoutFieldMetadata(t.valueType) };
    default:
      return t;
  }
}

/** Leaf column paths in schema order (struct fields flattened; arrays and maps are leaves). */
export function leafPaths(schema: StructType): { path: string[]; type: DataType; nullable: boolean }[] {
  const out: { path: string[]; type: DataType; nullable: boolean }[] = [];
  const walk = (fields: readonly StructField[], prefix: string[]) => {
    for (const f of fields) {
      if (f.type.kind === 'struct') walk(f.type.fields, [...prefix, f.name]);
      else out.push({ path: [...prefix, f.name], type: f.type, nullable: f.nullable });
    }
  };
  walk(schema.fields, []);
  return out;
}

/**
 * How a VARIANT column is stored in Parquet, as Spark 4 writes it: a group of the encoded value
 * and metadata, both required binary (apache/parquet-format VariantEncoding.md).
 */
export const VARIANT_PHYSICAL: StructType = struct([field('value', primitive('binary'), false), field('metadata', primitive('binary'), false)]);

/** The type as Parquet stores it: VARIANT as its physical group, everything else as it is. */
export function physicalType(t: DataType): DataType {
  switch (t.kind) {
    case 'variant':
      return VARIANT_PHYSICAL;
    case 'array':
      return array(physicalType(t.elementType), t.containsNull);
    case 'map':
      return map(physicalType(t.keyType), physicalType(t.valueType), t.valueContainsNull);
    case 'struct':
      return { kind: 'struct', fields: t.fields.map((f) => ({ ...f, type: physicalType(f.type) })) };
    default:
      return t;
  }
}
