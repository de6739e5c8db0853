import * as arrow from 'apache-arrow';
import { caseHint, showValue, TributaryError } from '../errors.js';
import { inheritedName, ownField } from './own-fields.js';
import type { DataType, StructType } from '../schema/schema.js';
import {
  Reject,
  toBinary,
  toBool,
  toDateDays,
  toDecimal,
  toFloat,
  toFloat32,
  toInt64Number,
  toIntN,
  toStringValue,
  toTimestampMicrosNumber,
  MAX_SAFE_MS,
  MAX_SAFE_SECONDS,
  type TimestampNumbers,
  MIN_MS,
  MAX_MS,
} from './coerce.js';
import { JsonNumber } from '../json/json-number.js';
import { type Allocator, HEAP, type TypedArrayCtor } from './arena.js';
import { toArrowType } from './types.js';
import { variantProblem } from './variant/decode.js';
import { encodeVariant } from './variant/encode.js';
import { Variant, VariantInputError } from './variant/variant.js';

/**
 * Columnar builders: values are coerced and written straight into typed arrays, and each column
 * becomes one Arrow `Data` through `makeData`. This is several times faster than Arrow JS's own
 * builders and avoids their pitfalls (timestamps taken as milliseconds, nulls in hand-built
 * structs turning into zeros).
 *
 * Besides `append` (any value, coerced and checked), the primitive builders take values already
 * in their column's form (`appendUtf8`, `appendInt`, ...): the NDJSON decoder parses those from
 * bytes itself and hands everything else to `append`, so both paths share one Arrow layout.
 */

function reject(row: number, path: string, value: unknown, type: string, r: Reject): never {
  throw new TributaryError('ROW_INVALID', `row ${row}, column "${path}": value ${showValue(value)} ${r.reason} (column type ${type})`, {
    row,
    column: path,
    value: showValue(value),
  });
}

class Bitmap {
  bytes: Uint8Array;
  constructor(private readonly alloc: Allocator) {
    this.bytes = alloc.typed(Uint8Array, 64);
  }
  set(i: number) {
    const b = i >> 3;
    if (b >= this.bytes.length) this.grow(b + 1);
    this.bytes[b] |= 1 << (i & 7);
  }
  ensure(i: number) {
    const b = i >> 3;
    if (b >= this.bytes.length) this.grow(b + 1);
  }
  private grow(min: number) {
    this.bytes = this.alloc.resize(this.bytes, Math.max(min, this.bytes.length * 2));
  }
  finish(length: number): Uint8Array {
    return this.alloc.trim(this.bytes, (length + 7) >> 3);
  }
  /**
   * Bits [at, at + n) from `src`'s bits [0, n) (bits of src past n ignored), or all set when src
   * is undefined. The bits from `at` on are zero before (appends only ever set bits).
   */
  appendBits(src: Uint8Array | undefined, at: number, n: number): void {
    if (n <= 0) return;
    this.ensure(at + n);
    const dst = this.bytes;
    const end = at + n;
    if (!src) {
      let i = at;
      for (; i < end && (i & 7) !== 0; i++) dst[i >> 3] |= 1 << (i & 7);
      const full = (end - i) >> 3;
      if (full > 0) {
        dst.fill(0xff, i >> 3, (i >> 3) + full);
        i += full * 8;
      }
      for (; i < end; i++) dst[i >> 3] |= 1 << (i & 7);
      return;
    }
    const shift = at & 7;
    const d = at >> 3;
    const nbytes = (n + 7) >> 3;
    const lastMask = (n & 7) === 0 ? 0xff : (1 << (n & 7)) - 1;
    for (let k = 0; k < nbytes; k++) {
      const b = k === nbytes - 1 ? src[k] & lastMask : src[k];
      if (b === 0) continue;
      dst[d + k] |= (b << shift) & 0xff;
      if (shift !== 0 && b >> (8 - shift) !== 0) dst[d + k + 1] |= b >> (8 - shift);
    }
  }
}

/** out[at + i - 1] = offs[i] + base for i in 1..n: a run's offsets after the builder's (a copy when they line up). */
function rebased(out: Int32Array, at: number, offs: Int32Array, n: number, base: number): void {
  out.set(offs.subarray(1, n + 1), at);
  if (base !== 0) for (let i = at; i < at + n; i++) out[i] += base;
}

/**
 * `n` values decoded elsewhere (the WebAssembly decoder), in Arrow's layout from their first bit
 * and offset: appended by `ColumnBuilder.appendRun` in bulk, a copy per buffer, into the same
 * builders the JavaScript decoder fills value by value, so one batch can hold both.
 */
export interface ColumnRun {
  /** Validity, bit i for value i; undefined when every value is present. */
  validity?: Uint8Array;
  nullCount: number;
  /**
   * Fixed-width values in the builder's own element type: Int32Array (INT, DATE; 64-bit values as
   * two little-endian words each; DECIMAL as a Uint32Array of four), Float64Array (DOUBLE), and
   * a Uint8Array of bits for BOOLEAN.
   */
  values?: Int32Array | Uint32Array | Float64Array | Uint8Array;
  /** STRING: n + 1 offsets into `bytes`; ARRAY: n + 1 offsets into the element run, from 0. */
  offsets?: Int32Array;
  bytes?: Uint8Array;
  /** STRUCT: one run per field, n values each (a null struct's fields null); ARRAY: the elements. */
  children?: ColumnRun[];
}

type Row = Record<string, unknown>;

const rowIndex = (r: number, first: number, indices: readonly number[] | undefined) => (indices ? indices[r] : first + r);

