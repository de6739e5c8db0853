import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rowsToRecordBatch } from '../../src/arrow/record-batch.js';
import { takeBatch } from '../../src/arrow/take.js';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { parseDdl } from '../../src/schema/ddl.js';

const SCHEMA = parseDdl(
  'l BIGINT, i INT, sh SMALLINT, b TINYINT, d DOUBLE, f FLOAT, bo BOOLEAN, s STRING, bin BINARY, dt DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ, dec DECIMAL(38,10), dec9 DECIMAL(9,2), ' +
    'arr ARRAY<STRING>, m MAP<STRING, BIGINT>, st STRUCT<x: INT, y: ARRAY<DOUBLE>>, ast ARRAY<STRUCT<k: STRING, v: BOOLEAN>>',
);

const row = fc.record({
  l: fc.option(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
  i: fc.option(fc.integer()),
  sh: fc.option(fc.integer({ min: -32768, max: 32767 })),
  b: fc.option(fc.integer({ min: -128, max: 127 })),
  d: fc.option(fc.double({ noNaN: true })),
  f: fc.option(fc.float({ noNaN: true, noDefaultInfinity: true })),
  bo: fc.option(fc.boolean()),
  s: fc.option(fc.string({ unit: 'grapheme', maxLength: 20 })),
  bin: fc.option(fc.uint8Array({ maxLength: 20 }).map((u) => Buffer.from(u).toString('base64'))),
  dt: fc.option(fc.integer({ min: -719162, max: 2932896 }).map((d) => new Date(d * 86_400_000))),
  ts: fc.option(fc.bigInt({ min: -62135596800000000n, max: 253402300799999999n })),
  ntz: fc.option(fc.bigInt({ min: -62135596800000000n, max: 253402300799999999n })),
  dec: fc.option(fc.bigInt({ min: -(10n ** 27n), max: 10n ** 27n }).map((u) => `${u}.5`)),
  dec9: fc.option(fc.integer({ min: -999999, max: 999999 }).map((u) => `${u}.25`)),
  arr: fc.option(fc.array(fc.option(fc.string({ maxLength: 5 })), { maxLength: 4 })),
  m: fc.option(fc.dictionary(fc.string({ maxLength: 4 }), fc.option(fc.bigInt({ min: -10n, max: 10n })), { maxKeys: 3 })),
  st: fc.option(fc.record({ x: fc.option(fc.integer()), y: fc.option(fc.array(fc.option(fc.double({ noNaN: true })), { maxLength: 3 })) })),
  ast: fc.option(fc.array(fc.option(fc.record({ k: fc.option(fc.string({ maxLength: 3 })), v: fc.option(fc.boolean()) })), { maxLength: 3 })),
});

describe('takeBatch', () => {
  it('gathers exactly the rows asked for, for every type, from whole and sliced batches', () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 40 }), fc.nat(39), fc.array(fc.nat(), { maxLength: 60 }), (rows, cut, picks) => {
        const batch = rowsToRecordBatch(rows, SCHEMA);
        // A slice exercises the offsets Arrow JS keeps for validity and boolean bitmaps.
        const from = cut % rows.length;
        const source = batch.slice(from, rows.length);
        const all = arrowToRows(source);
        const idx = Int32Array.from(picks.map((p) => p % all.length));
        const taken = takeBatch(source, idx);
        expect(taken.numRows).toBe(idx.length);
        expect(arrowToRows(taken)).toEqual([...idx].map((i) => all[i]));
      }),
      { seed: 7, numRuns: 300 },
    );
  });
});
