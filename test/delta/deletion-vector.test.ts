import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import type { DeletionVector } from '../../src/delta/actions.js';
import { DeletionVectorLoader, dropDeletedRows, dvBitmapInFile, dvSource, uuidFromZ85 } from '../../src/delta/deletion-vector.js';
import { decodeRoaringBitmapArray } from '../../src/delta/roaring.js';
import { z85Decode } from '../../src/delta/z85.js';
import { LocalStorage } from '../../src/storage/local.js';
import { dvFile, encodeRoaringBitmapArray, z85, z85Uuid } from '../support/deletion-vectors.js';
import { tempDir } from '../support/tmp.js';

/**
 * Deletion vectors are decoded against an independent model (test/support/deletion-vectors.ts,
 * written from RoaringFormatSpec and PROTOCOL.md): random row sets, encoded with every container
 * type, cookie and bucket layout a writer may choose, decode to exactly the set; damaged bytes
 * are refused, never read as another set. Seeded (TRIBUTARY_PROPERTY_SEED replays a run).
 */
const SEED = Number(process.env.TRIBUTARY_PROPERTY_SEED ?? 20261202);
const params = (numRuns: number) => ({ seed: SEED, numRuns, endOnFailure: true });
const tmp = tempDir('tributary-dv-');

/** Row sets with the shapes deletes produce: scattered rows, dense ranges (runs, >4096 per block), several buckets. */
const rowSets = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0, max: 200_000 }).map((r) => [r]),
      fc.record({ start: fc.integer({ min: 0, max: 300_000 }), len: fc.integer({ min: 1, max: 9000 }) }).map(({ start, len }) => Array.from({ length: len }, (_, i) => start + i)),
      fc.record({ bucket: fc.integer({ min: 1, max: 3 }), low: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }).map(({ bucket, low }) => [bucket * 2 ** 32 + low]),
      fc.record({ start: fc.integer({ min: 0, max: 65535 }), step: fc.integer({ min: 2, max: 9 }), n: fc.integer({ min: 1, max: 6000 }) }).map(({ start, step, n }) =>
        Array.from({ length: n }, (_, i) => start + i * step),
      ),
    ),
    { maxLength: 6 },
  )
  .map((parts) => [...new Set(parts.flat())].sort((a, b) => a - b));

describe('RoaringBitmapArray decoding', () => {
  it('decodes every encoding of a row set to exactly that set', () => {
    fc.assert(
      fc.property(rowSets, fc.array(fc.boolean(), { maxLength: 40 }), fc.boolean(), fc.constantFrom('portable' as const, 'native' as const), (rows, runs, runCookie, layout) => {
        const bytes = encodeRoaringBitmapArray(rows, { runs, runCookie, layout });
        expect(decodeRoaringBitmapArray(bytes)).toEqual(rows);
      }),
      params(300),
    );
  });

  it('refuses truncated bitmaps and unknown magic numbers, naming the problem', () => {
    fc.assert(
      fc.property(rowSets.filter((r) => r.length > 0), fc.nat(), (rows, cut) => {
        const bytes = encodeRoaringBitmapArray(rows);
        const n = cut % bytes.length;
        expect(() => decodeRoaringBitmapArray(bytes.subarray(0, n))).toThrow(RangeError);
      }),
      params(200),
    );
    const bytes = encodeRoaringBitmapArray([1, 2, 3]);
    bytes[0] ^= 0x10;
    expect(() => decodeRoaringBitmapArray(bytes)).toThrow(/unknown magic number/);
  });

  it('refuses keys with the top bit set and containers that disagree with their header', () => {
    const bytes = encodeRoaringBitmapArray([2 ** 32 + 5]);
    // The bucket key sits after the magic and the 8-byte count: make it 0x80000001.
    bytes[15] = 0x80;
    expect(() => decodeRoaringBitmapArray(bytes)).toThrow(/most significant bit/);
    const arr = encodeRoaringBitmapArray([1, 2, 3]);
    // magic 4 + count 8 + key 4 + cookie 4 + size 4, then the header: key (2) and cardinality-1 (2).
    arr[26] = 9;
    expect(() => decodeRoaringBitmapArray(arr)).toThrow(RangeError);
  });
});

