import type * as arrow from 'apache-arrow';
import { decimalToString, daysToDate, microsToStatsTimestamp } from '../arrow/values.js';
import type { DataType, StructType } from '../schema/schema.js';

/**
 * Per-file statistics (PROTOCOL.md "Per-file Statistics"), computed from the Arrow columns that
 * went into the file. They must be exact: Spark answers COUNT(*), MIN and MAX from them without
 * reading data. The result is JSON text built by hand so longs and decimals keep every digit.
 */
export interface StatsOptions {
  /** delta.dataSkippingNumIndexedCols: leaf columns that get stats; -1 = all. */
  numIndexedCols: number;
  /** delta.dataSkippingStringPrefixLength. */
  stringPrefixLength: number;
}

export const DEFAULT_STATS_OPTIONS: StatsOptions = { numIndexedCols: 32, stringPrefixLength: 32 };

/**
 * Accumulates the stats of one data file over the Arrow chunks written into it, so a file can be
 * streamed to the encoder chunk by chunk. Per chunk, each leaf finds the positions of its
 * smallest and largest values without allocating (64-bit and decimal values are compared as
 * 32-bit words); only those winners become BigInts or strings and are merged across chunks.
 */
export class StatsCollector {
  private numRecords = 0;
  private readonly root: StructNode;
  constructor(
    schema: StructType,
    private readonly opts: StatsOptions = DEFAULT_STATS_OPTIONS,
  ) {
    const ctx = { remaining: opts.numIndexedCols < 0 ? Infinity : opts.numIndexedCols };
    this.root = structNode(schema, ctx);
  }

  add(data: arrow.Data<arrow.Struct>): void {
    this.numRecords += data.length;
    addStruct(this.root, data, undefined, this.opts);
  }

  toJSON(): string {
    const min: Obj = new Map();
    const max: Obj = new Map();
    const nulls: Obj = new Map();
    renderStruct(this.root, min, max, nulls, this.opts);
    return `{"numRecords":${this.numRecords},"minValues":${render(min)},"maxValues":${render(max)},"nullCount":${render(nulls)}}`;
  }
}

export function computeStats(data: arrow.Data<arrow.Struct>, schema: StructType, opts: StatsOptions = DEFAULT_STATS_OPTIONS): string {
  const c = new StatsCollector(schema, opts);
  c.add(data);
  return c.toJSON();
}

type Obj = Map<string, string | Obj>; // values are JSON text

function render(o: Obj): string {
  const parts: string[] = [];
  for (const [k, v] of o) parts.push(`${JSON.stringify(k)}:${typeof v === 'string' ? v : render(v)}`);
  return `{${parts.join(',')}}`;
}

interface LeafNode {
  kind: 'leaf';
  name: string;
  type: DataType;
  nulls: number;
  any: boolean;
  nonFinite: boolean;
  lo?: number | bigint | Uint8Array;
  hi?: number | bigint | Uint8Array;
}
interface StructNode {
  kind: 'struct';
  name: string;
  /** Fields in schema order; undefined past delta.dataSkippingNumIndexedCols. */
  fields: (StructNode | LeafNode | undefined)[];
}

function structNode(t: StructType, ctx: { remaining: number }, name = ''): StructNode {
  const fields = t.fields.map((f): StructNode | LeafNode | undefined => {
    if (ctx.remaining <= 0) return undefined;
    if (f.type.kind === 'struct') return structNode(f.type, ctx, f.name);
    ctx.remaining--;
    return { kind: 'leaf', name: f.name, type: f.type, nulls: 0, any: false, nonFinite: false };
  });
  return { kind: 'struct', name, fields };
}

function renderStruct(node: StructNode, min: Obj, max: Obj, nulls: Obj, opts: StatsOptions) {
  for (const f of node.fields) {
    if (!f) continue;
    if (f.kind === 'struct') {
      const cmin: Obj = new Map();
      const cmax: Obj = new Map();
      const cnull: Obj = new Map();
      renderStruct(f, cmin, cmax, cnull, opts);
      if (cmin.size) min.set(f.name, cmin);
      if (cmax.size) max.set(f.name, cmax);
      nulls.set(f.name, cnull);
      continue;
    }
    nulls.set(f.name, String(f.nulls));
    const b = leafBounds(f, opts);
    if (b.min !== undefined) min.set(f.name, b.min);
    if (b.max !== undefined) max.set(f.name, b.max);
  }
}

