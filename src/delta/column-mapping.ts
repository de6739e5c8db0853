import { randomUUID } from 'node:crypto';
import * as arrow from 'apache-arrow';
import { TributaryError } from '../errors.js';
import type { DataType, StructField, StructType } from '../schema/schema.js';
import { setField } from '../arrow/own-fields.js';

/**
 * Column mapping (PROTOCOL.md "Column Mapping"; delta-spark's DeltaColumnMapping). With
 * `delta.columnMapping.mode` = `name` or `id`, every field of the schema (nested struct fields too,
 * inside arrays and maps as well) carries a `delta.columnMapping.id` and a
 * `delta.columnMapping.physicalName`. Data files, stats and partition values use the physical
 * names (and Parquet field ids = the column ids), so a column can be renamed or dropped by
 * changing only the schema, and its logical name may hold characters Parquet and Hive paths
 * cannot. Readers resolve file columns by physical name (`name` mode) or field id (`id` mode).
 *
 * Everything here is pure: the write path works on the *physical* schema (fields renamed to their
 * physical names, carrying `parquet.field.id` as Spark's physical schema does), and relabelled
 * Arrow batches (same buffers, physical names and field ids) go to the encoder.
 */
export type ColumnMappingMode = 'none' | 'name' | 'id';

export const MODE_KEY = 'delta.columnMapping.mode';
export const MAX_COLUMN_ID_KEY = 'delta.columnMapping.maxColumnId';
export const COLUMN_ID_KEY = 'delta.columnMapping.id';
export const PHYSICAL_NAME_KEY = 'delta.columnMapping.physicalName';
/** The field metadata key of Spark's physical schema that its Parquet writer turns into field ids. */
export const PARQUET_FIELD_ID_KEY = 'parquet.field.id';
/** What arrow-rs reads field ids into (and writes them from) on Arrow fields. */
export const ARROW_FIELD_ID_KEY = 'PARQUET:field_id';

const MAPPING_KEYS = [COLUMN_ID_KEY, PHYSICAL_NAME_KEY, PARQUET_FIELD_ID_KEY];

/** The table's mode; an unknown one is refused by name (no reader can find its columns). */
export function columnMappingMode(configuration: Readonly<Record<string, string>> | undefined): ColumnMappingMode {
  const v = configuration?.[MODE_KEY];
  if (v === undefined) return 'none';
  const mode = v.toLowerCase();
  if (mode === 'none' || mode === 'name' || mode === 'id') return mode;
  throw new TributaryError('UNSUPPORTED_FEATURE', `table property ${MODE_KEY}=${JSON.stringify(v)} is not a column mapping mode Delta defines (none, name, id)`);
}

/** The mode that table properties given on create ask for (keys are case-insensitive, as in Spark). */
export function requestedColumnMappingMode(properties: Readonly<Record<string, string>> | undefined): ColumnMappingMode {
  const key = Object.keys(properties ?? {}).find((k) => k.toLowerCase() === MODE_KEY.toLowerCase());
  if (key === undefined) return 'none';
  const v = properties![key].toLowerCase();
  return v === 'name' || v === 'id' ? v : 'none';
}

export function columnId(f: StructField): number | undefined {
  const v = f.metadata[COLUMN_ID_KEY];
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined;
}

/** Spark's getPhysicalName: the physical name, or the display name for a field without one. */
export function physicalName(f: StructField): string {
  const v = f.metadata[PHYSICAL_NAME_KEY];
  return typeof v === 'string' ? v : f.name;
}

/** Spark's generatePhysicalName. */
export const generatePhysicalName = (): string => `col-${randomUUID()}`;

/** Applies `fn` to every struct field, parents before children, into arrays and maps too (Spark's transformColumns). */
function transformFields(t: DataType, fn: (f: StructField) => StructField): DataType {
  switch (t.kind) {
    case 'struct':
      return {
        kind: 'struct',
        fields: t.fields.map((f) => {
          const g = fn(f);
          return { ...g, type: transformFields(g.type, fn) };
        }),
      };
    case 'array':
      return { ...t, elementType: transformFields(t.elementType, fn) };
    case 'map':
      return { ...t, keyType: transformFields(t.keyType, fn), valueType: transformFields(t.valueType, fn) };
    default:
      return t;
  }
}

const transformSchema = (s: StructType, fn: (f: StructField) => StructField) => transformFields(s, fn) as StructType;

