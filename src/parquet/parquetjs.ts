import * as arrow from 'apache-arrow';
import { ParquetEnvelopeWriter, ParquetSchema, ParquetWriter, type ParquetCompression, type PrimitiveType } from '@dsnp/parquetjs';
import type { FieldDefinition, SchemaDefinition } from '@dsnp/parquetjs/dist/lib/declare.js';
import type { RecordBuffer } from '@dsnp/parquetjs/dist/lib/shred.js';
import compressionModule from '@dsnp/parquetjs/dist/lib/compression.js';
import thrift from '@dsnp/parquetjs/dist/gen-nodejs/parquet_types.js';
import parquetUtil from '@dsnp/parquetjs/dist/lib/util.js';
import { TributaryError } from '../errors.js';
import { type ArrayType, type DataType, type MapType, physicalType, type StructType, VARIANT_PHYSICAL } from '../schema/schema.js';
import { BufferingFileWriter, checkEncodeOptions, type EncodeOptions, type ParquetHandler, type ParquetFileWriter } from './handler.js';
import { readParquetToArrow } from './reader.js';

/**
 * The pure-JavaScript encoder, built on @dsnp/parquetjs (1.8.6). It writes the same physical layout
 * as the arrow-rs writer behind ParquetWasmHandler (see src/arrow/types.ts):
 *
 *   boolean BOOLEAN; byte INT32 INT(8,true); short INT32 INT(16,true); integer INT32; long INT64;
 *   float FLOAT; double DOUBLE; string BYTE_ARRAY STRING; binary BYTE_ARRAY; date INT32 DATE;
 *   timestamp INT64 TIMESTAMP(MICROS, UTC); timestamp_ntz INT64 TIMESTAMP(MICROS, not UTC);
 *   decimal(p,s) INT32 (p<=9) / INT64 (p<=18) / FIXED_LEN_BYTE_ARRAY(minimal bytes) DECIMAL(p,s);
 *   array: 3-level LIST (`list` / `element`); map: MAP (`key_value` / `key` / `value`); struct: group.
 *
 * (One deliberate difference: Arrow JS renames every map's entries field to "entries", so the
 * parquet-wasm path names the repeated group of a MAP "entries"; this encoder writes the name the
 * Parquet spec and Spark use, "key_value". Readers accept either.)
 *
 * parquetjs does the PLAIN value encoding, RLE level encoding, V1 data pages, compression and row
 * groups. Rows are shredded into repetition/definition levels straight from the Arrow buffers into
 * parquetjs's RecordBuffer (see Shredder; parquetjs's per-record shredder gives identical bytes
 * but is several times slower). parquetjs is only given *physical* types, because its logical-type
 * conversions are wrong for this purpose: DATE and TIMESTAMP_MICROS refuse values before 1970,
 * DECIMAL goes through floating point, and its footer writer knows converted types only (no
 * LogicalType, so no timestamp without time zone). The footer is therefore written here, with
 * parquetjs's own Thrift classes, carrying LogicalType and ConvertedType annotations as arrow-rs
 * writes them, and with the uncompressed sizes parquetjs misreports corrected.
 *
 * Things parquetjs gets wrong that are switched off:
 *  - min/max statistics are only kept where JavaScript's `<` matches Parquet's sort order (integers,
 *    dates, timestamps, INT32/INT64 decimals, booleans). For strings (UTF-16 vs byte order), binary,
 *    FIXED_LEN_BYTE_ARRAY decimals and floats (NaN, -0) it would write wrong bounds, which readers
 *    use to skip row groups, so those columns carry no statistics.
 *  - the page index (ColumnIndex/OffsetIndex): its writer pairs index entries with the wrong column
 *    chunks when the schema has groups, and computes `null_pages` from running totals.
 *  - DataPage V2 (its default): V1 pages, as the parquet-wasm encoder writes (WriterVersion V1).
 *
 * Compression: parquetjs implements UNCOMPRESSED, SNAPPY, GZIP and BROTLI; not ZSTD.
 */

/** Rows per data page. */
const PAGE_ROWS = 8192;

const CREATED_BY = 'tributary (@dsnp/parquetjs 1.8.6)';

