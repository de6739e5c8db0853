import type * as arrow from 'apache-arrow';
import { decimalToString, daysToDate, microsToStatsTimestamp } from '../arrow/values.js';
import type { DataType, StructType } from './schema.js';

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

type Obj = Map<string, string | Obj>; // values are JSON text

interface Ctx {
  remaining: number;
  opts: StatsOptions;
}

export function computeStats(data: arrow.Data<arrow.Struct>, schema: StructType, opts: StatsOptions = DEFAULT_STATS_OPTIONS): string {
  const min: Obj = new Map();
  const max: Obj = new Map();
  const nulls: Obj = new Map();
  const ctx: Ctx = { remaining: opts.numIndexedCols < 0 ? Infinity : opts.numIndexedCols, opts };
  walkStruct(schema, data, undefined, ctx, min, max, nulls);
  return `{"numRecords":${data.length},"minValues":${render(min)},"maxValues":${render(max)},"nullCount":${render(nulls)}}`;
}

function render(o: Obj): string {
  const parts: string[] = [];
  for (const [k, v] of o) parts.push(`${JSON.stringify(k)}:${typeof v === 'string' ? v : render(v)}`);
  return `{${parts.join(',')}}`;
}

function isValid(d: arrow.Data, i: number): boolean {
  const bm = d.nullBitmap;
  if (!bm || bm.length === 0 || d.nullCount === 0) return true;
  const j = d.offset + i;
  return (bm[j >> 3] & (1 << (j & 7))) !== 0;
}

/** `parentNull[i]` true where an enclosing struct is null (the leaf then counts as null). */
function walkStruct(t: StructType, d: arrow.Data, parentNull: Uint8Array | undefined, ctx: Ctx, min: Obj, max: Obj, nulls: Obj) {
  t.fields.forEach((f, idx) => {
    if (ctx.remaining <= 0) return;
    const child = d.children[idx];
    if (f.type.kind === 'struct') {
      let pn: Uint8Array | undefined = parentNull;
      if (child.nullCount > 0) {
        pn = new Uint8Array(child.length);
        for (let i = 0; i < child.length; i++) pn[i] = (parentNull?.[i] ?? 0) || (isValid(child, i) ? 0 : 1);
      }
      const cmin: Obj = new Map();
      const cmax: Obj = new Map();
      const cnull: Obj = new Map();
      walkStruct(f.type, child, pn, ctx, cmin, cmax, cnull);
      if (cmin.size) min.set(f.name, cmin);
      if (cmax.size) max.set(f.name, cmax);
      nulls.set(f.name, cnull);
      return;
    }
    ctx.remaining--;
    const s = leafStats(f.type, child, parentNull, ctx.opts);
    nulls.set(f.name, String(s.nulls));
    if (s.min !== undefined) min.set(f.name, s.min);
    if (s.max !== undefined) max.set(f.name, s.max);
  });
}

interface Leaf {
  nulls: number;
  min?: string;
  max?: string;
}