function leafBounds(f: LeafNode, opts: StatsOptions): { min?: string; max?: string } {
  const t = f.type;
  if (f.lo === undefined || f.hi === undefined) return {};
  if (t.kind === 'decimal') return { min: decimalToString(f.lo as bigint, t.scale), max: decimalToString(f.hi as bigint, t.scale) };
  if (t.kind !== 'primitive') return {};
  switch (t.name) {
    case 'string': {
      const out: { min?: string; max?: string } = { min: JSON.stringify(truncateMin(decoder.decode(f.lo as Uint8Array), opts.stringPrefixLength)) };
      const m = truncateMax(decoder.decode(f.hi as Uint8Array), opts.stringPrefixLength);
      if (m !== undefined) out.max = JSON.stringify(m);
      return out;
    }
    case 'long':
      return { min: (f.lo as bigint).toString(), max: (f.hi as bigint).toString() };
    case 'timestamp':
    case 'timestamp_ntz': {
      const utc = t.name === 'timestamp';
      return { min: JSON.stringify(microsToStatsTimestamp(f.lo as bigint, utc)), max: JSON.stringify(microsToStatsTimestamp(f.hi as bigint, utc)) };
    }
    default: {
      // NaN and infinities have no JSON form; a missing bound is always safe.
      if (f.nonFinite) return {};
      const lo = f.lo as number;
      const hi = f.hi as number;
      if (t.name === 'date') return { min: JSON.stringify(daysToDate(lo)), max: JSON.stringify(daysToDate(hi)) };
      if (t.name === 'float') return { min: float32Text(lo), max: float32Text(hi) };
      if (t.name === 'double') return { min: doubleText(lo), max: doubleText(hi) };
      return { min: String(lo), max: String(hi) };
    }
  }
}

function isValid(d: arrow.Data, i: number): boolean {
  const bm = d.nullBitmap;
  if (!bm || bm.length === 0 || d.nullCount === 0) return true;
  const j = d.offset + i;
  return (bm[j >> 3] & (1 << (j & 7))) !== 0;
}

/**
 * Rows to skip in a leaf: nulls of the leaf, or of an enclosing struct (the leaf then counts as
 * null). Undefined when every value is present, the fast case.
 */
function absentMask(d: arrow.Data, parentNull: Uint8Array | undefined): Uint8Array | undefined {
  const hasNulls = d.nullCount > 0 && d.nullBitmap && d.nullBitmap.length > 0;
  if (!hasNulls) return parentNull;
  // The bitmap read inline (a call per value through isValid was a visible cost of wide tables).
  const n = d.length;
  const bm = d.nullBitmap!;
  const off = d.offset;
  const m = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const j = off + i;
    if ((bm[j >> 3] & (1 << (j & 7))) === 0) m[i] = 1;
  }
  if (parentNull) for (let i = 0; i < n; i++) m[i] |= parentNull[i];
  return m;
}

function addStruct(node: StructNode, d: arrow.Data, parentNull: Uint8Array | undefined, opts: StatsOptions) {
  node.fields.forEach((f, idx) => {
    if (!f) return;
    const child = d.children[idx];
    if (f.kind === 'struct') {
      addStruct(f, child, child.nullCount > 0 ? absentMask(child, parentNull) : parentNull, opts);
      return;
    }
    addLeaf(f, child, absentMask(child, parentNull));
  });
}

