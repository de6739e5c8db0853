import { parseDecimalText, toDateDays, toTimestampMicros } from '../arrow/coerce.js';
import { daysToDate, decimalToString, microsToStatsTimestamp } from '../arrow/values.js';
import { parseJsonExact } from '../json/exact-parse.js';
import { JsonNumber } from '../json/json-number.js';
import type { DataType, StructType } from '../schema/schema.js';
import { DEFAULT_STATS_OPTIONS, doubleText, float32Text, type StatsOptions } from './stats.js';
import { ownField } from '../arrow/own-fields.js';

/**
 * The stats of a file made by concatenating other files (OPTIMIZE), from theirs: numRecords and
 * nullCount add up, min is the least of the mins, max the greatest of the maxes. The bounds are
 * exact when the inputs' are, and stay valid bounds when an input's strings were truncated
 * (prefix truncation is monotone). Undefined when any input lacks what is needed; the caller
 * then computes the stats from the data.
 */
export function mergeStats(inputs: readonly (string | undefined)[], schema: StructType, opts: StatsOptions = DEFAULT_STATS_OPTIONS): string | undefined {
  const parsed: Parsed[] = [];
  // Only longs and decimals can hold numbers a double would round; otherwise plain JSON is exact.
  const exact = needsExactNumbers(schema);
  for (const s of inputs) {
    if (!s) return undefined;
    const p = (exact ? parseJsonExact(s) : JSON.parse(s)) as Parsed;
    if (typeof p?.numRecords !== 'number' || !p.nullCount) return undefined;
    parsed.push(p);
  }
  const numRecords = parsed.reduce((n, p) => n + p.numRecords, 0);
  const ctx = { remaining: opts.numIndexedCols < 0 ? Infinity : opts.numIndexedCols };
  const out = mergeStruct(schema, parsed.map((p) => ({ numRecords: p.numRecords, min: p.minValues ?? {}, max: p.maxValues ?? {}, nulls: p.nullCount })), ctx);
  if (!out) return undefined;
  return `{"numRecords":${numRecords},"minValues":${out.min},"maxValues":${out.max},"nullCount":${out.nulls}}`;
}

function needsExactNumbers(t: DataType): boolean {
  switch (t.kind) {
    case 'struct':
      return t.fields.some((f) => needsExactNumbers(f.type));
    case 'decimal':
      return true;
    case 'primitive':
      return t.name === 'long';
    default:
      return false; // arrays and maps have no min/max
  }
}

interface Parsed {
  numRecords: number;
  minValues?: Record<string, unknown>;
  maxValues?: Record<string, unknown>;
  nullCount: Record<string, unknown>;
}

/** One input file's stats at one struct level. */
interface Level {
  numRecords: number;
  min: Record<string, unknown>;
  max: Record<string, unknown>;
  nulls: Record<string, unknown>;
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !(v instanceof JsonNumber) ? (v as Record<string, unknown>) : {});

function mergeStruct(t: StructType, levels: Level[], ctx: { remaining: number }): { min: string; max: string; nulls: string } | undefined {
  const min: string[] = [];
  const max: string[] = [];
  const nulls: string[] = [];
  for (const f of t.fields) {
    if (ctx.remaining <= 0) break;
    const key = JSON.stringify(f.name);
    if (f.type.kind === 'struct') {
      const sub = mergeStruct(
        f.type,
        levels.map((l) => ({ numRecords: l.numRecords, min: obj(ownField(l.min, f.name)), max: obj(ownField(l.max, f.name)), nulls: obj(ownField(l.nulls, f.name)) })),
        ctx,
      );
      if (!sub) return undefined;
      if (sub.min !== '{}') min.push(`${key}:${sub.min}`);
      if (sub.max !== '{}') max.push(`${key}:${sub.max}`);
      nulls.push(`${key}:${sub.nulls}`);
      continue;
    }
    ctx.remaining--;
    const leaf = mergeLeaf(f.type, levels, f.name);
    if (!leaf) return undefined;
    nulls.push(`${key}:${leaf.nulls}`);
    if (leaf.min !== undefined) min.push(`${key}:${leaf.min}`);
    if (leaf.max !== undefined) max.push(`${key}:${leaf.max}`);
  }
  return { min: `{${min.join(',')}}`, max: `{${max.join(',')}}`, nulls: `{${nulls.join(',')}}` };
}

