import { describe, expect, it } from 'vitest';
import { sharedThread } from '../../src/parquet/parquet-wasm.js';
import { PartQueue } from '../../src/parquet/part-queue.js';
import { CHUNK, probeFileAfterFile, rateChunk } from '../support/wasm-memory-probe.js';

/** One file of `chunks` chunks written on the encoder thread, its parts taken as they come. */
async function writeFile(chunks: number, first: number): Promise<{ bytes: Uint8Array; parts: number }> {
  const thread = sharedThread()!;
  const queue = new PartQueue();
  const file = thread.open({ compression: 'snappy', rowGroupRows: 4 * CHUNK, keyValueMetadata: {}, plainColumns: ['timestamp', 'value'] }, 2, queue);
  const parts: Uint8Array[] = [];
  const taking = (async () => {
    for await (const p of queue) parts.push(p);
  })();
  for (let c = 0; c < chunks; c++) await file.write(rateChunk(first + c * CHUNK));
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
    // append's peak. The probe also checks the files hold every row, in order.
    const thread = sharedThread()!;
    const probe = await probeFileAfterFile(writeFile, (f) => f.bytes, () => thread.wasmMemoryBytes());
    expect(probe.afterLast).toBe(probe.afterFirst);
    // A part per row group (three of four chunks) and the footer: never one joined buffer.
    expect(probe.last.parts).toBeGreaterThanOrEqual(3);
  }, 120_000);
});