type AnyTyped = Int8Array | Int16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array;
class Growable<T extends AnyTyped> {
  buf: T;
  constructor(
    private readonly alloc: Allocator,
    ctor: TypedArrayCtor<T>,
    cap = 1024,
  ) {
    this.buf = alloc.typed(ctor, cap);
  }
  reserve(n: number) {
    if (n > this.buf.length) {
      this.buf = this.alloc.resize(this.buf, Math.max(n, this.buf.length * 2));
    }
  }
  finish(n: number): T {
    return this.buf.subarray(0, n) as T;
  }
}

export abstract class ColumnBuilder {
  length = 0;
  nullCount = 0;
  /** Column path for messages ("s.a", "tags[]"); fixed when the builder is made, so appends allocate nothing. */
  path = '';
  /** Set by a list parent before each element, to name the element in messages. */
  elemIndex: number | undefined;
  protected readonly validity: Bitmap;
  constructor(
    readonly type: DataType,
    readonly nullable: boolean,
    readonly typeName: string,
    /** Where this builder's buffers come from (HEAP, or an arena: see arena.ts). */
    protected readonly alloc: Allocator,
  ) {
    this.validity = new Bitmap(alloc);
  }

  /** The path with the current list element's index filled in. */
  where(): string {
    return this.elemIndex !== undefined && this.path.endsWith('[]') ? `${this.path.slice(0, -2)}[${this.elemIndex}]` : this.path;
  }

  setPath(path: string): this {
    this.path = path;
    return this;
  }

  /**
   * Sizes buffers for `n` more values up front: growing by doubling a million-row column
   * allocates (and garbage-collects) every intermediate buffer.
   */
  reserve(n: number): void {
    this.validity.ensure(this.length + n);
    this.reserveValues(this.length + n);
  }
  protected reserveValues(_n: number): void {}

  append(value: unknown, row: number): void {
    if (value === null || value === undefined) {
      if (!this.nullable) {
        throw new TributaryError('ROW_INVALID', `row ${row}, column "${this.where()}": null in a column that is NOT NULL`, {
          row,
          column: this.where(),
          value: 'null',
        });
      }
      this.appendNull();
      return;
    }
    this.validity.set(this.length);
    this.appendValue(value, row);
    this.length++;
  }

  /** A null, also used for children of a null struct, where NOT NULL does not apply. */
  appendNull(): void {
    this.validity.ensure(this.length);
    this.appendEmpty();
    this.nullCount++;
    this.length++;
  }

  /**
   * Appends `rows[r][name]` for every row: the hot loop of an append. Builders for common types
   * override it with a loop that writes their usual value form inline and hands anything else
   * (nulls, other forms, bad values) to append(), so checks and messages live in one place.
   * The overrides repeat the loop's shape on purpose: one shared loop calling a per-type hook
   * would be a megamorphic call site that V8 does not inline, which costs more than the loop.
   */
  appendColumn(rows: readonly Row[], name: string, from: number, to: number, first: number, indices: readonly number[] | undefined): void {
    if (indices) for (let r = from; r < to; r++) this.append(rows[r][name], indices[r - from]);
    else for (let r = from; r < to; r++) this.append(rows[r][name], first + r);
  }

  /**
   * appendColumn for a column named like a member every object inherits (`__proto__`,
   * `constructor`...; own-fields.ts): only a row's own key is its value, a missing one a null.
   * Not in the per-type loops above, which read `rows[r][name]` for every other name.
   */
  appendOwnColumn(rows: readonly Row[], name: string, from: number, to: number, first: number, indices: readonly number[] | undefined): void {
    for (let r = from; r < to; r++) this.append(ownField(rows[r], name), indices ? indices[r - from] : first + r);
  }

  /**
   * Appends a run of `n` values (see ColumnRun), already checked and in the column's form: its
   * producer refused nulls where they are refused (a NOT NULL field of a null struct holds nulls,
   * as appendNull gives it).
   */
  appendRun(run: ColumnRun, n: number): void {
    this.reserve(n);
    this.appendRunValues(run, n);
    this.validity.appendBits(run.validity, this.length, n);
    this.nullCount += run.nullCount;
    this.length += n;
  }
  protected appendRunValues(_run: ColumnRun, _n: number): void {
    throw new TributaryError('INTERNAL', `column "${this.path}": no bulk append for ${this.typeName}`);
  }

  protected abstract appendValue(value: unknown, row: number): void;
  protected abstract appendEmpty(): void;
  abstract finish(): arrow.Data;

  protected nullBitmap(): Uint8Array | undefined {
    return this.nullCount > 0 ? this.validity.finish(this.length) : undefined;
  }
}

export class FixedBuilder<T extends AnyTyped> extends ColumnBuilder {
  protected readonly values: Growable<T>;
  /** The value appendRaw hands to appendRawOf (see Int64Builder.appendIntOf). */
  private readonly one = new Float64Array(1);
  constructor(
    type: DataType,
    nullable: boolean,
    private readonly arrowType: arrow.DataType,
    ctor: TypedArrayCtor<T>,
    private readonly coerce: (v: unknown) => number | bigint | Reject,
    alloc: Allocator,
  ) {
    super(type, nullable, typeLabel(type), alloc);
    this.values = new Growable(alloc, ctor);
  }
  protected appendValue(value: unknown, row: number) {
    const v = this.coerce(value);
    if (v instanceof Reject) reject(row, this.where(), value, this.typeName, v);
    this.values.reserve(this.length + 1);
    (this.values.buf as unknown as (number | bigint)[])[this.length] = v;
  }
  /** A value already in the column's form (an in-range integer, a day number, a double). */
  appendRaw(v: number): void {
    this.one[0] = v;
    this.appendRawOf(this.one);
  }
  /** appendRaw(src[0]): a double that is not boxed on its way here (see Int64Builder.appendIntOf). */
  appendRawOf(src: Float64Array): void {
    const n = this.length;
    this.values.reserve(n + 1);
    (this.values.buf as unknown as number[])[n] = src[0];
    this.validity.set(n);
    this.length = n + 1;
  }
  protected appendEmpty() {
    this.values.reserve(this.length + 1);
  }
  protected override reserveValues(n: number) {
    this.values.reserve(n);
  }
  protected override appendRunValues(run: ColumnRun, n: number): void {
    // The run's values are of the column's element type (ndjson-wasm.ts maps them so).
    (this.values.buf as unknown as { set(a: ArrayLike<number>, at: number): void }).set(run.values!.subarray(0, n) as ArrayLike<number>, this.length);
  }
  finish(): arrow.Data {
    return arrow.makeData({
      type: this.arrowType as arrow.Int,
      length: this.length,
      nullCount: this.nullCount,
      nullBitmap: this.nullBitmap(),
      data: this.values.finish(this.length) as unknown as Int32Array,
    });
  }
}

