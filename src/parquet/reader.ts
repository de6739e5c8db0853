import * as arrow from 'apache-arrow';
import { pw } from './wasm.js';
import { setField } from '../arrow/own-fields.js';

/** Parquet bytes -> Arrow JS table (through parquet-wasm: the arrow-rs that writes them, arrow-rs.ts). */
export function readParquetToArrow(bytes: Uint8Array, columns?: string[]): arrow.Table {
  const wasmTable = pw.readParquet(bytes, columns ? { columns } : undefined);
  return arrow.tableFromIPC(wasmTable.intoIPCStream());
}

/**
 * A Parquet file's row groups one at a time, as Arrow (only those of `columns` it has, when given). Through parquet-wasm's ParquetFile over a
 * Blob, which copies into WebAssembly memory only the byte ranges of the row group it decodes:
 * readParquet would copy the whole file there (and WebAssembly memory never shrinks).
 */
export async function* readParquetRowGroups(bytes: Uint8Array, columns?: string[]): AsyncGenerator<arrow.Table> {
  const file = await pw.ParquetFile.fromFile(new Blob([bytes]));
  try {
    const meta = file.metadata();
    const n = meta.numRowGroups();
    meta.free();
    // Of the columns asked for, those the file has (arrow-rs refuses a name it does not find).
    let have = columns;
    if (columns) {
      const schema = file.schema();
      have = columns.filter((c) => {
        try {
          return schema.indexOf(c) >= 0;
        } catch {
          return false; // arrow-rs: no field of that name
        }
      });
      schema.free();
    }
    for (let i = 0; i < n; i++) {
      const t = await file.read({ rowGroups: [i], ...(have ? { columns: have } : {}) });
      yield arrow.tableFromIPC(t.intoIPCStream());
    }
  } finally {
    file.free();
  }
}

/**
 * Row `i` of Arrow data as plain JS, as arrowToPlain gives it for the value Arrow JS's get()
 * returns, except strings: decoded here from their bytes with Buffer (Arrow JS's decoder drops a
 * leading U+FEFF, so a partition value "\ufeffz" read back from a checkpoint was "z", and the
 * next checkpoint wrote "z"). Types a Delta log does not use go through get().
 */
export function plainAt(d: arrow.Data, i: number): unknown {
  if (d.nullCount > 0 && d.nullBitmap && d.nullBitmap.length > 0) {
    // Arrow JS slices value and offset buffers but not validity bitmaps.
    const j = d.offset + i;
    if ((d.nullBitmap[j >> 3] & (1 << (j & 7))) === 0) return null;
  }
  const t = d.type;
  if (arrow.DataType.isUtf8(t)) {
    const offs = d.valueOffsets as Int32Array;
    const v = d.values as Uint8Array;
    return Buffer.from(v.buffer, v.byteOffset + offs[i], offs[i + 1] - offs[i]).toString('utf8');
  }
  if (arrow.DataType.isInt(t) && t.bitWidth === 64) return arrowToPlain((d.values as BigInt64Array)[i]);
  if (arrow.DataType.isInt(t) && t.bitWidth <= 32) return (d.values as Int32Array)[i];
  if (arrow.DataType.isBool(t)) {
    const j = d.offset + i;
    return ((d.values as Uint8Array)[j >> 3] & (1 << (j & 7))) !== 0;
  }
  if (arrow.DataType.isStruct(t)) {
    const o: Record<string, unknown> = {};
    t.children.forEach((f, c) => {
      const p = plainAt(d.children[c], i);
      if (p !== null && p !== undefined) setField(o, f.name, p);
    });
    return o;
  }
  if (arrow.DataType.isMap(t)) {
    const offs = d.valueOffsets as Int32Array;
    const entries = d.children[0];
    const o: Record<string, unknown> = {};
    for (let k = offs[i]; k < offs[i + 1]; k++) setField(o, String(plainAt(entries.children[0], k)), plainAt(entries.children[1], k));
    return o;
  }
  if (arrow.DataType.isList(t)) {
    const offs = d.valueOffsets as Int32Array;
    const out: unknown[] = [];
    for (let k = offs[i]; k < offs[i + 1]; k++) out.push(plainAt(d.children[0], k));
    return out;
  }
  return arrowToPlain(arrow.makeVector(d).get(i));
}

/**
 * Arrow JS value -> plain JS: structs and maps become objects, lists arrays. Int64 values that fit
 * a double become numbers (log fields are sizes, times and versions), others stay BigInt.
 */
export function arrowToPlain(v: unknown): unknown {
  if (v === null || v === undefined) return v;
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (typeof v !== 'object') return v;
  if (v instanceof Uint8Array) return v;
  if (v instanceof arrow.Vector) return [...v].map(arrowToPlain);
  if (v instanceof arrow.MapRow) {
    const o: Record<string, unknown> = {};
    for (const [k, val] of v as unknown as Iterable<[unknown, unknown]>) setField(o, String(k), arrowToPlain(val));
    return o;
  }
  if (v instanceof arrow.StructRow) {
    const o: Record<string, unknown> = {};
    for (const [k, val] of Object.entries((v as arrow.StructRow).toJSON())) {
      const p = arrowToPlain(val);
      if (p !== null && p !== undefined) setField(o, k, p);
    }
    return o;
  }
  return v;
}
