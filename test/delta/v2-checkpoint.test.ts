import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { rowsToRecordBatch } from '../../src/arrow/record-batch.js';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { parseDdl } from '../../src/schema/ddl.js';
import type { Action } from '../../src/delta/actions.js';
import { CHECKPOINT_ROW_GROUP_ACTIONS, CHECKPOINT_SCHEMA, checkpointRows } from '../../src/delta/checkpoint.js';
import { engineFor } from '../../src/delta/engine.js';
import { jsonChecksum } from '../../src/delta/json-checksum.js';
import { cleanupExpiredLogs } from '../../src/delta/operations/log-cleanup.js';
import { Snapshot } from '../../src/delta/snapshot.js';
import { readCheckpointActions, writeV2Checkpoint } from '../../src/delta/v2-checkpoint.js';
import { readFooter } from '../../src/parquet/footer.js';
import { DeltaTable } from '../../src/delta/table.js';
import { tempDir } from '../support/tmp.js';

/**
 * V2 checkpoints: written as Spark writes them by default for delta.checkpointPolicy=v2 (a
 * UUID-named JSON file with checkpointMetadata and a sidecar, `_last_checkpoint` with the
 * v2Checkpoint summary and its checksum), read in every form the protocol allows (JSON or
 * Parquet top level, with or without sidecars, classic names with V2 content), falling back to
 * an older checkpoint when one is incomplete, and cleaned up without losing a sidecar a kept
 * checkpoint needs. Spark reads and writes the same tables in test/interop/test_v2_checkpoints.py.
 */
const tmp = tempDir('tributary-v2cp-');
const SCHEMA = parseDdl('id BIGINT NOT NULL, s STRING');
const log = (dir: string) => path.join(dir, '_delta_log');
const pad = (v: number) => String(v).padStart(20, '0');
const ids = async (dir: string, version?: number) =>
  arrowToRows(await (await DeltaTable.open(dir)).read({ version }))
    .map((r) => Number(r.id))
    .sort((a, b) => a - b);
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

async function v2Table(dir: string, appends: number, props: Record<string, string> = { 'delta.checkpointPolicy': 'v2', 'delta.checkpointInterval': '2' }): Promise<DeltaTable> {
  const t = await DeltaTable.forPath(dir);
  for (let a = 0; a < appends; a++) await t.append(range(a * 3, a * 3 + 3).map((i) => ({ id: i, s: `s${i}` })), { create: { schema: SCHEMA, configuration: props } });
  return t;
}

const uuidCheckpoints = (dir: string) => readdirSync(log(dir)).filter((n) => /^\d{20}\.checkpoint\.[0-9a-f-]{36}\.(json|parquet)$/.test(n)).sort();
const sidecars = (dir: string) => (existsSync(path.join(log(dir), '_sidecars')) ? readdirSync(path.join(log(dir), '_sidecars')).sort() : []);

describe('the _last_checkpoint checksum', () => {
  it('matches the protocol example', () => {
    const json = `{"k0":"'v 0'", "checksum": "adsaskfljadfkjadfkj", "k1":{"k2": 2, "k3": ["v3", [1, 2], {"k4": "v4", "k5": ["v5", "v6", "v7"]}]}}`;
    expect(jsonChecksum(JSON.parse(json))).toBe('6a92d155a59bf2eecbd4b4ec7fd1f875');
  });

  it('sorts whole path=value pairs as Spark does (arrays of ten or more elements)', () => {
    const canonical = ['"a"+0=0', '"a"+10=10', '"a"+1=1', ...range(2, 10).map((i) => `"a"+${i}=${i}`)].join(',');
    expect(jsonChecksum({ a: range(0, 11) })).toBe(createHash('md5').update(canonical).digest('hex'));
  });
});