type Key = number | bigint | Buffer;

function mergeLeaf(t: DataType, levels: Level[], name: string): { nulls: number; min?: string; max?: string } | undefined {
  const cmp = comparator(t);
  let nulls = 0;
  let lo: Key | undefined;
  let hi: Key | undefined;
  let loLost = false;
  let hiLost = false;
  for (const l of levels) {
    const n = ownField(l.nulls, name);
    const count = typeof n === 'number' ? n : n instanceof JsonNumber ? Number(n.text) : undefined;
    if (count === undefined) return undefined;
    nulls += count;
    if (!cmp || count >= l.numRecords) continue; // no bounds for this type, or only nulls here
    const a = Object.hasOwn(l.min, name) ? cmp.key(l.min[name]) : undefined;
    const b = Object.hasOwn(l.max, name) ? cmp.key(l.max[name]) : undefined;
    if (a === undefined) loLost = true;
    else if (lo === undefined || cmp.compare(a, lo) < 0) lo = a;
    if (b === undefined) hiLost = true;
    else if (hi === undefined || cmp.compare(b, hi) > 0) hi = b;
  }
  return {
    nulls,
    ...(cmp && lo !== undefined && !loLost ? { min: cmp.render(lo) } : {}),
    ...(cmp && hi !== undefined && !hiLost ? { max: cmp.render(hi) } : {}),
  };
}

interface Comparator {
  key(v: unknown): Key | undefined;
  compare(a: Key, b: Key): number;
  render(k: Key): string;
}

const numberOf = (v: unknown) => (typeof v === 'number' ? v : v instanceof JsonNumber ? Number(v.text) : undefined);
const byValue = (a: Key, b: Key) => (a < b ? -1 : a > b ? 1 : 0);

function comparator(t: DataType): Comparator | undefined {
  if (t.kind === 'decimal') {
    return {
      key: (v) => {
        const text = typeof v === 'number' ? String(v) : v instanceof JsonNumber ? v.text : undefined;
        const d = text === undefined ? undefined : parseDecimalText(text);
        if (!d || d.scale > t.scale) return undefined;
        return d.unscaled * 10n ** BigInt(t.scale - d.scale);
      },
      compare: byValue,
      render: (k) => decimalToString(k as bigint, t.scale),
    };
  }
  if (t.kind !== 'primitive') return undefined;
  switch (t.name) {
    case 'byte':
    case 'short':
    case 'integer':
      return { key: numberOf, compare: byValue, render: (k) => String(k) };
    case 'float':
      return { key: numberOf, compare: byValue, render: (k) => float32Text(k as number) };
    case 'double':
      return { key: numberOf, compare: byValue, render: (k) => doubleText(k as number) };
    case 'long':
      return {
        key: (v) => (typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : v instanceof JsonNumber && /^-?\d+$/.test(v.text) ? BigInt(v.text) : undefined),
        compare: byValue,
        render: (k) => (k as bigint).toString(),
      };
    case 'date':
      return {
        key: (v) => {
          const d = typeof v === 'string' ? toDateDays(v) : undefined;
          return typeof d === 'number' ? d : undefined;
        },
        compare: byValue,
        render: (k) => JSON.stringify(daysToDate(k as number)),
      };
    case 'timestamp':
    case 'timestamp_ntz': {
      const ntz = t.name === 'timestamp_ntz';
      return {
        key: (v) => {
          const m = typeof v === 'string' ? toTimestampMicros(v, ntz) : undefined;
          return typeof m === 'bigint' ? m : undefined;
        },
        compare: byValue,
        render: (k) => JSON.stringify(microsToStatsTimestamp(k as bigint, !ntz)),
      };
    }
    case 'string':
      // UTF-8 byte order is code point order, Delta's string order.
      return {
        key: (v) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : undefined),
        compare: (a, b) => Buffer.compare(a as Buffer, b as Buffer),
        render: (k) => JSON.stringify((k as Buffer).toString('utf8')),
      };
    default:
      return undefined;
  }
}
