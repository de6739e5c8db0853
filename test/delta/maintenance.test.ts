import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
import { readdirSync, statSync, utimesSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { type CleanupHint, cleanupExpiredLogs } from '../../src/delta/operations/log-cleanup.js';
import { optimize } from '../../src/delta/operations/optimize.js';
import { vacuum } from '../../src/delta/operations/vacuum.js';
import { DeltaTable } from '../../src/delta/table.js';
import { rowsToRecordBatch } from '../../src/arrow/record-batch.js';
import { computeStats } from '../../src/delta/stats.js';
import { dataSchemaOf } from '../../src/delta/write-files.js';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-maint-');
const SCHEMA = parseDdl('id BIGINT NOT NULL, s STRING, d DECIMAL(18,4), ts TIMESTAMP, tags ARRAY<STRING>, m MAP<STRING, BIGINT>, st STRUCT<a: INT, b: STRING>, day STRING');
const row = (i: number) => ({ id: i, s: i % 7 ? `s${i}` : null, d: `${i}.${String(i % 10000).padStart(4, '0')}`, ts: new Date(Date.UTC(2026, 10, 28) + i * 1000), tags: i % 3 ? ['a', `t${i}`] : null, m: { k: i }, st: i % 5 ? { a: i, b: null } : null, day: i % 2 ? '2026-11-27' : '2026-11-28' });

const rowsOf = async (t: DeltaTable, version?: number) => arrowToRows(await t.read({ version })).sort((a, b) => Number(a.id) - Number(b.id));
const logLines = (dir: string, v: number) =>
  require('node:fs')
    .readFileSync(path.join(dir, '_delta_log', `${String(v).padStart(20, '0')}.json`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l: string) => JSON.parse(l));

async function smallFileTable(dir: string, appends: number, per: number): Promise<DeltaTable> {
  const t = await DeltaTable.forPath(dir);
  for (let a = 0; a < appends; a++) await t.append(Array.from({ length: per }, (_, k) => row(a * per + k)), { create: { schema: SCHEMA, partitionColumns: ['day'] } });
  return t;
}

describe('OPTIMIZE', () => {
  it('bin-packs small files per partition into one dataChange=false commit with exact rows and stats', async () => {
    const dir = tmp();
    const t = await smallFileTable(dir, 12, 10);
    const before = await rowsOf(t);
    expect(t.snapshot.files).toHaveLength(24);
    const m = await optimize(t, { targetFileSize: 1024 * 1024 });
    expect(m).toMatchObject({ version: 12, numFilesRemoved: 24, numFilesAdded: 2, partitionsOptimized: 2 });
    expect(t.snapshot.files).toHaveLength(2);
    expect(await rowsOf(t)).toEqual(before);
    expect(await rowsOf(await DeltaTable.open(dir))).toEqual(before);
    const log = logLines(dir, 12);
    expect(log[0].commitInfo).toMatchObject({ operation: 'OPTIMIZE', isBlindAppend: false, readVersion: 11, operationParameters: { predicate: '[]', zOrderBy: '[]', clusterBy: '[]', auto: 'false' } });
    for (const v of Object.values(log[0].commitInfo.operationMetrics)) expect(typeof v).toBe('string');
    const adds = log.filter((a: { add?: unknown }) => a.add).map((a: { add: { dataChange: boolean; stats: string; partitionValues: Record<string, string> } }) => a.add);
    const removes = log.filter((a: { remove?: unknown }) => a.remove).map((a: { remove: { dataChange: boolean; extendedFileMetadata: boolean } }) => a.remove);
    expect(adds.every((a: { dataChange: boolean }) => a.dataChange === false)).toBe(true);
    expect(removes.every((r: { dataChange: boolean; extendedFileMetadata: boolean }) => r.dataChange === false && r.extendedFileMetadata)).toBe(true);
    for (const a of adds) {
      const st = JSON.parse(a.stats);
      const ids = before.filter((r) => r.day === a.partitionValues.day).map((r) => Number(r.id));
      expect(st.numRecords).toBe(ids.length);
      expect(st.minValues.id).toBe(Math.min(...ids));
      expect(st.maxValues.id).toBe(Math.max(...ids));
    }
    // Time travel to before the optimize still reads the old files.
    expect(await rowsOf(t, 11)).toEqual(before);
    // Nothing left to do.
    expect((await optimize(t, { targetFileSize: 1024 * 1024 })).version).toBeUndefined();
  });

  it('writes the stats a recomputation gives, and compacts files from before a schema change through the general path', async () => {
    const dir = tmp();
    const t = await smallFileTable(dir, 6, 10);
    const merged = await optimize(t, { targetFileSize: 1024 * 1024 });
    expect(merged.numFilesAdded).toBe(2);
    for (const f of t.snapshot.files) {
      const data = await t.read();
      const rows = arrowToRows(data).filter((r) => r.day === f.partitionValues.day);
      const recomputed = computeStats(rowsToRecordBatch(rows.map(({ day: _d, ...r }) => r), dataSchemaOf(SCHEMA, ['day'])).data, dataSchemaOf(SCHEMA, ['day']));
      expect(JSON.parse(f.stats!)).toEqual(JSON.parse(recomputed));
    }
    // Old files lack the new column: their Arrow schema differs, so the WASM fast path must not
    // splice them; the general path fills the column with nulls.
    await t.append([{ ...row(1000), extra: 'x' }, { ...row(1001), extra: null }], { mergeSchema: true });
    await t.append([{ ...row(1002), extra: 'y' }], {});
    const before = await rowsOf(t);
    expect(before.filter((r) => r.extra === 'x' || r.extra === 'y')).toHaveLength(2);
    const m = await optimize(t, { targetFileSize: 1024 * 1024 });
    expect(m.numFilesAdded).toBe(2);
    expect(await rowsOf(t)).toEqual(before);
    expect(t.snapshot.files).toHaveLength(2);
  });

  it('compacts a flat table whose files come from different encoders and codecs, rows and stats exact', async () => {
    // Flat tables take the JavaScript Parquet reader; the zstd file is refused by it and read by
    // the general reader in the same stream, the parquetjs file has other page layouts.
    const FLAT = parseDdl('id BIGINT NOT NULL, coin STRING, price DOUBLE, qty INT, ok BOOLEAN, d DECIMAL(38,18), small DECIMAL(9,2), day DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ, raw BINARY, part STRING');
    const flatRow = (i: number) => ({
      id: i,
      coin: i % 6 ? ['bitcoin', 'ethereum', 'sölana'][i % 3] : null,
      price: i % 5 ? i / 7 : null,
      qty: i % 4 ? i - 500 : null,
      ok: i % 3 ? i % 2 === 0 : null,
      d: i % 7 ? `${i % 2 ? '-' : ''}${i}.${String(i).padStart(18, '0')}` : null,
      small: `${i % 2 ? '-' : ''}${i}.5`,
      day: new Date(Date.UTC(1600 + i, 0, 1)),
      ts: i % 8 ? new Date(Date.UTC(2026, 10, 28) + i * 1001) : null,
      ntz: new Date(Date.UTC(1969, 11, 31) + i),
      raw: i % 9 ? new Uint8Array([i & 255, 0, 255]) : null,
      part: i % 2 ? 'a' : 'b',
    });
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    const batches: Array<Parameters<DeltaTable['append']>[1]> = [{ create: { schema: FLAT, partitionColumns: ['part'] } }, {}, { compression: 'zstd' }, { engine: 'parquetjs' }, {}, { compression: 'uncompressed' }];
    for (let k = 0; k < batches.length; k++) await t.append(Array.from({ length: 40 }, (_, j) => flatRow(k * 40 + j)), batches[k]);
    const before = await rowsOf(t);
    expect(before).toHaveLength(240);
    const m = await optimize(t, { targetFileSize: 1 << 20 });
    expect(m).toMatchObject({ numFilesRemoved: 12, numFilesAdded: 2 });
    expect(await rowsOf(t)).toEqual(before);
    expect(await rowsOf(await DeltaTable.open(dir))).toEqual(before);
    const data = dataSchemaOf(FLAT, ['part']);
    for (const f of t.snapshot.files) {
      const rows = before.filter((r) => r.part === f.partitionValues.part).map(({ part: _p, ...r }) => r);
      expect(JSON.parse(f.stats!)).toEqual(JSON.parse(computeStats(rowsToRecordBatch(rows, data).data, data)));
    }
  });

  it('honours --where and --min-files', async () => {
    const dir = tmp();
    const t = await smallFileTable(dir, 4, 5);
    const m = await optimize(t, { where: "day = '2026-11-27'" });
    expect(m).toMatchObject({ numFilesRemoved: 4, numFilesAdded: 1, partitionsOptimized: 1 });
    expect((await optimize(t, { where: "day = '2026-11-28'", minFiles: 5 })).version).toBeUndefined();
    await expect(optimize(t, { where: 'id = 3' })).rejects.toThrow(/"id" is not a partition column/);
  });

  it('does not conflict with a concurrent append; a concurrent optimize of the same files gives up cleanly', async () => {
    const dir = tmp();
    await smallFileTable(dir, 6, 5);
    const a = await DeltaTable.open(dir);
    const b = await DeltaTable.open(dir);
    const appender = await DeltaTable.open(dir);
    await appender.append([row(1000)]); // lands between a's snapshot and a's commit
    const ma = await optimize(a, { targetFileSize: 1 << 20 });
    expect(ma.version).toBe(7);
    const filesBefore = readdirSync(path.join(dir, 'day=2026-11-27')).length;
    await expect(optimize(b, { targetFileSize: 1 << 20 })).rejects.toThrow(/OPTIMIZE gave up: version 7 removed/);
    expect(readdirSync(path.join(dir, 'day=2026-11-27')).length).toBe(filesBefore); // its new files were removed
    const final = await DeltaTable.open(dir);
    expect(final.version).toBe(7);
    expect((await rowsOf(final)).map((r) => Number(r.id))).toEqual([...Array.from({ length: 30 }, (_, i) => i), 1000]);
  });
});

describe('VACUUM and log cleanup', () => {
  it('deletes only files outside the retention window, keeps every version in it readable, and refuses short retentions', async () => {
    const dir = tmp();
    const t = await smallFileTable(dir, 4, 5);
    await optimize(t, { targetFileSize: 1 << 20 });
    await expect(vacuum(t, { retentionMs: 3_600_000 })).rejects.toThrow(/below the safe minimum of 168 hours/);
    // Default retention: the optimized-away files are recent, so nothing goes.
    expect((await vacuum(t, { dryRun: true })).deleted).toEqual([]);
    // Make every data file look 8 days old, and an orphan too.
    const old = Date.now() / 1000 - 8 * 86400;
    const orphan = path.join(dir, 'day=2026-11-27', 'part-99999-orphan.snappy.parquet');
    require('node:fs').writeFileSync(orphan, 'x');
    for (const d of ['day=2026-11-27', 'day=2026-11-28']) for (const f of readdirSync(path.join(dir, d))) utimesSync(path.join(dir, d, f), old, old);
    // The tombstones are recent (deleted now): still in the window, so time travel keeps working.
    const dry = await vacuum(t, { dryRun: true });
    expect(dry.deleted).toEqual(['day=2026-11-27/part-99999-orphan.snappy.parquet']);
    const real = await vacuum(t);
    expect(real.deleted).toEqual(['day=2026-11-27/part-99999-orphan.snappy.parquet']);
    // Every version still in the retention window reads back whole after a real VACUUM.
    for (let v = 0; v <= 4; v++) expect(await rowsOf(t, v)).toHaveLength(Math.min(v + 1, 4) * 5);
    expect(readdirSync(path.join(dir, '_delta_log')).length).toBeGreaterThan(0);
    // Now as if the optimize happened 8 days ago: a 1-hour window (forced) drops the old files.
    const r = await vacuum(t, { retentionMs: 3_600_000, force: true, now: Date.now() + 8 * 86_400_000 });
    expect(r.deleted.length).toBe(8); // the 8 compacted-away files (the orphan went earlier)
    expect(await rowsOf(t)).toHaveLength(20); // the latest version is whole
    const hist = await t.history(2);
    expect(hist.map((h) => h.operation)).toEqual(['VACUUM END', 'VACUUM START']);
    expect(readdirSync(path.join(dir, '_delta_log')).some((f) => f.endsWith('.json'))).toBe(true);
  });

  it('cleans expired commits only behind a checkpoint', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    for (let v = 0; v <= 10; v++) await t.append([row(v)], { create: { schema: SCHEMA, configuration: { 'delta.logRetentionDuration': 'interval 1 days', 'delta.deletedFileRetentionDuration': 'interval 1 days' } } });
    // Age commits 0..10 by 3 days; the next checkpoint (version 20) cleans behind checkpoint 10.
    const old = Date.now() / 1000 - 3 * 86400;
    for (let v = 0; v <= 10; v++) utimesSync(path.join(dir, '_delta_log', `${String(v).padStart(20, '0')}.json`), old, old);
    // A writer that found nothing expired at checkpoint 10 does not look again before its oldest
    // commit can expire (CleanupHint): the backdated log is seen by the next run of the job.
    const next = await DeltaTable.forPath(dir);
    for (let v = 11; v < 20; v++) await next.append([row(v)]);
    expect(readdirSync(path.join(dir, '_delta_log'))).toContain('00000000000000000000.json');
    await next.append([row(20)]);
    const log = readdirSync(path.join(dir, '_delta_log'));
    expect(log).not.toContain('00000000000000000000.json');
    expect(log).not.toContain('00000000000000000009.json');
    expect(log).toContain('00000000000000000010.json');
    expect(log).toContain('00000000000000000010.checkpoint.parquet');
    expect(await rowsOf(await DeltaTable.open(dir))).toHaveLength(21);
    expect(statSync(path.join(dir, '_delta_log', '00000000000000000010.checkpoint.parquet')).size).toBeGreaterThan(0);
  });

  it('a writer lists the log for cleanup only once its oldest commit can have expired, and then cleans as a fresh look does', async () => {
    const DAY = 86_400_000;
    const dir = tmp();
    const config = { 'delta.logRetentionDuration': 'interval 2 days', 'delta.deletedFileRetentionDuration': 'interval 1 days' };
    const setup = await DeltaTable.forPath(dir);
    for (let v = 0; v <= 20; v++) await setup.append([row(v)], { create: { schema: SCHEMA, configuration: config } });
    // Every commit written at one instant M (not a midnight): the boundary below is exact.
    const M = Math.floor((Date.now() - 60_000) / 1000) * 1000 + 1;
    for (let v = 0; v <= 20; v++) utimesSync(path.join(dir, '_delta_log', `${String(v).padStart(20, '0')}.json`), M / 1000, M / 1000);
    const expiresAt = Math.ceil(M / DAY) * DAY + 2 * DAY;
    // A writer's handle, counting its listings of _delta_log (on its real local storage).
    const counted = async () => {
      const t = await DeltaTable.forPath(dir);
      const list = t.storage.list.bind(t.storage);
      const n = { lists: 0 };
      t.storage.list = (d: string) => ((n.lists += d === '_delta_log' ? 1 : 0), list(d));
      return { t, n };
    };
    const { t, n } = await counted();
    const memo: { hint?: CleanupHint } = {};
    expect(await cleanupExpiredLogs(t.snapshot, 20, Date.now(), memo)).toEqual([]);
    expect(n.lists).toBe(1);
    expect(memo.hint).toEqual({ retentionMs: 2 * DAY, at: expiresAt });
    // Before then nothing is listed and nothing goes; a fresh look (no memo) agrees, to the last millisecond.
    for (const at of [Date.now() + DAY, expiresAt - 1]) {
      n.lists = 0;
      expect(await cleanupExpiredLogs(t.snapshot, 20, at, memo)).toEqual([]);
      expect(n.lists).toBe(0);
      expect(await cleanupExpiredLogs(t.snapshot, 20, at)).toEqual([]);
      expect(n.lists).toBe(1);
    }
    // A shorter retention (another writer's ALTER TABLE) is not covered by the memo: it looks again.
    n.lists = 0;
    const shorter = new Proxy(t.snapshot, { get: (o, k) => (k === 'config' ? { ...o.config, logRetentionMs: DAY } : Reflect.get(o, k, o)) });
    await cleanupExpiredLogs(shorter, 20, Date.now(), { hint: memo.hint });
    expect(n.lists).toBe(1);
    // At the memo's time the commits have expired: it lists and cleans behind checkpoint 10.
    n.lists = 0;
    const deleted = await cleanupExpiredLogs(t.snapshot, 20, expiresAt, memo);
    expect(n.lists).toBe(1);
    expect(deleted.sort()).toEqual(Array.from({ length: 10 }, (_, v) => `${String(v).padStart(20, '0')}.json`));
    expect(await rowsOf(await DeltaTable.open(dir))).toHaveLength(21);
    // A stream's writer (a checkpoint every 10 commits) lists the log once in 30 checkpoints while nothing can expire.
    const w = await counted();
    for (let v = 21; v < 321; v++) await w.t.append([row(v)]);
    expect(w.n.lists).toBe(1);
  });

  it('runs from the CLI', async () => {
    const dir = tmp();
    await smallFileTable(dir, 3, 4);
    const o = await cli(['optimize', dir, '--where', "day = '2026-11-28'"]);
    expect(o.code).toBe(0);
    expect(o.stdout).toMatch(/optimized 1 partition\(s\): 3 files .* -> 1 files .* as version 3/);
    const v = await cli(['vacuum', dir, '--dry-run']);
    expect(v.stdout).toMatch(/would delete 0 file\(s\)/);
    const bad = await cli(['vacuum', dir, '--retention', '1h']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/below the safe minimum of 168 hours/);
  });
});
