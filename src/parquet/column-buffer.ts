/**
 * Growable Arrow buffers for one flat column, filled by the flat Parquet reader straight from
 * page bytes (no per-value JavaScript objects), and turned into arrow.Data at flush. A file's
 * rows are appended only provisionally: `mark()` before a file and `truncate()` if it turns out
 * to be unreadable leave the column as it was.
 */
import * as arrow from 'apache-arrow';

/** How values are laid out in the Arrow column. */
export type Layout =
  /** Fixed width values; `width` bytes each (1, 2, 4, 8 or 16). */
  | { kind: 'fixed'; width: number }
  | { kind: 'bool' }
  /** 32-bit offsets and bytes (Utf8, Binary). */
  | { kind: 'var' };

export function layoutOf(type: arrow.DataType): Layout | undefined {
  switch (type.typeId) {
    case arrow.Type.Int:
      return (type as arrow.Int).bitWidth === 64 || (type as arrow.Int).isSigned ? { kind: 'fixed', width: (type as arrow.Int).bitWidth / 8 } : undefined;
    case arrow.Type.Float:
      return (type as arrow.Float).precision === arrow.Precision.HALF ? undefined : { kind: 'fixed', width: (type as arrow.Float).precision === arrow.Precision.SINGLE ? 4 : 8 };
    case arrow.Type.Date:
      return (type as arrow.Date_).unit === arrow.DateUnit.DAY ? { kind: 'fixed', width: 4 } : undefined;
    case arrow.Type.Timestamp:
      return { kind: 'fixed', width: 8 };
    case arrow.Type.Decimal:
      return (type as arrow.Decimal).bitWidth === 128 ? { kind: 'fixed', width: 16 } : undefined;
    case arrow.Type.Bool:
      return { kind: 'bool' };
    case arrow.Type.Utf8:
    case arrow.Type.Binary:
      return { kind: 'var' };
  }
  return undefined;
}

/**
 * One column of the flat reader's output: page values copied straight into the buffers of an
 * Arrow column of the table's type (not to be confused with src/arrow/builders.ts, which builds
 * Arrow columns from JavaScript values).
 */
export class ColumnBuffer {
  length = 0;
  nullCount = 0;
  /** Fixed-width values, the bool bitmap, or the var-width bytes. */
  values: Uint8Array;
  /** Bytes used in `values` (var-width columns). */
  bytes = 0;
  offsets: Int32Array | undefined;
  validity: Uint8Array | undefined;
  private marked = { length: 0, nullCount: 0, bytes: 0 };

  constructor(
    readonly type: arrow.DataType,
    readonly layout: Layout,
    private readonly capacity = 1024,
  ) {
    this.values = new Uint8Array(this.valueBytesFor(capacity));
    if (layout.kind === 'var') this.offsets = new Int32Array(capacity + 1);
  }

  private valueBytesFor(rows: number): number {
    const l = this.layout;
    return l.kind === 'fixed' ? rows * l.width : l.kind === 'bool' ? (rows + 7) >>> 3 : rows * 8;
  }

  /** Room for `rows` more rows (and, for var-width columns, `bytes` more bytes). */
  reserve(rows: number, bytes = 0): void {
    const need = this.length + rows;
    const l = this.layout;
    if (l.kind === 'var') {
      if (need + 1 > this.offsets!.length) this.offsets = grow32(this.offsets!, need + 1);
      if (this.bytes + bytes > this.values.length) this.values = grow8(this.values, this.bytes + bytes);
    } else if (this.valueBytesFor(need) > this.values.length) {
      this.values = grow8(this.values, this.valueBytesFor(need));
    }
    if (this.validity && (need + 7) >>> 3 > this.validity.length) this.validity = grow8(this.validity, (need + 7) >>> 3);
  }

  /** Marks rows [from, from + n) as valid or null per `valid` (1/0), creating the bitmap at the first null. */
  setValidity(from: number, n: number, defs: Int32Array, maxDef: number, nulls: number): void {
    if (!nulls && !this.validity) return;
    if (!this.validity) {
      const v = new Uint8Array(Math.max(this.values.length, (from + n + 7) >>> 3, (this.capacity + 7) >>> 3));
      // Everything before is valid.
      v.fill(0xff, 0, from >>> 3);
      for (let i = from & ~7; i < from; i++) v[i >>> 3] |= 1 << (i & 7);
      this.validity = v;
    } else if ((from + n + 7) >>> 3 > this.validity.length) {
      this.validity = grow8(this.validity, (from + n + 7) >>> 3);
    }
    const v = this.validity;
    for (let i = 0; i < n; i++) {
      const row = from + i;
      if (defs.length === 0 || defs[i] === maxDef) v[row >>> 3] |= 1 << (row & 7);
      else v[row >>> 3] &= ~(1 << (row & 7));
    }
    this.nullCount += nulls;
  }

  mark(): void {
    this.marked = { length: this.length, nullCount: this.nullCount, bytes: this.bytes };
  }

  truncate(): void {
    ({ length: this.length, nullCount: this.nullCount, bytes: this.bytes } = this.marked);
  }

  /** The column so far as Arrow data; the builder starts over empty. */
  flush(): arrow.Data {
    const { type, length, nullCount } = this;
    const nullBitmap = nullCount ? this.validity!.slice(0, (length + 7) >>> 3) : undefined;
    const l = this.layout;
    let data: arrow.Data;
    if (l.kind === 'var') {
      data = arrow.makeData({ type: type as arrow.Utf8, length, nullCount, nullBitmap, valueOffsets: this.offsets!.slice(0, length + 1), data: this.values.slice(0, this.bytes) });
    } else if (l.kind === 'bool') {
      data = arrow.makeData({ type: type as arrow.Bool, length, nullCount, nullBitmap, data: this.values.slice(0, (length + 7) >>> 3) });
    } else {
      const buf = this.values.slice(0, length * l.width).buffer;
      // The type's own typed array over the bytes (BigInt64Array for Int64, Uint32Array for Decimal).
      const ArrayType = (type as unknown as { ArrayType: { new (b: ArrayBuffer, o: number, n: number): Int32Array; BYTES_PER_ELEMENT: number } }).ArrayType;
      data = arrow.makeData({ type: type as arrow.Int32, length, nullCount, nullBitmap, data: new ArrayType(buf, 0, (length * l.width) / ArrayType.BYTES_PER_ELEMENT) });
    }
    this.length = 0;
    this.nullCount = 0;
    this.bytes = 0;
    this.validity = undefined;
    this.marked = { length: 0, nullCount: 0, bytes: 0 };
    if (l.kind === 'var') this.offsets![0] = 0;
    return data;
  }
}

function grow8(a: Uint8Array, need: number): Uint8Array {
  const b = new Uint8Array(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}

function grow32(a: Int32Array, need: number): Int32Array {
  const b = new Int32Array(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}
