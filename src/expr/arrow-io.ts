import type * as arrow from 'apache-arrow';
import { type ColumnBuilder, makeColumnBuilder } from '../arrow/builders.js';
import { decimalToString } from '../arrow/values.js';
import type { DataType } from '../schema/schema.js';
import { type Big, norm, toBigInt } from './numeric.js';

/**
 * Values of one row as the evaluator handles them, read from and written to Arrow columns:
 * booleans, numbers (8-32-bit integers, dates as days, floats, doubles), Big (64-bit integers,
 * timestamps in microseconds, decimals as unscaled integers), strings, bytes, and NULL. Nothing
 * is allocated per value except strings and the rare BigInt beyond 2^53.
 */
export type Value = null | boolean | number | bigint | string | Uint8Array | StructValue;

/** A non-null struct, array or map: only its nullness is ever looked at. */
export const STRUCT = Object.freeze({ struct: true });
export type StructValue = typeof STRUCT;

export type RowFn = (row: number) => Value;

/** Whether row `i` of `d` is valid (not null). */
export function validity(d: arrow.Data): ((i: number) => boolean) | undefined {
  const bm = d.nullBitmap;
  if (!bm || bm.length === 0 || d.nullCount === 0) return undefined;
  const off = d.offset;
  return (i) => ((bm[(off + i) >> 3] >> ((off + i) & 7)) & 1) === 1;
}

// ignoreBOM: a leading U+FEFF is part of a value (the default decoder drops it: a string "\ufeffz" had max "z").
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** Reads one Arrow column of Delta type `t` (values only; nullness is checked by the caller). */
function valueReader(d: arrow.Data, t: DataType): (i: number) => Value {
  if (t.kind === 'struct' || t.kind === 'array' || t.kind === 'map' || t.kind === 'variant') return () => STRUCT;
  if (t.kind === 'decimal') {
    const w = d.values as Uint32Array;
    return (i) => {
      const b = i * 4;
      const lo = w[b];
      const mid = w[b + 1];
      const hi2 = w[b + 2];
      const hi3 = w[b + 3];
      // Small values: the top 96 bits are all sign, and the value is below 2^53.
      if (hi2 === 0 && hi3 === 0 && mid < 0x200000) return mid * 4294967296 + lo;
      if (hi2 === 0xffffffff && hi3 === 0xffffffff && mid > 0xffe00000) return (mid - 4294967296) * 4294967296 + lo;
      let x = 0n;
      for (let k = 3; k >= 0; k--) x = (x << 32n) | BigInt(w[b + k]);
      return norm(BigInt.asIntN(128, x));
    };
  }
  switch (t.name) {
    case 'boolean': {
      const bits = d.values as Uint8Array;
      const off = d.offset;
      return (i) => ((bits[(off + i) >> 3] >> ((off + i) & 7)) & 1) === 1;
    }
    case 'byte':
    case 'short':
    case 'integer':
    case 'date':
    case 'float':
    case 'double': {
      const v = d.values as Int32Array;
      return (i) => v[i];
    }
    case 'long':
    case 'timestamp':
    case 'timestamp_ntz': {
      const big = d.values as BigInt64Array;
      const w = new Int32Array(big.buffer, big.byteOffset, big.length * 2);
      return (i) => {
        const hi = w[2 * i + 1];
        if (hi > -0x200000 && hi < 0x1fffff) return hi * 4294967296 + (w[2 * i] >>> 0);
        return norm(big[i]);
      };
    }
    case 'string': {
      const offs = d.valueOffsets as Int32Array;
      const bytes = d.values as Uint8Array;
      return (i) => {
        const a = offs[i];
        const b = offs[i + 1];
        if (b - a <= 24) {
          // Short ASCII text (ids, codes, currencies) without TextDecoder's per-call cost.
          let s = '';
          for (let k = a; k < b; k++) {
            const c = bytes[k];
            if (c >= 0x80) return decoder.decode(bytes.subarray(a, b));
            s += String.fromCharCode(c);
          }
          return s;
        }
        return decoder.decode(bytes.subarray(a, b));
      };
    }
    case 'binary': {
      const offs = d.valueOffsets as Int32Array;
      const bytes = d.values as Uint8Array;
      return (i) => bytes.subarray(offs[i], offs[i + 1]);
    }
  }
}

/**
 * A reader for a column at `path` (indices into nested structs) of a batch: NULL when the value
 * or any struct around it is null, as Spark's GetStructField gives.
 */
export function columnReader(batch: arrow.RecordBatch, path: readonly number[], type: DataType): RowFn {
  let d = batch.data.children[path[0]];
  const checks: ((i: number) => boolean)[] = [];
  for (let k = 0; ; k++) {
    const v = validity(d);
    if (v) checks.push(v);
    if (k === path.length - 1) break;
    d = d.children[path[k + 1]];
  }
  const read = valueReader(d, type);
  if (checks.length === 0) return read;
  if (checks.length === 1) {
    const valid = checks[0];
    return (i) => (valid(i) ? read(i) : null);
  }
  return (i) => {
    for (const c of checks) if (!c(i)) return null;
    return read(i);
  };
}

/** Builds an Arrow column of Delta type `t` from evaluated values (a generated column). */
export class ValueWriter {
  private readonly b: ColumnBuilder;
  constructor(
    private readonly t: DataType,
    path: string,
  ) {
    this.b = makeColumnBuilder(t, true).setPath(path);
  }

  reserve(n: number): void {
    this.b.reserve(n);
  }

  append(v: Value, row: number): void {
    if (v === null) return this.b.appendNull();
    const t = this.t;
    const b = this.b as ColumnBuilder & { appendRaw(x: number): void; appendInt(x: number): void; appendBool(x: boolean): void; appendUnscaled(x: number): void };
    if (t.kind === 'decimal') {
      if (typeof v === 'number') b.appendUnscaled(v);
      else b.append(decimalToString(toBigInt(v as Big), t.scale), row);
      return;
    }
    if (t.kind !== 'primitive') throw new Error(`no writer for ${t.kind}`);
    switch (t.name) {
      case 'boolean':
        return b.appendBool(v as boolean);
      case 'byte':
      case 'short':
      case 'integer':
      case 'date':
      case 'float':
      case 'double':
        return b.appendRaw(v as number);
      case 'long':
      case 'timestamp':
      case 'timestamp_ntz':
        if (typeof v === 'number') return b.appendInt(v);
        return b.append(v, row);
      default:
        return b.append(v, row);
    }
  }

  finish(): arrow.Data {
    return this.b.finish();
  }
}
