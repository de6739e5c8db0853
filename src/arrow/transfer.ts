/**
 * A record batch handed to another thread as its buffers, not as Arrow IPC: the decoding threads
 * (json/decode-worker.ts) send their batches so. Serialising to IPC copies every buffer into one
 * message on the sending thread, and reading it back makes views of that copy on the receiving
 * one; here the builders' own buffers are moved (transferred) and the receiver puts the same
 * Data tree back together around them, against the schema both sides already have. Measured on
 * a 245,514-row CoinGecko range: tableToIPC 13-20 ms and tableFromIPC 3-7 ms, against nothing
 * here but the walk.
 *
 * Only buffers of at least TRANSFER_MIN_BYTES are transferred; smaller ones are cloned by
 * postMessage (a small typed array may be a view into Node's shared Buffer pool, which a
 * transfer would take away from everyone else; a builder's large buffers are its own).
 */
import * as arrow from 'apache-arrow';
import { POOLED_MIN_BYTES } from './buffer-pool.js';
import './detach-early.js'; // before this thread's first transfer: see there

/** The same floor as the buffer pool's: a buffer moved to a thread is one worth having back. */
export const TRANSFER_MIN_BYTES = POOLED_MIN_BYTES;

type View = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;
const VIEWS: Record<string, new (b: ArrayBufferLike, byteOffset: number, length: number) => View> = {
  Int8Array,
  Uint8Array,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};

/** One typed array of a Data node: which of the message's ArrayBuffers, where in it, and its element type. */
interface BufferPart {
  buffer: number;
  byteOffset: number;
  length: number;
  view: string;
}

/** A Data node: Arrow's offset, length and null count, its four buffer slots (offsets, values, validity, type ids) and its children. */
interface DataPart {
  offset: number;
  length: number;
  nullCount: number;
  buffers: (BufferPart | null)[];
  children: DataPart[];
}

/** A record batch as plain parts: posted with `transfer` in postMessage's transfer list. */
export interface BatchParts {
  length: number;
  columns: DataPart[];
  buffers: ArrayBuffer[];
}

/** The batch's parts, and the buffers to transfer with them (the batch must not be used afterwards). */
export function batchToParts(batch: arrow.RecordBatch): { parts: BatchParts; transfer: ArrayBuffer[] } {
  const buffers: ArrayBuffer[] = [];
  const index = new Map<ArrayBufferLike, number>();
  const bufferPart = (a: View | undefined): BufferPart | null => {
    if (!a) return null;
    let i = index.get(a.buffer);
    if (i === undefined) {
      i = buffers.push(a.buffer as ArrayBuffer) - 1;
      index.set(a.buffer, i);
    }
    // A Node Buffer is a Uint8Array (and is put back as one).
    const view = a instanceof Uint8Array ? 'Uint8Array' : a.constructor.name;
    if (!VIEWS[view]) throw new Error(`a ${view} cannot be sent as a part`);
    return { buffer: i, byteOffset: a.byteOffset, length: a.length, view };
  };
  const dataPart = (d: arrow.Data): DataPart => {
    if (d.dictionary || d.variadicBuffers.length) throw new Error(`a column of ${d.type} cannot be sent as parts`);
    const slots = [d.valueOffsets, d.values, d.nullBitmap, d.typeIds] as (View | undefined)[];
    return { offset: d.offset, length: d.length, nullCount: d.nullCount, buffers: slots.map(bufferPart), children: d.children.map(dataPart) };
  };
  const columns = batch.data.children.map(dataPart);
  return { parts: { length: batch.numRows, columns, buffers }, transfer: buffers.filter((b) => b.byteLength >= TRANSFER_MIN_BYTES) };
}

/** The record batch of `parts`, whose columns are `schema`'s fields in order: views of the parts' buffers, nothing copied. */
export function batchFromParts(schema: arrow.Schema, parts: BatchParts): arrow.RecordBatch {
  const view = (p: BufferPart | null): View | undefined => (p ? new VIEWS[p.view](parts.buffers[p.buffer], p.byteOffset, p.length) : undefined);
  const data = (type: arrow.DataType, p: DataPart): arrow.Data => {
    const kids = type.children ?? [];
    if (kids.length !== p.children.length) throw new Error(`parts of ${type} have ${p.children.length} children, the type ${kids.length}`);
    return new arrow.Data(type, p.offset, p.length, p.nullCount, p.buffers.map(view) as never, p.children.map((c, i) => data(kids[i].type, c)));
  };
  if (schema.fields.length !== parts.columns.length) throw new Error(`parts have ${parts.columns.length} columns, the schema ${schema.fields.length}`);
  const children = schema.fields.map((f, i) => data(f.type, parts.columns[i]));
  return new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct(schema.fields), length: parts.length, nullCount: 0, children }));
}
