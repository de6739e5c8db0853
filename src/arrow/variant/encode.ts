import { JsonNumber } from '../../json/json-number.js';
import { container, readDictionary, valueSize, variantProblem, type Dictionary } from './decode.js';
import * as F from './format.js';
import { Variant, VariantInputError } from './variant.js';

/**
 * A JavaScript value (what the exact JSON parser returns, or a library caller's data) as a
 * Variant, in the bytes Spark's `parse_json` writes (common/variant VariantBuilder): the key
 * dictionary in the order keys are first met, without the sorted flag; object fields listed in
 * key order; the smallest header sizes. Numbers follow parse_json, from their text, so nothing is
 * rounded that Spark would keep: an integer that fits a long is int8/16/32/64; other plain
 * decimals (no exponent) with at most 38 digits and scale 38 are decimal4/8/16 with their exact
 * digits and scale ("1.50" stays 1.50); anything else is a double (as IEEE-754 rounds it, once).
 * Strings are UTF-8 (short strings below 64 bytes); booleans and null as such; arrays and plain
 * objects (or Maps with string keys) nest. Beyond JSON: Uint8Array is binary, Date a timestamp,
 * and a Variant is copied. Anything else is refused with a VariantInputError naming where.
 */
export function encodeVariant(input: unknown): Variant {
  const e = new Encoder();
  e.append(input, '$', 0);
  return e.result();
}

/** Deeper than the exact JSON parser allows; guards against cyclic library data too. */
const MAX_DEPTH = 512;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INTEGER = /^-?\d+$/;
const PLAIN_DECIMAL = /^-?\d+\.\d+$/;
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
const encoder = new TextEncoder();

interface FieldEntry {
  key: string;
  id: number;
  offset: number;
}

/**
 * Object keys in the order Spark lists them: UTF-16 code unit order (Java's String.compareTo, and
 * JavaScript's). The spec asks for UTF-8 byte order; the two differ only where a character above
 * U+FFFF meets one in U+E000..U+FFFF, and there Spark's own binary search (objects of more than 32
 * fields) only finds keys in its order, so a table Spark reads correctly wins.
 */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

class Encoder {
  private buf = new Uint8Array(128);
  private pos = 0;
  private readonly ids = new Map<string, number>();
  private readonly keys: Uint8Array[] = [];

  result(): Variant {
    const n = this.keys.length;
    const stringBytes = this.keys.reduce((s, k) => s + k.length, 0);
    const offsetSize = F.unsignedSize(Math.max(stringBytes, n));
    const offsetsAt = 1 + offsetSize;
    const stringsAt = offsetsAt + (n + 1) * offsetSize;
    if (stringsAt + stringBytes > F.SIZE_LIMIT) throw new VariantInputError('its keys take more than 16 MiB, the most Spark reads in a variant', '$');
    const meta = new Uint8Array(stringsAt + stringBytes);
    meta[0] = F.VERSION | ((offsetSize - 1) << 6);
    F.writeUnsigned(meta, 1, n, offsetSize);
    let at = 0;
    for (let i = 0; i < n; i++) {
      F.writeUnsigned(meta, offsetsAt + i * offsetSize, at, offsetSize);
      meta.set(this.keys[i], stringsAt + at);
      at += this.keys[i].length;
    }
    F.writeUnsigned(meta, offsetsAt + n * offsetSize, at, offsetSize);
    return new Variant(meta, this.buf.slice(0, this.pos));
  }

  private room(n: number) {
    const need = this.pos + n;
    if (need > F.SIZE_LIMIT) throw new VariantInputError('it takes more than 16 MiB, the most Spark reads in a variant', '$');
    if (need > this.buf.length) {
      const next = new Uint8Array(Math.min(F.SIZE_LIMIT, Math.max(need, this.buf.length * 2)));
      next.set(this.buf.subarray(0, this.pos));
      this.buf = next;
    }
  }

  private byte(b: number) {
    this.room(1);
    this.buf[this.pos++] = b;
  }

