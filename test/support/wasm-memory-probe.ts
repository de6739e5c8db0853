import * as arrow from 'apache-arrow';
import { expect } from 'vitest';
import { readParquetToArrow } from '../../src/parquet/reader.js';

/**
 * The WebAssembly-memory probe of the Parquet writers (test/parquet/wasm-thread.test.ts,
 * test/parquet/wasm-stream-file.test.ts): file after file of the rate source's shape, written in
 * chunks of CHUNK rows. WebAssembly memory never shrinks, so a writer that leaves chunks live
 * shows as memory that grows from one file to the next; its size is the allocator's, not the
 * clock's: a count.
 */
export const CHUNK = 65_536;
/** Chunks per file: enough that a file's chunks left live would need more memory than one chunk. */
export const FILE_CHUNKS = 12;
const ROWS = FILE_CHUNKS * CHUNK;

/** A chunk of the rate source's shape (timestamp, value), its rows numbered from `first`, as Arrow IPC. */
export function rateChunk(first: number): Uint8Array {
  const ts = new BigInt64Array(CHUNK);
  const value = new BigInt64Array(CHUNK);
  for (let i = 0; i < CHUNK; i++) {
    const n = first + i;
    ts[i] = BigInt(1_700_000_000_000_000 + n * 1000);
    value[i] = BigInt(n);
  }
  return arrow.tableToIPC(new arrow.Table({ timestamp: arrow.makeVector(ts), value: arrow.makeVector(value) }), 'stream');
}

/**
 * Writes five files of FILE_CHUNKS chunks with `writeFile(chunks, firstRow)` and measures
 * `memoryBytes` after the second (the first brings memory to what one file needs; on the encoder
 * thread the allocator's free space settles with the second, 14 then 20 MB, and stays there for
 * good) and after the last. A chunk left live would add a chunk's megabyte or more per chunk,
 * FILE_CHUNKS per file. Checks that the last file holds its rows, in order, and the first as many.
 */
export async function probeFileAfterFile<F>(
  writeFile: (chunks: number, first: number) => Promise<F>,
  bytesOf: (file: F) => Uint8Array,
  memoryBytes: () => number | Promise<number>,
): Promise<{ afterFirst: number; afterLast: number; last: F }> {
  const first = await writeFile(FILE_CHUNKS, 0);
  let last = await writeFile(FILE_CHUNKS, ROWS);
  const afterFirst = await memoryBytes();
  for (let f = 2; f <= 4; f++) last = await writeFile(FILE_CHUNKS, f * ROWS);
  const afterLast = await memoryBytes();
  const back = readParquetToArrow(bytesOf(last));
  expect(back.numRows).toBe(ROWS);
  expect(Number(back.getChild('value')!.get(0))).toBe(4 * ROWS);
  expect(Number(back.getChild('value')!.get(back.numRows - 1))).toBe(5 * ROWS - 1);
  expect(readParquetToArrow(bytesOf(first)).numRows).toBe(ROWS);
  return { afterFirst, afterLast, last };
}
