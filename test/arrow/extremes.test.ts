import type * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ColumnExtremes, columnsOf } from '../../src/arrow/extremes.js';
import { batchPieces, handOver, schemaMessage } from '../../src/arrow/ipc-pieces.js';
import { StatsCollector } from '../../src/delta/stats.js';
import { ParquetWasmHandler } from '../../src/parquet/parquet-wasm.js';
import { ALL_TYPES as SCHEMA, allTypesRow, batchOf, postThrough, show } from '../support/decoded-batches.js';

/**
 * A file's stats gathered partly on the encoder thread (arrow/extremes.ts over the columns posted
 * beside a handed-over chunk, its buffers moved) and partly here, then merged, are the stats of
 * the same chunks gathered here: every column type the decoder builds, nulls anywhere (struct
 * nulls too), NaN, slices, the indexed-column limit cutting anywhere.
 *
 * -0 and 0 are equal bounds, and which one a scan keeps depends on the order it meets them (merged
 * results come last), so the comparisons below write both as 0 (JSON.stringify does; the stats
 * text is normalised).
 */
const chunksOf = (n: number) => fc.array(fc.integer({ min: 0, max: 25 }), { minLength: 1, maxLength: 4 }).chain((sizes) => fc.tuple(...sizes.map((k, c) => fc.tuple(...Array.from({ length: k }, (_, i) => allTypesRow(c * 100 + i, { nan: true }))))).map((cs) => cs.slice(0, n)));
const sameZero = (json: string) => json.replace(/-0\.0(?=[,}])/g, '0.0');

describe('column extremes', () => {
  it('are the same gathered from posted columns on another thread and merged as gathered here (seeded)', async () => {
    await fc.assert(
      fc.asyncProperty(chunksOf(4), fc.integer({ min: -1, max: 22 }), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), fc.nat(30), async (chunks, numIndexedCols, remote, cut) => {
        const opts = { numIndexedCols, stringPrefixLength: 8 };
        const here = new StatsCollector(SCHEMA, opts);
        const split = new StatsCollector(SCHEMA, opts);
        const there = new ColumnExtremes(split.extremes.plan);
        for (const [c, rows] of chunks.entries()) {
          const whole = batchOf(SCHEMA, rows);
          // Some chunks as slices: an offset into every buffer and bitmap.
          const batch = c % 2 === 1 && rows.length > 1 ? whole.slice(Math.min(cut, rows.length - 1), rows.length) : whole;
          here.add(batch.data);
          if (!remote[c]) {
            split.add(batch.data);
            continue;
          }
          // As the encoder thread gets them: beside the chunk's pieces, its large buffers moved.
          const { pieces, transfer } = batchPieces(batch, schemaMessage(batch.schema));
          const posted = await postThrough({ pieces, columns: columnsOf(batch.data, split.extremes.plan) }, transfer);
          there.add(posted.columns);
        }
        split.extremes.merge(await postThrough(there.result(), []));
        expect(show(split.extremes.leaves)).toEqual(show(here.extremes.leaves));
        expect(sameZero(split.toJSON())).toBe(sameZero(here.toJSON()));
      }),
      { seed: 20261205, numRuns: 80 },
    );
  });

  it('refuse to merge a result of another shape', () => {
    const a = new StatsCollector(SCHEMA);
    const b = new StatsCollector(SCHEMA, { numIndexedCols: 3, stringPrefixLength: 32 });
    expect(() => a.extremes.merge(b.extremes.result())).toThrow(/extremes of 3 leaves merged into/);
  });
});

describe('a file written through the encoder thread', () => {
  const opts = { compression: 'snappy' as const, rowGroupRows: 1 << 20, keyValueMetadata: {} };

  it('gets the stats of its handed-over chunks gathered there, and of the others here: those computed here of the same rows', async () => {
    const handler = new ParquetWasmHandler({ thread: 'own', threadMinRows: 0 });
    try {
      const rows = fc.sample(fc.tuple(...Array.from({ length: 300 }, (_, i) => allTypesRow(i, { nan: true }))), { seed: 7, numRuns: 1 })[0];
      // A large chunk (its buffers are moved, not cloned), small ones, and a slice, which is never handed over.
      const large = Array.from({ length: 70_000 }, (_, i) => ({ ...rows[i % rows.length], id: BigInt(i) }));
      const parts = (): arrow.RecordBatch[] => [batchOf(SCHEMA, large), batchOf(SCHEMA, rows.slice(0, 100)), batchOf(SCHEMA, rows).slice(100, 250), batchOf(SCHEMA, rows.slice(250))];
      const expected = new StatsCollector(SCHEMA);
      for (const b of parts()) expected.add(b.data);

      const stats = new StatsCollector(SCHEMA);
      const w = handler.open(SCHEMA, opts, 1 << 20, stats.extremes);
      expect(w.addsExtremes).toBe(true);
      const given = parts().map((b, i) => (i === 2 ? b : handOver(b)));
      for (const b of given) await w.write(b);
      await w.finish();
      expect(handler.filesOnThread).toBe(1);
      // The large chunk went to the thread: its buffers left this one.
      expect((given[0].getChildAt(0)!.data[0].values as BigInt64Array).buffer.byteLength).toBe(0);
      expect(stats.extremes.rows).toBe(70_000 + 300);
      expect(sameZero(stats.toJSON())).toBe(sameZero(expected.toJSON()));
      expect(JSON.parse(stats.toJSON()).nullCount.st.a).toBeGreaterThan(0);
    } finally {
      await handler.close();
    }
  }, 60_000);
});