const CODECS: Record<EncodeOptions['compression'], ParquetCompression | 'ZSTD'> = {
  snappy: 'SNAPPY',
  zstd: 'ZSTD',
  uncompressed: 'UNCOMPRESSED',
};

// ---------------------------------------------------------------------------------------------
// Schema: Delta type -> parquetjs field definition (physical types only) + the annotations the
// footer carries.

interface Annotation {
  /** The Parquet field id (a column-mapped Delta table's column id). */
  fieldId?: number;
  converted?: number;
  logical?: InstanceType<typeof thrift.LogicalType>;
  precision?: number;
  scale?: number;
}

/** Smallest number of bytes whose two's complement holds every unscaled value of precision p. */
export function decimalByteLength(precision: number): number {
  const max = 10n ** BigInt(precision) - 1n;
  let n = 1;
  while ((1n << BigInt(8 * n - 1)) - 1n < max) n++;
  return n;
}

const pathKey = (path: readonly string[]) => path.join('\u0000');

const intType = (bitWidth: number) => new thrift.LogicalType({ INTEGER: new thrift.IntType({ bitWidth, isSigned: true }) });
const timestampMicros = (utc: boolean) =>
  new thrift.LogicalType({ TIMESTAMP: new thrift.TimestampType({ isAdjustedToUTC: utc, unit: new thrift.TimeUnit({ MICROS: new thrift.MicroSeconds() }) }) });

class SchemaBuilder {
  readonly annotations = new Map<string, Annotation>();
  constructor(private readonly compression: ParquetCompression) {}

  fields(s: StructType, path: readonly string[]): SchemaDefinition {
    if (s.fields.length === 0) {
      throw new TributaryError('UNSUPPORTED_FEATURE', `${path.length ? `column "${path.join('.')}"` : 'the table'}: Parquet cannot store a struct without fields`);
    }
    const out: SchemaDefinition = {};
    for (const f of s.fields) {
      // parquetjs keys columns by the path joined with ",", and keeps fields in a plain object.
      if (f.name.includes(',') || f.name === '__proto__') {
        throw new TributaryError(
          'UNSUPPORTED_FEATURE',
          `column "${[...path, f.name].join('.')}": the parquetjs engine cannot write a column named ${JSON.stringify(f.name)}; use the parquet-wasm engine`,
        );
      }
      out[f.name] = this.field(f.type, f.nullable, [...path, f.name]);
      // A physical schema's `parquet.field.id` (column mapping) becomes the field id, as Spark writes it.
      const id = f.metadata['parquet.field.id'];
      if (typeof id === 'number') {
        const key = pathKey([...path, f.name]);
        this.annotations.set(key, { ...this.annotations.get(key), fieldId: id });
      }
    }
    return out;
  }

