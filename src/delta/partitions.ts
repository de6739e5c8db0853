import type * as arrow from 'apache-arrow';
import { isUtf8 } from 'node:buffer';
import { TributaryError } from '../errors.js';
import { decimalToString, daysToDate, javaDoubleToString, javaFloatToString, microsToIso } from '../arrow/values.js';
import {
  Reject,
  toBinary,
  toBool,
  toDateDays,
  toDecimal,
  toFloat,
  toInt64,
  toIntN,
  toStringValue,
  toTimestampMicros,
} from '../arrow/coerce.js';
import type { DataType } from '../schema/schema.js';
import { ownField } from '../arrow/own-fields.js';

/**
 * Partition values (PROTOCOL.md "Partition Value Serialization") and the Hive-style directory
 * names that hold them. Readers take values from `add.partitionValues`, never from the path, so
 * the path only has to be unique and decodable; the value text has to be exact.
 */
export const HIVE_DEFAULT_PARTITION = '__HIVE_DEFAULT_PARTITION__';

/** Coerces a row's value and renders it as Delta's partition value text (null for null/""). */
export function partitionValueText(t: DataType, value: unknown): string | null | Reject {
  if (value === null || value === undefined) return null;
  if (t.kind === 'decimal') {
    const v = toDecimal(value, t.precision, t.scale);
    return v instanceof Reject ? v : decimalToString(v, t.scale);
  }
  if (t.kind !== 'primitive') return new Reject('cannot be a partition value (partition columns must be primitive)');
  switch (t.name) {
    case 'string': {
      const v = toStringValue(value);
      // Spark writes an empty string partition value as null.
      return v instanceof Reject ? v : v === '' ? null : v;
    }
    case 'long': {
      const v = toInt64(value);
      return v instanceof Reject ? v : v.toString();
    }
    case 'integer':
    case 'short':
    case 'byte': {
      const bits = t.name === 'integer' ? 32 : t.name === 'short' ? 16 : 8;
      const v = toIntN(value, bits, t.name);
      return v instanceof Reject ? v : String(v);
    }
    case 'double':
    case 'float': {
      const v = toFloat(value);
      // Spark's text: Float.toString for a float (0.1, not the double's 0.10000000149011612).
      return v instanceof Reject ? v : t.name === 'float' ? javaFloatToString(Math.fround(v)) : javaDoubleToString(v);
    }
    case 'boolean': {
      const v = toBool(value);
      return v instanceof Reject ? v : String(v);
    }
    case 'date': {
      const v = toDateDays(value);
      return v instanceof Reject ? v : daysToDate(v);
    }
    case 'timestamp': {
      const v = toTimestampMicros(value, false);
      return v instanceof Reject ? v : microsToIso(v, true);
    }
    case 'timestamp_ntz': {
      const v = toTimestampMicros(value, true);
      return v instanceof Reject ? v : microsToIso(v, false, ' ');
    }
    case 'binary': {
      const v = toBinary(value);
      if (v instanceof Reject) return v;
      return v.length === 0 ? null : binaryPartitionText(v);
    }
  }
}

/**
 * The partition value text of row `i` of an Arrow column of the table's own type (what
 * partitionValueText gives for the value the row held): the write path splits Arrow batches by
 * partition without going back to rows.
 */
export function partitionTextAt(t: DataType, d: arrow.Data, i: number): string | null | Reject {
  if (d.nullCount > 0 && d.nullBitmap && d.nullBitmap.length > 0) {
    const j = d.offset + i;
    if ((d.nullBitmap[j >> 3] & (1 << (j & 7))) === 0) return null;
  }
  if (t.kind === 'decimal') {
    const w = d.values as Uint32Array;
    let x = 0n;
    for (let k = 3; k >= 0; k--) x = (x << 32n) | BigInt(w[i * 4 + k]);
    return decimalToString(BigInt.asIntN(128, x), t.scale);
  }
  if (t.kind !== 'primitive') throw new TributaryError('INTERNAL', `a ${t.kind} column cannot be a partition column`);
  switch (t.name) {
    case 'string':
    case 'binary': {
      const o = d.valueOffsets as Int32Array;
      const bytes = (d.values as Uint8Array).subarray(o[i], o[i + 1]);
      // Spark writes an empty value as null.
      if (bytes.length === 0) return null;
      return t.name === 'string' ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8') : binaryPartitionText(bytes);
    }
    case 'long':
      return String((d.values as BigInt64Array)[i]);
    case 'integer':
    case 'short':
    case 'byte':
      return String((d.values as Int32Array)[i]);
    case 'double':
      return javaDoubleToString((d.values as Float64Array)[i]);
    case 'float':
      return javaFloatToString((d.values as Float32Array)[i]);
    case 'boolean': {
      const j = d.offset + i;
      return ((d.values as Uint8Array)[j >> 3] & (1 << (j & 7))) !== 0 ? 'true' : 'false';
    }
    case 'date':
      return daysToDate((d.values as Int32Array)[i]);
    case 'timestamp':
      return microsToIso((d.values as BigInt64Array)[i], true);
    case 'timestamp_ntz':
      return microsToIso((d.values as BigInt64Array)[i], false, ' ');
  }
}

