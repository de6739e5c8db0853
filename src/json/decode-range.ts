import type * as arrow from 'apache-arrow';
import type { StructType } from '../schema/schema.js';
import { NdjsonDecoder } from './ndjson-decoder.js';

/** A range of an NDJSON input (it starts and ends at line boundaries) and how to decode it. */
export interface RangeRequest {
  /** The range's bytes in pieces (the input's chunks as read, the last cut after a newline). */
  pieces: Uint8Array[];
  /** Whether the range is the input's start (a byte-order mark is skipped only there). */
  atStart: boolean;
  name: string;
  invalidUtf8: 'error' | 'replace';
  chunkRows: number;
}

/** A range decoded on its own, rows and lines counted from 0; or refused (worded by the caller, who knows where it starts). */
export type DecodedRange =
  | { ok: true; batches: arrow.RecordBatch[]; rows: number; lines: number; breakRows: number[]; breakDeltas: number[] }
  | { ok: false };

/**
 * One range of a parallel decode (parallel-decoder.ts), wherever it runs: on a decoding thread
 * (decode-worker.ts) or on the thread that cuts the ranges, which takes a share of them too.
 */
export function decodeRange(schema: StructType, m: RangeRequest): DecodedRange {
  const d = new NdjsonDecoder({ schema, name: m.name, invalidUtf8: m.invalidUtf8, chunkRows: m.chunkRows, atStart: m.atStart });
  const batches: arrow.RecordBatch[] = [];
  try {
    for (const piece of m.pieces) for (const b of d.push(piece)) batches.push(b);
    for (const b of d.end()) batches.push(b);
  } catch {
    return { ok: false };
  }
  const { rows, deltas } = d.lineBreaks;
  return { ok: true, batches, rows: d.rows, lines: d.line, breakRows: [...rows], breakDeltas: [...deltas] };
}
