import { JsonNumber } from '../../json/json-number.js';
import { bytesToBase64, daysToDate, decimalToString, microsToIso } from '../values.js';
import * as F from './format.js';

/**
 * Reading the Variant binary encoding: a structural check of encoded values (so that a variant
 * handed in as bytes cannot make a table Spark fails to read), and the value as JavaScript data
 * for display (`tributary read`): JSON types as they are, every number as a JsonNumber that keeps
 * its exact digits (decimals with their scale, as Spark's to_json prints them), and the types JSON
 * lacks as the text the rest of Tributary uses for them (ISO dates and timestamps, base64 binary).
 */

// ignoreBOM: a leading U+FEFF is part of the string (the default decoder drops it).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Deeper nesting than any JSON parser we take input from allows (Jackson's default is 1000). */
const MAX_DEPTH = 1000;

class Malformed extends Error {}

function fail(msg: string): never {
  throw new Malformed(msg);
}

/** The metadata's dictionary: key `i` is bytes[offsets[i], offsets[i + 1]) of the key area. */
export interface Dictionary {
  size: number;
  key(id: number): string;
}

/** Parses and checks a metadata buffer. */
export function readDictionary(metadata: Uint8Array): Dictionary {
  if (metadata.length < 1) fail('the metadata is empty');
  const h = metadata[0];
  if ((h & 0x0f) !== F.VERSION) fail(`the metadata has version ${h & 0x0f}, not ${F.VERSION}`);
  const offsetSize = (h >> 6) + 1;
  if (metadata.length < 1 + offsetSize) fail('the metadata is cut short');
  const size = F.readUnsigned(metadata, 1, offsetSize);
  const offsetsAt = 1 + offsetSize;
  const bytesAt = offsetsAt + (size + 1) * offsetSize;
  if (bytesAt > metadata.length) fail('the metadata is cut short');
  const offset = (i: number) => F.readUnsigned(metadata, offsetsAt + i * offsetSize, offsetSize);
  let prev = offset(0);
  if (prev !== 0) fail('the first dictionary offset is not 0');
  for (let i = 1; i <= size; i++) {
    const o = offset(i);
    if (o < prev || bytesAt + o > metadata.length) fail(`dictionary offset ${i} is out of order or out of bounds`);
    prev = o;
  }
  const keys = new Map<number, string>();
  return {
    size,
    key(id: number): string {
      if (id >= size) fail(`field id ${id} is not in the dictionary of ${size} keys`);
      let k = keys.get(id);
      if (k === undefined) {
        k = text(metadata, bytesAt + offset(id), bytesAt + offset(id + 1), 'a dictionary key');
        keys.set(id, k);
      }
      return k;
    },
  };
}

function text(b: Uint8Array, from: number, to: number, what: string): string {
  try {
    return utf8.decode(b.subarray(from, to));
  } catch {
    return fail(`${what} is not valid UTF-8`);
  }
}

/** Where an object's or array's parts are (basic type OBJECT or ARRAY at `pos`). */
export interface Container {
  size: number;
  idSize: number;
  offsetSize: number;
  idsAt: number;
  offsetsAt: number;
  dataAt: number;
}

export function container(value: Uint8Array, pos: number): Container {
  const h = value[pos] >> 2;
  const isObject = (value[pos] & 3) === F.OBJECT;
  const large = isObject ? (h >> 4) & 1 : (h >> 2) & 1;
  const idSize = isObject ? ((h >> 2) & 3) + 1 : 0;
  const offsetSize = (h & 3) + 1;
  const sizeBytes = large ? 4 : 1;
  need(value, pos + 1, sizeBytes);
  const size = F.readUnsigned(value, pos + 1, sizeBytes);
  const idsAt = pos + 1 + sizeBytes;
  const offsetsAt = idsAt + size * idSize;
  const dataAt = offsetsAt + (size + 1) * offsetSize;
  if (dataAt > value.length) fail('an object or array header runs past the end of the value');
  return { size, idSize, offsetSize, idsAt, offsetsAt, dataAt };
}

function need(value: Uint8Array, pos: number, n: number) {
  if (pos + n > value.length) fail('a value runs past the end of the buffer');
}