/** Hive escaping of a directory value (Spark `ExternalCatalogUtils.escapePathName`). */
export function hiveEscape(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || '"#%\'*/:=?\\{[]^'.includes(s[i])) {
      out += '%' + c.toString(16).toUpperCase().padStart(2, '0');
    } else out += s[i];
  }
  return out;
}

/** "a=x/b=y" for the given partition columns and value texts. */
export function partitionDirectory(columns: readonly string[], values: Record<string, string | null>): string {
  return columns.map((c) => partitionDirectoryName(c, ownField(values, c) as string | null | undefined)).join('/');
}

/** One column's directory name, "date=2026-11-28" (Hive-escaped; null is the Hive default). */
export function partitionDirectoryName(column: string, value: string | null | undefined): string {
  return `${hiveEscape(column)}=${value === null || value === undefined || value === '' ? HIVE_DEFAULT_PARTITION : hiveEscape(value)}`;
}

/**
 * The longest file or directory name, in UTF-8 bytes, that ext4, XFS, btrfs and HDFS (its
 * default max-component-length) accept. A table whose partition directory is longer cannot be
 * written there (ENAMETOOLONG half-way through an append) nor copied there, so such a value is
 * bad input, refused before anything is written.
 */
export const MAX_NAME_BYTES = 255;

/** The byte length of a partition directory name, when it is over MAX_NAME_BYTES. */
export function overlongDirectoryName(column: string, value: string | null): number | undefined {
  const bytes = Buffer.byteLength(partitionDirectoryName(column, value), 'utf8');
  return bytes > MAX_NAME_BYTES ? bytes : undefined;
}

// Hadoop's Path.toUri encodes these (plus every non-printable ASCII); everything else stays raw.
const URI_ENCODE = new Set([' ', '"', '#', '%', '<', '>', '?', '[', '\\', ']', '^', '`', '{', '|', '}']);

/**
 * Characters beyond ASCII that java.net.URI (so Hadoop's Path.toUri, Spark's writer) quotes, and
 * refuses raw when Spark parses `add.path`: Java's space characters (Unicode Zs, Zl, Zp: U+00A0,
 * U+2000-U+200A, U+2028, U+3000...) and ISO controls (U+0080-U+009F). Left raw, a partition value
 * holding one made a table Spark could not scan ("Illegal character in path").
 */
const URI_QUOTED_NON_ASCII = /^[\u0080-\u009f\p{Zs}\p{Zl}\p{Zp}]$/u;

/** A relative file path as the URI string `add.path` holds; readers decode it exactly once. */
export function encodeAddPath(relPath: string): string {
  let out = '';
  for (const ch of relPath) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || c === 0x7f || URI_ENCODE.has(ch)) out += '%' + c.toString(16).toUpperCase().padStart(2, '0');
    else if (c >= 0x80 && URI_QUOTED_NON_ASCII.test(ch)) for (const b of Buffer.from(ch, 'utf8')) out += '%' + b.toString(16).toUpperCase();
    else out += ch;
  }
  return out;
}

/**
 * A BINARY partition value's text: its bytes as UTF-8, which is how Spark (a cast of the text to
 * binary) and delta-kernel read it back. Bytes that are not UTF-8 have no such text (Spark's own
 * writer replaces them, losing the value), so they are refused rather than written as another value.
 */
function binaryPartitionText(bytes: Uint8Array): string | Reject {
  if (!isUtf8(bytes)) return new Reject('is not UTF-8: a BINARY partition value is stored as text, and readers take the UTF-8 bytes of that text');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
}

/** `add.path` -> storage path relative to the table root (absolute URIs are refused). */
export function decodeAddPath(path: string, tableRoot: string): string {
  let p = path;
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(p)) {
    const u = new URL(p);
    if (u.protocol !== 'file:') throw new TributaryError('UNSUPPORTED_FEATURE', `absolute data file path ${path} is not on the local file system`);
    const abs = decodeURIComponent(u.pathname);
    const root = tableRoot.endsWith('/') ? tableRoot : `${tableRoot}/`;
    if (!abs.startsWith(root)) throw new TributaryError('UNSUPPORTED_FEATURE', `data file ${path} is outside the table root ${tableRoot}`);
    return abs.slice(root.length);
  }
  try {
    p = decodeURIComponent(p);
  } catch {
    throw new TributaryError('LOG_CORRUPT', `add.path ${JSON.stringify(path)} is not a valid URI path`);
  }
  return p;
}

/** Partition value text -> typed JS value (the reader's direction). */
export function parsePartitionValue(t: DataType, text: string | null | undefined): unknown {
  if (text === null || text === undefined) return null;
  if (t.kind === 'decimal') return text;
  if (t.kind !== 'primitive') return text;
  switch (t.name) {
    case 'string':
      return text;
    case 'long':
      return BigInt(text);
    case 'integer':
    case 'short':
    case 'byte':
      return Number(text);
    case 'double':
    case 'float':
      return Number(text);
    case 'boolean':
      return text === 'true';
    case 'date':
      return text;
    case 'timestamp':
    case 'timestamp_ntz':
      return text;
    case 'binary':
      return new Uint8Array(Buffer.from(text, 'utf8'));
  }
}