/**
 * Doubles and floats: JavaScript numbers go straight in. A float32 store rounds by itself; a
 * finite double it turns into an infinity is out of the column's range and takes the checked path.
 */
class FloatBuilder<T extends Float64Array | Float32Array> extends FixedBuilder<T> {
  override appendColumn(rows: readonly Row[], name: string, from: number, to: number, first: number, indices: readonly number[] | undefined): void {
    this.reserve(to - from);
    let vals = this.values.buf;
    let bits = this.validity.bytes;
    let n = this.length;
    for (let r = from; r < to; r++) {
      const v = rows[r][name];
      let stored = false;
      if (typeof v === 'number') {
        vals[n] = v;
        // A double store is always exact. A float32 store rounds the double, which can round
        // twice (see toFloat32) or turn a finite number into an infinity: those take the checked path.
        stored = vals[n] === v || v !== v;
      }
      if (stored) {
        bits[n >> 3] |= 1 << (n & 7);
        n++;
      } else {
        this.length = n;
        this.append(v, rowIndex(r - from, first + from, indices));
        n = this.length;
        vals = this.values.buf;
        bits = this.validity.bytes;
      }
    }
    this.length = n;
  }
}

/** Dates: Date objects at midnight UTC (or any instant: its UTC day) go straight in. */
class DateBuilder extends FixedBuilder<Int32Array> {
  override appendColumn(rows: readonly Row[], name: string, from: number, to: number, first: number, indices: readonly number[] | undefined): void {
    this.reserve(to - from);
    let vals = this.values.buf;
    let bits = this.validity.bytes;
    let n = this.length;
    for (let r = from; r < to; r++) {
      const v = rows[r][name];
      const ms = v instanceof Date ? v.getTime() : NaN;
      if (ms >= MIN_MS && ms <= MAX_MS) {
        vals[n] = Math.floor(ms / 86_400_000);
        bits[n >> 3] |= 1 << (n & 7);
        n++;
      } else {
        this.length = n;
        this.append(v, rowIndex(r - from, first + from, indices));
        n = this.length;
        vals = this.values.buf;
        bits = this.validity.bytes;
      }
    }
    this.length = n;
  }
}

/**
 * 64-bit columns (long, timestamps). Values that fit a double exactly arrive as numbers and are
 * written as two 32-bit halves, so the hot path allocates no BigInt (BigInts are heap objects:
 * one per value made garbage collection the top cost of a million-row append).
 */