function forEachField(t: DataType, fn: (f: StructField, path: string[]) => void, path: string[] = []): void {
  if (t.kind === 'struct') {
    for (const f of t.fields) {
      fn(f, [...path, f.name]);
      forEachField(f.type, fn, [...path, f.name]);
    }
  } else if (t.kind === 'array') forEachField(t.elementType, fn, [...path, 'element']);
  else if (t.kind === 'map') {
    forEachField(t.keyType, fn, [...path, 'key']);
    forEachField(t.valueType, fn, [...path, 'value']);
  }
}

/** The largest column id in the schema (0 when there is none): Spark's findMaxColumnId. */
export function maxColumnIdOf(schema: StructType): number {
  let max = 0;
  forEachField(schema, (f) => (max = Math.max(max, columnId(f) ?? 0)));
  return max;
}

/** The schema without column mapping metadata (a user's schema for a new table, or one to compare). */
export function withoutColumnMapping(schema: StructType): StructType {
  return transformSchema(schema, (f) => {
    if (!MAPPING_KEYS.some((k) => k in f.metadata)) return f;
    const metadata = { ...f.metadata };
    for (const k of MAPPING_KEYS) delete metadata[k];
    return { ...f, metadata };
  });
}

/**
 * Spark's assignColumnIdAndPhysicalName: fields without an id get the next ids after
 * max(`delta.columnMapping.maxColumnId`, the schema's largest id), in schema order, parents
 * before children; fields without a physical name get `col-<uuid>`; the configuration gets the
 * new maxColumnId. Fields that have both are kept as they are, so existing columns keep their
 * data. Unchanged (same objects) when the mode is `none`.
 */
export function withColumnMapping(schema: StructType, configuration: Readonly<Record<string, string>>): { schema: StructType; configuration: Record<string, string> } {
  if (columnMappingMode(configuration) === 'none') return { schema, configuration: { ...configuration } };
  const stored = Number(configuration[MAX_COLUMN_ID_KEY] ?? 0);
  let maxId = Math.max(Number.isSafeInteger(stored) ? stored : 0, maxColumnIdOf(schema));
  const mapped = transformSchema(schema, (f) => {
    const id = columnId(f);
    const hasName = typeof f.metadata[PHYSICAL_NAME_KEY] === 'string';
    if (id !== undefined && hasName) return f;
    const metadata: Record<string, unknown> = { ...f.metadata };
    if (id === undefined) metadata[COLUMN_ID_KEY] = ++maxId;
    if (!hasName) metadata[PHYSICAL_NAME_KEY] = generatePhysicalName();
    return { ...f, metadata };
  });
  return { schema: mapped, configuration: { ...configuration, [MAX_COLUMN_ID_KEY]: String(maxId) } };
}

/**
 * What a writer needs of a mapped table's log (Spark's checkColumnIdAndPhysicalNameAssignments):
 * every field has an id and a physical name, no id and no physical path is used twice, and
 * maxColumnId is at least the largest id. Writing into a table that breaks this could put two
 * columns' data under one name, so it is refused, naming the field.
 */
export function checkColumnMapping(schema: StructType, configuration: Readonly<Record<string, string>>, table: string): void {
  const mode = columnMappingMode(configuration);
  if (mode === 'none') return;
  const ids = new Map<number, string>();
  const paths = new Set<string>();
  const bad = (why: string) => new TributaryError('LOG_CORRUPT', `cannot write to ${table}: its column mapping (mode ${mode}) is broken: ${why}; Spark refuses to write to it too`);
  const physicalPath: string[] = [];
  const walk = (t: DataType, logical: string[]) => {
    const visit = (f: StructField, at: string[]) => {
      const shown = [...at, f.name].join('.');
      const id = columnId(f);
      if (id === undefined) throw bad(`column "${shown}" has no ${COLUMN_ID_KEY}`);
      if (typeof f.metadata[PHYSICAL_NAME_KEY] !== 'string') throw bad(`column "${shown}" has no ${PHYSICAL_NAME_KEY}`);
      if (ids.has(id)) throw bad(`columns "${ids.get(id)}" and "${shown}" have the same id ${id}`);
      ids.set(id, shown);
      physicalPath.push(physicalName(f));
      // A dot inside a physical name must not make it collide with a nested path.
      const key = JSON.stringify(physicalPath);
      if (paths.has(key)) throw bad(`two columns have the physical name ${JSON.stringify(physicalPath.join('.'))}`);
      paths.add(key);
      walk(f.type, [...at, f.name]);
      physicalPath.pop();
    };
    if (t.kind === 'struct') for (const f of t.fields) visit(f, logical);
    else if (t.kind === 'array') {
      physicalPath.push('element');
      walk(t.elementType, logical);
      physicalPath.pop();
    } else if (t.kind === 'map') {
      physicalPath.push('key');
      walk(t.keyType, logical);
      physicalPath[physicalPath.length - 1] = 'value';
      walk(t.valueType, logical);
      physicalPath.pop();
    }
  };
  walk(schema, []);
  const stored = Number(configuration[MAX_COLUMN_ID_KEY]);
  const max = maxColumnIdOf(schema);
  if (configuration[MAX_COLUMN_ID_KEY] === undefined || !Number.isSafeInteger(stored) || stored < max) {
    throw bad(`${MAX_COLUMN_ID_KEY} is ${configuration[MAX_COLUMN_ID_KEY] === undefined ? 'not set' : JSON.stringify(configuration[MAX_COLUMN_ID_KEY])}, below the largest column id ${max}`);
  }
}

