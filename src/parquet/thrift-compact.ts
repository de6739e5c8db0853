import { TributaryError } from '../errors.js';
/**
 * A reader for the Thrift compact protocol, the encoding of Parquet's footer and page headers.
 * Structs come back generic, as sparse arrays indexed by field id (parquet.thrift numbers them),
 * so one small reader serves every Parquet structure; footer.ts gives them names. Malformed input
 * throws a ThriftError; nothing here allocates more than the input can describe.
 */

export type ThriftValue = boolean | number | Uint8Array | ThriftValue[] | ThriftStruct;
/** Field id -> value. */
export type ThriftStruct = ThriftValue[];
/**
 * Which fields of a struct to keep (by id; `true` keeps the whole value, a nested Spec the listed
 * fields of a struct or of each struct in a list). Others are skipped without being built: a
 * Parquet footer is mostly statistics and key-value metadata a reader of rows does not need.
 */
export type Spec = { readonly [id: number]: Spec | true };

/** A Thrift structure in a Parquet footer or page header that cannot be decoded (a damaged or truncated file). */
export class ThriftError extends TributaryError {
  constructor(message: string) {
    super('PARQUET_INVALID', message);
    this.name = 'ThriftError';
  }
}

const STOP = 0;
const TRUE = 1;
const FALSE = 2;
const BYTE = 3;
const I16 = 4;
const I32 = 5;
const I64 = 6;
const DOUBLE = 7;
const BINARY = 8;
const LIST = 9;
const SET = 10;
const MAP = 11;
const STRUCT = 12;

/** Nesting deeper than any Parquet structure is refused rather than recursed into. */
const MAX_DEPTH = 32;

export class CompactReader {
  pos: number;
  private readonly view: DataView;
  constructor(
    private readonly buf: Uint8Array,
    offset = 0,
    private readonly end = buf.length,
  ) {
    this.pos = offset;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private byte(): number {
    if (this.pos >= this.end) throw new ThriftError('Thrift: unexpected end of input');
    return this.buf[this.pos++];
  }

  /** Unsigned LEB128; exact up to 2^53, which covers every length and offset in a Parquet file. */
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new ThriftError('Thrift: varint too long');
  }

  /** A binary's length, checked against the input. */
  private binaryLength(): number {
    const n = this.varint();
    if (this.pos + n > this.end) throw new ThriftError('Thrift: binary runs past the end');
    return n;
  }

  /** A list or set header: element count (checked: each element takes a byte at least) and type. */
  private listHeader(): { n: number; elem: number } {
    const head = this.byte();
    const n = head >> 4 === 15 ? this.varint() : head >> 4;
    if (n > this.end - this.pos) throw new ThriftError('Thrift: list longer than its input');
    return { n, elem: head & 0x0f };
  }

  /** A map header: entry count (checked likewise) and the key and value types. */
  private mapHeader(): { n: number; key: number; value: number } {
    const n = this.varint();
    if (n === 0) return { n, key: 0, value: 0 };
    if (n > this.end - this.pos) throw new ThriftError('Thrift: map longer than its input');
    const kv = this.byte();
    return { n, key: kv >> 4, value: kv & 0x0f };
  }

  private zigzag(): number {
    const n = this.varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  readStruct(spec?: Spec, depth = 0): ThriftStruct {
    if (depth > MAX_DEPTH) throw new ThriftError('Thrift: nesting too deep');
    const out: ThriftStruct = [];
    let id = 0;
    for (;;) {
      const head = this.byte();
      const type = head & 0x0f;
      if (type === STOP) return out;
      const delta = head >> 4;
      id = delta ? id + delta : this.zigzag();
      const sub = spec && spec[id];
      if (spec && !sub) {
        this.skip(type, depth);
        continue;
      }
      out[id] = type === TRUE ? true : type === FALSE ? false : this.value(type, depth, sub === true ? undefined : sub);
    }
  }

  /** Moves past one value without building it. */
  private skip(type: number, depth: number): void {
    if (depth > MAX_DEPTH) throw new ThriftError('Thrift: nesting too deep');
    switch (type) {
      case TRUE:
      case FALSE:
        return;
      case BINARY: {
        // Not `this.pos += ...`: that would add to the position from before the length was read.
        const n = this.binaryLength();
        this.pos += n;
        return;
      }
      case LIST:
      case SET: {
        const { n, elem } = this.listHeader();
        for (let i = 0; i < n; i++) this.skipElement(elem, depth + 1);
        return;
      }
      case MAP: {
        const { n, key, value } = this.mapHeader();
        for (let i = 0; i < n; i++) {
          this.skipElement(key, depth + 1);
          this.skipElement(value, depth + 1);
        }
        return;
      }
      case STRUCT:
        for (;;) {
          const head = this.byte();
          const t = head & 0x0f;
          if (t === STOP) return;
          if (!(head >> 4)) this.zigzag();
          this.skip(t, depth + 1);
        }
      default:
        this.value(type, depth);
    }
  }

  private skipElement(type: number, depth: number): void {
    if (type === TRUE || type === FALSE) this.byte();
    else this.skip(type, depth);
  }

  private value(type: number, depth: number, spec?: Spec): ThriftValue {
    switch (type) {
      case TRUE:
      case FALSE:
        // Inside a list a boolean is a byte of its own.
        return this.byte() === TRUE;
      case BYTE: {
        const b = this.byte();
        return b > 127 ? b - 256 : b;
      }
      case I16:
      case I32:
      case I64:
        return this.zigzag();
      case DOUBLE: {
        if (this.pos + 8 > this.end) throw new ThriftError('Thrift: unexpected end of input');
        const d = this.view.getFloat64(this.pos, true);
        this.pos += 8;
        return d;
      }
      case BINARY: {
        const n = this.binaryLength();
        const b = this.buf.subarray(this.pos, this.pos + n);
        this.pos += n;
        return b;
      }
      case LIST:
      case SET: {
        const { n, elem } = this.listHeader();
        const out: ThriftValue[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.value(elem, depth + 1, spec);
        return out;
      }
      case MAP: {
        const { n, key, value } = this.mapHeader();
        const out: ThriftValue[] = [];
        for (let i = 0; i < n; i++) out.push([this.value(key, depth + 1), this.value(value, depth + 1)]);
        return out;
      }
      case STRUCT:
        return this.readStruct(spec, depth + 1);
      default:
        throw new ThriftError(`Thrift: unknown type ${type}`);
    }
  }
}
