import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchPieces, handOver, isHandedOver, schemaMessage } from '../../src/arrow/ipc-pieces.js';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { TRANSFER_MIN_BYTES } from '../../src/arrow/transfer.js';
import { toArrowSchema } from '../../src/arrow/types.js';
import { ParquetWasmHandler } from '../../src/parquet/parquet-wasm.js';
import { joinedSize, joinInto, type Pieces } from '../../src/parquet/ipc-join.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { ALL_TYPES as SCHEMA, allTypesRow, batchOf, postThrough, show } from '../support/decoded-batches.js';

/**
 * A batch sent to the encoder thread as the pieces of its IPC message (arrow/ipc-pieces.ts) and
 * joined there (parquet/ipc-join.ts) is, byte for byte, the stream tableToIPC writes: every column
 * type the decoder builds, nulls anywhere, sliced batches, one joiner reused from a large batch to
 * a small one. Only a batch handed over as it is gives its buffers away.
 */
/**
 * Joins pieces as the encoder thread does into the writer's memory: into one buffer (grown when
 * too small) that still holds whatever was joined there before.
 */
class Memory {
  private buf = new Uint8Array(0);
  join(p: Pieces): Uint8Array {
    const size = joinedSize(p);
    if (size > this.buf.length) this.buf = new Uint8Array(size);
    const out = this.buf.subarray(0, size);
    joinInto(p, out);
    return out;
  }
}

describe('a record batch as the pieces of its IPC message', () => {
  it('joins into the bytes tableToIPC writes, every column type, nulls anywhere, slices too, one joiner for all (seeded)', async () => {
    const joiner = new Memory();
    const schemaMsg = schemaMessage(toArrowSchema(SCHEMA));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 40 }).chain((n) => fc.tuple(fc.tuple(...Array.from({ length: n }, (_, i) => allTypesRow(i, { nan: true }))), fc.nat(n), fc.nat(n))),
        async ([rows, x, y]) => {
          const whole = batchOf(SCHEMA, rows);
          // A slice (an offset into every buffer) as well as the whole batch.
          for (const batch of [whole, whole.slice(Math.min(x, y), Math.max(x, y))]) {
            const expected = arrow.tableToIPC(new arrow.Table([batch]), 'stream');
            const { pieces, transfer } = batchPieces(batch, schemaMsg);
            const joined = joiner.join(await postThrough(pieces, transfer));
            expect(Buffer.from(joined).equals(Buffer.from(expected))).toBe(true);
          }
        },
      ),
      { seed: 20261205, numRuns: 60 },
    );
  });

  it('reuses the joining memory without leaving a larger batch’s bytes in a smaller one’s padding', () => {
    const schema = parseDdl('id BIGINT, s STRING');
    const joiner = new Memory();
    const msg = schemaMessage(toArrowSchema(schema));
    // Bytes that are not zero everywhere: negative ids, strings of 'x'.
    const big = batchOf(schema, Array.from({ length: 5000 }, (_, i) => ({ id: BigInt(-1 - i), s: 'x'.repeat(1 + (i % 13)) })));
    joiner.join(batchPieces(big, msg).pieces);
    // Three values: a 3-byte string body and 24-byte values, each padded to 8 where the large batch had bytes.
    const small = batchOf(schema, [{ id: -1n, s: 'abc' }, { id: 2n, s: null }, { id: 3n, s: '' }]);
    expect(Buffer.from(joiner.join(batchPieces(small, msg).pieces)).equals(Buffer.from(arrow.tableToIPC(new arrow.Table([small]), 'stream')))).toBe(true);
  });

  it('moves a batch’s large buffers (its views are detached) and clones the small ones', async () => {
    const schema = parseDdl('id BIGINT, s STRING');
    const n = 50_000;
    const batch = batchOf(schema, Array.from({ length: n }, (_, i) => ({ id: BigInt(i), s: i % 7 === 0 ? null : `coin-${i}` })));
    const expected = show(arrowToRows(batch));
    const ids = batch.getChildAt(0)!.data[0].values as BigInt64Array;
    const { pieces, transfer } = batchPieces(batch, schemaMessage(batch.schema));
    expect(transfer.length).toBeGreaterThanOrEqual(3); // ids, string offsets and bytes
    for (const b of transfer) expect(b.byteLength).toBeGreaterThanOrEqual(TRANSFER_MIN_BYTES);
    const joined = new Memory().join(await postThrough(pieces, transfer));
    expect(ids.buffer.byteLength).toBe(0); // moved, not copied
    expect(show(arrowToRows(arrow.tableFromIPC(joined).batches[0]))).toEqual(expected);
  });
});

describe('a handed-over batch', () => {
  const schema = parseDdl('id BIGINT, s STRING, price DOUBLE');
  const rowsOf = (n: number) => Array.from({ length: n }, (_, i) => ({ id: BigInt(i), s: i % 11 === 0 ? null : `c${i % 97}`, price: i / 7 }));

  it('is one whose every column is the Data that was handed over: not a slice, a projection of new Data or an unmarked batch', () => {
    const batch = batchOf(schema, rowsOf(10));
    expect(isHandedOver(batch)).toBe(false);
    handOver(batch);
    expect(isHandedOver(batch)).toBe(true);
    // A new RecordBatch around the same column Data (a projection, a relabelling) still is.
    const same = new arrow.RecordBatch(batch.schema, arrow.makeData({ type: new arrow.Struct(batch.schema.fields), length: 10, nullCount: 0, children: batch.data.children }));
    expect(isHandedOver(same)).toBe(true);
    expect(isHandedOver(batch.slice(0, 5))).toBe(false);
    const other = batchOf(schema, rowsOf(10));
    const mixed = new arrow.RecordBatch(batch.schema, arrow.makeData({ type: new arrow.Struct(batch.schema.fields), length: 10, nullCount: 0, children: [batch.data.children[0], other.data.children[1], batch.data.children[2]] }));
    expect(isHandedOver(mixed)).toBe(false);
  });

  it('gives its buffers to the encoder thread, while any other batch keeps them, and both files hold the same rows', async () => {
    const handler = new ParquetWasmHandler({ thread: 'own', threadMinRows: 0 });
    try {
      const write = async (batches: arrow.RecordBatch[]) => {
        const w = handler.open(schema, { compression: 'snappy', rowGroupRows: 1 << 20, keyValueMetadata: {} }, 1 << 20);
        for (const b of batches) await w.write(b);
        return handler.read(await w.finish());
      };
      const kept = [batchOf(schema, rowsOf(70_000)), batchOf(schema, rowsOf(3))];
      const given = [batchOf(schema, rowsOf(70_000)), batchOf(schema, rowsOf(3))].map(handOver);
      const expected = show(kept.flatMap((b) => arrowToRows(b)));
      const fromKept = await write(kept);
      // The batches not handed over are still readable after the write; the handed-over ones' large buffers left.
      expect(show(kept.flatMap((b) => arrowToRows(b)))).toEqual(expected);
      const fromGiven = await write(given);
      expect((given[0].getChildAt(0)!.data[0].values as BigInt64Array).buffer.byteLength).toBe(0);
      expect(handler.filesOnThread).toBe(2);
      const rowsOfTable = (t: arrow.Table) => show(t.batches.flatMap((b) => arrowToRows(b)));
      expect(rowsOfTable(fromKept)).toEqual(expected);
      expect(rowsOfTable(fromGiven)).toEqual(expected);
    } finally {
      await handler.close();
    }
  }, 60_000);
});