export class Int64Builder extends ColumnBuilder {
  private words: Int32Array;
  /** The value appendInt hands to appendIntOf (see Int64Builder.appendIntOf). */
  private readonly one = new Float64Array(1);
  constructor(
    type: DataType,
    nullable: boolean,
    private readonly arrowType: arrow.DataType,
    private readonly coerce: (v: unknown) => number | bigint | Reject,
    alloc: Allocator,
    /** Microseconds a number counts in a timestamp column (1000: milliseconds, 1e6: seconds); 0 for a long. */
    private readonly microsPerNumber: number,
  ) {
    super(type, nullable, typeLabel(type), alloc);
    this.words = alloc.typed(Int32Array, 2048);
    // Numbers at most this (in magnitude) are microseconds below 2^53.
    this.safeNumber = microsPerNumber === 1000 ? MAX_SAFE_MS : MAX_SAFE_SECONDS;
  }
  private readonly safeNumber: number;
  protected override reserveValues(n: number) {
    if (n * 2 > this.words.length) {
      this.words = this.alloc.resize(this.words, n * 2);
    }
  }
  private room() {
    if ((this.length + 1) * 2 > this.words.length) {
      this.words = this.alloc.resize(this.words, this.words.length * 2);
    }
  }
  override appendColumn(rows: readonly Row[], name: string, from: number, to: number, first: number, indices: readonly number[] | undefined): void {
    this.reserve(to - from);
    let words = this.words;
    let bits = this.validity.bytes;
    let n = this.length;
    // Longs: safe-integer numbers. Timestamps: epoch numbers (their unit) or Dates, as microseconds below 2^53.
    const per = this.microsPerNumber;
    const safe = this.safeNumber;
    for (let r = from; r < to; r++) {
      const v = rows[r][name];
      let x = NaN;
      if (per) {
        if (typeof v === 'number') {
          if (Number.isInteger(v) && Math.abs(v) < safe) x = v * per;
        } else if (v instanceof Date) {
          const ms = v.getTime();
          if (Number.isInteger(ms) && Math.abs(ms) < MAX_SAFE_MS) x = ms * 1000;
        }
      } else if (Number.isSafeInteger(v)) x = v as number;
      if (x === x) {
        const hi = Math.floor(x / 4294967296);
        words[2 * n] = (x - hi * 4294967296) | 0;
        words[2 * n + 1] = hi | 0;
        bits[n >> 3] |= 1 << (n & 7);
        n++;
      } else {
        this.length = n;
        this.append(v, rowIndex(r - from, first + from, indices));
        n = this.length;
        words = this.words;
        bits = this.validity.bytes;
      }
    }
    this.length = n;
  }
  /** A safe integer already in the column's unit (a long, or microseconds). */
  appendInt(x: number): void {
    this.one[0] = x;
    this.appendIntOf(this.one);
  }
  /**
   * appendInt(src[0]), for a caller on a hot path: a number beyond 2^30 passed to a call that V8
   * does not inline is boxed (a heap object per value), and a value read here from a
   * Float64Array is not. The NDJSON decoder boxed 2 such numbers a row so (heap sampling: 32 MB
   * per million CoinGecko lines, a scavenge every 3.5 MB).
   */
  appendIntOf(src: Float64Array): void {
    const x = src[0];
    this.room();
    const i = this.length * 2;
    const hi = Math.floor(x / 4294967296);
    this.words[i] = (x - hi * 4294967296) | 0;
    this.words[i + 1] = hi | 0;
    this.validity.set(this.length);
    this.length++;
  }
  protected appendValue(value: unknown, row: number) {
    const v = this.coerce(value);
    if (v instanceof Reject) reject(row, this.where(), value, this.typeName, v);
    this.room();
    const i = this.length * 2;
    if (typeof v === 'number') {
      const hi = Math.floor(v / 4294967296);
      this.words[i] = (v - hi * 4294967296) | 0;
      this.words[i + 1] = hi | 0;
    } else {
      const u = BigInt.asUintN(64, v);
      this.words[i] = Number(u & 0xffffffffn) | 0;
      this.words[i + 1] = Number(u >> 32n) | 0;
    }
  }
  protected appendEmpty() {
    this.room();
    this.words[this.length * 2] = 0;
    this.words[this.length * 2 + 1] = 0;
  }
  protected override appendRunValues(run: ColumnRun, n: number): void {
    this.words.set((run.values as Int32Array).subarray(0, 2 * n), 2 * this.length);
  }
  finish(): arrow.Data {
    return arrow.makeData({
      type: this.arrowType as arrow.Int64,
      length: this.length,
      nullCount: this.nullCount,
      nullBitmap: this.nullBitmap(),
      // The words may be a view into an arena block: keep their offset.
      data: new BigInt64Array(this.words.buffer, this.words.byteOffset, this.length),
    } as never);
  }
}

export class BoolBuilder extends ColumnBuilder {
  private readonly bits = new Bitmap(this.alloc);
  override appendColumn(rows: readonly Row[], name: string, from: number, to: number, first: number, indices: readonly number[] | undefined): void {
    this.reserve(to - from);
    this.bits.ensure(this.length + to - from);
    let vals = this.bits.bytes;
    let valid = this.validity.bytes;
    let n = this.length;
    for (let r = from; r < to; r++) {
      const v = rows[r][name];
      if (typeof v === 'boolean') {
        if (v) vals[n >> 3] |= 1 << (n & 7);
        valid[n >> 3] |= 1 << (n & 7);
        n++;
      } else {
        this.length = n;
        this.append(v, rowIndex(r - from, first + from, indices));
        n = this.length;
        vals = this.bits.bytes;
        valid = this.validity.bytes;
      }
    }
    this.length = n;
  }
  appendBool(v: boolean): void {
    if (v) this.bits.set(this.length);
    else this.bits.ensure(this.length);
    this.validity.set(this.length);
    this.length++;
  }
  protected appendValue(value: unknown, row: number) {
    const v = toBool(value);
    if (v instanceof Reject) reject(row, this.where(), value, this.typeName, v);
    if (v) this.bits.set(this.length);
    else this.bits.ensure(this.length);
  }
  protected appendEmpty() {
    this.bits.ensure(this.length);
  }
  protected override appendRunValues(run: ColumnRun, n: number): void {
    this.bits.appendBits(run.values as Uint8Array, this.length, n);
  }
  finish(): arrow.Data {
    return arrow.makeData({
      type: new arrow.Bool(),
      length: this.length,
      nullCount: this.nullCount,
      nullBitmap: this.nullBitmap(),
      data: this.bits.finish(this.length),
    });
  }
}

const encoder = new TextEncoder();

