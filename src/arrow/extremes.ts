/**
 * The smallest and largest value and the null count of each leaf column of the chunks written
 * into one file: what Delta's per-file stats are made of (delta/stats.ts renders them). Pure
 * arithmetic over Arrow buffers, with no apache-arrow import, so that the Parquet encoder thread
 * can run it on the chunks it is handed (parquet/wasm-worker.ts): there it overlaps the main
 * thread's decoding of the next chunk instead of following it.
 *
 * Per chunk, each leaf finds the positions of its smallest and largest values without allocating
 * (64-bit and decimal values are compared as 32-bit words); only those winners become BigInts or
 * byte strings and are merged across chunks, and across threads (`merge`).
 */

/**
 * How a leaf's values are compared, by the array its values are in. 'nulls': counted, no bounds
 * (booleans, binary, lists and maps).
 */
export type LeafKind = 'float64' | 'int32' | 'number' | 'int64' | 'decimal128' | 'utf8' | 'nulls';

/** The columns of a struct (a chunk's top level) that get stats, in order; undefined: none. */
export interface ExtremesPlan {
  children: (ExtremesPlan | LeafKind | undefined)[];
}

/** One leaf over the chunks so far. `lo`/`hi` are undefined until a value is present. */
export interface LeafExtremes {
  nulls: number;
  /** A NaN or infinity was seen (floats): such a column gets no bounds. */
  nonFinite: boolean;
  lo?: number | bigint | Uint8Array;
  hi?: number | bigint | Uint8Array;
}

/**
 * The parts of an Arrow column read here. apache-arrow's Data has them (values sliced to the
 * column's rows, the null bitmap not: `offset` is its first bit), and so does `columnsOf`'s
 * plain copy, which can be posted to another thread.
 */
export interface ColumnData {
  readonly length: number;
  readonly offset: number;
  readonly nullCount: number;
  readonly nullBitmap?: Uint8Array | null;
  readonly values?: unknown;
  readonly valueOffsets?: unknown;
  readonly children: readonly ColumnData[];
}

/** What an accumulator gathered: what one thread hands another to merge. */
export interface ExtremesResult {
  rows: number;
  leaves: LeafExtremes[];
}

/** Accumulates the leaves of `plan` (depth first) over the chunks added or merged. */
export class ColumnExtremes {
  rows = 0;
  readonly leaves: LeafExtremes[];
  /** Each leaf's kind, in the order of `leaves`. */
  private readonly kinds: LeafKind[];
  constructor(readonly plan: ExtremesPlan) {
    this.kinds = leafKinds(plan);
    this.leaves = this.kinds.map(() => ({ nulls: 0, nonFinite: false }));
  }

  add(chunk: ColumnData): void {
    this.rows += chunk.length;
    addStruct(this.plan, chunk, undefined, this.leaves, 0);
  }

  result(): ExtremesResult {
    return { rows: this.rows, leaves: this.leaves };
  }

  /**
   * Another accumulator's result over other chunks of the same file (another thread's). Bounds
   * are the same as one scan of every chunk would find, except that a -0 and a 0 tied as the
   * smallest (or largest) may come out as either: equal values, and equal bounds to Spark.
   */
  merge(other: ExtremesResult): void {
    const { leaves } = other;
    if (leaves.length !== this.leaves.length) throw new Error(`extremes of ${leaves.length} leaves merged into ${this.leaves.length}`);
    this.rows += other.rows;
    this.kinds.forEach((kind, i) => {
      const into = this.leaves[i];
      const from = leaves[i];
      into.nulls += from.nulls;
      if (from.nonFinite) into.nonFinite = true;
      if (from.lo === undefined || from.hi === undefined) return;
      mergeBounds(into, kind, from.lo, from.hi);
    });
  }
}

/**
 * The parts of `chunk` that `plan` reads, as a plain object of typed arrays (views of the chunk's
 * own buffers): what is posted beside a chunk handed to another thread, its buffers moved with it.
 */
