/**
 * A record batch as the pieces of its Arrow IPC stream message, for the Parquet encoder thread,
 * which joins them there (parquet/ipc-join.ts): the message's header (continuation marker,
 * length, RecordBatch flatbuffer, padding) and the body's buffers, each a view of the batch's
 * own buffer. apache-arrow's tableToIPC builds the same message by copying every buffer into one
 * new allocation on this thread (1.6-3.3 ms per 64K-row CoinGecko chunk, most of it touching
 * 3.4 MB of fresh pages); handed over, the batch's buffers are moved to the thread instead
 * (transferred, no copy) and joined there into one buffer it reuses.
 *
 * The header is apache-arrow's own (VectorAssembler and Message, what its RecordBatchWriter
 * uses), so the joined message is byte for byte what tableToIPC writes.
 */
import * as arrow from 'apache-arrow';
import { Message, RecordBatch as RecordBatchHeader } from 'apache-arrow/ipc/metadata/message';
import { VectorAssembler } from 'apache-arrow/visitor/vectorassembler';
import { TRANSFER_MIN_BYTES } from './transfer.js';

/** An IPC stream of one batch, in pieces: `head` (schema message and the batch's header), then `body`, each view padded to 8 bytes, then the end-of-stream marker. */
export interface IpcPieces {
  head: Uint8Array;
  body: Uint8Array[];
}

/**
 * Column data whose holder gives its buffers away once the batch is written: nothing reads them
 * afterwards, so the writer may move them to another thread. Marked where that is known (the CLI's
 * append hands each decoded batch to the table and keeps nothing), not assumed: a library caller's
 * batch stays the caller's. A WeakSet rather than a field: apache-arrow's Data has no room for one,
 * and an entry goes with its Data.
 */
const handedOver = new WeakSet<arrow.Data>();

/** Marks a batch's columns as handed over (see handedOver). */
export function handOver(batch: arrow.RecordBatch): arrow.RecordBatch {
  for (const d of batch.data.children) handedOver.add(d);
  return batch;
}

/**
 * Whether every column of the batch was handed over as it is: the same Data objects (a slice or a
 * projection that made new ones, or a column computed since, is not), so its buffers hold this
 * batch's rows and nobody else's.
 */
export function isHandedOver(batch: arrow.RecordBatch): boolean {
  for (const d of batch.data.children) if (!handedOver.has(d)) return false;
  return batch.data.children.length > 0;
}

/** The stream's schema message, as RecordBatchStreamWriter writes it. */
export function schemaMessage(schema: arrow.Schema): Uint8Array {
  return framed(Message.encode(Message.from(schema)));
}

/**
 * The batch's message in pieces, and the buffers to transfer with them: a handed-over batch's
 * buffers of TRANSFER_MIN_BYTES or more (smaller ones may be views into Node's shared pool, and
 * are cloned). After the transfer those buffers are gone from this thread.
 */
export function batchPieces(batch: arrow.RecordBatch, schemaMsg: Uint8Array): { pieces: IpcPieces; transfer: ArrayBuffer[] } {
  const a = VectorAssembler.assemble(batch);
  const header = new RecordBatchHeader(batch.numRows, a.nodes, a.bufferRegions, null, a.variadicBufferCounts);
  const msg = framed(Message.encode(Message.from(header, a.byteLength)));
  const head = new Uint8Array(schemaMsg.length + msg.length);
  head.set(schemaMsg, 0);
  head.set(msg, schemaMsg.length);
  const body: Uint8Array[] = [];
  const transfer = new Set<ArrayBuffer>();
  for (const v of a.buffers) {
    if (v.byteLength === 0) continue;
    body.push(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    if (v.buffer.byteLength >= TRANSFER_MIN_BYTES) transfer.add(v.buffer as ArrayBuffer);
  }
  return { pieces: { head, body }, transfer: [...transfer] };
}

/** A message's flatbuffer behind the continuation marker and its length, padded to 8 bytes (RecordBatchWriter's _writeMessage). */
function framed(fb: Uint8Array): Uint8Array {
  const size = (fb.length + 8 + 7) & ~7;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setInt32(0, -1, true);
  v.setInt32(4, size - 8, true);
  out.set(fb, 8);
  return out;
}