export class VarBinaryBuilder extends ColumnBuilder {
  private readonly offsets: Growable<Int32Array>;
  private bytes: Uint8Array;
  private pos = 0;
  constructor(
    type: DataType,
    nullable: boolean,
    private readonly utf8: boolean,
    alloc: Allocator,
  ) {
    super(type, nullable, typeLabel(type), alloc);
    this.offsets = new Growable(alloc, Int32Array);
    this.bytes = alloc.typed(Uint8Array, 4096);
    this.offsets.buf[0] = 0;
  }
  private room(n: number) {
    if (this.pos + n > this.bytes.length) {
      this.bytes = this.alloc.resize(this.bytes, Math.max(this.pos + n, this.bytes.length * 2), this.pos);
    }
  }
  /**
   * UTF-8 of a string at `pos`. Short ASCII strings (ids, symbols, currencies: most of what is
   * ingested) are copied by a plain loop, which beats TextEncoder's per-call cost several times.
   */
  private writeString(s: string) {
    const len = s.length;
    this.room(len * 3);
    const bytes = this.bytes;
    let p = this.pos;
    if (len <= 64) {
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        bytes[p++] = c;
      }
      if (i < len) p = this.pos + encoder.encodeInto(s, bytes.subarray(this.pos)).written;
    } else {
      p += encoder.encodeInto(s, bytes.subarray(p)).written;
    }
    this.pos = p;
    if (p > 0x7fffffff) throw new TributaryError('INVALID_ARGUMENT', `column "${this.path}": more than 2 GiB of text in one batch; use smaller batches`);
  }
  override appendColumn(rows: readonly Row[], name: string, from: number, to: number, first: number, indices: readonly number[] | undefined): void {
    if (!this.utf8) return super.appendColumn(rows, name, from, to, first, indices);
    this.reserve(to - from);
    let offs = this.offsets.buf;
    let bits = this.validity.bytes;
    let bytes = this.bytes;
    let pos = this.pos;
    let n = this.length;
    for (let r = from; r < to; r++) {
      const v = rows[r][name];
      let ascii = false;
      // The common case inline, with everything in locals: a short ASCII string.
      if (typeof v === 'string' && v.length <= 64 && pos + v.length <= bytes.length) {
        const len = v.length;
        let i = 0;
        for (; i < len; i++) {
          const c = v.charCodeAt(i);
          if (c >= 0x80) break;
          bytes[pos + i] = c;
        }
        ascii = i === len;
      }
      if (ascii) {
        pos += (v as string).length;
        offs[n + 1] = pos;
        bits[n >> 3] |= 1 << (n & 7);
        n++;
      } else {
        this.length = n;
        this.pos = pos;
        this.append(v, rowIndex(r - from, first + from, indices));
        n = this.length;
        pos = this.pos;
        offs = this.offsets.buf;
        bits = this.validity.bytes;
        bytes = this.bytes;
      }
    }
    this.length = n;
    this.pos = pos;
    if (pos > 0x7fffffff) throw new TributaryError('INVALID_ARGUMENT', `column "${this.path}": more than 2 GiB of text in one batch; use smaller batches`);
  }
  /**
   * Bytes already known to be the value: well-formed UTF-8 for a string column (a decoder copies
   * them from its validated input), the raw bytes for a binary column.
   */
  appendBytes(src: Uint8Array, start: number, end: number): void {
    const len = end - start;
    let p = this.pos;
    if (p + len > this.bytes.length) this.room(len);
    const bytes = this.bytes;
    // Short values (ids, symbols, currencies) by a plain loop: subarray + set costs more.
    if (len <= 24) for (let i = start; i < end; i++) bytes[p++] = src[i];
    else {
      bytes.set(src.subarray(start, end), p);
      p += len;
    }
    this.pos = p;
    if (p > 0x7fffffff) throw new TributaryError('INVALID_ARGUMENT', `column "${this.path}": more than 2 GiB of ${this.utf8 ? 'text' : 'binary'} in one batch; use smaller batches`);
    const n = this.length;
    this.offsets.reserve(n + 2);
    this.offsets.buf[n + 1] = p;
    this.validity.set(n);
    this.length = n + 1;
  }
  protected appendValue(value: unknown, row: number) {
    if (this.utf8) {
      const s = toStringValue(value);
      if (s instanceof Reject) reject(row, this.where(), value, this.typeName, s);
      this.writeString(s);
    } else {
      const b = toBinary(value);
      if (b instanceof Reject) reject(row, this.where(), value, this.typeName, b);
      this.room(b.length);
      this.bytes.set(b, this.pos);
      this.pos += b.length;
      if (this.pos > 0x7fffffff) throw new TributaryError('INVALID_ARGUMENT', `column "${this.path}": more than 2 GiB of binary in one batch; use smaller batches`);
    }
    this.offsets.reserve(this.length + 2);
    this.offsets.buf[this.length + 1] = this.pos;
  }
  protected appendEmpty() {
    this.offsets.reserve(this.length + 2);
    this.offsets.buf[this.length + 1] = this.pos;
  }
  protected override reserveValues(n: number) {
    this.offsets.reserve(n + 1);
    this.room(Math.max(0, (n - this.length) * 8));
  }
  protected override appendRunValues(run: ColumnRun, n: number): void {
    const offs = run.offsets!;
    const from = offs[0];
    const len = offs[n] - from;
    if (this.pos + len > this.bytes.length) this.room(len);
    this.bytes.set(run.bytes!.subarray(from, from + len), this.pos);
    rebased(this.offsets.buf, this.length + 1, offs, n, this.pos - from);
    this.pos += len;
    if (this.pos > 0x7fffffff) throw new TributaryError('INVALID_ARGUMENT', `column "${this.path}": more than 2 GiB of ${this.utf8 ? 'text' : 'binary'} in one batch; use smaller batches`);
  }
  finish(): arrow.Data {
    return arrow.makeData({
      type: this.utf8 ? new arrow.Utf8() : new arrow.Binary(),
      length: this.length,
      nullCount: this.nullCount,
      nullBitmap: this.nullBitmap(),
      valueOffsets: this.offsets.finish(this.length + 1),
      data: this.alloc.trim(this.bytes, this.pos),
    } as never);
  }
}

/**
 * The unscaled value of plain decimal text ("-123.45") when it is exact as a double (at most 15
 * digits) and fits the column; NaN sends the value to the exact BigInt path in toDecimal, which
 * also words every refusal.
 */