export function columnsOf(chunk: ColumnData, plan: ExtremesPlan): ColumnData {
  const children: ColumnData[] = [];
  plan.children.forEach((p, i) => {
    const c = chunk.children[i];
    if (p === undefined) children.push(EMPTY);
    else if (typeof p !== 'string') children.push(columnsOf(c, p));
    else children.push({ length: c.length, offset: c.offset, nullCount: c.nullCount, nullBitmap: c.nullCount > 0 ? c.nullBitmap : undefined, values: p === 'nulls' ? undefined : c.values, valueOffsets: p === 'utf8' ? c.valueOffsets : undefined, children: [] });
  });
  return { length: chunk.length, offset: chunk.offset, nullCount: chunk.nullCount, nullBitmap: chunk.nullCount > 0 ? chunk.nullBitmap : undefined, children };
}

const EMPTY: ColumnData = { length: 0, offset: 0, nullCount: 0, children: [] };

function leafKinds(plan: ExtremesPlan, out: LeafKind[] = []): LeafKind[] {
  for (const p of plan.children) {
    if (p === undefined) continue;
    if (typeof p === 'string') out.push(p);
    else leafKinds(p, out);
  }
  return out;
}

/**
 * Rows to skip in a leaf: nulls of the leaf, or of an enclosing struct (the leaf then counts as
 * null). Undefined when every value is present, the fast case.
 */
function absentMask(d: ColumnData, parentNull: Uint8Array | undefined): Uint8Array | undefined {
  const bm = d.nullBitmap;
  if (!(d.nullCount > 0 && bm && bm.length > 0)) return parentNull;
  // The bitmap read inline (a call per value was a visible cost of wide tables).
  const n = d.length;
  const off = d.offset;
  const m = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const j = off + i;
    if ((bm[j >> 3] & (1 << (j & 7))) === 0) m[i] = 1;
  }
  if (parentNull) for (let i = 0; i < n; i++) m[i] |= parentNull[i];
  return m;
}

function addStruct(plan: ExtremesPlan, d: ColumnData, parentNull: Uint8Array | undefined, leaves: LeafExtremes[], first: number): number {
  let i = first;
  plan.children.forEach((p, idx) => {
    if (p === undefined) return;
    const child = d.children[idx];
    if (typeof p !== 'string') {
      i = addStruct(p, child, child.nullCount > 0 ? absentMask(child, parentNull) : parentNull, leaves, i);
      return;
    }
    addLeaf(leaves[i++], p, child, absentMask(child, parentNull));
  });
  return i;
}

function addLeaf(f: LeafExtremes, kind: LeafKind, d: ColumnData, absent: Uint8Array | undefined) {
  const n = d.length;
  const present = absent ? presentCount(absent, n) : n;
  f.nulls += n - present;
  if (present === 0) return;
  switch (kind) {
    case 'nulls':
      return;
    case 'decimal128': {
      const w = d.values as Uint32Array;
      const [lo, hi] = decimalExtremes(w, n, absent);
      const big = (i: number) => BigInt.asIntN(128, BigInt(w[i * 4]) | (BigInt(w[i * 4 + 1]) << 32n) | (BigInt(w[i * 4 + 2]) << 64n) | (BigInt(w[i * 4 + 3]) << 96n));
      mergeBounds(f, kind, big(lo), big(hi));
      return;
    }
    case 'utf8': {
      const offs = d.valueOffsets as Int32Array;
      const bytes = d.values as Uint8Array;
      // UTF-8 byte order is code point order, which is how Delta compares strings.
      const [lo, hi] = stringExtremes(bytes, offs, n, absent);
      mergeBounds(f, kind, bytes.slice(offs[lo], offs[lo + 1]), bytes.slice(offs[hi], offs[hi + 1]));
      return;
    }
    case 'int64': {
      const v = d.values as BigInt64Array;
      const w = new Int32Array(v.buffer, v.byteOffset, v.length * 2);
      const [lo, hi] = int64Extremes(w, n, absent);
      mergeBounds(f, kind, v[lo], v[hi]);
      return;
    }
    default: {
      // One loop per array type: a loop that sees both Int32Array and Float64Array reads every
      // element through a polymorphic access (it was the largest cost of stats).
      const r = kind === 'float64' ? float64Extremes(d.values as Float64Array, n, absent) : kind === 'int32' ? int32Extremes(d.values as Int32Array, n, absent) : numberExtremes(d.values as ArrayLike<number>, n, absent);
      if (r.nonFinite) f.nonFinite = true;
      mergeBounds(f, kind, r.lo, r.hi);
    }
  }
}