/**
 * Spark's physical schema (createPhysicalSchema): every field renamed to its physical name, with
 * `parquet.field.id` = its column id (which the Parquet writers turn into field ids). The same
 * schema when the mode is `none`.
 */
export function physicalSchema(schema: StructType, mode: ColumnMappingMode): StructType {
  if (mode === 'none') return schema;
  return transformSchema(schema, (f) => {
    const id = columnId(f);
    return { ...f, name: physicalName(f), metadata: id === undefined ? f.metadata : { ...f.metadata, [PARQUET_FIELD_ID_KEY]: id } };
  });
}

/** The partition columns' physical names (the keys of `partitionValues` and the stats). */
export function physicalPartitionColumns(schema: StructType, partitionColumns: readonly string[], mode: ColumnMappingMode): string[] {
  if (mode === 'none') return [...partitionColumns];
  return partitionColumns.map((c) => {
    const f = schema.fields.find((x) => x.name === c);
    return f ? physicalName(f) : c;
  });
}

/** Partition values keyed by the physical names turned into values keyed by the logical names. */
export function logicalPartitionValues(values: Readonly<Record<string, string | null>>, logical: readonly string[], physical: readonly string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  logical.forEach((c, i) => {
    if (Object.hasOwn(values, physical[i])) setField(out, c, values[physical[i]]);
  });
  return out;
}

/**
 * The index of the file column (among `fields`, a file's Arrow fields at one level) that holds
 * the table field `f` (a field of the *physical* schema): by Parquet field id in `id` mode, when
 * the file carries field ids (as Spark's reader does); otherwise by name, exactly, then ignoring
 * case (Spark resolves Parquet columns case-insensitively). -1: the file does not have it (a
 * column added later, so null).
 */
export function fileColumnIndex(fields: readonly arrow.Field[], f: StructField, mode: ColumnMappingMode): number {
  if (mode === 'id') {
    const id = f.metadata[PARQUET_FIELD_ID_KEY];
    if (typeof id === 'number' && fields.some((x) => x.metadata.has(ARROW_FIELD_ID_KEY))) return fields.findIndex((x) => x.metadata.get(ARROW_FIELD_ID_KEY) === String(id));
  }
  const i = fields.findIndex((x) => x.name === f.name);
  return i >= 0 ? i : fields.findIndex((x) => x.name.toLowerCase() === f.name.toLowerCase());
}

/**
 * The same batch under another Arrow schema of the same shape (physical names and field ids
 * instead of logical names, or back): the buffers are shared, only the types are replaced, at
 * every level.
 */
export function relabelBatch(batch: arrow.RecordBatch, schema: arrow.Schema): arrow.RecordBatch {
  if (batch.schema === schema) return batch;
  return new arrow.RecordBatch(schema, relabelData(batch.data, new arrow.Struct(schema.fields)) as arrow.Data<arrow.Struct>);
}

function relabelData(d: arrow.Data, type: arrow.DataType): arrow.Data {
  const kids: arrow.Field[] = type.children ?? [];
  if (kids.length !== d.children.length) throw new TributaryError('INTERNAL', `cannot relabel ${String(d.type)} as ${String(type)}`);
  const children = d.children.map((c, i) => relabelData(c, kids[i].type));
  // `undefined` buffers: the clone keeps this data's own.
  return d.clone(type, d.offset, d.length, d.nullCount, undefined, children);
}