/** The byte length of the value at `pos` (header included). */
export function valueSize(value: Uint8Array, pos: number): number {
  need(value, pos, 1);
  const b = value[pos];
  const basic = b & 3;
  const h = b >> 2;
  if (basic === F.SHORT_STRING) return 1 + h;
  if (basic === F.OBJECT || basic === F.ARRAY) {
    const c = container(value, pos);
    return c.dataAt - pos + F.readUnsigned(value, c.offsetsAt + c.size * c.offsetSize, c.offsetSize);
  }
  switch (h) {
    case F.NULL:
    case F.TRUE:
    case F.FALSE:
      return 1;
    case F.INT8:
      return 2;
    case F.INT16:
      return 3;
    case F.INT32:
    case F.DATE:
    case F.FLOAT:
      return 5;
    case F.INT64:
    case F.DOUBLE:
    case F.TIMESTAMP:
    case F.TIMESTAMP_NTZ:
    case F.TIME_NTZ:
    case F.TIMESTAMP_NANOS:
    case F.TIMESTAMP_NTZ_NANOS:
      return 9;
    case F.DECIMAL4:
      return 6;
    case F.DECIMAL8:
      return 10;
    case F.DECIMAL16:
      return 18;
    case F.UUID:
      return 17;
    case F.BINARY:
    case F.STRING:
      need(value, pos + 1, 4);
      return 5 + F.readUnsigned(value, pos + 1, 4);
    default:
      return fail(`unknown primitive type ${h}`);
  }
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

function signedLE(value: Uint8Array, pos: number, n: number): bigint {
  let x = 0n;
  for (let i = n - 1; i >= 0; i--) x = (x << 8n) | BigInt(value[pos + i]);
  return BigInt.asIntN(n * 8, x);
}

function decimalDigitsFit(unscaled: bigint, maxDigits: number): boolean {
  return (unscaled < 0n ? -unscaled : unscaled) < 10n ** BigInt(maxDigits);
}

/**
 * Why an encoded variant is not well formed, or undefined when it is: a version-1 metadata with
 * in-bounds offsets and UTF-8 keys, and a value whose every part is a known type that lies
 * within the buffer (objects' field ids in the dictionary, decimals within their precision,
 * strings UTF-8), taking up the whole value, within Spark's 16 MiB.
 */
export function variantProblem(metadata: Uint8Array, value: Uint8Array): string | undefined {
  try {
    if (metadata.length > F.SIZE_LIMIT || value.length > F.SIZE_LIMIT) fail('it is larger than 16 MiB, which Spark refuses');
    const dict = readDictionary(metadata);
    if (value.length === 0) fail('the value is empty');
    const end = check(value, 0, dict, 0);
    if (end !== value.length) fail(`the value has ${value.length - end} bytes after its end`);
    return undefined;
  } catch (e) {
    if (e instanceof Malformed) return e.message;
    throw e;
  }
}

/** Checks the value at `pos`; returns the position after it. */
function check(value: Uint8Array, pos: number, dict: Dictionary, depth: number): number {
  if (depth > MAX_DEPTH) fail(`it nests deeper than ${MAX_DEPTH} levels`);
  const size = valueSize(value, pos);
  need(value, pos, size);
  const b = value[pos];
  const basic = b & 3;
  if (basic === F.SHORT_STRING) text(value, pos + 1, pos + size, 'a string');
  else if (basic === F.OBJECT || basic === F.ARRAY) {
    const c = container(value, pos);
    for (let i = 0; i < c.size; i++) {
      if (basic === F.OBJECT) dict.key(F.readUnsigned(value, c.idsAt + i * c.idSize, c.idSize));
      const at = c.dataAt + F.readUnsigned(value, c.offsetsAt + i * c.offsetSize, c.offsetSize);
      if (at >= pos + size) fail('a field offset points past the end of its object or array');
      if (check(value, at, dict, depth + 1) > pos + size) fail('a field runs past the end of its object or array');
    }
  } else {
    const h = b >> 2;
    if (h === F.STRING) text(value, pos + 5, pos + size, 'a string');
    else if (h === F.DECIMAL4 || h === F.DECIMAL8 || h === F.DECIMAL16) {
      const max = h === F.DECIMAL4 ? F.MAX_DECIMAL4_PRECISION : h === F.DECIMAL8 ? F.MAX_DECIMAL8_PRECISION : F.MAX_DECIMAL16_PRECISION;
      if (value[pos + 1] > F.MAX_DECIMAL16_PRECISION) fail(`a decimal has scale ${value[pos + 1]}, above 38`);
      if (!decimalDigitsFit(signedLE(value, pos + 2, size - 2), max)) fail(`a decimal has more than ${max} digits`);
    }
  }
  return pos + size;
}

/** The variant as JavaScript data (see the file's comment); it must be well formed. */
export function variantToJs(metadata: Uint8Array, value: Uint8Array): unknown {
  return toJs(value, 0, readDictionary(metadata));
}

function toJs(value: Uint8Array, pos: number, dict: Dictionary): unknown {
  const b = value[pos];
  const basic = b & 3;
  const h = b >> 2;
  if (basic === F.SHORT_STRING) return text(value, pos + 1, pos + 1 + h, 'a string');
  if (basic === F.OBJECT) {
    const c = container(value, pos);
    // No prototype: a key such as "__proto__" or "toJSON" is data.
    const out: Record<string, unknown> = Object.create(null);
    for (let i = 0; i < c.size; i++) {
      const key = dict.key(F.readUnsigned(value, c.idsAt + i * c.idSize, c.idSize));
      out[key] = toJs(value, c.dataAt + F.readUnsigned(value, c.offsetsAt + i * c.offsetSize, c.offsetSize), dict);
    }
    return out;
  }
  if (basic === F.ARRAY) {
    const c = container(value, pos);
    const out: unknown[] = [];
    for (let i = 0; i < c.size; i++) out.push(toJs(value, c.dataAt + F.readUnsigned(value, c.offsetsAt + i * c.offsetSize, c.offsetSize), dict));
    return out;
  }
  const dv = view(value);
  switch (h) {
    case F.NULL:
      return null;
    case F.TRUE:
      return true;
    case F.FALSE:
      return false;
    case F.INT8:
      return new JsonNumber(String(dv.getInt8(pos + 1)));
    case F.INT16:
      return new JsonNumber(String(dv.getInt16(pos + 1, true)));
    case F.INT32:
      return new JsonNumber(String(dv.getInt32(pos + 1, true)));
    case F.INT64:
      return new JsonNumber(String(dv.getBigInt64(pos + 1, true)));
    case F.DOUBLE:
      return floatingText(dv.getFloat64(pos + 1, true), String);
    case F.FLOAT:
      return floatingText(dv.getFloat32(pos + 1, true), float32Text);
    case F.DECIMAL4:
    case F.DECIMAL8:
    case F.DECIMAL16:
      return new JsonNumber(decimalToString(signedLE(value, pos + 2, valueSize(value, pos) - 2), value[pos + 1]));
    case F.DATE:
      return daysToDate(dv.getInt32(pos + 1, true));
    case F.TIMESTAMP:
    case F.TIMESTAMP_NTZ:
      return microsToIso(dv.getBigInt64(pos + 1, true), h === F.TIMESTAMP);
    case F.TIMESTAMP_NANOS:
    case F.TIMESTAMP_NTZ_NANOS: {
      const nanos = dv.getBigInt64(pos + 1, true);
      // Floored, so that the nanoseconds below a microsecond are never negative.
      const rem = ((nanos % 1000n) + 1000n) % 1000n;
      const iso = microsToIso((nanos - rem) / 1000n, h === F.TIMESTAMP_NANOS);
      const extra = String(rem).padStart(3, '0');
      return h === F.TIMESTAMP_NANOS ? `${iso.slice(0, -1)}${extra}Z` : `${iso}${extra}`;
    }
    case F.TIME_NTZ: {
      const us = Number(dv.getBigInt64(pos + 1, true));
      const s = Math.floor(us / 1e6);
      const p = (n: number) => String(n).padStart(2, '0');
      return `${p(Math.floor(s / 3600))}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}.${String(us % 1e6).padStart(6, '0')}`;
    }
    case F.BINARY:
      return bytesToBase64(value.subarray(pos + 5, pos + 5 + F.readUnsigned(value, pos + 1, 4)));
    case F.STRING:
      return text(value, pos + 5, pos + 5 + F.readUnsigned(value, pos + 1, 4), 'a string');
    case F.UUID: {
      const hex = Buffer.from(value.subarray(pos + 1, pos + 17)).toString('hex');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    }
    default:
      return fail(`unknown primitive type ${h}`);
  }
}

/**
 * A double or float as a JSON number that still reads as a floating-point value (1000.0, not
 * 1000); NaN and the infinities, which JSON cannot hold, as the strings a DOUBLE column shows.
 */
function floatingText(x: number, shortest: (x: number) => string): unknown {
  if (!Number.isFinite(x)) return String(x);
  if (Object.is(x, -0)) return new JsonNumber('-0.0');
  const s = shortest(x);
  return new JsonNumber(/[.e]/.test(s) ? s : `${s}.0`);
}

/** The shortest decimal text that reads back as the same float32. */
function float32Text(x: number): string {
  for (let p = 1; p <= 9; p++) {
    const s = String(Number(x.toPrecision(p)));
    if (Math.fround(Number(s)) === x) return s;
  }
  return String(x);
}

/** The variant as JSON text (Spark's to_json, with the forms above for types JSON lacks). */
export function variantToJson(metadata: Uint8Array, value: Uint8Array): string {
  return jsonText(variantToJs(metadata, value));
}

function jsonText(v: unknown): string {
  if (v instanceof JsonNumber) return v.text;
  if (Array.isArray(v)) return `[${v.map(jsonText).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .map((k) => `${JSON.stringify(k)}:${jsonText(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