/** Widens `f`'s bounds to `lo` and `hi` (values of one kind). -0 and 0 compare equal: the first seen stays, as a plain scan keeps it. */
function mergeBounds(f: LeafExtremes, kind: LeafKind, lo: number | bigint | Uint8Array, hi: number | bigint | Uint8Array) {
  if (kind === 'utf8') {
    const l = lo as Uint8Array;
    const h = hi as Uint8Array;
    if (f.lo === undefined || compareBytes(l, 0, l.length, f.lo as Uint8Array, 0, (f.lo as Uint8Array).length) < 0) f.lo = l;
    if (f.hi === undefined || compareBytes(h, 0, h.length, f.hi as Uint8Array, 0, (f.hi as Uint8Array).length) > 0) f.hi = h;
    return;
  }
  const l = lo as number | bigint;
  const h = hi as number | bigint;
  if (f.lo === undefined || l < (f.lo as number | bigint)) f.lo = l;
  if (f.hi === undefined || h > (f.hi as number | bigint)) f.hi = h;
}

/**
 * The rows not absent. A loop of its own, not in addLeaf: a loop over a chunk's rows made addLeaf
 * hot, and V8 then optimised it with every extremes function inlined, again at each new column
 * type it met (a wide table's stats: 3 compiles, 76 ms of compiling for a dispatcher called 30
 * times a chunk). Without a loop it stays unoptimised, and the loops are optimised on their own.
 */
function presentCount(absent: Uint8Array, n: number): number {
  let present = 0;
  for (let i = 0; i < n; i++) if (!absent[i]) present++;
  return present;
}

interface NumberExtremes {
  lo: number;
  hi: number;
  nonFinite: boolean;
}

