import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { readParquetToArrow } from '../../src/parquet/reader.js';
import { pw } from '../../src/parquet/wasm.js';
import { LocalParquetStream } from '../../src/parquet/wasm-stream-file.js';

const CHUNK = 65_536;

/** One file of `chunks` chunks of the rate source's shape, numbered from `first`. */
async function writeFile(chunks: number, first: number): Promise<Uint8Array> {
  const out = new LocalParquetStream({ compression: 'snappy', rowGroupRows: 1024 * 1024, keyValueMetadata: {}, plainColumns: [] });
  for (let c = 0; c < chunks; c++) {
    const ts = new BigInt64Array(CHUNK);
    const value = new BigInt64Array(CHUNK);
    for (let i = 0; i < CHUNK; i++) {
      const n = first + c * CHUNK + i;
      ts[i] = BigInt(1_700_000_000_000_000 + n * 1000);
      value[i] = BigInt(n);
    }
    await out.write(arrow.tableToIPC(new arrow.Table({ timestamp: arrow.makeVector(ts), value: arrow.makeVector(value) }), 'stream'));
  }
  expect(out.rows).toBe(chunks * CHUNK);
  return out.finish();
}

describe('LocalParquetStream (auto-compaction on the calling thread)', () => {
  it('writes file after file in one process without WebAssembly memory growing (each chunk is freed once handed on)', async () => {
    // WebAssembly memory never shrinks: a chunk left for a finalizer keeps a whole file's chunks
    // live at once, and every file a long-lived stream compacts raised the high-water mark (the
    // soak measured 22 -> 99 MiB). Its size is the allocator's, not the clock's: a count.
    const first = await writeFile(12, 0);
    const after1 = pw.wasmMemory().buffer.byteLength;
    let last = first;
    for (let f = 1; f <= 3; f++) last = await writeFile(12, f * 12 * CHUNK);
    expect(pw.wasmMemory().buffer.byteLength).toBe(after1);
    // The files hold every row, in order.
    const back = readParquetToArrow(last);
    expect(back.numRows).toBe(12 * CHUNK);
    expect(Number(back.getChild('value')!.get(0))).toBe(3 * 12 * CHUNK);
    expect(Number(back.getChild('value')!.get(back.numRows - 1))).toBe(4 * 12 * CHUNK - 1);
    expect(readParquetToArrow(first).numRows).toBe(12 * CHUNK);
  }, 120_000);
});
