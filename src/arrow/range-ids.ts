import * as arrow from 'apache-arrow';
import { TributaryError } from '../errors.js';

/**
 * Approximate ranks of a column's values, Spark's `range_partition_id` (delta-spark's
 * RangePartitionId): every row gets one of `numRanges` ids so that a smaller value never gets a
 * larger id, equal values get equal ids, and each id holds about as many rows as the next. Spark
 * samples the data to find the range bounds; here all rows are sorted, so the ranges are exact
 * quantiles and the ids do not depend on a random sample. Nulls come first (Spark's ascending
 * order), so they take the lowest id; doubles order as in Spark (-0.0 equals 0.0, NaN above
 * everything); strings by their UTF-8 bytes.
 *
 * Liquid clustering feeds these ids to a space-filling curve: ids rather than raw values make any
 * column type a grid coordinate and give each column the same resolution whatever its spread.
 */
export function rangeIds(d: arrow.Data, present: (row: number) => boolean, numRanges: number): Uint32Array {
  const n = d.length;
  const cmp = comparator(d);
  const rows: number[] = [];
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (present(i)) rows.push(i);
    else nulls++;
  }
  rows.sort((a, b) => cmp(a, b) || a - b);
  const ids = new Uint32Array(n); // nulls: id 0
  let runStart = 0;
  for (let k = 0; k < rows.length; k++) {
    // Equal values share the id of the first of them: a value is never split across ranges.
    if (k > 0 && cmp(rows[k - 1], rows[k]) !== 0) runStart = k;
    ids[rows[k]] = Math.min(numRanges - 1, Math.floor(((nulls + runStart) * numRanges) / n));
  }
  return ids;
}

type Cmp = (a: number, b: number) => number;

/** Orders two rows of `d` by value (both present). */
function comparator(d: arrow.Data): Cmp {
  const t = d.type;
  if (arrow.DataType.isUtf8(t) || arrow.DataType.isBinary(t)) {
    const o = d.valueOffsets as Int32Array;
    const b = d.values as Uint8Array;
    return (x, y) => {
      const xs = o[x];
      const ys = o[y];
      const xl = o[x + 1] - xs;
      const yl = o[y + 1] - ys;
      const m = Math.min(xl, yl);
      for (let i = 0; i < m; i++) if (b[xs + i] !== b[ys + i]) return b[xs + i] - b[ys + i];
      return xl - yl;
    };
  }
  if (arrow.DataType.isDecimal(t)) {
    const w = d.values as Uint32Array;
    const k = t.bitWidth / 32;
    return (x, y) => {
      // Two's complement words, little-endian: the top word signed, the rest unsigned.
      const hx = w[x * k + k - 1] | 0;
      const hy = w[y * k + k - 1] | 0;
      if (hx !== hy) return hx < hy ? -1 : 1;
      for (let j = k - 2; j >= 0; j--) if (w[x * k + j] !== w[y * k + j]) return w[x * k + j] < w[y * k + j] ? -1 : 1;
      return 0;
    };
  }
  if ((arrow.DataType.isInt(t) && t.bitWidth === 64) || arrow.DataType.isTimestamp(t) || (arrow.DataType.isDate(t) && t.unit === arrow.DateUnit.MILLISECOND)) {
    const v = d.values as BigInt64Array;
    return (x, y) => (v[x] < v[y] ? -1 : v[x] > v[y] ? 1 : 0);
  }
  if (arrow.DataType.isFloat(t)) {
    const v = d.values as Float32Array | Float64Array;
    return (x, y) => {
      const a = v[x];
      const b = v[y];
      if (a < b) return -1;
      if (a > b) return 1;
      // Equal (0.0 and -0.0 too), or a NaN, which Spark orders above every number.
      return (a !== a ? 1 : 0) - (b !== b ? 1 : 0);
    };
  }
  if (arrow.DataType.isInt(t) || arrow.DataType.isDate(t)) {
    const v = d.values as Int32Array | Int16Array | Int8Array;
    return (x, y) => v[x] - v[y];
  }
  if (arrow.DataType.isBool(t)) {
    const v = d.values as Uint8Array;
    const bit = (i: number) => (v[(d.offset + i) >> 3] >> ((d.offset + i) & 7)) & 1;
    return (x, y) => bit(x) - bit(y);
  }
  throw new TributaryError('INTERNAL', `no ordering for Arrow type ${String(t)}`);
}