  private field(t: DataType, nullable: boolean, path: readonly string[]): FieldDefinition {
    const key = pathKey(path);
    switch (t.kind) {
      case 'struct':
        return { optional: nullable, fields: this.fields(t, path) };
      case 'variant':
        return this.field(VARIANT_PHYSICAL, nullable, path);
      case 'array':
        this.annotations.set(key, { converted: thrift.ConvertedType.LIST, logical: new thrift.LogicalType({ LIST: new thrift.ListType() }) });
        return {
          optional: nullable,
          fields: { list: { repeated: true, fields: { element: this.field(t.elementType, t.containsNull, [...path, 'list', 'element']) } } },
        };
      case 'map':
        this.annotations.set(key, { converted: thrift.ConvertedType.MAP, logical: new thrift.LogicalType({ MAP: new thrift.MapType() }) });
        return {
          optional: nullable,
          fields: {
            key_value: {
              repeated: true,
              fields: {
                key: this.field(t.keyType, false, [...path, 'key_value', 'key']),
                value: this.field(t.valueType, t.valueContainsNull, [...path, 'key_value', 'value']),
              },
            },
          },
        };
      case 'decimal': {
        const { precision, scale } = t;
        this.annotations.set(key, {
          converted: thrift.ConvertedType.DECIMAL,
          logical: new thrift.LogicalType({ DECIMAL: new thrift.DecimalType({ precision, scale }) }),
          precision,
          scale,
        });
        if (precision <= 9) return this.leaf('INT32', nullable, true);
        if (precision <= 18) return this.leaf('INT64', nullable, true);
        return { ...this.leaf('FIXED_LEN_BYTE_ARRAY', nullable, false), typeLength: decimalByteLength(precision) };
      }
      case 'primitive':
        switch (t.name) {
          case 'boolean':
            return this.leaf('BOOLEAN', nullable, true);
          case 'byte':
            this.annotations.set(key, { converted: thrift.ConvertedType.INT_8, logical: intType(8) });
            return this.leaf('INT32', nullable, true);
          case 'short':
            this.annotations.set(key, { converted: thrift.ConvertedType.INT_16, logical: intType(16) });
            return this.leaf('INT32', nullable, true);
          case 'integer':
            return this.leaf('INT32', nullable, true);
          case 'long':
            return this.leaf('INT64', nullable, true);
          case 'float':
            return this.leaf('FLOAT', nullable, false);
          case 'double':
            return this.leaf('DOUBLE', nullable, false);
          case 'string':
            this.annotations.set(key, { converted: thrift.ConvertedType.UTF8, logical: new thrift.LogicalType({ STRING: new thrift.StringType() }) });
            return this.leaf('BYTE_ARRAY', nullable, false);
          case 'binary':
            return this.leaf('BYTE_ARRAY', nullable, false);
          case 'date':
            this.annotations.set(key, { converted: thrift.ConvertedType.DATE, logical: new thrift.LogicalType({ DATE: new thrift.DateType() }) });
            return this.leaf('INT32', nullable, true);
          case 'timestamp':
            this.annotations.set(key, { converted: thrift.ConvertedType.TIMESTAMP_MICROS, logical: timestampMicros(true) });
            return this.leaf('INT64', nullable, true);
          case 'timestamp_ntz':
            // arrow-rs (and parquet-mr) also set the legacy TIMESTAMP_MICROS converted type here;
            // readers that know LogicalType (Spark 3.4+, delta-rs) go by isAdjustedToUTC=false.
            this.annotations.set(key, { converted: thrift.ConvertedType.TIMESTAMP_MICROS, logical: timestampMicros(false) });
            return this.leaf('INT64', nullable, true);
        }
    }
    throw new TributaryError('INTERNAL', `unreachable: Delta type ${JSON.stringify(t)}`);
  }

  private leaf(type: PrimitiveType, nullable: boolean, statistics: boolean): FieldDefinition {
    const def: FieldDefinition = { type, optional: nullable, compression: this.compression, encoding: 'PLAIN' };
    if (!statistics) def.statistics = false;
    return def;
  }
}

/**
 * parquetjs keeps fields in plain objects, where integer-like names ("1") sort first. Column chunks
 * and schema elements follow `fieldList`, so rebuilding it depth-first in Delta order keeps the
 * file's column order the schema's.
 */
type Field = ParquetSchema['fieldList'][number];

type Group = DataType | { kind: 'list-group'; of: ArrayType } | { kind: 'key-value-group'; of: MapType };

/** The children of the Parquet node a Delta type becomes, in order. */
function groupChildren(g: Group): [string, Group][] {
  switch (g.kind) {
    case 'struct':
      return g.fields.map((f) => [f.name, f.type]);
    case 'array':
      return [['list', { kind: 'list-group', of: g }]];
    case 'map':
      return [['key_value', { kind: 'key-value-group', of: g }]];
    case 'list-group':
      return [['element', g.of.elementType]];
    case 'key-value-group':
      return [
        ['key', g.of.keyType],
        ['value', g.of.valueType],
      ];
    default:
      return [];
  }
}