describe('writing V2 checkpoints', () => {
  it('writes a UUID-named JSON checkpoint with a sidecar and a checksummed _last_checkpoint, for tables with checkpointPolicy v2', async () => {
    const dir = tmp();
    await v2Table(dir, 5);
    const tops = uuidCheckpoints(dir);
    expect(tops.map((n) => n.slice(0, 20))).toEqual([pad(2), pad(4)]);
    expect(tops.every((n) => n.endsWith('.json'))).toBe(true);
    expect(readdirSync(log(dir)).some((n) => n.endsWith('.checkpoint.parquet'))).toBe(false);
    expect(sidecars(dir)).toHaveLength(2);
    const top = readFileSync(path.join(log(dir), tops[1]), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(top[0]).toEqual({ checkpointMetadata: { version: 4 } });
    const sidecar = top.find((a) => a.sidecar).sidecar;
    expect(sidecars(dir)).toContain(sidecar.path);
    expect(sidecar.sizeInBytes).toBe(statSync(path.join(log(dir), '_sidecars', sidecar.path)).size);
    expect(top.filter((a) => a.add || a.remove)).toEqual([]);
    expect(top.some((a) => a.protocol) && top.some((a) => a.metaData)).toBe(true);
    const last = JSON.parse(readFileSync(path.join(log(dir), '_last_checkpoint'), 'utf8'));
    expect(last).toMatchObject({ version: 4, numOfAddFiles: 5, v2Checkpoint: { path: tops[1], sizeInBytes: statSync(path.join(log(dir), tops[1])).size, sidecarFiles: [sidecar] } });
    expect(last.size).toBe(5 + top.length);
    expect(last.v2Checkpoint.nonFileActions.map((a: object) => Object.keys(a)[0])).toEqual(['protocol', 'metaData', 'checkpointMetadata']);
    expect(last.checksum).toBe(jsonChecksum(last));
    // The checkpoint carries the whole state: with the commits before it gone, every row reads.
    for (let v = 0; v < 4; v++) rmSync(path.join(log(dir), `${pad(v)}.json`));
    const snap = await Snapshot.load(await engineFor(dir));
    expect(snap.checkpointVersion).toBe(4);
    expect(await ids(dir)).toEqual(range(0, 15));
  });

  it('writes the sidecar a row group of actions at a time: more file actions than one row group read back whole, from several row groups', async () => {
    const dir = tmp();
    const engine = await engineFor(dir);
    const CHUNK = CHECKPOINT_ROW_GROUP_ACTIONS;
    const actions: Action[] = [
      { protocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['v2Checkpoint'], writerFeatures: ['v2Checkpoint'] } },
      { metaData: { id: '0b6e2f3a-8c1d-4e5f-9a7b-1c2d3e4f5a6b', format: { provider: 'parquet', options: {} }, schemaString: JSON.stringify({ type: 'struct', fields: [{ name: 'id', type: 'long', nullable: false, metadata: {} }] }), partitionColumns: [], configuration: { 'delta.checkpointPolicy': 'v2' }, createdTime: 1_764_633_600_000 } },
    ];
    const adds = 2 * CHUNK + 3;
    for (let i = 0; i < adds; i++) actions.push({ add: { path: `part-${String(i).padStart(5, '0')}.snappy.parquet`, partitionValues: {}, size: 1000 + i, modificationTime: 1_764_633_600_000 + i, dataChange: true, stats: JSON.stringify({ numRecords: 1, minValues: { id: i }, maxValues: { id: i }, nullCount: { id: 0 } }) } });
    actions.push({ remove: { path: 'part-old.snappy.parquet', deletionTimestamp: 1_764_633_600_000, dataChange: true, extendedFileMetadata: true, partitionValues: {}, size: 7 } });
    const info = await writeV2Checkpoint(engine, 9, actions);
    expect(info).toMatchObject({ version: 9, numOfAddFiles: adds });
    const [sidecar] = sidecars(dir);
    const footer = readFooter(new Uint8Array(readFileSync(path.join(log(dir), '_sidecars', sidecar))));
    expect(footer.numRows).toBe(adds + 1);
    expect(footer.rowGroups.map((g) => Number(g.numRows))).toEqual([CHUNK, CHUNK, 4]);
    // Every action reads back, in order: the top level's non-file actions, then the sidecar's.
    const back = await readCheckpointActions(engine, [`_delta_log/${info.v2Checkpoint!.path}`]);
    expect(back).toEqual(actions);
  });

  it('writes classic checkpoints for a table that supports v2Checkpoint with the classic policy', async () => {
    const dir = tmp();
    await v2Table(dir, 3, { 'delta.feature.v2Checkpoint': 'supported', 'delta.checkpointInterval': '2' });
    expect(uuidCheckpoints(dir)).toEqual([]);
    expect(existsSync(path.join(log(dir), `${pad(2)}.checkpoint.parquet`))).toBe(true);
    const last = JSON.parse(readFileSync(path.join(log(dir), '_last_checkpoint'), 'utf8'));
    expect(last.v2Checkpoint).toBeUndefined();
    expect(last.checksum).toBe(jsonChecksum(last));
  });
});

