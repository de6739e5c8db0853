import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { readParquetToArrow } from '../../src/parquet/reader.js';
import { sharedThread } from '../../src/parquet/parquet-wasm.js';
import { PartQueue } from '../../src/parquet/part-queue.js';

const CHUNK = 65_536;

/** One file of `chunks` chunks written on the encoder thread, its parts taken as they come. */
async function writeFile(chunks: number, first: number): Promise<{ bytes: Uint8Array; parts: number }> {
  const thread = sharedThread()!;
  const queue = new PartQueue();
  const file = thread.open({ compression: 'snappy', rowGroupRows: 4 * CHUNK, keyValueMetadata: {}, plainColumns: ['timestamp', 'value'] }, 2, queue);
  const parts: Uint8Array[] = [];
  const taking = (async () => {
    for await (const p of queue) parts.push(p);
  })();
  for (let c = 0; c < chunks; c++) {
    const ts = new BigInt64Array(CHUNK);
    const value = new BigInt64Array(CHUNK);
    for (let i = 0; i < CHUNK; i++) {
      const n = first + c * CHUNK + i;
      ts[i] = BigInt(1_700_000_000_000_000 + n * 1000);
      value[i] = BigInt(n);
    }
    await file.write(arrow.tableToIPC(new arrow.Table({ timestamp: arrow.makeVector(ts), value: arrow.makeVector(value) }), 'stream'));
  }
  // Streamed: finish hands back no bytes, the parts are the file.
  expect((await file.finish()).length).toBe(0);
  await taking;
  expect(file.rows).toBe(chunks * CHUNK);
  return { bytes: Buffer.concat(parts), parts: parts.length };
}

describe('the encoder thread', () => {
  it('hands a streamed file out in parts, and writes file after file without its WebAssembly memory growing (each chunk is freed once handed on)', async () => {
    // WebAssembly memory never shrinks: chunks left for a finalizer (rare on a thread whose
    // JavaScript heap stays small) kept a file's every chunk live, about 300 MiB of a 50M-line
    // append's peak. Its size is the allocator's, not the clock's: a count.
    const thread = sharedThread()!;
    const first = await writeFile(12, 0);
    const after1 = await thread.wasmMemoryBytes();
    let last = first;
    for (let f = 1; f <= 3; f++) last = await writeFile(12, f * 12 * CHUNK);
    expect(await thread.wasmMemoryBytes()).toBe(after1);
    // A part per row group (three of four chunks) and the footer: never one joined buffer.
    expect(last.parts).toBeGreaterThanOrEqual(3);
    const back = readParquetToArrow(last.bytes);
    expect(back.numRows).toBe(12 * CHUNK);
    expect(Number(back.getChild('value')!.get(0))).toBe(3 * 12 * CHUNK);
    expect(Number(back.getChild('value')!.get(back.numRows - 1))).toBe(4 * 12 * CHUNK - 1);
    expect(readParquetToArrow(first.bytes).numRows).toBe(12 * CHUNK);
  }, 120_000);
});