function float64Extremes(vals: Float64Array, n: number, absent: Uint8Array | undefined): NumberExtremes {
  let lo = Infinity;
  let hi = -Infinity;
  let nonFinite = false;
  for (let i = 0; i < n; i++) {
    if (absent !== undefined && absent[i]) continue;
    const v = vals[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    // NaN and the infinities are the values for which v - v is not 0.
    if (v - v !== 0) nonFinite = true;
  }
  return { lo, hi, nonFinite };
}

function int32Extremes(vals: Int32Array, n: number, absent: Uint8Array | undefined): NumberExtremes {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    if (absent !== undefined && absent[i]) continue;
    const v = vals[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return { lo, hi, nonFinite: false };
}

/** Bytes, shorts and floats: rarer, one loop for them all. */
function numberExtremes(vals: ArrayLike<number>, n: number, absent: Uint8Array | undefined): NumberExtremes {
  let lo = Infinity;
  let hi = -Infinity;
  let nonFinite = false;
  for (let i = 0; i < n; i++) {
    if (absent !== undefined && absent[i]) continue;
    const v = vals[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (v - v !== 0) nonFinite = true;
  }
  return { lo, hi, nonFinite };
}

/** Positions of the first smallest and first largest present value. */
function extremes(n: number, absent: Uint8Array | undefined, cmp: (a: number, b: number) => number): [number, number] {
  let lo = -1;
  let hi = -1;
  for (let i = 0; i < n; i++) {
    if (absent && absent[i]) continue;
    if (lo < 0) {
      lo = hi = i;
      continue;
    }
    if (cmp(i, lo) < 0) lo = i;
    else if (cmp(i, hi) > 0) hi = i;
  }
  return [lo, hi];
}

/**
 * extremes() for 128-bit decimals: values within ±2^53 (nearly all) compared as the doubles they
 * are exactly, without a comparator call per value; any larger one sends the column to extremes().
 */
function decimalExtremes(w: Uint32Array, n: number, absent: Uint8Array | undefined): [number, number] {
  let lo = -1;
  let hi = -1;
  let loV = 0;
  let hiV = 0;
  for (let i = 0; i < n; i++) {
    if (absent && absent[i]) continue;
    const w0 = w[i * 4];
    const w1 = w[i * 4 + 1];
    const w2 = w[i * 4 + 2];
    const w3 = w[i * 4 + 3];
    let x: number;
    if (w3 === 0 && w2 === 0 && w1 < 0x200000) x = w1 * 4294967296 + w0;
    // Negative: minus its magnitude, 2^64 - (w1 * 2^32 + w0), in two exact parts.
    else if (w3 === 0xffffffff && w2 === 0xffffffff && w1 >= 0xffe00000) x = -((0xffffffff - w1) * 4294967296 + (4294967296 - w0));
    else return extremes(n, absent, (a, b) => compareWords(w, a * 4, b * 4, 4));
    if (lo < 0) {
      lo = hi = i;
      loV = hiV = x;
    } else if (x < loV) {
      lo = i;
      loV = x;
    } else if (x > hiV) {
      hi = i;
      hiV = x;
    }
  }
  return [lo, hi];
}

/** extremes() for strings, written out: the comparison inlined is most of a string column's cost. */
function stringExtremes(bytes: Uint8Array, offs: Int32Array, n: number, absent: Uint8Array | undefined): [number, number] {
  let lo = -1;
  let hi = -1;
  for (let i = 0; i < n; i++) {
    if (absent && absent[i]) continue;
    if (lo < 0) {
      lo = hi = i;
      continue;
    }
    const s = offs[i];
    const e = offs[i + 1];
    // Fast reject: most values differ from the current bounds in their first byte.
    const first = s < e ? bytes[s] : -1;
    const loFirst = offs[lo] < offs[lo + 1] ? bytes[offs[lo]] : -1;
    const hiFirst = offs[hi] < offs[hi + 1] ? bytes[offs[hi]] : -1;
    if (first > loFirst && first < hiFirst) continue;
    const c = compareBytes(bytes, s, e, bytes, offs[lo], offs[lo + 1]);
    if (c < 0) lo = i;
    // Equal to the smallest (a column of one value, "usd", does nothing else): not above the largest.
    else if (c > 0 && compareBytes(bytes, s, e, bytes, offs[hi], offs[hi + 1]) > 0) hi = i;
  }
  return [lo, hi];
}

function int64Extremes(w: Int32Array, n: number, absent: Uint8Array | undefined): [number, number] {
  let lo = -1;
  let hi = -1;
  let loH = 0;
  let loL = 0;
  let hiH = 0;
  let hiL = 0;
  for (let i = 0; i < n; i++) {
    if (absent && absent[i]) continue;
    const h = w[2 * i + 1];
    const l = w[2 * i] >>> 0;
    if (lo < 0) {
      lo = hi = i;
      loH = hiH = h;
      loL = hiL = l;
    } else if (h < loH || (h === loH && l < loL)) {
      lo = i;
      loH = h;
      loL = l;
    } else if (h > hiH || (h === hiH && l > hiL)) {
      hi = i;
      hiH = h;
      hiL = l;
    }
  }
  return [lo, hi];
}

/** Signed compare of little-endian 32-bit words (two's complement, `k` words). */
function compareWords(w: Uint32Array, a: number, b: number, k: number): number {
  const ha = w[a + k - 1] | 0;
  const hb = w[b + k - 1] | 0;
  if (ha !== hb) return ha < hb ? -1 : 1;
  for (let j = k - 2; j >= 0; j--) {
    const x = w[a + j];
    const y = w[b + j];
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function compareBytes(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): number {
  const la = ae - as;
  const lb = be - bs;
  const n = Math.min(la, lb);
  for (let i = 0; i < n; i++) {
    const x = a[as + i];
    const y = b[bs + i];
    if (x !== y) return x - y;
  }
  return la - lb;
}