function smallUnscaled(s: string, precision: number, scale: number): number {
  const len = s.length;
  if (len === 0 || len > 17) return NaN;
  let i = 0;
  let neg = false;
  if (s.charCodeAt(0) === 45) {
    neg = true;
    i = 1;
  }
  let acc = 0;
  let digits = 0;
  let frac = -1;
  for (; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      acc = acc * 10 + (c - 48);
      digits++;
      if (frac >= 0) frac++;
    } else if (c === 46 && frac < 0) frac = 0;
    else return NaN;
  }
  if (digits === 0 || digits > 15) return NaN;
  const f = frac < 0 ? 0 : frac;
  if (f > scale) return NaN;
  const u = acc * 10 ** (scale - f);
  if (u > Number.MAX_SAFE_INTEGER || u >= 10 ** precision) return NaN;
  return neg ? -u : u;
}

export class DecimalBuilder extends ColumnBuilder {
  private readonly words: Growable<Uint32Array>;
  /** The value appendUnscaled hands to appendUnscaledOf (see Int64Builder.appendIntOf). */
  private readonly one = new Float64Array(1);
  constructor(
    type: DataType & { kind: 'decimal' },
    nullable: boolean,
    alloc: Allocator,
  ) {
    super(type, nullable, typeLabel(type), alloc);
    this.words = new Growable(alloc, Uint32Array);
  }
  override appendColumn(rows: readonly Row[], name: string, from: number, to: number, first: number, indices: readonly number[] | undefined): void {
    const t = this.type as DataType & { kind: 'decimal' };
    this.reserve(to - from);
    let words = this.words.buf;
    let bits = this.validity.bytes;
    let n = this.length;
    for (let r = from; r < to; r++) {
      const v = rows[r][name];
      const x = typeof v === 'string' ? smallUnscaled(v, t.precision, t.scale) : NaN;
      if (x === x) {
        // 128-bit two's complement from a value below 2^53: two low words and the sign.
        const hi = Math.floor(x / 4294967296);
        const b = n * 4;
        words[b] = x - hi * 4294967296;
        words[b + 1] = hi >>> 0;
        words[b + 2] = words[b + 3] = hi < 0 ? 0xffffffff : 0;
        bits[n >> 3] |= 1 << (n & 7);
        n++;
      } else {
        this.length = n;
        this.append(v, rowIndex(r - from, first + from, indices));
        n = this.length;
        words = this.words.buf;
        bits = this.validity.bytes;
      }
    }
    this.length = n;
  }
  protected override reserveValues(n: number) {
    this.words.reserve(n * 4);
  }
  /** An unscaled value below 2^53 in magnitude, already checked against the column's precision and scale. */
  appendUnscaled(x: number): void {
    this.one[0] = x;
    this.appendUnscaledOf(this.one);
  }
  /** appendUnscaled(src[0]): a number that is not boxed on its way here (see Int64Builder.appendIntOf). */
  appendUnscaledOf(src: Float64Array): void {
    const x = src[0];
    const n = this.length;
    this.words.reserve((n + 1) * 4);
    const words = this.words.buf;
    // 128-bit two's complement from a value below 2^53: two low words and the sign.
    const hi = Math.floor(x / 4294967296);
    const b = n * 4;
    words[b] = x - hi * 4294967296;
    words[b + 1] = hi >>> 0;
    words[b + 2] = words[b + 3] = hi < 0 ? 0xffffffff : 0;
    this.validity.set(n);
    this.length = n + 1;
  }
  protected appendValue(value: unknown, row: number) {
    const t = this.type as DataType & { kind: 'decimal' };
    const v = toDecimal(value, t.precision, t.scale);
    if (v instanceof Reject) reject(row, this.where(), value, this.typeName, v);
    this.words.reserve((this.length + 1) * 4);
    // 128-bit two's complement, little-endian 32-bit words.
    let x = BigInt.asUintN(128, v);
    const base = this.length * 4;
    for (let i = 0; i < 4; i++) {
      this.words.buf[base + i] = Number(x & 0xffffffffn);
      x >>= 32n;
    }
  }
  protected appendEmpty() {
    this.words.reserve((this.length + 1) * 4);
    this.words.buf.fill(0, this.length * 4, this.length * 4 + 4);
  }
  protected override appendRunValues(run: ColumnRun, n: number): void {
    this.words.buf.set((run.values as Uint32Array).subarray(0, 4 * n), 4 * this.length);
  }
  finish(): arrow.Data {
    return arrow.makeData({
      type: toArrowType(this.type) as arrow.Decimal,
      length: this.length,
      nullCount: this.nullCount,
      nullBitmap: this.nullBitmap(),
      data: this.words.finish(this.length * 4),
    });
  }
}

export class StructBuilder extends ColumnBuilder {
  readonly children: ColumnBuilder[];
  private readonly names: string[];
  private readonly byName: Map<string, number>;
  /** Fields named like an inherited member (own-fields.ts), read only as the object's own. */
  private readonly inherited: boolean[];
  constructor(
    type: StructType,
    nullable: boolean,
    alloc: Allocator,
    opts: BuildOptions,
  ) {
    super(type, nullable, 'struct', alloc);
    this.children = type.fields.map((f) => makeColumnBuilder(f.type, f.nullable, alloc, opts));
    this.names = type.fields.map((f) => f.name);
    this.byName = new Map(this.names.map((n, i) => [n, i]));
    this.inherited = this.names.map(inheritedName);
  }
  protected appendValue(value: unknown, row: number) {
    if (typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array || value instanceof Date || value instanceof JsonNumber) {
      reject(row, this.where(), value, 'struct', new Reject('is not an object'));
    }
    const obj = value as Record<string, unknown>;
    for (const k of Object.keys(obj)) {
      if (!this.byName.has(k)) {
        const hint = caseHint(k, this.names, 'struct');
        throw new TributaryError('ROW_INVALID', `row ${row}, column "${this.where()}.${k}": unknown field (struct fields: ${this.names.join(', ')})${hint ? `; ${hint}` : ''}`, {
          row,
          column: `${this.where()}.${k}`,
        });
      }
    }
    for (let i = 0; i < this.children.length; i++) this.children[i].append(this.inherited[i] ? ownField(obj, this.names[i]) : obj[this.names[i]], row);
  }
  /**
   * A present struct whose fields the caller has appended to `children` itself, one value each
   * (nulls for absent fields included): the NDJSON decoder decodes nested objects in place.
   */
  appendPresent(): void {
    this.validity.set(this.length);
    this.length++;
  }
  protected appendEmpty() {
    for (const c of this.children) c.appendNull();
  }
  protected override appendRunValues(run: ColumnRun, n: number): void {
    const runs = run.children!;
    for (let i = 0; i < this.children.length; i++) this.children[i].appendRun(runs[i], n);
  }
  override setPath(path: string): this {
    this.path = path;
    this.children.forEach((c, i) => c.setPath(`${path}.${this.names[i]}`));
    return this;
  }
  finish(): arrow.Data {
    return arrow.makeData({
      type: toArrowType(this.type) as arrow.Struct,
      length: this.length,
      nullCount: this.nullCount,
      nullBitmap: this.nullBitmap(),
      children: this.children.map((c) => c.finish()),
    });
  }
}