function addLeaf(f: LeafNode, d: arrow.Data, absent: Uint8Array | undefined) {
  const n = d.length;
  const present = absent ? presentCount(absent, n) : n;
  f.nulls += n - present;
  if (present === 0) return;
  const t = f.type;
  if (t.kind === 'decimal') {
    const w = d.values as Uint32Array;
    const [lo, hi] = decimalExtremes(w, n, absent);
    const big = (i: number) => BigInt.asIntN(128, BigInt(w[i * 4]) | (BigInt(w[i * 4 + 1]) << 32n) | (BigInt(w[i * 4 + 2]) << 64n) | (BigInt(w[i * 4 + 3]) << 96n));
    mergeBig(f, big(lo), big(hi));
    return;
  }
  if (t.kind !== 'primitive') return;
  switch (t.name) {
    case 'boolean':
    case 'binary':
      return;
    case 'string': {
      const offs = d.valueOffsets as Int32Array;
      const bytes = d.values as Uint8Array;
      // UTF-8 byte order is code point order, which is how Delta compares strings.
      const [lo, hi] = stringExtremes(bytes, offs, n, absent);
      const loB = bytes.slice(offs[lo], offs[lo + 1]);
      const hiB = bytes.slice(offs[hi], offs[hi + 1]);
      if (f.lo === undefined || compareBytes(loB, 0, loB.length, f.lo as Uint8Array, 0, (f.lo as Uint8Array).length) < 0) f.lo = loB;
      if (f.hi === undefined || compareBytes(hiB, 0, hiB.length, f.hi as Uint8Array, 0, (f.hi as Uint8Array).length) > 0) f.hi = hiB;
      return;
    }
    case 'long':
    case 'timestamp':
    case 'timestamp_ntz': {
      const v = d.values as BigInt64Array;
      const w = new Int32Array(v.buffer, v.byteOffset, v.length * 2);
      const [lo, hi] = int64Extremes(w, n, absent);
      mergeBig(f, v[lo], v[hi]);
      return;
    }
    default: {
      // One loop per array type: a loop that sees both Int32Array and Float64Array reads every
      // element through a polymorphic access (it was the largest cost of stats).
      const vals = d.values as Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
      const r = vals instanceof Float64Array ? float64Extremes(vals, n, absent) : vals instanceof Int32Array ? int32Extremes(vals, n, absent) : numberExtremes(vals, n, absent);
      if (r.nonFinite) f.nonFinite = true;
      // -0 and 0 compare equal; keep whichever came first, as a plain scan does.
      if (f.lo === undefined || r.lo < (f.lo as number)) f.lo = r.lo;
      if (f.hi === undefined || r.hi > (f.hi as number)) f.hi = r.hi;
    }
  }
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

function mergeBig(f: LeafNode, lo: bigint, hi: bigint) {
  if (f.lo === undefined || lo < (f.lo as bigint)) f.lo = lo;
  if (f.hi === undefined || hi > (f.hi as bigint)) f.hi = hi;
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

export function doubleText(x: number): string {
  return Object.is(x, -0) ? '-0.0' : JSON.stringify(x);
}

/** Shortest decimal text that reads back as the same float32. */
export function float32Text(x: number): string {
  if (Object.is(x, -0)) return '-0.0';
  for (let p = 1; p <= 9; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === x) return JSON.stringify(Number(s));
  }
  return JSON.stringify(x);
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

// ignoreBOM: a leading U+FEFF is part of a value (the default decoder drops it: a string "\ufeffz" had max "z").
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;

/** A prefix is <= the string, so it is a valid lower bound. Never split a surrogate pair. */
export function truncateMin(s: string, prefix: number): string {
  if (s.length <= prefix) return s;
  return s.slice(0, isHigh(s.charCodeAt(prefix - 1)) ? prefix + 1 : prefix);
}

/**
 * An upper bound: the prefix plus a character greater than the first one dropped (Spark's
 * `truncateMaxStringAgg`). Undefined when no short bound exists; a missing max is always safe.
 */
export function truncateMax(s: string, prefix: number): string | undefined {
  if (s.length <= prefix) return s;
  const cut = isHigh(s.charCodeAt(prefix - 1)) ? prefix + 1 : prefix;
  if (cut >= s.length) return s;
  const next = s.codePointAt(cut)!;
  if (next === 0x10ffff) return undefined;
  return s.slice(0, cut) + (next < 0x7f ? '\u007f' : '\u{10ffff}');
}
