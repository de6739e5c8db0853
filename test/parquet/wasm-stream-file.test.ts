import { describe, expect, it } from 'vitest';
import { arrowRsMemoryBytes } from '../../src/parquet/arrow-rs.js';
import { LocalParquetStream } from '../../src/parquet/wasm-stream-file.js';
import { CHUNK, probeFileAfterFile, rateChunk } from '../support/wasm-memory-probe.js';

/** One file of `chunks` chunks of the rate source's shape, numbered from `first`. */
async function writeFile(chunks: number, first: number): Promise<Uint8Array> {
  const out = new LocalParquetStream({ compression: 'snappy', rowGroupRows: 1024 * 1024, keyValueMetadata: {}, plainColumns: [] });
  for (let c = 0; c < chunks; c++) await out.write(rateChunk(first + c * CHUNK));
  expect(out.rows).toBe(chunks * CHUNK);
  return out.finish();
}

describe('LocalParquetStream (auto-compaction on the calling thread)', () => {
  it('writes file after file in one process without WebAssembly memory growing (each chunk is freed once handed on)', async () => {
    // WebAssembly memory never shrinks: a chunk left for a finalizer keeps a whole file's chunks
    // live at once, and every file a long-lived stream compacts raised the high-water mark (the
    // soak measured 22 -> 99 MiB). The probe also checks the files hold every row, in order.
    const probe = await probeFileAfterFile(writeFile, (bytes) => bytes, () => arrowRsMemoryBytes());
    expect(probe.afterLast).toBe(probe.afterFirst);
  }, 120_000);
});
