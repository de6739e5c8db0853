import type * as arrow from 'apache-arrow';
import { decimalToString, daysToDate, microsToStatsTimestamp } from '../arrow/values.js';
import type { DataType, StructType } from '../schema/schema.js';
import { ColumnExtremes, type ExtremesPlan, type LeafExtremes, type LeafKind } from '../arrow/extremes.js';

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
 * The stats of one data file over the Arrow chunks written into it, so a file can be streamed to
 * the encoder chunk by chunk: the leaves' extremes and null counts are gathered by
 * arrow/extremes.ts (here, or on the encoder thread, which hands back its `ColumnExtremes`
 * result to `merge`), and rendered here as Delta's JSON.
 */
export class StatsCollector {
  /** What the chunks' extremes are gathered into; its plan is the one an encoder thread is given. */
  readonly extremes: ColumnExtremes;
  private readonly root: StructNode;
  constructor(
    schema: StructType,
    private readonly opts: StatsOptions = DEFAULT_STATS_OPTIONS,
  ) {
    const ctx = { remaining: opts.numIndexedCols < 0 ? Infinity : opts.numIndexedCols };
    this.root = structNode(schema, ctx);
    this.extremes = new ColumnExtremes(planOf(this.root));
  }

  add(data: arrow.Data<arrow.Struct>): void {
    this.extremes.add(data);
  }

  toJSON(): string {
    const min: Obj = new Map();
    const max: Obj = new Map();
    const nulls: Obj = new Map();
    renderStruct(this.root, this.extremes.leaves, { next: 0 }, min, max, nulls, this.opts);
    return `{"numRecords":${this.extremes.rows},"minValues":${render(min)},"maxValues":${render(max)},"nullCount":${render(nulls)}}`;
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
    return { kind: 'leaf', name: f.name, type: f.type };
  });
  return { kind: 'struct', name, fields };
}

/** The leaves' Arrow value arrays (arrow/types.ts), which is how arrow/extremes.ts compares them. */
function planOf(node: StructNode): ExtremesPlan {
  return { children: node.fields.map((f) => (f === undefined ? undefined : f.kind === 'struct' ? planOf(f) : leafKind(f.type))) };
}

function leafKind(t: DataType): LeafKind {
  if (t.kind === 'decimal') return 'decimal128';
  if (t.kind !== 'primitive') return 'nulls';
  switch (t.name) {
    case 'string':
      return 'utf8';
    case 'long':
    case 'timestamp':
    case 'timestamp_ntz':
      return 'int64';
    case 'double':
      return 'float64';
    case 'integer':
    case 'date':
      return 'int32';
    case 'byte':
    case 'short':
    case 'float':
      return 'number';
    default:
      return 'nulls';
  }
}

function renderStruct(node: StructNode, leaves: readonly LeafExtremes[], pos: { next: number }, min: Obj, max: Obj, nulls: Obj, opts: StatsOptions) {
  for (const f of node.fields) {
    if (!f) continue;
    if (f.kind === 'struct') {
      const cmin: Obj = new Map();
      const cmax: Obj = new Map();
      const cnull: Obj = new Map();
      renderStruct(f, leaves, pos, cmin, cmax, cnull, opts);
      if (cmin.size) min.set(f.name, cmin);
      if (cmax.size) max.set(f.name, cmax);
      nulls.set(f.name, cnull);
      continue;
    }
    const leaf = leaves[pos.next++];
    nulls.set(f.name, String(leaf.nulls));
    const b = leafBounds(f.type, leaf, opts);
    if (b.min !== undefined) min.set(f.name, b.min);
    if (b.max !== undefined) max.set(f.name, b.max);
  }
}

function leafBounds(t: DataType, f: LeafExtremes, opts: StatsOptions): { min?: string; max?: string } {
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