function leafStats(t: DataType, d: arrow.Data, parentNull: Uint8Array | undefined, opts: StatsOptions): Leaf {
  const n = d.length;
  let nulls = 0;
  const present = (i: number) => {
    if ((parentNull && parentNull[i]) || !isValid(d, i)) {
      nulls++;
      return false;
    }
    return true;
  };
  if (t.kind === 'decimal') {
    const words = d.values as Uint32Array;
    let lo: bigint | undefined;
    let hi: bigint | undefined;
    for (let i = 0; i < n; i++) {
      if (!present(i)) continue;
      const b = i * 4; // Arrow JS slices value buffers, not validity bitmaps
      const v = BigInt.asIntN(128, BigInt(words[b]) | (BigInt(words[b + 1]) << 32n) | (BigInt(words[b + 2]) << 64n) | (BigInt(words[b + 3]) << 96n));
      if (lo === undefined || v < lo) lo = v;
      if (hi === undefined || v > hi) hi = v;
    }
    return { nulls, min: lo === undefined ? undefined : decimalToString(lo, t.scale), max: hi === undefined ? undefined : decimalToString(hi, t.scale) };
  }
  if (t.kind !== 'primitive') {
    for (let i = 0; i < n; i++) present(i);
    return { nulls };
  }
  switch (t.name) {
    case 'boolean':
    case 'binary':
      for (let i = 0; i < n; i++) present(i);
      return { nulls };
    case 'string':
      return stringStats(d, n, present, () => nulls, opts.stringPrefixLength);
    case 'long':
    case 'timestamp':
    case 'timestamp_ntz': {
      const vals = d.values as BigInt64Array;
      let lo: bigint | undefined;
      let hi: bigint | undefined;
      for (let i = 0; i < n; i++) {
        if (!present(i)) continue;
        const v = vals[i];
        if (lo === undefined || v < lo) lo = v;
        if (hi === undefined || v > hi) hi = v;
      }
      if (lo === undefined || hi === undefined) return { nulls };
      if (t.name === 'long') return { nulls, min: lo.toString(), max: hi.toString() };
      const utc = t.name === 'timestamp';
      return { nulls, min: JSON.stringify(microsToStatsTimestamp(lo, utc)), max: JSON.stringify(microsToStatsTimestamp(hi, utc)) };
    }
    default: {
      const vals = d.values as Int32Array | Float64Array;
      let lo = Infinity;
      let hi = -Infinity;
      let any = false;
      let nonFinite = false;
      for (let i = 0; i < n; i++) {
        if (!present(i)) continue;
        const v = vals[i];
        if (!Number.isFinite(v)) nonFinite = true;
        any = true;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      // NaN and infinities have no JSON form; a missing bound is always safe.
      if (!any || nonFinite) return { nulls };
      if (t.name === 'date') return { nulls, min: JSON.stringify(daysToDate(lo)), max: JSON.stringify(daysToDate(hi)) };
      if (t.name === 'float') return { nulls, min: float32Text(lo), max: float32Text(hi) };
      if (t.name === 'double') return { nulls, min: doubleText(lo), max: doubleText(hi) };
      return { nulls, min: String(lo), max: String(hi) };
    }
  }
}

function doubleText(x: number): string {
  return Object.is(x, -0) ? '-0.0' : JSON.stringify(x);
}

/** Shortest decimal text that reads back as the same float32. */
function float32Text(x: number): string {
  if (Object.is(x, -0)) return '-0.0';
  for (let p = 1; p <= 9; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === x) return JSON.stringify(Number(s));
  }
  return JSON.stringify(x);
}

function compareBytes(a: Uint8Array, as: number, ae: number, bs: number, be: number): number {
  const la = ae - as;
  const lb = be - bs;
  const n = Math.min(la, lb);
  for (let i = 0; i < n; i++) {
    const x = a[as + i];
    const y = a[bs + i];
    if (x !== y) return x - y;
  }
  return la - lb;
}

const decoder = new TextDecoder();

function stringStats(d: arrow.Data, n: number, present: (i: number) => boolean, nulls: () => number, prefix: number): Leaf {
  const offs = d.valueOffsets as Int32Array;
  const bytes = d.values as Uint8Array;
  // UTF-8 byte order is code point order, which is how Delta compares strings.
  let lo = -1;
  let hi = -1;
  for (let i = 0; i < n; i++) {
    if (!present(i)) continue;
    const j = i; // value offsets are already sliced
    if (lo < 0) {
      lo = hi = j;
      continue;
    }
    if (compareBytes(bytes, offs[j], offs[j + 1], offs[lo], offs[lo + 1]) < 0) lo = j;
    if (compareBytes(bytes, offs[j], offs[j + 1], offs[hi], offs[hi + 1]) > 0) hi = j;
  }
  if (lo < 0) return { nulls: nulls() };
  const minS = decoder.decode(bytes.subarray(offs[lo], offs[lo + 1]));
  const maxS = decoder.decode(bytes.subarray(offs[hi], offs[hi + 1]));
  const out: Leaf = { nulls: nulls(), min: JSON.stringify(truncateMin(minS, prefix)) };
  const m = truncateMax(maxS, prefix);
  if (m !== undefined) out.max = JSON.stringify(m);
  return out;
}

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
