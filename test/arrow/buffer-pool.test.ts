import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { BufferPool, POOLED_MIN_BYTES, pooledAllocator } from '../../src/arrow/buffer-pool.js';
import { handOver } from '../../src/arrow/ipc-pieces.js';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { NdjsonDecoder } from '../../src/json/ndjson-decoder.js';
import { ParquetWasmHandler } from '../../src/parquet/parquet-wasm.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { batchOf as rowsBatch, show } from '../support/decoded-batches.js';

/**
 * Buffers of handed-over batches come back from the encoder thread (arrow/buffer-pool.ts), and a
 * decoder builds its next batches in them: same values as in new arrays, whatever the buffers
 * held before.
 */

/** A pool that never misses: a buffer of any size asked for, full of 0xAB, as a buffer back from a chunk of other rows would be. */
class DirtyPool extends BufferPool {
  handedOut = 0;
  override take(byteLength: number): ArrayBuffer {
    this.handedOut++;
    const b = new ArrayBuffer(byteLength);
    new Uint8Array(b).fill(0xab);
    return b;
  }
}

describe('the buffer pool', () => {
  it('keeps buffers only while it has a user, and lets them go with the last', () => {
    const pool = new BufferPool();
    pool.put(new ArrayBuffer(POOLED_MIN_BYTES));
    expect(pool.size).toBe(0);
    const one = pool.use();
    const two = pool.use();
    pool.put(new ArrayBuffer(POOLED_MIN_BYTES));
    one();
    one(); // twice is once
    expect(pool.size).toBe(POOLED_MIN_BYTES);
    two();
    expect(pool.size).toBe(0);
    expect(pool.take(POOLED_MIN_BYTES)).toBeUndefined();
  });

  it('gives a buffer back only at its exact size, keeps none under 64 KiB, and none beyond its bound', () => {
    const pool = new BufferPool(3 * POOLED_MIN_BYTES);
    pool.use();
    const a = new ArrayBuffer(POOLED_MIN_BYTES);
    pool.put(a);
    pool.put(new ArrayBuffer(POOLED_MIN_BYTES - 8));
    pool.put(new ArrayBuffer(2 * POOLED_MIN_BYTES));
    pool.put(new ArrayBuffer(POOLED_MIN_BYTES)); // over the bound: left to the collector
    expect(pool.size).toBe(3 * POOLED_MIN_BYTES);
    expect(pool.take(POOLED_MIN_BYTES - 8)).toBeUndefined();
    expect(pool.take(POOLED_MIN_BYTES + 8)).toBeUndefined();
    expect(pool.take(POOLED_MIN_BYTES)).toBe(a);
    expect(pool.take(POOLED_MIN_BYTES)).toBeUndefined();
    expect(pool.size).toBe(2 * POOLED_MIN_BYTES);
  });

  it('hands out its buffers zeroed, as new arrays are', () => {
    const alloc = pooledAllocator(new DirtyPool());
    const f = alloc.typed(Float64Array, POOLED_MIN_BYTES / 8);
    expect(f.every((x) => x === 0)).toBe(true);
    const grown = alloc.resize(alloc.typed(Int32Array, POOLED_MIN_BYTES / 4), POOLED_MIN_BYTES / 2, 10);
    expect(grown.every((x) => x === 0)).toBe(true);
  });

  it('lets a decoder build the same batches in buffers that held other bytes (nulls, strings, nested values, every chunk)', () => {
    const schema = parseDdl('id BIGINT, s STRING, price DOUBLE, ok BOOLEAN, ts TIMESTAMP, d DECIMAL(10,2), st STRUCT<a: INT, n: STRING>, tags ARRAY<STRING>');
    const lines = Array.from({ length: 40_000 }, (_, i) =>
      JSON.stringify({
        id: i,
        s: i % 7 === 0 ? null : `coin-${i % 31}`,
        price: i % 5 === 0 ? null : i / 3,
        ok: i % 3 === 0 ? null : i % 2 === 0,
        ts: i % 11 === 0 ? null : `2024-05-01T00:${String(i % 60).padStart(2, '0')}:00.${String(i % 1000).padStart(3, '0')}Z`,
        d: i % 13 === 0 ? null : (i % 1000) / 100,
        st: i % 17 === 0 ? null : { a: i % 9 === 0 ? null : i, n: i % 4 === 0 ? null : 'x' },
        tags: i % 19 === 0 ? null : i % 2 ? [] : ['a', null, `t${i % 3}`],
      }),
    );
    const input = Buffer.from(lines.join('\n') + '\n');
    const decode = (alloc?: ReturnType<typeof pooledAllocator>) => {
      const d = new NdjsonDecoder({ schema, name: 'in.ndjson', chunkRows: 16_384, alloc });
      return [...d.push(input), ...d.end()];
    };
    const pool = new DirtyPool();
    const expected = show(decode().flatMap((b) => arrowToRows(b)));
    const got = decode(pooledAllocator(pool));
    expect(pool.handedOut).toBeGreaterThan(10);
    expect(got.map((b) => b.numRows)).toEqual([16_384, 16_384, 7_232]);
    expect(show(got.flatMap((b) => arrowToRows(b)))).toEqual(expected);
  });
});

describe('the encoder thread', () => {
  it('gives back the large buffers of a handed-over batch once it has them, and nothing of a batch that was not', async () => {
    const schema = parseDdl('id BIGINT, s STRING');
    const handler = new ParquetWasmHandler({ thread: 'own', threadMinRows: 0 });
    const batchOf = (n: number) => rowsBatch(schema, Array.from({ length: n }, (_, i) => ({ id: BigInt(i), s: `coin-${i}` })));
    try {
      const pool = handler.recycledBuffers()!;
      const release = pool.use();
      const write = async (b: arrow.RecordBatch) => {
        const w = handler.open(schema, { compression: 'snappy', rowGroupRows: 1 << 20, keyValueMetadata: {} }, 1 << 20);
        await w.write(b);
        return handler.read(await w.finish());
      };
      const kept = batchOf(50_000);
      await write(kept);
      expect(pool.size).toBe(0);
      const given = handOver(batchOf(50_000));
      const ids = given.getChildAt(0)!.data[0].values as BigInt64Array;
      const idBytes = ids.buffer.byteLength;
      const file = await write(given);
      expect(ids.buffer.byteLength).toBe(0); // moved to the thread
      // Back by the time the file is done: the ids' buffer (400,000 bytes) among them, usable here.
      expect(pool.size).toBeGreaterThanOrEqual(idBytes);
      const back = pool.take(idBytes)!;
      expect(back.byteLength).toBe(idBytes);
      new BigInt64Array(back).fill(7n);
      release();
      expect(pool.size).toBe(0);
      // The file holds the rows, whatever is done with the buffers now.
      const rows = file.batches.flatMap((b) => arrowToRows(b));
      expect(rows.length).toBe(50_000);
      expect(show(rows)).toEqual(show(arrowToRows(kept)));
    } finally {
      await handler.close();
    }
  }, 60_000);
});
