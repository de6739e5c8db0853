import { readdirSync } from 'node:fs';
import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { parseDdl } from '../../src/schema/ddl.js';
import { optimize } from '../../src/delta/operations/optimize.js';
import { DeltaTable } from '../../src/delta/table.js';
import { parquetHandler } from '../../src/parquet/engines.js';
import { tempDir } from '../support/tmp.js';

/**
 * A library caller gets the same typed INVALID_ARGUMENT as the CLI for bad numeric options,
 * instead of a WebAssembly "unreachable", NaN versions or a silently different version.
 */
const tmp = tempDir('tributary-options-');
const SCHEMA = parseDdl('id BIGINT, p STRING');
const rows = [
  { id: 1, p: 'a' },
  { id: 2, p: 'b' },
];

describe('numeric options of the library', () => {
  it('refuses bad writer sizes on append, for both engines, before anything is written', async () => {
    const dir = tmp();
    const bad: [Record<string, number>, RegExp][] = [
      [{ rowGroupRows: 0 }, /rowGroupRows must be a whole number from 1 to 2147483647, got 0/],
      [{ rowGroupRows: NaN }, /rowGroupRows .* got null/],
      [{ rowGroupRows: 1.5 }, /rowGroupRows .* got 1\.5/],
      [{ rowGroupRows: 2 ** 32 }, /rowGroupRows .* got 4294967296/],
      [{ targetFileSize: 0 }, /targetFileSize must be a whole number of at least 1, got 0/],
      [{ targetFileSize: -1 }, /targetFileSize/],
      [{ targetFileSize: Infinity }, /targetFileSize/],
      [{ maxRecordsPerFile: -1 }, /maxRecordsPerFile must be a whole number of at least 0, got -1/],
      [{ maxRecordsPerFile: 0.5 }, /maxRecordsPerFile/],
    ];
    for (const engine of ['parquet-wasm', 'parquetjs'] as const) {
      for (const [opts, message] of bad) {
        const t = await DeltaTable.forPath(dir);
        await expect(t.append(rows, { create: { schema: SCHEMA, partitionColumns: ['p'] }, engine, ...opts }), `${engine} ${JSON.stringify(opts)}`).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) });
        expect(readdirSync(dir)).toEqual([]);
      }
    }
    // The encoders check on their own too, for callers that use them directly.
    const table = new arrow.Table({ id: arrow.vectorFromArray([1n, 2n], new arrow.Int64()) });
    for (const engine of ['parquet-wasm', 'parquetjs']) {
      await expect((async () => parquetHandler(engine).encode(table, parseDdl('id BIGINT'), { compression: 'snappy', rowGroupRows: 0 }))()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(() => parquetHandler(engine).open(parseDdl('id BIGINT'), { compression: 'snappy', rowGroupRows: -3 }, 2)).toThrow(/rowGroupRows/);
    }
    // In range, they work: one row per file, one row per row group.
    const t = await DeltaTable.forPath(dir);
    const r = await t.append(rows, { create: { schema: SCHEMA }, rowGroupRows: 1, maxRecordsPerFile: 1, targetFileSize: 1 });
    expect(r.files).toHaveLength(2);
  });

  it('refuses NaN, fractional and negative versions and limits, and bad OPTIMIZE sizes', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append(rows, { create: { schema: SCHEMA } });
    await t.append(rows);
    for (const v of [NaN, 1.5, -1]) {
      await expect(DeltaTable.open(dir, v)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^version must be a whole number/) });
      await expect(t.read({ version: v })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(t.history(v)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^limit/) });
    }
    expect((await t.read({ version: 0 })).numRows).toBe(2);
    expect(await t.history(0)).toEqual([]);
    for (const opts of [{ minFiles: 0 }, { minFiles: NaN }, { targetFileSize: 0 }, { targetFileSize: 2.5 }]) {
      await expect(optimize(t, opts), JSON.stringify(opts)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    expect(t.version).toBe(1);
  });
});