  private addKey(key: string, path: string): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      if (!key.isWellFormed()) throw new VariantInputError('a key contains half of a UTF-16 surrogate pair', path);
      id = this.keys.length;
      this.ids.set(key, id);
      this.keys.push(encoder.encode(key));
    }
    return id;
  }

  append(v: unknown, path: string, depth: number): void {
    if (v === null || v === undefined) return this.byte(F.primitiveHeader(F.NULL));
    switch (typeof v) {
      case 'boolean':
        return this.byte(F.primitiveHeader(v ? F.TRUE : F.FALSE));
      case 'string':
        return this.appendString(v, path);
      case 'number':
        if (Number.isSafeInteger(v)) return this.appendInteger(v);
        if (!Number.isFinite(v)) return this.appendDouble(v);
        // A JavaScript number stands for its shortest text, as the JSON parser read it.
        return this.appendNumberText(String(v), path);
      case 'bigint':
        return this.appendNumberText(v.toString(), path);
      case 'object':
        break;
      default:
        throw new VariantInputError(`a ${typeof v} has no variant form`, path);
    }
    if (depth >= MAX_DEPTH) throw new VariantInputError(`it nests deeper than ${MAX_DEPTH} levels`, path);
    if (v instanceof JsonNumber) {
      if (!JSON_NUMBER.test(v.text)) throw new VariantInputError(`${JSON.stringify(v.text)} is not a JSON number`, path);
      return this.appendNumberText(v.text, path);
    }
    if (Array.isArray(v)) return this.appendArray(v, path, depth);
    if (v instanceof Uint8Array) return this.appendBinary(v);
    if (v instanceof Date) return this.appendTimestamp(v, path);
    if (v instanceof Variant) return this.appendVariant(v, path);
    if (v instanceof Map) {
      for (const k of v.keys()) if (typeof k !== 'string') throw new VariantInputError(`a Map key (${String(k)}) is not a string; variant objects have string keys`, path);
      return this.appendObject([...v.entries()] as [string, unknown][], path, depth);
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) throw new VariantInputError(`a ${proto?.constructor?.name ?? 'class'} instance has no variant form (plain objects, arrays and JSON values do)`, path);
    return this.appendObject(Object.keys(v).map((k) => [k, (v as Record<string, unknown>)[k]]), path, depth);
  }

  private appendString(s: string, path: string) {
    if (!s.isWellFormed()) throw new VariantInputError('a string contains half of a UTF-16 surrogate pair', path);
    const bytes = encoder.encode(s);
    if (bytes.length <= F.MAX_SHORT_STRING) {
      this.room(1 + bytes.length);
      this.buf[this.pos++] = F.shortStringHeader(bytes.length);
    } else {
      this.room(5 + bytes.length);
      this.buf[this.pos++] = F.primitiveHeader(F.STRING);
      F.writeUnsigned(this.buf, this.pos, bytes.length, 4);
      this.pos += 4;
    }
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** parse_json's rule for a number token, from its text. */
  private appendNumberText(text: string, path: string) {
    if (INTEGER.test(text)) {
      const b = BigInt(text);
      if (b >= INT64_MIN && b <= INT64_MAX) return this.appendInteger(b);
    }
    if (INTEGER.test(text) || PLAIN_DECIMAL.test(text)) {
      const neg = text.charCodeAt(0) === 45;
      const [int, frac = ''] = (neg ? text.slice(1) : text).split('.');
      const unscaled = BigInt(int + frac);
      // BigDecimal's precision: the digits of the unscaled value (1 for zero).
      const precision = unscaled === 0n ? 1 : unscaled.toString().length;
      if (frac.length <= F.MAX_DECIMAL16_PRECISION && precision <= F.MAX_DECIMAL16_PRECISION) return this.appendDecimal(neg ? -unscaled : unscaled, frac.length, precision);
    }
    const x = Number(text);
    if (!Number.isFinite(x)) throw new VariantInputError(`${text} is beyond the range of a double (about ±1.8e308)`, path);
    this.appendDouble(x);
  }

  private appendInteger(x: number | bigint) {
    const n = typeof x === 'number' ? x : Number(x);
    const [type, size] = n >= -128 && n <= 127 ? [F.INT8, 1] : n >= -32768 && n <= 32767 ? [F.INT16, 2] : n >= -2147483648 && n <= 2147483647 ? [F.INT32, 4] : [F.INT64, 8];
    this.room(1 + size);
    this.buf[this.pos++] = F.primitiveHeader(type);
    this.writeSigned(BigInt(x), size);
  }

  private writeSigned(x: bigint, size: number) {
    let u = BigInt.asUintN(size * 8, x);
    for (let i = 0; i < size; i++) {
      this.buf[this.pos++] = Number(u & 0xffn);
      u >>= 8n;
    }
  }

  private appendDecimal(unscaled: bigint, scale: number, precision: number) {
    const [type, size] =
      scale <= F.MAX_DECIMAL4_PRECISION && precision <= F.MAX_DECIMAL4_PRECISION ? [F.DECIMAL4, 4] : scale <= F.MAX_DECIMAL8_PRECISION && precision <= F.MAX_DECIMAL8_PRECISION ? [F.DECIMAL8, 8] : [F.DECIMAL16, 16];
    this.room(2 + size);
    this.buf[this.pos++] = F.primitiveHeader(type);
    this.buf[this.pos++] = scale;
    this.writeSigned(unscaled, size);
  }

  private appendDouble(x: number) {
    this.room(9);
    this.buf[this.pos++] = F.primitiveHeader(F.DOUBLE);
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat64(this.pos, x, true);
    this.pos += 8;
  }

  private appendBinary(b: Uint8Array) {
    this.room(5 + b.length);
    this.buf[this.pos++] = F.primitiveHeader(F.BINARY);
    F.writeUnsigned(this.buf, this.pos, b.length, 4);
    this.buf.set(b, this.pos + 4);
    this.pos += 4 + b.length;
  }

  private appendTimestamp(d: Date, path: string) {
    const ms = d.getTime();
    if (!Number.isFinite(ms)) throw new VariantInputError('an invalid Date has no variant form', path);
    this.room(9);
    this.buf[this.pos++] = F.primitiveHeader(F.TIMESTAMP);
    this.writeSigned(BigInt(ms) * 1000n, 8);
  }

  private appendArray(items: readonly unknown[], path: string, depth: number) {
    const start = this.pos;
    const offsets: number[] = [];
    for (let i = 0; i < items.length; i++) {
      offsets.push(this.pos - start);
      // A hole or undefined is null inside an array, as in JSON.stringify.
      this.append(items[i], `${path}[${i}]`, depth + 1);
    }
    this.finishArray(start, offsets);
  }

  private appendObject(entries: readonly [string, unknown][], path: string, depth: number) {
    const start = this.pos;
    const fields: FieldEntry[] = [];
    for (const [key, value] of entries) {
      // A property whose value is undefined is left out, as in JSON.stringify.
      if (value === undefined) continue;
      const at = `${path}.${key}`;
      fields.push({ key, id: this.addKey(key, at), offset: this.pos - start });
      this.append(value, at, depth + 1);
    }
    this.finishObject(start, fields);
  }

  /** Fields were written as they came; the header (sorted ids and offsets) goes in front of them. */
  private finishObject(start: number, fields: FieldEntry[]) {
    const dataSize = this.pos - start;
    fields.sort((a, b) => compareKeys(a.key, b.key));
    const n = fields.length;
    for (let i = 1; i < n; i++) {
      // Only a copied variant can repeat a key (JavaScript objects and Maps cannot).
      if (fields[i].key === fields[i - 1].key) throw new VariantInputError(`the key ${JSON.stringify(fields[i].key)} appears twice in one object`, '$');
    }
    let maxId = 0;
    for (const f of fields) maxId = Math.max(maxId, f.id);
    const large = n > 255;
    const sizeBytes = large ? 4 : 1;
    const idSize = F.unsignedSize(maxId);
    const offsetSize = F.unsignedSize(dataSize);
    const headerSize = 1 + sizeBytes + n * idSize + (n + 1) * offsetSize;
    this.shift(start, dataSize, headerSize);
    this.buf[start] = F.objectHeader(large, idSize, offsetSize);
    F.writeUnsigned(this.buf, start + 1, n, sizeBytes);
    const idsAt = start + 1 + sizeBytes;
    const offsetsAt = idsAt + n * idSize;
    for (let i = 0; i < n; i++) {
      F.writeUnsigned(this.buf, idsAt + i * idSize, fields[i].id, idSize);
      F.writeUnsigned(this.buf, offsetsAt + i * offsetSize, fields[i].offset, offsetSize);
    }
    F.writeUnsigned(this.buf, offsetsAt + n * offsetSize, dataSize, offsetSize);
  }

  private finishArray(start: number, offsets: number[]) {
    const dataSize = this.pos - start;
    const n = offsets.length;
    const large = n > 255;
    const sizeBytes = large ? 4 : 1;
    const offsetSize = F.unsignedSize(dataSize);
    const headerSize = 1 + sizeBytes + (n + 1) * offsetSize;
    this.shift(start, dataSize, headerSize);
    this.buf[start] = F.arrayHeader(large, offsetSize);
    F.writeUnsigned(this.buf, start + 1, n, sizeBytes);
    const offsetsAt = start + 1 + sizeBytes;
    for (let i = 0; i < n; i++) F.writeUnsigned(this.buf, offsetsAt + i * offsetSize, offsets[i], offsetSize);
    F.writeUnsigned(this.buf, offsetsAt + n * offsetSize, dataSize, offsetSize);
  }

  /** Moves the `size` bytes written at `start` up by `by`, making room for a header. */
  private shift(start: number, size: number, by: number) {
    this.room(by);
    this.buf.copyWithin(start + by, start, start + size);
    this.pos += by;
  }

  /** A variant value under this encoder's dictionary: keys re-numbered, primitives copied. */
  private appendVariant(v: Variant, path: string) {
    const problem = variantProblem(v.metadata, v.value);
    if (problem) throw new VariantInputError(`it is not a well-formed variant: ${problem}`, path);
    this.copyValue(v.value, 0, readDictionary(v.metadata), path);
  }

  private copyValue(value: Uint8Array, pos: number, dict: Dictionary, path: string) {
    const basic = value[pos] & 3;
    if (basic === F.OBJECT || basic === F.ARRAY) {
      const c = container(value, pos);
      const start = this.pos;
      const fields: FieldEntry[] = [];
      const offsets: number[] = [];
      for (let i = 0; i < c.size; i++) {
        const at = c.dataAt + F.readUnsigned(value, c.offsetsAt + i * c.offsetSize, c.offsetSize);
        if (basic === F.OBJECT) {
          const key = dict.key(F.readUnsigned(value, c.idsAt + i * c.idSize, c.idSize));
          fields.push({ key, id: this.addKey(key, path), offset: this.pos - start });
        } else offsets.push(this.pos - start);
        this.copyValue(value, at, dict, path);
      }
      if (basic === F.OBJECT) this.finishObject(start, fields);
      else this.finishArray(start, offsets);
      return;
    }
    const size = valueSize(value, pos);
    this.room(size);
    this.buf.set(value.subarray(pos, pos + size), this.pos);
    this.pos += size;
  }
}