describe('reading V2 checkpoints', () => {
  /** Every action of the table's checkpoint at `version` (written by us), as checkpoint rows. */
  async function stateRows(dir: string, version: number) {
    const snap = await Snapshot.load(await engineFor(dir), version);
    return checkpointRows(snap.state.checkpointActions(Date.now(), 7 * 86_400_000));
  }
  // The V2 spec's two extra columns (PROTOCOL.md "Checkpoint Schema").
  const V2_SCHEMA = parseDdl('checkpointMetadata STRUCT<version: BIGINT, tags: MAP<STRING, STRING>>, sidecar STRUCT<path: STRING, sizeInBytes: BIGINT, modificationTime: BIGINT, tags: MAP<STRING, STRING>>');
  const FULL = { kind: 'struct' as const, fields: [...CHECKPOINT_SCHEMA.fields, ...V2_SCHEMA.fields] };

  async function writeParquet(dir: string, rel: string, rows: Record<string, unknown>[], schema = FULL) {
    const engine = await engineFor(dir);
    const bytes = await engine.parquet.encode(new arrow.Table([rowsToRecordBatch(rows, schema)]), schema, { compression: 'snappy', rowGroupRows: 1000 });
    writeFileSync(path.join(dir, rel), bytes);
    return bytes.length;
  }

  /** A plain table (classic policy, no checkpoints yet) with 4 commits. */
  async function plain(dir: string) {
    await v2Table(dir, 4, { 'delta.feature.v2Checkpoint': 'supported' });
    return stateRows(dir, 3);
  }

  it('reads a Parquet UUID-named checkpoint whose file actions are in sidecars', async () => {
    const dir = tmp();
    const rows = await plain(dir);
    const files = rows.filter((r) => 'add' in r || 'remove' in r);
    const other = rows.filter((r) => !('add' in r || 'remove' in r));
    const SIDECAR = { kind: 'struct' as const, fields: CHECKPOINT_SCHEMA.fields.filter((f) => f.name === 'add' || f.name === 'remove') };
    // Two sidecars, one of them referenced by a URI-encoded name.
    const names = ['a b.parquet', `${randomUUID()}.parquet`];
    const sizes: number[] = [];
    mkdirSync(path.join(log(dir), '_sidecars'));
    sizes.push(await writeParquet(dir, `_delta_log/_sidecars/${names[0]}`, files.slice(0, 2), SIDECAR));
    sizes.push(await writeParquet(dir, `_delta_log/_sidecars/${names[1]}`, files.slice(2), SIDECAR));
    await writeParquet(dir, `_delta_log/${pad(3)}.checkpoint.${randomUUID()}.parquet`, [
      { checkpointMetadata: { version: 3, tags: {} } },
      { sidecar: { path: 'a%20b.parquet', sizeInBytes: sizes[0], modificationTime: 1 } },
      { sidecar: { path: names[1], sizeInBytes: sizes[1], modificationTime: 1 } },
      ...other,
    ]);
    for (let v = 0; v < 3; v++) rmSync(path.join(log(dir), `${pad(v)}.json`));
    expect((await Snapshot.load(await engineFor(dir))).checkpointVersion).toBe(3);
    expect(await ids(dir)).toEqual(range(0, 12));
  });

  it('reads a JSON UUID-named checkpoint holding its file actions inline, and a classic name with V2 content', async () => {
    const dir = tmp();
    await plain(dir);
    const snap = await Snapshot.load(await engineFor(dir), 3);
    const actions = snap.state.checkpointActions(Date.now(), 7 * 86_400_000);
    writeFileSync(path.join(log(dir), `${pad(3)}.checkpoint.${randomUUID()}.json`), [{ checkpointMetadata: { version: 3 } }, ...actions].map((a) => JSON.stringify(a)).join('\n') + '\n');
    for (let v = 0; v < 3; v++) rmSync(path.join(log(dir), `${pad(v)}.json`));
    expect(await ids(dir)).toEqual(range(0, 12));
    // A classic-named checkpoint at 3 with a checkpointMetadata row and a sidecar (Spark's
    // compatibility checkpoints), read when the UUID-named one is gone.
    const dir2 = tmp();
    const rows = await plain(dir2);
    mkdirSync(path.join(log(dir2), '_sidecars'));
    const SIDECAR = { kind: 'struct' as const, fields: CHECKPOINT_SCHEMA.fields.filter((f) => f.name === 'add' || f.name === 'remove') };
    const size = await writeParquet(dir2, '_delta_log/_sidecars/s.parquet', rows.filter((r) => 'add' in r), SIDECAR);
    await writeParquet(dir2, `_delta_log/${pad(3)}.checkpoint.parquet`, [{ checkpointMetadata: { version: 3, tags: null } }, { sidecar: { path: 's.parquet', sizeInBytes: size, modificationTime: 1, tags: null } }, ...rows.filter((r) => !('add' in r))]);
    for (let v = 0; v < 3; v++) rmSync(path.join(log(dir2), `${pad(v)}.json`));
    expect(await ids(dir2)).toEqual(range(0, 12));
  });

  it('falls back to an older checkpoint when a V2 checkpoint lacks its sidecar or its checkpointMetadata', async () => {
    const dir = tmp();
    await v2Table(dir, 5);
    const [, cp4] = uuidCheckpoints(dir);
    const sidecar = JSON.parse(readFileSync(path.join(log(dir), cp4), 'utf8').split('\n').find((l) => l.includes('"sidecar"'))!).sidecar.path;
    rmSync(path.join(log(dir), '_sidecars', sidecar));
    let snap = await Snapshot.load(await engineFor(dir));
    expect(snap.checkpointVersion).toBe(2);
    expect(await ids(dir)).toEqual(range(0, 15));
    // Without checkpointMetadata the file is not a V2 checkpoint: the one at 2 is used instead.
    const lines = readFileSync(path.join(log(dir), cp4), 'utf8').split('\n').filter((l) => l && !l.includes('checkpointMetadata'));
    writeFileSync(path.join(log(dir), cp4), lines.join('\n') + '\n');
    snap = await Snapshot.load(await engineFor(dir));
    expect(snap.checkpointVersion).toBe(2);
  });
});