export class ListBuilder extends ColumnBuilder {
  private readonly offsets: Growable<Int32Array>;
  readonly child: ColumnBuilder;
  constructor(
    type: DataType & { kind: 'array' },
    nullable: boolean,
    alloc: Allocator,
    opts: BuildOptions,
  ) {
    super(type, nullable, typeLabel(type), alloc);
    this.offsets = new Growable(alloc, Int32Array);
    this.child = makeColumnBuilder(type.elementType, type.containsNull, alloc, opts);
    this.offsets.buf[0] = 0;
  }
  override setPath(path: string): this {
    this.path = path;
    this.child.setPath(`${path}[]`);
    return this;
  }
  protected appendValue(value: unknown, row: number) {
    if (!Array.isArray(value)) reject(row, this.where(), value, this.typeName, new Reject('is not an array'));
    for (let i = 0; i < value.length; i++) {
      this.child.elemIndex = i;
      this.child.append(value[i], row);
    }
    this.child.elemIndex = undefined;
    this.offsets.reserve(this.length + 2);
    this.offsets.buf[this.length + 1] = this.child.length;
  }
  /** A present list whose elements the caller has appended to `child` itself (the NDJSON decoder, in place). */
  appendPresent(): void {
    const n = this.length;
    this.offsets.reserve(n + 2);
    this.offsets.buf[n + 1] = this.child.length;
    this.validity.set(n);
    this.length = n + 1;
  }
  protected appendEmpty() {
    this.offsets.reserve(this.length + 2);
    this.offsets.buf[this.length + 1] = this.child.length;
  }
  protected override appendRunValues(run: ColumnRun, n: number): void {
    const offs = run.offsets!;
    // The element run starts at the run's first element: offsets from 0.
    if (offs[0] !== 0) throw new TributaryError('INTERNAL', `column "${this.path}": a run of lists whose offsets start at ${offs[0]}`);
    const base = this.child.length;
    this.child.appendRun(run.children![0], offs[n]);
    this.offsets.reserve(this.length + n + 1);
    rebased(this.offsets.buf, this.length + 1, offs, n, base);
  }
  finish(): arrow.Data {
    return arrow.makeData({
      type: toArrowType(this.type) as arrow.List,
      length: this.length,
      nullCount: this.nullCount,
      nullBitmap: this.nullBitmap(),
      valueOffsets: this.offsets.finish(this.length + 1),
      child: this.child.finish(),
    });
  }
}

class MapBuilder extends ColumnBuilder {
  private readonly offsets: Growable<Int32Array>;
  private readonly keys: ColumnBuilder;
  private readonly values: ColumnBuilder;
  constructor(
    type: DataType & { kind: 'map' },
    nullable: boolean,
    alloc: Allocator,
    opts: BuildOptions,
  ) {
    super(type, nullable, typeLabel(type), alloc);
    this.offsets = new Growable(alloc, Int32Array);
    this.keys = makeColumnBuilder(type.keyType, false, alloc, opts);
    this.values = makeColumnBuilder(type.valueType, type.valueContainsNull, alloc, opts);
    this.offsets.buf[0] = 0;
  }
  override setPath(path: string): this {
    this.path = path;
    this.keys.setPath(`${path}.key`);
    this.values.setPath(`${path}.value`);
    return this;
  }
  protected appendValue(value: unknown, row: number) {
    let entries: [unknown, unknown][];
    const notMap = new Reject('is not a map (expected an object, or an array of [key, value] pairs)');
    if (value instanceof Map) entries = [...value.entries()];
    else if (Array.isArray(value)) {
      // The form Arrow gives back (and pyarrow takes): pairs. Anything else is not a map.
      for (const e of value) if (!Array.isArray(e) || e.length !== 2) reject(row, this.where(), value, this.typeName, notMap);
      entries = value as [unknown, unknown][];
    } else if (typeof value === 'object' && !(value instanceof JsonNumber) && !(value instanceof Uint8Array) && !(value instanceof Date)) entries = Object.entries(value as object);
    else reject(row, this.where(), value, this.typeName, notMap);
    const seen = new Set<string>();
    for (const [k, v] of entries) {
      const ks = String(k);
      if (seen.has(ks)) reject(row, this.where(), value, this.typeName, new Reject(`has the key ${JSON.stringify(ks)} twice`));
      seen.add(ks);
      // JSON object keys are strings; numeric key types take their text form.
      this.keys.append(k, row);
      this.values.append(v, row);
    }
    this.offsets.reserve(this.length + 2);
    this.offsets.buf[this.length + 1] = this.keys.length;
  }
  protected appendEmpty() {
    this.offsets.reserve(this.length + 2);
    this.offsets.buf[this.length + 1] = this.keys.length;
  }
  finish(): arrow.Data {
    const type = toArrowType(this.type) as arrow.Map_;
    const entriesType = type.children[0].type as arrow.Struct;
    const n = this.keys.length;
    const entries = arrow.makeData({ type: entriesType, length: n, nullCount: 0, children: [this.keys.finish(), this.values.finish()] });
    return arrow.makeData({
      type,
      length: this.length,
      nullCount: this.nullCount,
      nullBitmap: this.nullBitmap(),
      valueOffsets: this.offsets.finish(this.length + 1),
      child: entries,
    });
  }
}

