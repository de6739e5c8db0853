import * as arrow from 'apache-arrow';

/**
 * Gathers rows of Arrow data by index (Arrow's "take"), for every type the writer produces:
 * fixed width (ints, floats, dates, timestamps, 128-bit decimals), booleans, strings and binary,
 * structs, lists and maps. Splitting a batch by partition is a take per partition; Arrow JS has
 * no take kernel, and going back through rows is what this replaces.
 *
 * Arrow JS slices value and offset buffers with the data (their index 0 is the slice's first row)
 * but not validity and boolean bitmaps, which are addressed from `data.offset`.
 */
export function takeData(d: arrow.Data, idx: Int32Array): arrow.Data {
  const n = idx.length;
  const type = d.type;
  const { nullBitmap, nullCount } = takeValidity(d, idx);
  if (arrow.DataType.isStruct(type)) {
    const children = d.children.map((c) => takeData(c, idx));
    return arrow.makeData({ type, length: n, nullCount, nullBitmap, children });
  }
  if (arrow.DataType.isList(type) || arrow.DataType.isMap(type)) {
    const o = d.valueOffsets as Int32Array;
    const offsets = new Int32Array(n + 1);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const r = idx[i];
      total += o[r + 1] - o[r];
      offsets[i + 1] = total;
    }
    // The child rows of each taken list, in order.
    const childIdx = new Int32Array(total);
    let p = 0;
    for (let i = 0; i < n; i++) {
      const r = idx[i];
      for (let k = o[r]; k < o[r + 1]; k++) childIdx[p++] = k;
    }
    const child = takeData(d.children[0], childIdx);
    return arrow.makeData({ type: type as arrow.List, length: n, nullCount, nullBitmap, valueOffsets: offsets, child } as never);
  }
  if (arrow.DataType.isUtf8(type) || arrow.DataType.isBinary(type)) {
    const o = d.valueOffsets as Int32Array;
    const src = d.values as Uint8Array;
    const offsets = new Int32Array(n + 1);
    let total = 0;
    for (let i = 0; i < n; i++) {
      total += o[idx[i] + 1] - o[idx[i]];
      offsets[i + 1] = total;
    }
    const bytes = new Uint8Array(total);
    for (let i = 0; i < n; i++) {
      const a = o[idx[i]];
      const len = o[idx[i] + 1] - a;
      // Short values by a loop: subarray+set costs more than the copy for ids and symbols.
      if (len < 16) for (let k = 0; k < len; k++) bytes[offsets[i] + k] = src[a + k];
      else bytes.set(src.subarray(a, a + len), offsets[i]);
    }
    return arrow.makeData({ type, length: n, nullCount, nullBitmap, valueOffsets: offsets, data: bytes } as never);
  }
  if (arrow.DataType.isBool(type)) {
    const src = d.values as Uint8Array;
    const out = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) {
      const j = d.offset + idx[i];
      if (src[j >> 3] & (1 << (j & 7))) out[i >> 3] |= 1 << (i & 7);
    }
    return arrow.makeData({ type, length: n, nullCount, nullBitmap, data: out } as never);
  }
  // Fixed width: 64-bit values and 128-bit decimals move as 32-bit words.
  const stride = arrow.DataType.isDecimal(type) ? type.bitWidth / 32 : isWide(type) ? 2 : 1;
  const values = d.values as ArrayBufferView & ArrayLike<number>;
  if (stride > 1) {
    const words = new Int32Array(values.buffer, values.byteOffset, (d.length + 0) * stride);
    const out = new Int32Array(n * stride);
    for (let i = 0; i < n; i++) for (let k = 0; k < stride; k++) out[i * stride + k] = words[idx[i] * stride + k];
    const data = stride === 2 && !arrow.DataType.isDecimal(type) ? new BigInt64Array(out.buffer) : new Uint32Array(out.buffer);
    return arrow.makeData({ type, length: n, nullCount, nullBitmap, data } as never);
  }
  const Ctor = values.constructor as new (k: number) => ArrayLike<number> & { [i: number]: number };
  const out = new Ctor(n);
  for (let i = 0; i < n; i++) out[i] = values[idx[i]];
  return arrow.makeData({ type, length: n, nullCount, nullBitmap, data: out } as never);
}

function isWide(t: arrow.DataType): boolean {
  return (arrow.DataType.isInt(t) && t.bitWidth === 64) || arrow.DataType.isTimestamp(t) || (arrow.DataType.isFloat(t) && t.precision === arrow.Precision.DOUBLE) || (arrow.DataType.isDate(t) && t.unit === arrow.DateUnit.MILLISECOND);
}

function takeValidity(d: arrow.Data, idx: Int32Array): { nullBitmap: Uint8Array | undefined; nullCount: number } {
  if (d.nullCount === 0 || !d.nullBitmap || d.nullBitmap.length === 0) return { nullBitmap: undefined, nullCount: 0 };
  const n = idx.length;
  const src = d.nullBitmap;
  const out = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const j = d.offset + idx[i];
    if (src[j >> 3] & (1 << (j & 7))) out[i >> 3] |= 1 << (i & 7);
    else nulls++;
  }
  return nulls ? { nullBitmap: out, nullCount: nulls } : { nullBitmap: undefined, nullCount: 0 };
}

/** The rows of a record batch at `idx`, as a batch with the same schema. */
export function takeBatch(b: arrow.RecordBatch, idx: Int32Array): arrow.RecordBatch {
  const data = takeData(b.data, idx) as arrow.Data<arrow.Struct>;
  return new arrow.RecordBatch(b.schema, data);
}
