import * as arrow from 'apache-arrow';
import { decimalToString, daysToDate } from './values.js';
import { setField } from './own-fields.js';
import type { Row } from './record-batch.js';

/**
 * Arrow data -> rows whose values the coercion layer takes back without loss: timestamps as
 * BigInt microseconds, decimals as exact text, dates as "YYYY-MM-DD". Used when Arrow input has
 * to be re-partitioned or re-validated.
 */
export function arrowToRows(t: arrow.Table | arrow.RecordBatch): Row[] {
  const batches = t instanceof arrow.Table ? t.batches : [t];
  const rows: Row[] = [];
  for (const b of batches) {
    const names = b.schema.fields.map((f) => f.name);
    const datas = names.map((_, c) => b.data.children[c]);
    for (let i = 0; i < b.numRows; i++) {
      const r: Row = {};
      for (let c = 0; c < names.length; c++) setField(r, names[c], cell(datas[c], i));
      rows.push(r);
    }
  }
  return rows;
}

/** Whether slot `i` of `d` holds a value (Arrow JS does not slice validity bitmaps: `d.offset` applies). */
export function valid(d: arrow.Data, i: number): boolean {
  if (!d.nullBitmap || d.nullCount === 0 || d.nullBitmap.length === 0) return true;
  const j = d.offset + i;
  return (d.nullBitmap[j >> 3] & (1 << (j & 7))) !== 0;
}

function cell(d: arrow.Data, i: number): unknown {
  if (!valid(d, i)) return null;
  const t = d.type;
  // Arrow JS slices value and offset buffers but not validity or boolean bitmaps.
  const j = i;
  if (arrow.DataType.isTimestamp(t)) {
    const raw = BigInt((d.values as BigInt64Array)[j]);
    switch (t.unit) {
      case arrow.TimeUnit.SECOND:
        return raw * 1_000_000n;
      case arrow.TimeUnit.MILLISECOND:
        return raw * 1000n;
      case arrow.TimeUnit.NANOSECOND:
        return raw / 1000n;
      default:
        return raw;
    }
  }
  if (arrow.DataType.isDate(t)) {
    const days = t.unit === arrow.DateUnit.DAY ? (d.values as Int32Array)[j] : Math.floor(Number((d.values as BigInt64Array)[j]) / 86_400_000);
    return daysToDate(days);
  }
  if (arrow.DataType.isDecimal(t)) {
    const w = d.values as Uint32Array;
    const stride = t.bitWidth / 32;
    let x = 0n;
    for (let k = stride - 1; k >= 0; k--) x = (x << 32n) | BigInt(w[j * stride + k]);
    return decimalToString(BigInt.asIntN(t.bitWidth, x), t.scale);
  }
  if (arrow.DataType.isStruct(t)) {
    const o: Row = {};
    t.children.forEach((f, c) => setField(o, f.name, cell(d.children[c], i)));
    return o;
  }
  if (arrow.DataType.isList(t)) {
    const offs = d.valueOffsets as Int32Array;
    const out: unknown[] = [];
    for (let k = offs[j]; k < offs[j + 1]; k++) out.push(cell(d.children[0], k));
    return out;
  }
  if (arrow.DataType.isMap(t)) {
    const offs = d.valueOffsets as Int32Array;
    const entries = d.children[0];
    const out: [unknown, unknown][] = [];
    for (let k = offs[j]; k < offs[j + 1]; k++) out.push([cell(entries.children[0], k), cell(entries.children[1], k)]);
    return out;
  }
  if (arrow.DataType.isBinary(t)) {
    const offs = d.valueOffsets as Int32Array;
    return (d.values as Uint8Array).slice(offs[j], offs[j + 1]);
  }
  if (arrow.DataType.isUtf8(t)) {
    const offs = d.valueOffsets as Int32Array;
    return Buffer.from((d.values as Uint8Array).buffer, (d.values as Uint8Array).byteOffset + offs[j], offs[j + 1] - offs[j]).toString('utf8');
  }
  if (arrow.DataType.isBool(t)) {
    const k = d.offset + i;
    return ((d.values as Uint8Array)[k >> 3] & (1 << (k & 7))) !== 0;
  }
  if (arrow.DataType.isInt(t) || arrow.DataType.isFloat(t)) {
    const v = (d.values as ArrayLike<number | bigint>)[j];
    return v;
  }
  // Anything else (dictionary, large types...): fall back to Arrow JS's own accessor.
  return arrow.makeVector(d).get(i);
}
