import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { DeltaTable } from '../../src/delta/table.js';
import { CHUNK_ROWS } from '../../src/delta/write-files.js';
import { ParquetWasmHandler } from '../../src/parquet/parquet-wasm.js';
import { TributaryError } from '../../src/errors.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir();
const SCHEMA = parseDdl('id BIGINT NOT NULL, coin STRING, price DOUBLE, ts TIMESTAMP, amount DECIMAL(18,4)');
const N = 2 * CHUNK_ROWS + 1234; // three chunks, the last one short
const row = (id: number) => ({
  id,
  coin: id % 7 === 0 ? null : ['bitcoin', 'ethereum', 'solana', 'café'][id % 4],
  price: id % 11 === 0 ? null : 1000 + (id % 997) / 8,
  ts: 1_764_288_000_000 + id * 1000,
  amount: `${id % 5 === 0 ? '-' : ''}${id}.${String(id % 10_000).padStart(4, '0')}`,
});
const rows = Array.from({ length: N }, (_, i) => row(i));

const dataFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.parquet'));
const stats = (dir: string) =>
  readFileSync(path.join(dir, '_delta_log', '00000000000000000000.json'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"add"'))
    .map((l) => JSON.parse(JSON.parse(l).add.stats));

async function readBack(dir: string) {
  const t = await DeltaTable.open(dir);
  return arrowToRows(await t.read()).sort((a, b) => Number(a.id) - Number(b.id));
}

describe('chunked writes', () => {
  it('the encoder thread and the in-thread encoder write the same rows and stats', async () => {
    const threaded = tmp();
    const local = tmp();
    const onThread = new ParquetWasmHandler({ threadMinRows: 0 });
    const here = new ParquetWasmHandler({ thread: 'never' });
    await (await DeltaTable.forPath(threaded)).append(rows, { create: { schema: SCHEMA }, engine: onThread });
    await (await DeltaTable.forPath(local)).append(rows, { create: { schema: SCHEMA }, engine: here });
    expect([onThread.filesOnThread, here.filesOnThread]).toEqual([1, 0]);
    const a = await readBack(threaded);
    expect(a).toHaveLength(N);
    expect(a[N - 1]).toEqual({ id: BigInt(N - 1), coin: row(N - 1).coin, price: row(N - 1).price, ts: BigInt(row(N - 1).ts) * 1000n, amount: row(N - 1).amount });
    expect(a).toEqual(await readBack(local));
    expect(stats(threaded)).toEqual(stats(local));
    const s = stats(threaded)[0];
    expect(s.numRecords).toBe(N);
    expect(s.nullCount).toEqual({ id: 0, coin: Math.ceil(N / 7), price: Math.ceil(N / 11), ts: 0, amount: 0 });
    expect(s.maxValues.id).toBe(N - 1);
    expect(s.minValues.amount).toBe(rows.reduce((m, x) => Math.min(m, Number(x.amount)), Infinity));
    expect(s.maxValues.amount).toBe(rows.reduce((m, x) => Math.max(m, Number(x.amount)), -Infinity));
  });

  it('cuts files at maxRecordsPerFile exactly, across chunk boundaries', async () => {
    const dir = tmp();
    const r = await (await DeltaTable.forPath(dir)).append(rows, { create: { schema: SCHEMA }, maxRecordsPerFile: 40_000 });
    expect(r.files.map((f) => JSON.parse(f.stats!).numRecords)).toEqual([40_000, 40_000, 40_000, N - 120_000]);
    expect(await readBack(dir)).toHaveLength(N);
  });

  it('a bad value in the last chunk fails the append before any file is written', async () => {
    const dir = tmp();
    const bad: Record<string, unknown>[] = rows.slice();
    bad[N - 5] = { ...row(N - 5), price: 'not a price' };
    const t = await DeltaTable.forPath(dir);
    const err = await t.append(bad, { create: { schema: SCHEMA }, engine: new ParquetWasmHandler({ threadMinRows: 0 }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TributaryError);
    expect((err as TributaryError).message).toContain(`row ${N - 5}, column "price"`);
    expect(dataFiles(dir)).toEqual([]);
    expect((await DeltaTable.forPath(dir)).exists).toBe(false);
    // The thread is still usable afterwards.
    const enc = new ParquetWasmHandler({ threadMinRows: 0 });
    await t.append(rows.slice(0, 1000), { create: { schema: SCHEMA }, engine: enc });
    expect(enc.filesOnThread).toBe(1);
    expect(await readBack(dir)).toHaveLength(1000);
  });
});
