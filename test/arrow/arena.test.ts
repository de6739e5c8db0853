import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufferArena } from '../../src/arrow/arena.js';
import { rowsToRecordBatch } from '../../src/arrow/record-batch.js';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { parseDdl } from '../../src/schema/ddl.js';

describe('BufferArena', () => {
  it('hands out zeroed, 8-byte aligned views of one block, and a block of its own to an array larger than a block', () => {
    const arena = new BufferArena(1024);
    const a = arena.typed(Uint8Array, 3);
    const b = arena.typed(BigInt64Array, 4);
    const c = arena.typed(Int32Array, 5);
    expect(a.buffer).toBe(b.buffer);
    expect(b.buffer).toBe(c.buffer);
    expect(b.byteOffset).toBe(8);
    expect(c.byteOffset).toBe(40);
    expect([...c]).toEqual([0, 0, 0, 0, 0]);
    expect(arena.blocks).toBe(1);
    const big = arena.typed(Float64Array, 300);
    expect(big.byteLength).toBe(2400);
    expect(big.byteOffset).toBe(0);
    expect(arena.blocks).toBe(2);
    const next = arena.typed(Uint8Array, 10);
    expect(next.buffer).not.toBe(c.buffer);
    expect(arena.blocks).toBe(3);
  });

  it('grows the last array in place, copies any other, and zeroes past what the caller keeps', () => {
    const arena = new BufferArena(1024);
    const a = arena.typed(Int32Array, 4);
    a.set([1, 2, 3, 4]);
    const grown = arena.resize(a, 8);
    expect(grown.buffer).toBe(a.buffer);
    expect(grown.byteOffset).toBe(a.byteOffset);
    expect([...grown]).toEqual([1, 2, 3, 4, 0, 0, 0, 0]);
    const other = arena.typed(Uint8Array, 4);
    other.set([9, 9, 9, 9]);
    // `grown` is no longer the last array: it moves, its contents with it.
    const moved = arena.resize(grown, 10);
    expect(moved.byteOffset).toBeGreaterThan(other.byteOffset);
    expect([...moved]).toEqual([1, 2, 3, 4, 0, 0, 0, 0, 0, 0]);
    expect([...other]).toEqual([9, 9, 9, 9]);
    // Only the first two bytes are kept: the rest reads as zero, in place or moved.
    const bytes = arena.typed(Uint8Array, 4);
    bytes.set([5, 6, 7, 8]);
    expect([...arena.resize(bytes, 6, 2)]).toEqual([5, 6, 0, 0, 0, 0]);
    expect(arena.trim(bytes, 2).buffer).toBe(bytes.buffer);
    expect(arena.blocks).toBe(1);
  });
});

const SCHEMA = parseDdl(
  'id LONG NOT NULL, ts TIMESTAMP, d DATE, x DOUBLE, i INT, s STRING, b BINARY, ok BOOLEAN, amount DECIMAL(20,4), ' +
    'pt STRUCT<n: LONG, tags: ARRAY<STRING>>, m MAP<STRING, LONG>, l ARRAY<LONG>',
);

const row = fc.record({
  id: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => (Number.isSafeInteger(Number(v)) ? Number(v) : v)),
  ts: fc.option(fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true })),
  d: fc.option(fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true }).map((t) => new Date(Math.floor(t.getTime() / 86_400_000) * 86_400_000))),
  x: fc.option(fc.double({ noNaN: true })),
  i: fc.option(fc.integer()),
  s: fc.option(fc.string({ unit: 'grapheme', maxLength: 40 })),
  b: fc.option(fc.uint8Array({ maxLength: 20 })),
  ok: fc.option(fc.boolean()),
  amount: fc.option(fc.bigInt({ min: -(10n ** 19n) + 1n, max: 10n ** 19n - 1n }).map((u) => `${u < 0n ? '-' : ''}${(u < 0n ? -u : u) / 10000n}.${String((u < 0n ? -u : u) % 10000n).padStart(4, '0')}`)),
  pt: fc.option(fc.record({ n: fc.option(fc.integer()), tags: fc.option(fc.array(fc.option(fc.string({ maxLength: 8 })), { maxLength: 4 })) })),
  m: fc.option(fc.dictionary(fc.string({ maxLength: 6 }), fc.option(fc.integer()), { maxKeys: 4 })),
  l: fc.option(fc.array(fc.option(fc.integer()), { maxLength: 5 })),
});

describe('record batches built in an arena', () => {
  it('hold the same values as batches built from the heap, for every column type (seeded)', () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 300 }), (rows) => {
        const arena = new BufferArena(64 * 1024);
        const fromHeap = rowsToRecordBatch(rows, SCHEMA);
        const fromArena = rowsToRecordBatch(rows, SCHEMA, { alloc: arena });
        // The builders took their buffers from the arena (none would leave it at 0 blocks). Several
        // share each block, so a view that lost its offset reads another column's bytes.
        expect(arena.blocks).toBeGreaterThanOrEqual(1);
        expect(arrowToRows(fromArena)).toEqual(arrowToRows(fromHeap));
        expect(arrow.tableToIPC(new arrow.Table([fromArena]))).toEqual(arrow.tableToIPC(new arrow.Table([fromHeap])));
      }),
      { seed: 20261202, numRuns: 150 },
    );
  });
});
