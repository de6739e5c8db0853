import * as arrow from 'apache-arrow';
import { TributaryError } from '../errors.js';
import { array, type DataType, decimal, field, map, primitive, struct, type StructField, type StructType, VARIANT_PHYSICAL } from '../schema/schema.js';

/**
 * Delta type -> Arrow type, chosen so that the arrow-rs Parquet writer produces exactly the
 * physical layout Spark expects: TIMESTAMP(MICROS, UTC) int64 timestamps, DATE int32, 3-level
 * lists whose element is called "element", maps whose repeated group is "key_value", VARIANT
 * as Spark's group of required `value` and `metadata` binaries.
 */
export function toArrowType(t: DataType): arrow.DataType {
  switch (t.kind) {
    case 'primitive':
      switch (t.name) {
        case 'string':
          return new arrow.Utf8();
        case 'long':
          return new arrow.Int64();
        case 'integer':
          return new arrow.Int32();
        case 'short':
          return new arrow.Int16();
        case 'byte':
          return new arrow.Int8();
        case 'double':
          return new arrow.Float64();
        case 'float':
          return new arrow.Float32();
        case 'boolean':
          return new arrow.Bool();
        case 'binary':
          return new arrow.Binary();
        case 'date':
          return new arrow.DateDay();
        case 'timestamp':
          return new arrow.TimestampMicrosecond('UTC');
        case 'timestamp_ntz':
          return new arrow.TimestampMicrosecond(null);
      }
      break;
    case 'variant':
      return toArrowType(VARIANT_PHYSICAL);
    case 'decimal':
      return new arrow.Decimal(t.scale, t.precision, 128);
    case 'array':
      return new arrow.List(new arrow.Field('element', toArrowType(t.elementType), t.containsNull));
    case 'map':
      return new arrow.Map_(
        // Arrow JS renames this field to "entries"; Spark and delta-rs find key/value by position.
        new arrow.Field<arrow.Struct>(
          'key_value',
          new arrow.Struct<any>([new arrow.Field('key', toArrowType(t.keyType), false), new arrow.Field('value', toArrowType(t.valueType), t.valueContainsNull)]),
          false,
        ),
      );
    case 'struct':
      return new arrow.Struct(t.fields.map(toArrowField));
  }
  throw new TributaryError('INTERNAL', `no Arrow type for ${JSON.stringify(t)}`);
}

/**
 * A field of a physical schema carries its Parquet field id as `parquet.field.id` (Spark's key;
 * see src/delta/column-mapping.ts); arrow-rs writes the Arrow field metadata `PARQUET:field_id`
 * into the file as the field id, and reads it back the same way.
 */
export function toArrowField(f: StructField): arrow.Field {
  const id = f.metadata['parquet.field.id'];
  return new arrow.Field(f.name, toArrowType(f.type), f.nullable, typeof id === 'number' ? new Map([['PARQUET:field_id', String(id)]]) : undefined);
}

export function toArrowSchema(s: StructType): arrow.Schema {
  return new arrow.Schema(s.fields.map(toArrowField));
}

/** Arrow type -> Delta type, for Arrow input whose new columns mergeSchema adds. */
export function fromArrowType(t: arrow.DataType, where: string): DataType {
  if (arrow.DataType.isUtf8(t) || arrow.DataType.isLargeUtf8(t)) return primitive('string');
  if (arrow.DataType.isBinary(t) || arrow.DataType.isLargeBinary(t)) return primitive('binary');
  if (arrow.DataType.isBool(t)) return primitive('boolean');
  if (arrow.DataType.isInt(t) && t.isSigned) return primitive(({ 8: 'byte', 16: 'short', 32: 'integer', 64: 'long' } as const)[t.bitWidth as 8 | 16 | 32 | 64]);
  if (arrow.DataType.isFloat(t)) return primitive(t.precision === arrow.Precision.SINGLE ? 'float' : 'double');
  if (arrow.DataType.isDate(t)) return primitive('date');
  if (arrow.DataType.isTimestamp(t)) return primitive(t.timezone ? 'timestamp' : 'timestamp_ntz');
  if (arrow.DataType.isDecimal(t)) return decimal(t.precision, t.scale);
  if (arrow.DataType.isList(t)) return array(fromArrowType(t.children[0].type, `${where}[]`), t.children[0].nullable);
  if (arrow.DataType.isMap(t)) {
    const entries = t.children[0].type as arrow.Struct;
    return map(fromArrowType(entries.children[0].type, `${where}.key`), fromArrowType(entries.children[1].type, `${where}.value`), entries.children[1].nullable);
  }
  if (arrow.DataType.isStruct(t)) return struct(t.children.map((f) => field(f.name, fromArrowType(f.type, `${where}.${f.name}`), f.nullable)));
  throw new TributaryError('SCHEMA_MISMATCH', `column "${where}": Arrow type ${String(t)} has no Delta type; pass an input schema`);
}

export function schemaFromArrow(s: arrow.Schema): StructType {
  return struct(s.fields.map((f) => field(f.name, fromArrowType(f.type, f.name), f.nullable)));
}