describe('log cleanup with V2 checkpoints', () => {
  it('deletes expired commits and checkpoints, and only the sidecars no kept checkpoint references', async () => {
    const dir = tmp();
    await v2Table(dir, 7);
    const [cp2, cp4, cp6] = uuidCheckpoints(dir);
    const sidecarOf = (cp: string) => JSON.parse(readFileSync(path.join(log(dir), cp), 'utf8').split('\n').find((l) => l.includes('"sidecar"'))!).sidecar.path as string;
    const [s2, s4, s6] = [cp2, cp4, cp6].map(sidecarOf);
    // An orphan sidecar newer than the cutoff (a checkpoint being written) and another tool's file.
    const now = Date.now() + 40 * 86_400_000;
    const orphan = `${randomUUID()}.parquet`;
    writeFileSync(path.join(log(dir), '_sidecars', orphan), 'x');
    utimesSync(path.join(log(dir), '_sidecars', orphan), new Date(now), new Date(now));
    writeFileSync(path.join(log(dir), '_sidecars', `.${s4}.crc`), 'x');
    const snap = await Snapshot.load(await engineFor(dir));
    // 30 days of log retention, 40 days from now: every commit before 6 has expired.
    const deleted = await cleanupExpiredLogs(snap, 6, now);
    expect(deleted.sort()).toEqual([`${pad(0)}.json`, `${pad(1)}.json`, `${pad(2)}.json`, `${pad(3)}.json`, cp2, `_sidecars/${s2}`].sort());
    expect(sidecars(dir).sort()).toEqual([`.${s4}.crc`, orphan, s4, s6].sort());
    expect(await ids(dir)).toEqual(range(0, 21));
    expect(await ids(dir, 4)).toEqual(range(0, 15));
  });

  it('deletes no sidecar when a kept checkpoint cannot be read', async () => {
    const dir = tmp();
    await v2Table(dir, 7);
    const [cp2, , cp6] = uuidCheckpoints(dir);
    writeFileSync(path.join(log(dir), cp6), '{"checkpointMetadata":');
    const snap = await Snapshot.load(await engineFor(dir), 5);
    const before = sidecars(dir);
    const deleted = await cleanupExpiredLogs(snap, 6, Date.now() + 40 * 86_400_000);
    expect(deleted).toContain(cp2);
    expect(sidecars(dir)).toEqual(before);
  });
});
