import * as arrow from 'apache-arrow';

/**
 * Concatenates Arrow data of one type into a single chunk, column by column, without going
 * through rows (OPTIMIZE merges thousands of small files this way). Handles the types our
 * builders make: fixed width, booleans, strings/binary, decimals, lists, maps and structs.
 */
export function concatData(parts: readonly arrow.Data[], type: arrow.DataType = parts[0].type): arrow.Data {
  if (parts.length === 1) return parts[0];
  const length = parts.reduce((n, d) => n + d.length, 0);
  const nullCount = parts.reduce((n, d) => n + d.nullCount, 0);
  const nullBitmap = nullCount > 0 ? concatBits(parts.map((d) => ({ bits: d.nullBitmap, offset: d.offset, length: d.length, allSet: d.nullCount === 0 || !d.nullBitmap || d.nullBitmap.length === 0 }))) : undefined;
  if (arrow.DataType.isStruct(type)) {
    const children = type.children.map((f, i) => concatData(parts.map((d) => d.children[i]), f.type));
    return arrow.makeData({ type, length, nullCount, nullBitmap, children });
  }
  if (arrow.DataType.isList(type) || arrow.DataType.isMap(type)) {
    const offsets = new Int32Array(length + 1);
    const childParts: arrow.Data[] = [];
    let pos = 0;
    let base = 0;
    for (const d of parts) {
      const o = d.valueOffsets as Int32Array; // already sliced to this chunk
      const first = o[0];
      const last = o[d.length];
      for (let i = 0; i < d.length; i++) offsets[pos + i] = base + (o[i] - first);
      pos += d.length;
      childParts.push(d.children[0].slice(first, last - first));
      base += last - first;
    }
    offsets[length] = base;
    const child = concatData(childParts, type.children[0].type);
    return arrow.makeData({ type: type as arrow.List, length, nullCount, nullBitmap, valueOffsets: offsets, child } as never);
  }
  if (arrow.DataType.isUtf8(type) || arrow.DataType.isBinary(type)) {
    const offsets = new Int32Array(length + 1);
    let total = 0;
    for (const d of parts) total += (d.valueOffsets as Int32Array)[d.length] - (d.valueOffsets as Int32Array)[0];
    const bytes = new Uint8Array(total);
    let pos = 0;
    let base = 0;
    for (const d of parts) {
      const o = d.valueOffsets as Int32Array;
      const first = o[0];
      const last = o[d.length];
      for (let i = 0; i < d.length; i++) offsets[pos + i] = base + (o[i] - first);
      bytes.set((d.values as Uint8Array).subarray(first, last), base);
      pos += d.length;
      base += last - first;
    }
    offsets[length] = base;
    return arrow.makeData({ type, length, nullCount, nullBitmap, valueOffsets: offsets, data: bytes } as never);
  }
  if (arrow.DataType.isBool(type)) {
    const bits = concatBits(parts.map((d) => ({ bits: d.values as Uint8Array, offset: d.offset, length: d.length, allSet: false })));
    return arrow.makeData({ type, length, nullCount, nullBitmap, data: bits } as never);
  }
  // Fixed width (ints, floats, dates, timestamps, decimals): value buffers are already sliced.
  const stride = arrow.DataType.isDecimal(type) ? type.bitWidth / 32 : 1;
  const first = parts[0].values as ArrayLike<number> & { constructor: new (n: number) => ArrayLike<number> & { set(a: ArrayLike<number>, o: number): void } };
  const out = new first.constructor(length * stride);
  let pos = 0;
  for (const d of parts) {
    const v = d.values as unknown as { subarray(a: number, b: number): ArrayLike<number> };
    out.set(v.subarray(0, d.length * stride), pos);
    pos += d.length * stride;
  }
  return arrow.makeData({ type, length, nullCount, nullBitmap, data: out } as never);
}

function concatBits(parts: { bits: Uint8Array | undefined; offset: number; length: number; allSet: boolean }[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array((total + 7) >> 3);
  let pos = 0;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) {
      const j = p.offset + i;
      if (p.allSet || (p.bits && p.bits[j >> 3] & (1 << (j & 7)))) out[(pos + i) >> 3] |= 1 << ((pos + i) & 7);
    }
    pos += p.length;
  }
  return out;
}

export function concatBatches(batches: readonly arrow.RecordBatch[], schema: arrow.Schema): arrow.RecordBatch {
  if (batches.length === 1) return batches[0];
  const data = concatData(batches.map((b) => b.data), new arrow.Struct(schema.fields));
  return new arrow.RecordBatch(schema, data as arrow.Data<arrow.Struct>);
}
