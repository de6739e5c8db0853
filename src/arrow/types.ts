import * as arrow from 'apache-arrow';
import type { DataType, StructField, StructType } from '../schema/schema.js';

/**
 * Delta type -> Arrow type, chosen so that the arrow-rs Parquet writer produces exactly the
 * physical layout Spark expects: TIMESTAMP(MICROS, UTC) int64 timestamps, DATE int32, 3-level
 * lists whose element is called "element", maps whose repeated group is "key_value".
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
  throw new Error('unreachable');
}

export function toArrowField(f: StructField): arrow.Field {
  return new arrow.Field(f.name, toArrowType(f.type), f.nullable);
}

export function toArrowSchema(s: StructType): arrow.Schema {
  return new arrow.Schema(s.fields.map(toArrowField));
}