describe('deletion vector descriptors', () => {
  it('reads the protocol examples', () => {
    // PROTOCOL.md "JSON Example 3 — Inline" is not used: its bytes are a big-endian native
    // layout that neither Spark (little-endian only) nor delta-kernel-rs reads. Inline DVs are
    // checked below, and Spark-written DVs in the interop suite.
    // "JSON Example 1": a random prefix "ab" before the 20-character UUID.
    expect(dvSource({ storageType: 'u', pathOrInlineDv: 'ab^-aqEH.-t@S}K{vb[*k^', offset: 4, sizeInBytes: 40, cardinality: 6 }, '/t')).toEqual({
      kind: 'file',
      path: 'ab/deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin',
      offset: 4,
    });
    expect(uuidFromZ85('vBn[lx{q8@P<9BNH/isA')).toBe('61d16c75-6994-46b7-a15b-8b538852e50e');
  });

  it('resolves absolute (p) paths inside the table and relative (r) paths', () => {
    expect(dvSource({ storageType: 'p', pathOrInlineDv: 'file:///data/t/deletion_vector_x%20y.bin', offset: 9, sizeInBytes: 1, cardinality: 1 }, '/data/t')).toEqual({ kind: 'file', path: 'deletion_vector_x y.bin', offset: 9 });
    expect(dvSource({ storageType: 'r', pathOrInlineDv: 'dv/deletion_vector_a.bin', offset: 1, sizeInBytes: 1, cardinality: 1 }, '/data/t')).toEqual({ kind: 'file', path: 'dv/deletion_vector_a.bin', offset: 1 });
    expect(() => dvSource({ storageType: 'p', pathOrInlineDv: 'file:///elsewhere/dv.bin', sizeInBytes: 1, cardinality: 1 }, '/data/t')).toThrow(/outside the table root/);
    const e = (() => {
      try {
        dvSource({ storageType: 'x', pathOrInlineDv: 'a', sizeInBytes: 1, cardinality: 1 }, '/t');
      } catch (x) {
        return x as TributaryError;
      }
    })();
    expect(e?.code).toBe('UNSUPPORTED_FEATURE');
    expect(e?.message).toMatch(/storage type "x"/);
    expect(() => dvSource({ storageType: 'i', pathOrInlineDv: 'abc', sizeInBytes: 4, cardinality: 1 }, '/t')).toThrow(/not a multiple of 5/);
  });

  it('decodes Z85 like a reference decoder built on big integers', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }).map((b) => b.subarray(0, b.length - (b.length % 4))), (bytes) => {
        const text = z85(bytes);
        // Reference: each 5-digit group is a base-85 number, written big-endian.
        const ref: number[] = [];
        for (let i = 0; i < text.length; i += 5) {
          let w = 0n;
          for (const ch of text.slice(i, i + 5)) w = w * 85n + BigInt('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#'.indexOf(ch));
          ref.push(Number((w >> 24n) & 255n), Number((w >> 16n) & 255n), Number((w >> 8n) & 255n), Number(w & 255n));
        }
        expect([...z85Decode(text)]).toEqual(ref);
        expect([...z85Decode(text)]).toEqual([...bytes]);
      }),
      params(300),
    );
    expect(() => z85Decode('%%%%%')).toThrow(/larger than 32 bits/);
    expect(() => z85Decode('ab"de')).toThrow(/not a Z85 digit/);
  });
});

