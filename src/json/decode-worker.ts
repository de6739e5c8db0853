/**
 * A thread decoding ranges of an NDJSON input (parallel-decoder.ts). Each range arrives as the
 * input's chunks (transferred, not copied) that start and end at line boundaries; it is decoded on its own (decode-range.ts, counting its
 * rows and lines from 0) and leaves as its batches' buffers (transferred, not copied: see arrow/transfer.ts) with the
 * counts the main thread needs to number the next range. A range that fails is not worded here:
 * its pieces go back, and the main thread decodes it again knowing where it starts, so the message
 * names the whole input's row and line exactly as a single decoder would.
 */
import { parentPort } from 'node:worker_threads';
import { type BatchParts, batchToParts } from '../arrow/transfer.js';
import { parseSchemaString, type StructType } from '../schema/schema.js';
import { decodeRange, type RangeRequest } from './decode-range.js';

/** One range to decode, with what it is decoded into (the schema as Delta's schemaString). */
export interface ToDecoder extends RangeRequest {
  id: number;
  schemaString: string;
}

export type FromDecoder =
  | { id: number; ok: true; batches: BatchParts[]; rows: number; lines: number; breakRows: number[]; breakDeltas: number[] }
  | { id: number; ok: false; pieces: Uint8Array[] };

const port = parentPort!;
// The schema of the last range: the ranges of one input share it, parsed once.
let schema: { text: string; parsed: StructType } | undefined;

port.on('message', (m: ToDecoder) => {
  if (schema?.text !== m.schemaString) schema = { text: m.schemaString, parsed: parseSchemaString(m.schemaString) };
  const r = decodeRange(schema.parsed, m);
  if (!r.ok) {
    const back: FromDecoder = { id: m.id, ok: false, pieces: m.pieces };
    return port.postMessage(back, m.pieces.map((p) => p.buffer as ArrayBuffer));
  }
  // The batches' own buffers, moved (transfer.ts); a range of blank lines has none.
  const sent = r.batches.map(batchToParts);
  const out: FromDecoder = { id: m.id, ok: true, batches: sent.map((s) => s.parts), rows: r.rows, lines: r.lines, breakRows: r.breakRows, breakDeltas: r.breakDeltas };
  port.postMessage(out, sent.flatMap((s) => s.transfer));
});
