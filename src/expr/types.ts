import { type DataType, type DecimalType, type PrimitiveType, type PrimitiveTypeName, primitive } from '../schema/schema.js';

/**
 * The types of Spark SQL expressions: the Delta column types plus the type of a bare NULL
 * (Spark's NullType, "void"). Type names in messages are Spark's (INT, BIGINT, DECIMAL(10,2)).
 */
export type NullType = { readonly kind: 'null' };
export type SqlType = DataType | NullType;

export const NULL: NullType = { kind: 'null' };
export const BOOLEAN = primitive('boolean');
export const BYTE = primitive('byte');
export const SHORT = primitive('short');
export const INT = primitive('integer');
export const LONG = primitive('long');
export const FLOAT = primitive('float');
export const DOUBLE = primitive('double');
export const STRING = primitive('string');
export const BINARY = primitive('binary');
export const DATE = primitive('date');
export const TIMESTAMP = primitive('timestamp');
export const TIMESTAMP_NTZ = primitive('timestamp_ntz');

/** Spark's widest decimal. */
export const MAX_PRECISION = 38;
/** The scale Spark keeps at least when a decimal result has to lose digits (allowPrecisionLoss). */
const MINIMUM_ADJUSTED_SCALE = 6;

export const decimalType = (precision: number, scale: number): DecimalType => ({ kind: 'decimal', precision, scale });

const SQL_NAMES: Record<PrimitiveTypeName, string> = {
  string: 'STRING',
  long: 'BIGINT',
  integer: 'INT',
  short: 'SMALLINT',
  byte: 'TINYINT',
  double: 'DOUBLE',
  float: 'FLOAT',
  boolean: 'BOOLEAN',
  binary: 'BINARY',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
  timestamp_ntz: 'TIMESTAMP_NTZ',
};

/** The type as Spark names it in SQL and in its messages. */
export function sqlTypeName(t: SqlType): string {
  switch (t.kind) {
    case 'null':
      return 'VOID';
    case 'primitive':
      return SQL_NAMES[t.name];
    case 'decimal':
      return `DECIMAL(${t.precision},${t.scale})`;
    case 'array':
      return `ARRAY<${sqlTypeName(t.elementType)}>`;
    case 'map':
      return `MAP<${sqlTypeName(t.keyType)}, ${sqlTypeName(t.valueType)}>`;
    case 'struct':
      return `STRUCT<${t.fields.map((f) => `${f.name}: ${sqlTypeName(f.type)}`).join(', ')}>`;
    case 'variant':
      return 'VARIANT';
  }
}

export const isPrimitive = (t: SqlType, ...names: PrimitiveTypeName[]): t is PrimitiveType => t.kind === 'primitive' && (names.length === 0 || names.includes(t.name));
export const isIntegral = (t: SqlType): t is PrimitiveType => isPrimitive(t, 'byte', 'short', 'integer', 'long');
export const isFractional = (t: SqlType): boolean => isPrimitive(t, 'float', 'double');
export const isDecimal = (t: SqlType): t is DecimalType => t.kind === 'decimal';
export const isNumeric = (t: SqlType): boolean => isIntegral(t) || isFractional(t) || isDecimal(t);
export const isStringType = (t: SqlType): boolean => isPrimitive(t, 'string');
export const isDatetime = (t: SqlType): boolean => isPrimitive(t, 'date', 'timestamp', 'timestamp_ntz');
export const isNull = (t: SqlType): t is NullType => t.kind === 'null';

export function sameType(a: SqlType, b: SqlType): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'primitive') return a.name === (b as PrimitiveType).name;
  if (a.kind === 'decimal') return a.precision === (b as DecimalType).precision && a.scale === (b as DecimalType).scale;
  if (a.kind === 'null') return true;
  return JSON.stringify(a) === JSON.stringify(b);
}

const INTEGRAL_RANK: Partial<Record<PrimitiveTypeName, number>> = { byte: 0, short: 1, integer: 2, long: 3 };
export const integralRank = (t: PrimitiveType): number => INTEGRAL_RANK[t.name]!;

/** Bits of each integral type, for overflow checks. */
export const INTEGRAL_BITS: Partial<Record<PrimitiveTypeName, number>> = { byte: 8, short: 16, integer: 32, long: 64 };

/** DecimalType.forType: the decimal that holds every value of an integral type. */
export function decimalForIntegral(t: PrimitiveType): DecimalType {
  return decimalType(({ byte: 3, short: 5, integer: 10, long: 20 } as Record<string, number>)[t.name], 0);
}

/** DecimalType.bounded. */
export const boundedDecimal = (precision: number, scale: number): DecimalType => decimalType(Math.min(precision, MAX_PRECISION), Math.min(scale, MAX_PRECISION));

/**
 * DecimalType.adjustPrecisionScale (spark.sql.decimalOperations.allowPrecisionLoss, on by
 * default in Spark 3.5 and 4): a result wider than 38 digits keeps its integer digits and gives up
 * scale, down to 6 (or its own scale if that is smaller).
 */
export function adjustPrecisionScale(precision: number, scale: number): DecimalType {
  if (precision <= MAX_PRECISION) return decimalType(precision, scale);
  const intDigits = precision - scale;
  const minScale = Math.min(scale, MINIMUM_ADJUSTED_SCALE);
  return decimalType(MAX_PRECISION, Math.max(MAX_PRECISION - intDigits, minScale));
}

/** DecimalPrecision.widerDecimalType: room for both integer parts and the larger scale. */
export function widerDecimal(a: DecimalType, b: DecimalType): DecimalType {
  const scale = Math.max(a.scale, b.scale);
  const range = Math.max(a.precision - a.scale, b.precision - b.scale);
  return boundedDecimal(range + scale, scale);
}

export const typeOf = (name: PrimitiveTypeName): PrimitiveType => primitive(name);
