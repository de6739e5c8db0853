import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildersToBatch, columnBuilders } from '../../src/arrow/record-batch.js';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { batchFromParts, batchToParts, TRANSFER_MIN_BYTES } from '../../src/arrow/transfer.js';
import { toArrowSchema } from '../../src/arrow/types.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { ALL_TYPES as SCHEMA, allTypesRow as rowArb, batchOf, postThrough, show } from '../support/decoded-batches.js';

/**
 * A record batch sent as its buffers (arrow/transfer.ts, what the decoding threads do) comes out
 * of a real MessagePort with the same rows, every column type the decoder builds included, nulls
 * anywhere; its large buffers are moved (the sender's views are detached), not copied.
 */
describe('a record batch sent as its buffers', () => {
  it('comes back with the same rows, every column type and nulls anywhere (seeded)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 40 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => rowArb(i)))), async (rows) => {
        const batch = batchOf(SCHEMA, rows);
        const expected = show(arrowToRows(batch));
        const { parts, transfer } = batchToParts(batch);
        const back = batchFromParts(toArrowSchema(SCHEMA), await postThrough(parts, transfer));
        expect(back.numRows).toBe(rows.length);
        expect(show(arrowToRows(back))).toEqual(expected);
      }),
      { seed: 20261204, numRuns: 60 },
    );
  });

  it('moves its large buffers (the sender’s views are detached) and clones the small ones', async () => {
    const schema = parseDdl('id BIGINT, s STRING, tags ARRAY<STRING>');
    const builders = columnBuilders(schema);
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      builders[0].append(BigInt(i), i);
      builders[1].append(i % 7 === 0 ? null : `coin-${i}`, i);
      builders[2].append(i % 5 === 0 ? [] : ['a', `t${i % 3}`], i);
    }
    const batch = buildersToBatch(schema, builders, n, toArrowSchema(schema));
    const expected = show(arrowToRows(batch).slice(-3));
    const ids = batch.getChildAt(0)!.data[0].values as BigInt64Array;
    const { parts, transfer } = batchToParts(batch);
    expect(transfer.length).toBeGreaterThanOrEqual(3); // ids, string offsets and bytes at least
    for (const b of transfer) expect(b.byteLength).toBeGreaterThanOrEqual(TRANSFER_MIN_BYTES);
    const got = await postThrough(parts, transfer);
    expect(ids.buffer.byteLength).toBe(0); // moved, not copied
    const back = batchFromParts(toArrowSchema(schema), got);
    expect(show(arrowToRows(back).slice(-3))).toEqual(expected);
    expect(back.numRows).toBe(n);
  });

  it('is refused against a schema of other columns', () => {
    const batch = batchOf(SCHEMA, [{ id: 1n }]);
    const { parts } = batchToParts(batch);
    expect(() => batchFromParts(toArrowSchema(parseDdl('id BIGINT')), parts)).toThrow(/parts have 18 columns, the schema 1/);
  });
});
