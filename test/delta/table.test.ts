import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { DeltaTable } from '../../src/delta/table.js';
import { engineFor } from '../../src/delta/engine.js';
import { Snapshot } from '../../src/delta/snapshot.js';
import { LocalStorage } from '../../src/storage/local.js';
import { TributaryError } from '../../src/errors.js';
import { tempDir } from '../support/tmp.js';

const run = promisify(execFile);
const tmp = tempDir();
const SCHEMA = parseDdl('id BIGINT NOT NULL, coin STRING, price DOUBLE, ts TIMESTAMP, date DATE');
const row = (id: number) => ({ id, coin: ['btc', 'eth'][id % 2], price: id * 1.5, ts: new Date(Date.UTC(2026, 10, 28) + id * 1000), date: id % 3 ? '2026-11-28' : '2026-11-27' });

const ids = async (t: DeltaTable, version?: number) =>
  arrowToRows(await t.read({ version }))
    .map((r) => Number(r.id))
    .sort((a, b) => a - b);

const logFiles = (dir: string) => readdirSync(path.join(dir, '_delta_log')).sort();

describe('DeltaTable', () => {
  it('creates a table with the first append and reads every version back', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    expect(t.exists).toBe(false);
    const r0 = await t.append([row(0), row(1)], { create: { schema: SCHEMA, partitionColumns: ['date'] } });
    expect(r0.version).toBe(0);
    expect(r0.files).toHaveLength(2); // one per partition
    const r1 = await t.append([row(2)]);
    expect(r1.version).toBe(1);
    const reopened = await DeltaTable.open(dir);
    expect(reopened.version).toBe(1);
    expect(await ids(reopened)).toEqual([0, 1, 2]);
    expect(await ids(reopened, 0)).toEqual([0, 1]);
    const v0 = readFileSync(path.join(dir, '_delta_log', '00000000000000000000.json'), 'utf8').split('\n');
    expect(Object.keys(JSON.parse(v0[0]))).toEqual(['commitInfo']);
    expect(JSON.parse(v0[1])).toEqual({ protocol: { minReaderVersion: 1, minWriterVersion: 2 } });
    expect(JSON.parse(v0[2]).metaData.partitionColumns).toEqual(['date']);
  });

  it('leaves the table and its directory untouched when any row is bad', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append([row(0)], { create: { schema: SCHEMA, partitionColumns: ['date'] } });
    const before = JSON.stringify([logFiles(dir), readdirSync(dir).sort()]);
    const bad = [row(1), row(2), { ...row(3), price: 'cheap' }];
    await expect(t.append(bad)).rejects.toThrow(/row 2, column "price": value "cheap" is not a number/);
    await expect(t.append([{ ...row(4), date: 'someday' }])).rejects.toThrow(/row 0, column "date": value "someday" is not a date/);
    await expect(t.append([{ ...row(4), id: null }])).rejects.toThrow(/row 0, column "id": null in a column that is NOT NULL/);
    expect(JSON.stringify([logFiles(dir), readdirSync(dir).sort()])).toBe(before);
    for (const d of readdirSync(dir).filter((d) => d.startsWith('date='))) expect(readdirSync(path.join(dir, d))).toHaveLength(1);
    expect(t.version).toBe(0);
  });

  it('writes a txn with the data and skips a batch the table already holds', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    const create = { schema: SCHEMA };
    expect((await t.append([row(0)], { create, txn: { appId: 'q1', version: 0 } })).version).toBe(0);
    expect((await t.append([row(1)], { txn: { appId: 'q1', version: 1 } })).version).toBe(1);
    const again = await t.append([row(1)], { txn: { appId: 'q1', version: 1 } });
    expect(again).toMatchObject({ version: undefined, skipped: 'already-committed' });
    // A second handle that has not seen the commit finds out at commit time and writes nothing.
    const stale = await DeltaTable.open(dir, 0);
    const before = readdirSync(dir).length;
    expect(await stale.append([row(1)], { txn: { appId: 'q1', version: 1 } })).toMatchObject({ skipped: 'already-committed' });
    expect(readdirSync(dir).length).toBe(before);
    expect(await ids(await DeltaTable.open(dir))).toEqual([0, 1]);
    expect((await DeltaTable.open(dir)).snapshot.txnVersion('q1')).toBe(1);
  });

  it('checkpoints every 10 versions and replays from the checkpoint alone', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    for (let v = 0; v <= 23; v++) await t.append([row(v)], { create: { schema: SCHEMA, partitionColumns: ['date'] }, txn: { appId: 'app', version: v } });
    expect(logFiles(dir)).toContain('00000000000000000010.checkpoint.parquet');
    expect(logFiles(dir)).toContain('00000000000000000020.checkpoint.parquet');
    expect(JSON.parse(readFileSync(path.join(dir, '_delta_log', '_last_checkpoint'), 'utf8'))).toMatchObject({ version: 20, numOfAddFiles: 21, size: 24 });
    for (let v = 0; v < 20; v++) rmSync(path.join(dir, '_delta_log', `${String(v).padStart(20, '0')}.json`));
    const snap = await Snapshot.load(await engineFor(dir));
    expect(snap.checkpointVersion).toBe(20);
    expect(snap.version).toBe(23);
    expect(snap.txnVersion('app')).toBe(23);
    expect(snap.partitionColumns).toEqual(['date']);
    expect(await ids(await DeltaTable.open(dir))).toEqual(Array.from({ length: 24 }, (_, i) => i));
    await expect(DeltaTable.open(dir, 5)).rejects.toThrow(/cannot be reconstructed/);
  });

  it('falls back to an older checkpoint when the newest is corrupt', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    for (let v = 0; v <= 20; v++) await t.append([row(v)], { create: { schema: SCHEMA } });
    writeFileSync(path.join(dir, '_delta_log', '00000000000000000020.checkpoint.parquet'), 'garbage');
    const snap = await Snapshot.load(await engineFor(dir));
    expect(snap.checkpointVersion).toBe(10);
    expect(snap.files).toHaveLength(21);
  });

  it('adds columns with mergeSchema and refuses them without it', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append([{ id: 1 }], { create: { schema: parseDdl('id BIGINT') } });
    await expect(t.append([{ id: 2, note: 'x' }])).rejects.toThrow(/column "note": not a column of the table/);
    const r = await t.append([{ id: 2, note: 'x', n: 5 }], { mergeSchema: true });
    expect(r.version).toBe(1);
    expect(t.snapshot.schema.fields.map((f) => `${f.name}:${(f.type as { name: string }).name}`)).toEqual(['id:long', 'note:string', 'n:long']);
    const rows = arrowToRows(await t.read()).sort((a, b) => Number(a.id) - Number(b.id));
    expect(rows).toEqual([{ id: 1n, note: null, n: null }, { id: 2n, note: 'x', n: 5n }]);
    const log = readFileSync(path.join(dir, '_delta_log', '00000000000000000001.json'), 'utf8');
    const meta = log.split('\n').map((l) => l && JSON.parse(l)).find((a) => a && a.metaData).metaData;
    expect(meta.id).toBe(t.snapshot.metadata.id);
  });

  it('refuses to write to tables with features it does not implement, naming them', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append([{ id: 1 }], { create: { schema: parseDdl('id BIGINT') } });
    writeFileSync(
      path.join(dir, '_delta_log', '00000000000000000001.json'),
      JSON.stringify({ protocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['deletionVectors'], writerFeatures: ['deletionVectors', 'rowTracking', 'clustering', 'collations', 'allowColumnDefaults'] } }) + '\n',
    );
    const t2 = await DeltaTable.open(dir);
    const e = await t2.append([{ id: 2 }]).catch((x) => x);
    expect(e).toBeInstanceOf(TributaryError);
    expect(e.code).toBe('UNSUPPORTED_FEATURE');
    expect(e.message).toMatch(/implement: collations, allowColumnDefaults$/);
  });

  it('gives timestamp_ntz tables the table features they need', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append([{ id: 1, wall: '2026-11-28T10:00:00' }], { create: { schema: parseDdl('id BIGINT NOT NULL, wall TIMESTAMP_NTZ') } });
    // What Spark 4.1 and 3.5 write for the same table: table features also list the legacy
    // features writer version 2 implies (checked against Spark in test/interop/test_properties.py).
    const p = t.snapshot.protocol;
    expect({ ...p, writerFeatures: [...(p.writerFeatures ?? [])].sort() }).toEqual({ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['timestampNtz'], writerFeatures: ['appendOnly', 'invariants', 'timestampNtz'] });
  });

  it('an append that loses the race to create joins a table of the same definition, and names any difference', async () => {
    const dataFiles = (dir: string) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.parquet')).length;
    // Both handles looked before either created: the second append's version 0 loses.
    const dir = tmp();
    const [a, b, c] = await Promise.all([DeltaTable.forPath(dir), DeltaTable.forPath(dir), DeltaTable.forPath(dir)]);
    const create = { schema: SCHEMA, partitionColumns: ['date'] };
    expect((await a.append([row(0)], { create, txn: { appId: 'q', version: 0 } })).version).toBe(0);
    const joined = await b.append([row(1), row(2)], { create: { schema: parseDdl('id BIGINT NOT NULL, coin STRING COMMENT \'ticker\', price DOUBLE, ts TIMESTAMP, date DATE'), partitionColumns: ['date'] } });
    expect(joined).toMatchObject({ version: 1, numRecords: 2 });
    // A racer carrying a batch the winner already committed writes nothing.
    expect(await c.append([row(0)], { create, txn: { appId: 'q', version: 0 } })).toMatchObject({ version: undefined, skipped: 'already-committed' });
    const after = await DeltaTable.open(dir);
    expect(await ids(after)).toEqual([0, 1, 2]);
    expect(dataFiles(dir)).toBe(after.snapshot.files.length); // the skipped racer's file is gone
    const creates = logFiles(dir).filter((f) => f.endsWith('.json')).filter((f) => readFileSync(path.join(dir, '_delta_log', f), 'utf8').includes('"metaData"'));
    expect(creates).toEqual(['00000000000000000000.json']);

    const cases: [Parameters<DeltaTable['append']>[1], RegExp][] = [
      [{ create: { schema: parseDdl('id BIGINT, coin STRING, price DOUBLE, ts TIMESTAMP, date DATE'), partitionColumns: ['date'] } }, /column "id" is NOT NULL there but nullable here/],
      [{ create: { schema: parseDdl('id BIGINT NOT NULL, coin STRING, price FLOAT, ts TIMESTAMP, date DATE'), partitionColumns: ['date'] } }, /column "price" is double there but float here/],
      [{ create: { schema: parseDdl('id BIGINT NOT NULL, coin STRING, price DOUBLE, ts TIMESTAMP'), partitionColumns: [] } }, /it has a column "date" this write does not/],
      [{ create: { schema: SCHEMA } }, /it is partitioned by \[date\], this append by \[\]/],
      [{ create: { ...create, configuration: { 'delta.appendOnly': 'true' } } }, /its property delta.appendOnly is unset, this append asks for "true"/],
    ];
    for (const [opts, re] of cases) {
      const late = tmp();
      const [first, second] = await Promise.all([DeltaTable.forPath(late), DeltaTable.forPath(late)]);
      await first.append([row(0)], { create });
      const before = JSON.stringify([logFiles(late), dataFiles(late)]);
      const fields = (opts!.create!.schema.fields).map((f) => f.name);
      const e = await second.append([Object.fromEntries(Object.entries(row(1)).filter(([k]) => fields.includes(k)))], opts).catch((x) => x);
      expect(e).toBeInstanceOf(TributaryError);
      expect(e.code).toBe('TABLE_EXISTS');
      expect(e.message).toMatch(/another writer created the table at .* first, and it differs from the table this append would create: /);
      expect(e.message).toMatch(re);
      expect(JSON.stringify([logFiles(late), dataFiles(late)])).toBe(before); // its data file is gone again
    }
    // Explicit create still means "this call makes version 0".
    await expect(DeltaTable.create(dir, { schema: SCHEMA })).rejects.toThrow(/TABLE_EXISTS|already exists/);
  });

  it('retries past concurrent blind appends from other processes', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append([], { create: { schema: parseDdl('id BIGINT, worker INT') } });
    const worker = path.resolve('test/support/append-worker.ts');
    await Promise.all([0, 1, 2, 3].map((w) => run(process.execPath, ['--import', 'tsx', worker, dir, String(w), '8'], { timeout: 60_000 })));
    const after = await DeltaTable.open(dir);
    expect(after.version).toBe(32);
    expect(logFiles(dir).filter((f) => f.endsWith('.json'))).toHaveLength(33);
    const got = await ids(after);
    expect(got).toHaveLength(32);
    expect(new Set(got).size).toBe(32);
    // Commits the writers lost and retried name the version they finally read.
    const history = await after.history();
    expect(history.map((h) => h.version)).toEqual(Array.from({ length: 33 }, (_, i) => 32 - i));
    expect(history.filter((h) => h.version > 0).every((h) => h.readVersion === h.version - 1)).toBe(true);
  }, 120_000);

  it('cuts files near the target size', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    const rows = Array.from({ length: 20000 }, (_, i) => row(i));
    const r = await t.append(rows, { create: { schema: SCHEMA }, targetFileSize: 64 * 1024 });
    expect(r.files.length).toBeGreaterThan(3);
    const sizes = r.files.map((f) => f.size);
    for (const s of sizes.slice(1, -1)) expect(s).toBeGreaterThan(32 * 1024), expect(s).toBeLessThan(128 * 1024);
    const counts = r.files.map((f) => JSON.parse(f.stats!).numRecords as number);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(20000);
    // Each file's min/max bracket exactly its own ids.
    let next = 0;
    for (const f of r.files) {
      const st = JSON.parse(f.stats!);
      expect(st.minValues.id).toBe(next);
      next += st.numRecords;
      expect(st.maxValues.id).toBe(next - 1);
    }
    expect(existsSync(path.join(dir, '_delta_log', '00000000000000000000.json'))).toBe(true);
  });
});