/**
 * VARIANT: each value is encoded (encodeVariant: JSON values with parse_json's exact numbers) into
 * the group's `value` and `metadata` binaries. A null row is SQL NULL; a null inside a value is a
 * variant null. A Variant (bytes already encoded) is checked and copied as it is.
 */
class VariantBuilder extends ColumnBuilder {
  private readonly values = new VarBinaryBuilder(BINARY, false, false, this.alloc);
  private readonly metadata = new VarBinaryBuilder(BINARY, false, false, this.alloc);
  protected appendValue(value: unknown, row: number) {
    let v: Variant;
    if (value instanceof Variant) {
      const problem = variantProblem(value.metadata, value.value);
      if (problem) reject(row, this.where(), value, 'variant', new Reject(`is not a well-formed variant: ${problem}`));
      v = value;
    } else {
      try {
        v = encodeVariant(value);
      } catch (e) {
        if (e instanceof VariantInputError) reject(row, this.where(), value, 'variant', new Reject(`cannot be a variant: ${e.message}`));
        throw e;
      }
    }
    this.values.appendBytes(v.value, 0, v.value.length);
    this.metadata.appendBytes(v.metadata, 0, v.metadata.length);
  }
  protected appendEmpty() {
    // Both fields are required in Parquet: a null row holds empty bytes, which no reader sees.
    this.values.appendBytes(EMPTY, 0, 0);
    this.metadata.appendBytes(EMPTY, 0, 0);
  }
  finish(): arrow.Data {
    return arrow.makeData({
      type: toArrowType(this.type) as arrow.Struct,
      length: this.length,
      nullCount: this.nullCount,
      nullBitmap: this.nullBitmap(),
      children: [this.values.finish(), this.metadata.finish()],
    });
  }
}

const BINARY: DataType = { kind: 'primitive', name: 'binary' };
const EMPTY = new Uint8Array(0);

function typeLabel(t: DataType): string {
  if (t.kind === 'primitive') return t.name;
  if (t.kind === 'decimal') return `decimal(${t.precision},${t.scale})`;
  return t.kind;
}

/** How a column's values are read, for its builder and every nested one. */
export interface BuildOptions {
  /** What a number in a timestamp column counts: 'milliseconds' (JavaScript values, the default) or 'seconds' (JSON text). */
  timestampNumbers?: TimestampNumbers;
}

export function makeColumnBuilder(t: DataType, nullable: boolean, alloc: Allocator = HEAP, opts: BuildOptions = {}): ColumnBuilder {
  const unit = opts.timestampNumbers ?? 'milliseconds';
  switch (t.kind) {
    case 'struct':
      return new StructBuilder(t, nullable, alloc, opts);
    case 'array':
      return new ListBuilder(t, nullable, alloc, opts);
    case 'map':
      return new MapBuilder(t, nullable, alloc, opts);
    case 'decimal':
      return new DecimalBuilder(t, nullable, alloc);
    case 'variant':
      return new VariantBuilder(t, nullable, 'variant', alloc);
    case 'primitive':
      switch (t.name) {
        case 'string':
          return new VarBinaryBuilder(t, nullable, true, alloc);
        case 'binary':
          return new VarBinaryBuilder(t, nullable, false, alloc);
        case 'boolean':
          return new BoolBuilder(t, nullable, 'boolean', alloc);
        case 'long':
          return new Int64Builder(t, nullable, new arrow.Int64(), toInt64Number, alloc, 0);
        case 'integer':
          return new FixedBuilder(t, nullable, new arrow.Int32(), Int32Array, (v) => toIntN(v, 32, 'integer'), alloc);
        case 'short':
          return new FixedBuilder(t, nullable, new arrow.Int16(), Int16Array, (v) => toIntN(v, 16, 'short'), alloc);
        case 'byte':
          return new FixedBuilder(t, nullable, new arrow.Int8(), Int8Array, (v) => toIntN(v, 8, 'byte'), alloc);
        case 'double':
          return new FloatBuilder(t, nullable, new arrow.Float64(), Float64Array, toFloat, alloc);
        case 'float':
          return new FloatBuilder(t, nullable, new arrow.Float32(), Float32Array, toFloat32, alloc);
        case 'date':
          return new DateBuilder(t, nullable, new arrow.DateDay(), Int32Array, toDateDays, alloc);
        case 'timestamp':
          return new Int64Builder(t, nullable, toArrowType(t), (v) => toTimestampMicrosNumber(v, false, unit), alloc, unit === 'seconds' ? 1_000_000 : 1000);
        case 'timestamp_ntz':
          return new Int64Builder(t, nullable, toArrowType(t), (v) => toTimestampMicrosNumber(v, true, unit), alloc, unit === 'seconds' ? 1_000_000 : 1000);
      }
  }
  throw new TributaryError('INTERNAL', `no column builder for ${JSON.stringify(t)}`);
}
