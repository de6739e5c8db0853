/**
 * The Variant binary encoding's constants and little-endian integer helpers (apache/parquet-format
 * VariantEncoding.md): a value is one header byte (basic type in the low 2 bits, a 6-bit type
 * header above it) and its data; the metadata is a header byte, a dictionary size, offsets and the
 * dictionary's UTF-8 key bytes. Shared by the encoder and the decoder, nothing else.
 */

/** Basic types (the low 2 bits of a value's first byte). */
export const PRIMITIVE = 0;
export const SHORT_STRING = 1;
export const OBJECT = 2;
export const ARRAY = 3;

/** Primitive type ids (the 6-bit header of a PRIMITIVE value). */
export const NULL = 0;
export const TRUE = 1;
export const FALSE = 2;
export const INT8 = 3;
export const INT16 = 4;
export const INT32 = 5;
export const INT64 = 6;
export const DOUBLE = 7;
export const DECIMAL4 = 8;
export const DECIMAL8 = 9;
export const DECIMAL16 = 10;
export const DATE = 11;
export const TIMESTAMP = 12;
export const TIMESTAMP_NTZ = 13;
export const FLOAT = 14;
export const BINARY = 15;
export const STRING = 16;
export const TIME_NTZ = 17;
export const TIMESTAMP_NANOS = 18;
export const TIMESTAMP_NTZ_NANOS = 19;
export const UUID = 20;

/** The only metadata version there is. */
export const VERSION = 1;
/** A short string's length lives in the 6-bit header. */
export const MAX_SHORT_STRING = 63;
/** Decimal4/8/16 hold at most 9/18/38 digits; scales go up to 38. */
export const MAX_DECIMAL4_PRECISION = 9;
export const MAX_DECIMAL8_PRECISION = 18;
export const MAX_DECIMAL16_PRECISION = 38;
/**
 * Spark refuses a variant whose value or metadata is larger than this (16 MiB, VariantUtil's
 * SIZE_LIMIT): writing one would make a table Spark cannot read.
 */
export const SIZE_LIMIT = 16 * 1024 * 1024;

export const primitiveHeader = (type: number) => (type << 2) | PRIMITIVE;
export const shortStringHeader = (length: number) => (length << 2) | SHORT_STRING;
export const objectHeader = (large: boolean, idSize: number, offsetSize: number) => (((large ? 1 : 0) << 4) | ((idSize - 1) << 2) | (offsetSize - 1)) << 2 | OBJECT;
export const arrayHeader = (large: boolean, offsetSize: number) => (((large ? 1 : 0) << 2) | (offsetSize - 1)) << 2 | ARRAY;

/** The fewest bytes (1 to 4) that hold an unsigned value. */
export function unsignedSize(v: number): number {
  return v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffff ? 3 : 4;
}

/** An unsigned little-endian integer of `size` bytes (1 to 4). */
export function readUnsigned(b: Uint8Array, pos: number, size: number): number {
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + b[pos + i];
  return v;
}

export function writeUnsigned(b: Uint8Array, pos: number, v: number, size: number): void {
  for (let i = 0; i < size; i++) {
    b[pos + i] = v & 0xff;
    v = Math.floor(v / 256);
  }
}