describe('deletion vector files', () => {
  it('uses the standard CRC-32', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
  });

  it('finds each DV of a file at its offset and detects any damaged byte', () => {
    fc.assert(
      fc.property(fc.array(rowSets, { minLength: 1, maxLength: 3 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (sets, pick, flip) => {
        const bitmaps = sets.map((rows) => encodeRoaringBitmapArray(rows));
        const { bytes, offsets } = dvFile(bitmaps);
        sets.forEach((rows, i) => expect(decodeRoaringBitmapArray(dvBitmapInFile(bytes, offsets[i], bitmaps[i].length))).toEqual(rows));
        // Any changed byte of a DV (its size, bitmap or checksum) is refused.
        const i = pick % sets.length;
        const at = offsets[i] + ((pick >>> 3) % (bitmaps[i].length + 8));
        const damaged = Uint8Array.from(bytes);
        damaged[at] ^= flip;
        expect(() => dvBitmapInFile(damaged, offsets[i], bitmaps[i].length)).toThrow(RangeError);
      }),
      params(150),
    );
    const { bytes } = dvFile([encodeRoaringBitmapArray([1])]);
    const v2 = Uint8Array.from(bytes);
    v2[0] = 2;
    expect(() => dvBitmapInFile(v2, 1, bytes.length - 9)).toThrow(/format version 2/);
  });

  it('loads each DV file once through the storage and checks cardinality', async () => {
    const dir = tmp();
    const storage = new LocalStorage(dir);
    const uuid = '0c6cbaaf-5e04-4c9d-8959-1088814f58ef';
    const a = encodeRoaringBitmapArray([0, 5]);
    const b = encodeRoaringBitmapArray([1, 2, 3]);
    const { bytes, offsets } = dvFile([a, b]);
    writeFileSync(path.join(dir, `deletion_vector_${uuid}.bin`), bytes);
    const loader = new DeletionVectorLoader(storage);
    const dv = (offset: number, size: number, cardinality: number): DeletionVector => ({ storageType: 'u', pathOrInlineDv: z85Uuid(uuid), offset, sizeInBytes: size, cardinality });
    expect(await loader.deletedRows(dv(offsets[0], a.length, 2), 'f1.parquet')).toEqual([0, 5]);
    expect(await loader.deletedRows(dv(offsets[1], b.length, 3), 'f2.parquet')).toEqual([1, 2, 3]);
    await expect(loader.deletedRows(dv(offsets[1], b.length, 4), 'f2.parquet')).rejects.toThrow(/deletes 3 rows where the log says 4/);
    const missing = await new DeletionVectorLoader(storage).deletedRows({ ...dv(1, 1, 1), pathOrInlineDv: z85Uuid('11111111-2222-3333-4444-555555555555') }, 'f3.parquet').catch((e) => e as TributaryError);
    expect((missing as TributaryError).code).toBe('DATA_FILE_MISSING');
    expect((missing as TributaryError).message).toMatch(/deletion vector file deletion_vector_11111111-2222-3333-4444-555555555555\.bin .*for data file f3\.parquet/);
    // Inline DVs are padded to whole words in the log; sizeInBytes cuts the padding.
    const inline = encodeRoaringBitmapArray([7]);
    expect(await loader.deletedRows({ storageType: 'i', pathOrInlineDv: z85(inline), sizeInBytes: inline.length, cardinality: 1 }, 'f4.parquet')).toEqual([7]);
  });
});

describe('dropDeletedRows', () => {
  const schema = new arrow.Schema([new arrow.Field('v', new arrow.Int32(), true)]);
  const batchOf = (vals: number[]) => new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct(schema.fields), length: vals.length, nullCount: 0, children: [arrow.makeData({ type: new arrow.Int32(), length: vals.length, nullCount: 0, data: Int32Array.from(vals) })] }));

  it('keeps exactly the rows not deleted, across batch boundaries', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 6 }), fc.array(fc.boolean(), { maxLength: 240 }), (sizes, mask) => {
        let next = 0;
        const batches = sizes.map((n) => batchOf(Array.from({ length: n }, () => next++)));
        const deleted = Array.from({ length: next }, (_, i) => i).filter((i) => mask[i]);
        const out = dropDeletedRows(batches, deleted, 'f.parquet');
        const got = out.flatMap((b) => [...(b.getChildAt(0)!.toArray() as Int32Array)]);
        expect(got).toEqual(Array.from({ length: next }, (_, i) => i).filter((i) => !mask[i]));
      }),
      params(300),
    );
  });

  it('refuses a DV that deletes rows past the end of the file', () => {
    expect(() => dropDeletedRows([batchOf([1, 2])], [2], 'part-0.parquet')).toThrow(/deletes row 2, but the file has 2 rows/);
  });
});
