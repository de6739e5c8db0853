import { pw } from './wasm.js';
import { writeParquetFile } from './arrow-rs.js';
import type { Compression } from './handler.js';

/**
 * Concatenates small Parquet files with identical Arrow schemas into one Parquet file without
 * decoding them in JavaScript: each file is read to an Arrow IPC stream in WASM, the streams'
 * record-batch messages are spliced behind one schema message, and the result is written back in
 * WASM. OPTIMIZE of thousands of tiny files is dominated by per-file decoding otherwise.
 * Returns undefined when the files' schemas differ (the caller then takes the general path).
 */
export async function concatParquetFiles(
  files: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  opts: { compression: Compression; rowGroupRows: number; keyValueMetadata: Record<string, string> },
): Promise<Uint8Array | undefined> {
  let schemaMsg: Uint8Array | undefined;
  const batches: Uint8Array[] = [];
  // Files are decoded as they arrive, so reads still in flight overlap with decoding.
  for await (const f of files) {
    const ipc = pw.readParquet(f).intoIPCStream();
    const msgs = splitMessages(ipc);
    if (!msgs.length) return undefined;
    const [schema, ...rest] = msgs;
    if (!schemaMsg) schemaMsg = schema;
    else if (!sameBytes(schemaMsg, schema)) return undefined;
    batches.push(...rest);
  }
  if (!schemaMsg) return undefined;
  const total = schemaMsg.length + batches.reduce((n, b) => n + b.length, 0) + 8;
  const stream = new Uint8Array(total);
  let pos = 0;
  stream.set(schemaMsg, pos);
  pos += schemaMsg.length;
  for (const b of batches) {
    stream.set(b, pos);
    pos += b.length;
  }
  new DataView(stream.buffer).setUint32(pos, 0xffffffff, true); // end of stream: continuation + 0
  return writeParquetFile({ ...opts, plainColumns: [] }, [stream]);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Splits an IPC stream into whole messages (continuation marker, metadata length, flatbuffer
 * metadata, body), dropping the end-of-stream marker. The body length is read from the Message
 * flatbuffer (field 3, `bodyLength`).
 */
function splitMessages(ipc: Uint8Array): Uint8Array[] {
  const dv = new DataView(ipc.buffer, ipc.byteOffset, ipc.byteLength);
  const out: Uint8Array[] = [];
  let pos = 0;
  while (pos + 8 <= ipc.length) {
    let metaLen = dv.getInt32(pos, true);
    let head = 4;
    if (metaLen === -1) {
      metaLen = dv.getInt32(pos + 4, true);
      head = 8;
    }
    if (metaLen === 0) break; // end of stream
    const meta = pos + head;
    const root = meta + dv.getUint32(meta, true);
    const vtable = root - dv.getInt32(root, true);
    const vtSize = dv.getUint16(vtable, true);
    const fieldOff = vtSize > 10 ? dv.getUint16(vtable + 10, true) : 0;
    const bodyLen = fieldOff ? Number(dv.getBigInt64(root + fieldOff, true)) : 0;
    const end = meta + metaLen + bodyLen;
    out.push(ipc.subarray(pos, end));
    pos = end;
  }
  return out;
}