function orderedFieldList(fields: Record<string, Field>, g: Group): Field[] {
  const out: Field[] = [];
  for (const [name, child] of groupChildren(g)) {
    const f = fields[name];
    out.push(f);
    if (f.fields) out.push(...orderedFieldList(f.fields, child));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Footer

function encodeFooter(
  schema: ParquetSchema,
  annotations: Map<string, Annotation>,
  env: ParquetEnvelopeWriter,
  keyValueMetadata: Record<string, string>,
): Buffer {
  const md = new thrift.FileMetaData();
  md.version = 1;
  md.created_by = CREATED_BY;
  md.num_rows = env.rowCount;
  md.row_groups = env.rowGroups;
  md.key_value_metadata = Object.entries(keyValueMetadata).map(([key, value]) => new thrift.KeyValue({ key, value }));
  md.schema = [new thrift.SchemaElement({ name: 'spark_schema', num_children: Object.keys(schema.fields).length })];
  md.column_orders = [];
  // fieldList is depth-first, the order Parquet lists schema elements and column chunks in.
  for (const f of schema.fieldList as Field[]) {
    const el = new thrift.SchemaElement({ name: f.name });
    el.repetition_type = thrift.FieldRepetitionType[f.repetitionType];
    if (f.isNested) {
      el.num_children = f.fieldCount;
    } else {
      el.type = thrift.Type[f.primitiveType!];
      if (f.primitiveType === 'FIXED_LEN_BYTE_ARRAY') el.type_length = f.typeLength;
      md.column_orders.push(new thrift.ColumnOrder({ TYPE_ORDER: new thrift.TypeDefinedOrder() }));
    }
    const a = annotations.get(pathKey(f.path));
    if (a) {
      if (a.fieldId !== undefined) el.field_id = a.fieldId;
      if (a.converted !== undefined) el.converted_type = a.converted;
      if (a.logical) el.logicalType = a.logical;
      if (a.precision !== undefined) {
        el.precision = a.precision;
        el.scale = a.scale;
      }
    }
    md.schema.push(el);
  }
  const body = parquetUtil.serializeThrift(md);
  const footer = Buffer.alloc(body.length + 8);
  body.copy(footer);
  footer.writeUInt32LE(body.length, body.length);
  footer.write('PAR1', body.length + 4);
  return footer;
}

/**
 * parquetjs reports compressed sizes as uncompressed ones (ColumnMetaData.total_uncompressed_size,
 * RowGroup.total_byte_size). Re-derives them from the page headers already written.
 */
function fixUncompressedSizes(file: Buffer, rowGroups: ParquetEnvelopeWriter['rowGroups']): void {
  for (const g of rowGroups) {
    let groupBytes = 0;
    for (const c of g.columns) {
      const md = c.meta_data;
      if (!md) continue;
      let pos = Number(md.data_page_offset);
      const end = pos + Number(md.total_compressed_size);
      let uncompressed = 0;
      while (pos < end) {
        const header = new thrift.PageHeader();
        const headerBytes = parquetUtil.decodeThrift(header, file, pos);
        uncompressed += headerBytes + header.uncompressed_page_size;
        pos += headerBytes + header.compressed_page_size;
      }
      if (pos !== end) throw new TributaryError('INTERNAL', `column chunk ${md.path_in_schema.join('.')} does not end on a page boundary`);
      md.total_uncompressed_size.setValue(uncompressed);
      groupBytes += uncompressed;
    }
    g.total_byte_size.setValue(groupBytes);
  }
}

// ---------------------------------------------------------------------------------------------
// Arrow data -> the values parquetjs shreds. Index `i` is relative to the Data: Arrow JS slices
// offsets and fixed-width value buffers on `slice`, but not validity bitmaps, boolean bits or the
// bytes behind variable-width offsets; struct children are sliced along, list children are not.

type Get = (i: number) => unknown;
type Bind = (d: arrow.Data) => Get;

function validity(d: arrow.Data): ((i: number) => boolean) | undefined {
  const bm = d.nullBitmap;
  if (!bm || bm.length === 0 || d.nullCount === 0) return undefined;
  const off = d.offset;
  return (i) => {
    const j = off + i;
    return (bm[j >> 3] & (1 << (j & 7))) !== 0;
  };
}

function nullable(get: Get, d: arrow.Data): Get {
  const valid = validity(d);
  return valid ? (i) => (valid(i) ? get(i) : null) : get;
}

function mismatch(t: DataType, d: arrow.Data, path: string): never {
  throw new TributaryError('INVALID_ARGUMENT', `column "${path}": Arrow type ${String(d.type)} does not match the Delta type ${JSON.stringify(t)}`);
}

function binder(t: DataType, path: string): Bind {
  switch (t.kind) {
    case 'struct': {
      const names = t.fields.map((f) => f.name);
      const kids = t.fields.map((f) => binder(f.type, `${path}.${f.name}`));
      return (d) => {
        if (!arrow.DataType.isStruct(d.type)) mismatch(t, d, path);
        const byName = new Map(d.type.children.map((f, k) => [f.name, k]));
        const gets = names.map((n, k) => {
          const idx = byName.get(n);
          if (idx === undefined) throw new TributaryError('INVALID_ARGUMENT', `column "${path}": the Arrow struct has no field "${n}"`);
          return kids[k](d.children[idx]);
        });
        return nullable((i) => {
          const o: Record<string, unknown> = {};
          for (let k = 0; k < names.length; k++) o[names[k]] = gets[k](i);
          return o;
        }, d);
      };
    }
    case 'array': {
      const el = binder(t.elementType, `${path}[]`);
      return (d) => {
        if (!arrow.DataType.isList(d.type)) mismatch(t, d, path);
        const offs = d.valueOffsets as Int32Array;
        const child = el(d.children[0]);
        return nullable((i) => {
          const list: { element: unknown }[] = [];
          for (let k = offs[i], end = offs[i + 1]; k < end; k++) list.push({ element: child(k) });
          return { list };
        }, d);
      };
    }
    case 'map': {
      const kb = binder(t.keyType, `${path}.key`);
      const vb = binder(t.valueType, `${path}.value`);
      return (d) => {
        if (!arrow.DataType.isMap(d.type)) mismatch(t, d, path);
        const offs = d.valueOffsets as Int32Array;
        const entries = d.children[0];
        const key = kb(entries.children[0]);
        const value = vb(entries.children[1]);
        return nullable((i) => {
          const key_value: { key: unknown; value: unknown }[] = [];
          for (let k = offs[i], end = offs[i + 1]; k < end; k++) key_value.push({ key: key(k), value: value(k) });
          return { key_value };
        }, d);
      };
    }
    case 'decimal': {
      const { precision, scale } = t;
      return (d) => {
        const dt = d.type;
        if (!arrow.DataType.isDecimal(dt) || dt.precision !== precision || dt.scale !== scale) mismatch(t, d, path);
        const w = d.values as Uint32Array;
        const stride = dt.bitWidth / 32;
        if (precision <= 9) return nullable((i) => w[i * stride] | 0, d);
        if (precision <= 18) return nullable((i) => (BigInt(w[i * stride + 1] | 0) << 32n) + BigInt(w[i * stride]), d);
        // Two's complement big-endian in n bytes: the low n bytes of the little-endian words, reversed.
        const n = decimalByteLength(precision);
        const bytes = new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
        const width = stride * 4;
        return nullable((i) => {
          const out = Buffer.allocUnsafe(n);
          const base = i * width;
          for (let j = 0; j < n; j++) out[j] = bytes[base + n - 1 - j];
          return out;
        }, d);
      };
    }
    case 'primitive':
      return primitiveBinder(t, path);
    case 'variant':
      return binder(VARIANT_PHYSICAL, path);
  }
}

function primitiveBinder(t: DataType & { kind: 'primitive' }, path: string): Bind {
  switch (t.name) {
    case 'boolean':
      return (d) => {
        if (!arrow.DataType.isBool(d.type)) mismatch(t, d, path);
        const bits = d.values as Uint8Array;
        const off = d.offset;
        return nullable((i) => {
          const j = off + i;
          return (bits[j >> 3] & (1 << (j & 7))) !== 0;
        }, d);
      };
    case 'byte':
    case 'short':
    case 'integer':
    case 'float':
    case 'double':
      return (d) => {
        const dt = d.type;
        const ok =
          t.name === 'float' || t.name === 'double'
            ? arrow.DataType.isFloat(dt) && dt.precision === (t.name === 'float' ? arrow.Precision.SINGLE : arrow.Precision.DOUBLE)
            : arrow.DataType.isInt(dt) && dt.isSigned && dt.bitWidth === (t.name === 'byte' ? 8 : t.name === 'short' ? 16 : 32);
        if (!ok) mismatch(t, d, path);
        const v = d.values as Int32Array | Float64Array;
        return nullable((i) => v[i], d);
      };
    case 'long':
      return (d) => {
        if (!arrow.DataType.isInt(d.type) || d.type.bitWidth !== 64) mismatch(t, d, path);
        const v = d.values as BigInt64Array;
        return nullable((i) => v[i], d);
      };
    case 'date':
      return (d) => {
        if (!arrow.DataType.isDate(d.type) || d.type.unit !== arrow.DateUnit.DAY) mismatch(t, d, path);
        const v = d.values as Int32Array;
        return nullable((i) => v[i], d);
      };
    case 'timestamp':
    case 'timestamp_ntz':
      return (d) => {
        const dt = d.type;
        if (!arrow.DataType.isTimestamp(dt)) mismatch(t, d, path);
        const v = d.values as BigInt64Array;
        switch (dt.unit) {
          case arrow.TimeUnit.MICROSECOND:
            return nullable((i) => v[i], d);
          case arrow.TimeUnit.MILLISECOND:
            return nullable((i) => v[i] * 1000n, d);
          case arrow.TimeUnit.SECOND:
            return nullable((i) => v[i] * 1_000_000n, d);
          default:
            return mismatch(t, d, path);
        }
      };
    case 'string':
    case 'binary':
      return (d) => {
        const ok = t.name === 'string' ? arrow.DataType.isUtf8(d.type) : arrow.DataType.isBinary(d.type);
        if (!ok) mismatch(t, d, path);
        const offs = d.valueOffsets as Int32Array;
        const bytes = d.values as Uint8Array;
        // A view over Arrow's bytes; parquetjs copies it.
        return nullable((i) => bytes.subarray(offs[i], offs[i + 1]), d);
      };
  }
}

// ---------------------------------------------------------------------------------------------
// Columnar shredding. parquetjs shreds one record object at a time, allocating per row and
// column; that dominates its cost. Rows are instead shredded straight from the Arrow buffers into
// the writer's RecordBuffer (the format lib/shred.d.ts documents, and `ParquetWriter.rowBuffer`
// is public), with the same repetition/definition levels and values parquetjs's shredRecord
// produces. parquetjs still encodes pages and writes row groups: the one row that completes a page
// or a row group goes through `appendRow`, which then flushes exactly as if every row had.

/** One leaf column's pending levels and values (parquetjs's PageData). */
interface LeafData {
  rlevels: number[];
  dlevels: number[];
  values: unknown[];
  distinct_values: Set<unknown>;
  count: number;
}

/** Shreds row `i` of the bound Data, given the repetition level and the parent's definition level. */
type Shred = (i: number, r: number, dParent: number) => void;

interface ShredNode {
  /** Leaf numbers (indices into the targets) under this node. */
  readonly leaves: number[];
  bind(d: arrow.Data): Shred;
}

class Shredder {
  /** PageData of each leaf in the writer's current RecordBuffer, refreshed when it is replaced. */
  readonly targets: LeafData[] = [];
  private readonly leafPaths: string[] = [];
  private readonly leafNumber = new Map<string, number>();
  readonly columns: ShredNode[];
  private buffer: RecordBuffer | undefined;

  constructor(
    private readonly pschema: ParquetSchema,
    schema: StructType,
  ) {
    for (const f of pschema.fieldList as Field[]) {
      if (f.isNested) continue;
      this.leafNumber.set(f.path.join(','), this.leafPaths.length);
      this.leafPaths.push(f.path.join(','));
    }
    this.columns = schema.fields.map((f) => this.node(f.type, pschema.fields[f.name], f.name));
  }

  /** Makes `buf` (the writer's rowBuffer) ready to take rows, exactly as shredRecord initialises it. */
  attach(buf: RecordBuffer): void {
    if (!('columnData' in buf) || !('rowCount' in buf)) {
      buf.rowCount = 0;
      buf.pageRowCount = 0;
      buf.columnData = {};
      buf.pages = {};
      for (const f of this.pschema.fieldList as Field[]) {
        const path = f.path.join(',');
        buf.columnData[path] = { dlevels: [], rlevels: [], values: [], distinct_values: new Set(), count: 0 };
        buf.pages[path] = [];
      }
    }
    if (buf !== this.buffer) {
      this.buffer = buf;
      this.leafPaths.forEach((p, k) => (this.targets[k] = buf.columnData![p] as unknown as LeafData));
    }
  }

  private nulls(leaves: readonly number[], r: number, d: number): void {
    for (const k of leaves) {
      const t = this.targets[k];
      t.rlevels.push(r);
      t.dlevels.push(d);
      t.count++;
    }
  }

  private node(t: DataType, f: Field, path: string): ShredNode {
    const targets = this.targets;
    switch (t.kind) {
      case 'struct': {
        const kids = t.fields.map((c) => this.node(c.type, f.fields![c.name], `${path}.${c.name}`));
        const leaves = kids.flatMap((k) => k.leaves);
        const names = t.fields.map((c) => c.name);
        const dl = f.dLevelMax;
        return {
          leaves,
          bind: (d) => {
            const byName = new Map((d.type as arrow.Struct).children.map((c, k) => [c.name, k]));
            const shreds = kids.map((k, n) => k.bind(d.children[byName.get(names[n])!]));
            const valid = validity(d);
            return (i, r, dParent) => {
              if (valid && !valid(i)) return this.nulls(leaves, r, dParent);
              for (const s of shreds) s(i, r, dl);
            };
          },
        };
      }
      case 'array':
      case 'map': {
        // <f> (LIST|MAP) { repeated <rep> { children } }
        const rep = f.fields![t.kind === 'array' ? 'list' : 'key_value'];
        const kids =
          t.kind === 'array'
            ? [this.node(t.elementType, rep.fields!.element, `${path}[]`)]
            : [this.node(t.keyType, rep.fields!.key, `${path}.key`), this.node(t.valueType, rep.fields!.value, `${path}.value`)];
        const leaves = kids.flatMap((k) => k.leaves);
        const dl = f.dLevelMax;
        const dRep = rep.dLevelMax;
        const rRep = rep.rLevelMax;
        return {
          leaves,
          bind: (d) => {
            const offs = d.valueOffsets as Int32Array;
            const shreds = t.kind === 'array' ? [kids[0].bind(d.children[0])] : kids.map((k, n) => k.bind(d.children[0].children[n]));
            const valid = validity(d);
            return (i, r, dParent) => {
              if (valid && !valid(i)) return this.nulls(leaves, r, dParent);
              const start = offs[i];
              const end = offs[i + 1];
              if (start === end) return this.nulls(leaves, r, dl);
              for (const s of shreds) s(start, r, dRep);
              for (let k = start + 1; k < end; k++) for (const s of shreds) s(k, rRep, dRep);
            };
          },
        };
      }
      default: {
        const n = this.leafNumber.get(f.path.join(','))!;
        const get = binder(t, path);
        const dl = f.dLevelMax;
        const stats = f.statistics !== false;
        return {
          leaves: [n],
          bind: (d) => {
            const value = get(d);
            return (i, r, dParent) => {
              const v = value(i);
              const col = targets[n];
              col.rlevels.push(r);
              col.count++;
              if (v === null) {
                col.dlevels.push(dParent);
              } else {
                col.dlevels.push(dl);
                col.values.push(v);
                if (stats) col.distinct_values.add(v);
              }
            };
          },
        };
      }
    }
  }
}

export interface ParquetJsEncoderOptions {
  /** Rows per data page (default 8192). */
  pageRows?: number;
  /**
   * 'columnar' (default) shreds from the Arrow buffers; 'rows' hands every row to parquetjs's own
   * shredder (slow; kept as the reference the columnar path is tested against).
   */
  shredding?: 'columnar' | 'rows';
}

// ---------------------------------------------------------------------------------------------

export class ParquetJsHandler implements ParquetHandler {
  readonly name = 'parquetjs' as const;
  /** Reading is arrow-rs's (parquetjs's reader builds JavaScript rows); there is no compactor. */
  read(bytes: Uint8Array, columns?: string[]): arrow.Table {
    return readParquetToArrow(bytes, columns);
  }
  private readonly pageRows: number;
  private readonly shredding: 'columnar' | 'rows';

  constructor(options: ParquetJsEncoderOptions = {}) {
    this.pageRows = options.pageRows ?? PAGE_ROWS;
    this.shredding = options.shredding ?? 'columnar';
    if (!Number.isSafeInteger(this.pageRows) || this.pageRows < 1) throw new TributaryError('INVALID_ARGUMENT', `pageRows must be a positive integer, got ${this.pageRows}`);
  }

  open(schema: StructType, opts: EncodeOptions): ParquetFileWriter {
    checkEncodeOptions(opts);
    return new BufferingFileWriter((t) => this.encode(t, schema, opts));
  }

  async encode(table: arrow.Table, schema: StructType, opts: EncodeOptions): Promise<Uint8Array> {
    checkEncodeOptions(opts);
    const codec = CODECS[opts.compression];
    if (!(codec in compressionModule.PARQUET_COMPRESSION_METHODS)) {
      throw new TributaryError(
        'UNSUPPORTED_FEATURE',
        `the parquetjs engine cannot write ${opts.compression} compression: @dsnp/parquetjs implements only ${Object.keys(compressionModule.PARQUET_COMPRESSION_METHODS).join(', ')}; use compression "snappy" or the parquet-wasm engine`,
      );
    }
    const rowGroupRows = opts.rowGroupRows;
    // VARIANT columns are written as the group Spark stores them in.
    schema = physicalType(schema) as StructType;

    const sb = new SchemaBuilder(codec as ParquetCompression);
    const pschema = new ParquetSchema(sb.fields(schema, []));
    pschema.fieldList = orderedFieldList(pschema.fields, schema);
    const names = schema.fields.map((f) => f.name);
    const binders = schema.fields.map((f) => binder(f.type, f.name));

    const chunks: Buffer[] = [];
    const sink = {
      write(buf: Buffer, cb?: (err?: Error | null) => void) {
        chunks.push(buf);
        cb?.();
        return true;
      },
      end(cb?: () => void) {
        cb?.();
        return this;
      },
    };
    const writerOpts = { rowGroupSize: rowGroupRows, pageSize: this.pageRows, useDataPageV2: false, pageIndex: false };
    const env = await ParquetEnvelopeWriter.openStream(pschema, sink as unknown as Parameters<typeof ParquetEnvelopeWriter.openStream>[1], writerOpts);
    const kv = opts.keyValueMetadata ?? {};
    env.writeFooter = function (this: ParquetEnvelopeWriter) {
      const file = Buffer.concat(chunks);
      chunks.length = 0;
      chunks.push(file);
      fixUncompressedSizes(file, this.rowGroups);
      return this.writeSection(encodeFooter(pschema, sb.annotations, this, kv));
    };
    const writer = new ParquetWriter(pschema, env, writerOpts);

    const shredder = this.shredding === 'columnar' ? new Shredder(pschema, schema) : undefined;
    const pageRows = this.pageRows;
    try {
      for (const batch of table.batches) {
        const arrowNames = batch.schema.fields.map((f) => f.name);
        const datas = names.map((n) => {
          const idx = arrowNames.indexOf(n);
          if (idx < 0) throw new TributaryError('INVALID_ARGUMENT', `the Arrow data has no column "${n}" (columns: ${arrowNames.join(', ')})`);
          return batch.data.children[idx];
        });
        const gets = datas.map((d, c) => binders[c](d));
        const shreds = shredder ? datas.map((d, c) => shredder.columns[c].bind(d)) : [];
        for (let i = 0; i < batch.numRows; i++) {
          const buf = writer.rowBuffer;
          // The row that completes a page or a row group goes through appendRow, which flushes.
          if (shredder && (buf.pageRowCount ?? 0) + 1 < pageRows && (buf.rowCount ?? 0) + 1 < rowGroupRows) {
            shredder.attach(buf);
            for (let c = 0; c < shreds.length; c++) shreds[c](i, 0, 0);
            buf.rowCount!++;
            buf.pageRowCount!++;
            continue;
          }
          const rec: Record<string, unknown> = {};
          for (let c = 0; c < names.length; c++) rec[names[c]] = gets[c](i);
          await writer.appendRow(rec);
        }
      }
      await writer.close();
    } catch (e) {
      if (e instanceof Error) throw e;
      // parquetjs throws strings.
      throw new TributaryError('INVALID_ARGUMENT', `parquetjs could not encode the data: ${String(e)}`, {}, { cause: e });
    }
    const out = Buffer.concat(chunks);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }
}
