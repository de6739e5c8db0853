import { getHeapStatistics } from 'node:v8';
import { leafPaths, type StructType } from '../schema/schema.js';

/**
 * How many rows one micro-batch may hold in this process. A batch lives in the heap as JavaScript
 * rows (plus its Arrow copy and the Parquet being encoded), so a batch size is refused up front
 * when its rows alone could not fit: otherwise it would be logged into the checkpoint's plan and
 * every later run would die the same way. Measured: a rate row {timestamp, value} of two BigInts
 * takes 96 bytes of heap; the estimate below gives that and grows with the columns.
 */
const ROW_BYTES = 32;
const VALUE_BYTES = 32;
/** The rows may take this share of the heap; the rest is for the Arrow copy, encoding and the process. */
const BATCH_HEAP_SHARE = 0.5;

export interface BatchBudget {
  /** Most rows one batch may hold. */
  maxRows: number;
  /** Most bytes a byte-limited batch may ask for. */
  maxBytes: number;
  /** Why, for messages. */
  reason: string;
}

export function estimatedRowBytes(schema: StructType): number {
  return ROW_BYTES + VALUE_BYTES * Math.max(1, leafPaths(schema).length);
}

/** `heapLimit` defaults to this process's (node --max-old-space-size). */
export function batchBudget(schema: StructType, heapLimit = getHeapStatistics().heap_size_limit): BatchBudget {
  const rowBytes = estimatedRowBytes(schema);
  const maxBytes = Math.floor(heapLimit * BATCH_HEAP_SHARE);
  return {
    maxRows: Math.max(1, Math.floor(maxBytes / rowBytes)),
    maxBytes,
    reason: `one batch's rows, about ${rowBytes} bytes each in memory, may take at most half of this process's ${Math.round(heapLimit / 2 ** 20)} MiB heap; node --max-old-space-size=<MiB> raises it`,
  };
}
