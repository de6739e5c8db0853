import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { rowsToRecordBatch } from '../../src/arrow/record-batch.js';
import { toArrowSchema } from '../../src/arrow/types.js';
import type { AddFile, Metadata } from '../../src/delta/actions.js';
import {
  checkColumnMapping,
  columnId,
  fileColumnIndex,
  maxColumnIdOf,
  physicalName,
  physicalPartitionColumns,
  physicalSchema,
  relabelBatch,
  withColumnMapping,
  withoutColumnMapping,
} from '../../src/delta/column-mapping.js';
import { commit } from '../../src/delta/commit.js';
import { optimize } from '../../src/delta/operations/optimize.js';
import { vacuum } from '../../src/delta/operations/vacuum.js';
import { DeltaTable } from '../../src/delta/table.js';
import { readFooter } from '../../src/parquet/footer.js';
import { parquetHandler } from '../../src/parquet/engines.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { array, columnNameProblem, type DataType, field, map, parseSchemaString, primitive, schemaToString, struct, type StructField, type StructType } from '../../src/schema/schema.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir();
const NAME = { 'delta.columnMapping.mode': 'name' };
const ID = { 'delta.columnMapping.mode': 'id' };

/** Every struct field with its dotted path, parents before children (into arrays and maps). */
function allFields(t: DataType, at = ''): [string, StructField][] {
  if (t.kind === 'struct') return t.fields.flatMap((f) => [[at + f.name, f] as [string, StructField], ...allFields(f.type, `${at}${f.name}.`)]);
  if (t.kind === 'array') return allFields(t.elementType, at);
  if (t.kind === 'map') return [...allFields(t.keyType, at), ...allFields(t.valueType, at)];
  return [];
}

const readRows = async (t: DeltaTable, version?: number) =>
  arrowToRows(await t.read({ version }))
    .map((r): Record<string, unknown> & { id: number } => ({ ...r, id: Number(r.id) }))
    .sort((a, b) => a.id - b.id);
const key = (r: Record<string, unknown>) => JSON.stringify(r, (_, v) => (typeof v === 'bigint' ? String(v) : v));
const addsOf = (dir: string, version: number): AddFile[] =>
  readFileSync(path.join(dir, '_delta_log', `${String(version).padStart(20, '0')}.json`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((a) => a.add)
    .map((a) => a.add);

/** Spark's ALTER TABLE: a metaData action with another schema (the log is all Spark changes). */
async function alterSchema(t: DeltaTable, change: (s: StructType) => StructType, operation: string) {
  const snap = t.snapshot;
  const metaData: Metadata = { ...snap.metadata, schemaString: schemaToString(change(snap.schema)) };
  const r = await commit(t.storage, snap, { actions: [{ metaData }], isBlindAppend: false, commitInfo: { operation } });
  t.adoptSnapshot(r.snapshot);
}

describe('column mapping: ids and physical names', () => {
  const SCHEMA = parseDdl('id BIGINT, st STRUCT<x: INT, `y z`: STRING>, arr ARRAY<STRUCT<q: INT>>, m MAP<STRING, STRUCT<r: INT>>, d DATE');

  it('assigns ids in schema order, parents before children, into arrays and maps, as Spark does', () => {
    const { schema, configuration } = withColumnMapping(SCHEMA, NAME);
    expect(allFields(schema).map(([p, f]) => [p, columnId(f)])).toEqual([
      ['id', 1], ['st', 2], ['st.x', 3], ['st.y z', 4], ['arr', 5], ['arr.q', 6], ['m', 7], ['m.r', 8], ['d', 9],
    ]);
    for (const [, f] of allFields(schema)) expect(physicalName(f)).toMatch(/^col-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(configuration).toEqual({ ...NAME, 'delta.columnMapping.maxColumnId': '9' });
    // Spark's key order in the schemaString: id, then physicalName.
    expect(Object.keys(schema.fields[0].metadata)).toEqual(['delta.columnMapping.id', 'delta.columnMapping.physicalName']);
    // Already mapped: unchanged (the same ids and names).
    expect(withColumnMapping(schema, configuration).schema).toEqual(schema);
  });

  it('gives new columns the next ids after maxColumnId, even past ids of dropped columns', () => {
    const { schema, configuration } = withColumnMapping(SCHEMA, NAME);
    // Spark dropped "d" (id 9); maxColumnId stays 9, and "e" and "st.w" get 10 and 11.
    const dropped = struct(schema.fields.filter((f) => f.name !== 'd'));
    const st = dropped.fields[1];
    const merged = struct([
      ...dropped.fields.slice(0, 1),
      { ...st, type: struct([...(st.type as StructType).fields, field('w', primitive('long'))]) },
      ...dropped.fields.slice(2),
      field('e', primitive('string')),
    ]);
    const next = withColumnMapping(merged, configuration);
    expect(allFields(next.schema).map(([p, f]) => [p, columnId(f)]).filter(([, id]) => (id as number) > 8)).toEqual([['st.w', 10], ['e', 11]]);
    expect(next.configuration['delta.columnMapping.maxColumnId']).toBe('11');
    // Existing columns keep their physical names: their data stays theirs.
    expect(physicalName(next.schema.fields[0])).toBe(physicalName(schema.fields[0]));
  });

  it('changes nothing without column mapping', () => {
    const r = withColumnMapping(SCHEMA, {});
    expect(r.schema).toBe(SCHEMA);
    expect(r.configuration).toEqual({});
    expect(physicalSchema(SCHEMA, 'none')).toBe(SCHEMA);
    expect(physicalPartitionColumns(SCHEMA, ['d'], 'none')).toEqual(['d']);
  });

  it('builds the physical schema: physical names everywhere, parquet.field.id = the column id', () => {
    const { schema } = withColumnMapping(SCHEMA, ID);
    const physical = physicalSchema(schema, 'id');
    const logical = allFields(schema);
    allFields(physical).forEach(([, f], i) => {
      expect(f.name).toBe(physicalName(logical[i][1]));
      expect(f.metadata['parquet.field.id']).toBe(columnId(logical[i][1]));
    });
    expect(physicalPartitionColumns(schema, ['d'], 'id')).toEqual([physicalName(schema.fields[4])]);
    // The Arrow schema the encoder gets carries the ids as arrow-rs reads them.
    const a = toArrowSchema(physical);
    expect(a.fields[1].metadata.get('PARQUET:field_id')).toBe('2');
    expect((a.fields[1].type as arrow.Struct).children[1].metadata.get('PARQUET:field_id')).toBe('4');
    expect(allFields(withoutColumnMapping(schema)).every(([, f]) => Object.keys(f.metadata).length === 0)).toBe(true);
  });

  it('refuses to write to a table whose mapping is broken, naming the column', () => {
    const { schema, configuration } = withColumnMapping(parseDdl('a INT, b STRUCT<c: INT>'), NAME);
    expect(() => checkColumnMapping(schema, configuration, 't')).not.toThrow();
    const noId = struct([{ ...schema.fields[0], metadata: { 'delta.columnMapping.physicalName': 'col-x' } }, schema.fields[1]]);
    expect(() => checkColumnMapping(noId, configuration, 't')).toThrow(/column "a" has no delta.columnMapping.id/);
    const b = schema.fields[1];
    const dupId = struct([schema.fields[0], { ...b, type: struct([{ ...(b.type as StructType).fields[0], metadata: { ...(b.type as StructType).fields[0].metadata, 'delta.columnMapping.id': 1 } }]) }]);
    expect(() => checkColumnMapping(dupId, configuration, 't')).toThrow(/columns "a" and "b.c" have the same id 1/);
    expect(() => checkColumnMapping(schema, { ...configuration, 'delta.columnMapping.maxColumnId': '2' }, 't')).toThrow(/maxColumnId is "2", below the largest column id 3/);
    expect(() => checkColumnMapping(schema, { 'delta.columnMapping.mode': 'name' }, 't')).toThrow(/maxColumnId is not set/);
    expect(() => checkColumnMapping(schema, { 'delta.columnMapping.mode': 'names' }, 't')).toThrow(/"names" is not a column mapping mode/);
  });

  it('finds file columns by field id in id mode and by physical name otherwise', () => {
    const f = (name: string, id?: number) => new arrow.Field(name, new arrow.Int32(), true, id === undefined ? undefined : new Map([['PARQUET:field_id', String(id)]]));
    const want: StructField = field('col-a', primitive('integer'), true, { 'parquet.field.id': 7 });
    // Id mode: the id decides, whatever the name (a file with ids and no match: the column is newer).
    expect(fileColumnIndex([f('col-b', 3), f('other', 7)], want, 'id')).toBe(1);
    expect(fileColumnIndex([f('col-a', 3)], want, 'id')).toBe(-1);
    // A file without ids: by physical name.
    expect(fileColumnIndex([f('x'), f('col-a')], want, 'id')).toBe(1);
    // Name mode: the name decides.
    expect(fileColumnIndex([f('col-b', 7), f('COL-A', 3)], want, 'name')).toBe(1);
  });

  it('relabels a batch without copying its buffers', () => {
    const { schema } = withColumnMapping(SCHEMA, NAME);
    const rows = [{ id: 1, st: { x: 2, 'y z': 'q' }, arr: [{ q: 3 }, null], m: { k: { r: 4 } }, d: '2024-01-02' }, { id: 2, st: null, arr: null, m: null, d: null }];
    const batch = rowsToRecordBatch(rows, schema);
    const physical = relabelBatch(batch, toArrowSchema(physicalSchema(schema, 'name')));
    expect(physical.schema.fields.map((f) => f.name)).toEqual(schema.fields.map(physicalName));
    expect(physical.data.children[1].children[0].values).toBe(batch.data.children[1].children[0].values);
    const back = relabelBatch(physical, batch.schema);
    expect(arrowToRows(back)).toEqual(arrowToRows(batch));
  });

  it('property: any schema gets unique ids 1..n in order, unique physical names, and round-trips through relabelling', () => {
    // Names Spark takes with column mapping: spaces, dots, commas, braces, unicode.
    const name = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '.', ',', ';', '{', '(', '=', '\t', 'é', '😀', '`'), minLength: 1, maxLength: 6 });
    const leaf = fc.constantFrom<DataType>(primitive('long'), primitive('string'), primitive('double'));
    const type: fc.Arbitrary<DataType> = fc.letrec<{ t: DataType }>((tie) => ({
      t: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.uniqueArray(fc.tuple(name, tie('t')), { minLength: 1, maxLength: 3, selector: ([n]) => n.toLowerCase() }).map((fs) => struct(fs.map(([n, t]) => field(n, t)))),
        tie('t').map((t) => array(t)),
        tie('t').map((t) => map(primitive('string'), t)),
      ),
    })).t;
    const schemaArb = fc.uniqueArray(fc.tuple(name, type), { minLength: 1, maxLength: 4, selector: ([n]) => n.toLowerCase() }).map((fs) => struct(fs.map(([n, t]) => field(n, t))));
    fc.assert(
      fc.property(schemaArb, (s) => {
        const { schema, configuration } = withColumnMapping(s, NAME);
        const fields = allFields(schema);
        expect(fields.map(([, f]) => columnId(f))).toEqual(fields.map((_, i) => i + 1));
        expect(new Set(fields.map(([, f]) => physicalName(f))).size).toBe(fields.length);
        expect(configuration['delta.columnMapping.maxColumnId']).toBe(String(fields.length));
        expect(maxColumnIdOf(schema)).toBe(fields.length);
        expect(() => checkColumnMapping(schema, configuration, 't')).not.toThrow();
        // The schemaString round-trips, and every name is one Spark takes with column mapping.
        expect(parseSchemaString(schemaToString(schema))).toEqual(schema);
        for (const [, f] of fields) expect(columnNameProblem(f.name, true)).toBeUndefined();
        // Relabelling to physical and back keeps the Arrow types (names included) exactly.
        const logicalArrow = toArrowSchema(schema);
        const empty = rowsToRecordBatch([], schema, {});
        const there = relabelBatch(empty, toArrowSchema(physicalSchema(schema, 'name')));
        expect(String(relabelBatch(there, logicalArrow).data.type)).toBe(String(empty.data.type));
      }),
      { seed: 20261202, numRuns: 200 },
    );
  });
});

describe('column mapping: tables', () => {
  const DDL = 'id BIGINT, `24h change` DOUBLE, `a.b` STRING, `price (usd)` DECIMAL(10,2), st STRUCT<`y z`: STRING, n: INT>, tags ARRAY<STRUCT<`k v`: STRING>>, `trade date` DATE';
  const rows = [
    { id: 1, '24h change': 2.5, 'a.b': 'x', 'price (usd)': '1.25', st: { 'y z': 'q', n: 1 }, tags: [{ 'k v': 't' }], 'trade date': '2024-01-02' },
    { id: 2, '24h change': null, 'a.b': 'y', 'price (usd)': '3.00', st: null, tags: null, 'trade date': '2024-01-03' },
    { id: 3, '24h change': -1, 'a.b': null, 'price (usd)': null, st: { 'y z': null, n: null }, tags: [], 'trade date': null },
  ];

  for (const mode of ['name', 'id'] as const) {
    it(`${mode} mode: names Spark refuses without mapping, physical names and field ids in the files, stats and partition values by physical name`, async () => {
      const dir = tmp();
      const t = await DeltaTable.forPath(dir);
      await t.append(rows, { create: { schema: parseDdl(DDL), partitionColumns: ['trade date'], configuration: { 'delta.columnMapping.mode': mode } } });
      const schema = t.snapshot.schema;
      expect(t.snapshot.metadata.configuration).toEqual({ 'delta.columnMapping.mode': mode, 'delta.columnMapping.maxColumnId': '10' });
      expect(t.snapshot.protocol).toEqual({ minReaderVersion: 2, minWriterVersion: 7, writerFeatures: ['columnMapping', 'appendOnly', 'invariants'] });
      const part = physicalName(schema.fields[6]);
      const adds = addsOf(dir, 0);
      expect(adds.map((a) => Object.keys(a.partitionValues))).toEqual(adds.map(() => [part]));
      for (const a of adds) {
        expect(a.path.startsWith(`${part}=`)).toBe(true);
        const stats = JSON.parse(a.stats!);
        expect(Object.keys(stats.nullCount).sort()).toEqual(schema.fields.slice(0, 6).map(physicalName).sort());
        // The Parquet schema: physical names, field ids = column ids (nested ones too).
        const footer = readFooter(readFileSync(path.join(dir, decodeURIComponent(a.path))));
        const named = footer.schema.slice(1).filter((e) => e.name.startsWith('col-'));
        const expected = allFields(struct(schema.fields.slice(0, 6)));
        expect(named.map((e) => [e.name, e.fieldId])).toEqual(expected.map(([, f]) => [physicalName(f), columnId(f)]));
      }
      expect(await readRows(t)).toEqual(rows);
    });
  }

  it('renamed and dropped columns (done by Spark) keep their data; our appends after a rename land under the right column', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append(rows, { create: { schema: parseDdl(DDL), partitionColumns: ['trade date'], configuration: NAME } });
    await alterSchema(t, (s) => struct(s.fields.map((f) => (f.name === 'a.b' ? { ...f, name: 'renamed' } : f))), 'RENAME COLUMN');
    await alterSchema(t, (s) => struct(s.fields.filter((f) => f.name !== '24h change')), 'DROP COLUMN');
    // Re-adding a dropped name makes a new column: the old data does not come back.
    await t.append([{ id: 4, renamed: 'z', '24h change': 9 }], { mergeSchema: true });
    expect(t.snapshot.metadata.configuration['delta.columnMapping.maxColumnId']).toBe('11');
    const got = await readRows(await DeltaTable.open(dir));
    expect(got.map((r) => [r.id, r.renamed, r['24h change']])).toEqual([
      [1, 'x', null],
      [2, 'y', null],
      [3, null, null],
      [4, 'z', 9n], // inferred as BIGINT
    ]);
    expect(got.every((r) => !('a.b' in r))).toBe(true);
    // Time travel reads each version with its own schema.
    expect((await readRows(t, 0)).map((r) => r['a.b'])).toEqual(['x', 'y', null]);
  });

  it('OPTIMIZE and VACUUM keep the rows, physical names and field ids', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    const create = { schema: parseDdl(DDL), partitionColumns: ['trade date'], configuration: ID };
    for (const r of rows) await t.append([r, { ...r, id: r.id + 10 }], { create });
    await t.append([{ ...rows[0], id: 20 }], { engine: 'parquetjs' });
    // Flat tables take the JavaScript reader's path; this one is nested (the WebAssembly one).
    const flat = await DeltaTable.forPath(tmp());
    for (let i = 0; i < 3; i++) await flat.append([{ 'x y': i, 'p q': 'a' }], { create: { schema: parseDdl('`x y` BIGINT, `p q` STRING'), partitionColumns: ['p q'], configuration: NAME } });
    for (const table of [t, flat]) {
      const before = arrowToRows(await table.read());
      const m = await optimize(table, { where: table === flat ? '`p q` = \'a\'' : undefined });
      expect(m.numFilesRemoved).toBeGreaterThan(1);
      const after = arrowToRows(await (await DeltaTable.open(table.storage.root)).read());
      expect(after.map(key).sort()).toEqual(before.map(key).sort());
      const schema = table.snapshot.schema;
      for (const a of table.snapshot.files) {
        const footer = readFooter(readFileSync(path.join(table.storage.root, decodeURIComponent(a.path))));
        const top = footer.schema.filter((e) => e.name.startsWith('col-')).slice(0, 1);
        expect(top.map((e) => [e.name, e.fieldId])).toEqual([[physicalName(schema.fields[0]), columnId(schema.fields[0])]]);
        expect(Object.keys(JSON.parse(a.stats!).minValues)[0]).toBe(physicalName(schema.fields[0]));
      }
      const v = await vacuum(table, { retentionMs: 0, force: true });
      expect(v.deleted.length).toBe(m.numFilesRemoved);
      expect(arrowToRows(await (await DeltaTable.open(table.storage.root)).read()).map(key).sort()).toEqual(before.map(key).sort());
    }
  });

  it('checkpoints keep partition values by physical name', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    const create = { schema: parseDdl('id BIGINT, `d d` STRING'), partitionColumns: ['d d'], configuration: { ...NAME, 'delta.checkpointInterval': '2' } };
    for (let i = 0; i < 5; i++) await t.append([{ id: i, 'd d': `p ${i % 2}` }], { create });
    expect(readdirSync(path.join(dir, '_delta_log'))).toContain('00000000000000000004.checkpoint.parquet');
    const back = await DeltaTable.open(dir);
    expect(back.snapshot.checkpointVersion).toBe(4);
    expect((await readRows(back)).map((r) => r['d d'])).toEqual(['p 0', 'p 1', 'p 0', 'p 1', 'p 0']);
  });

  it('a racing create of the same mapped table: the loser appends under the winner\'s physical names', async () => {
    const dir = tmp();
    const create = { schema: parseDdl('id BIGINT, `a b` STRING'), configuration: NAME };
    const loser = await DeltaTable.forPath(dir);
    const winner = await DeltaTable.forPath(dir);
    await winner.append([{ id: 1, 'a b': 'w' }], { create });
    // The loser still thinks there is no table: it writes files, loses version 0, and joins.
    const r = await loser.append([{ id: 2, 'a b': 'l' }], { create });
    expect(r.version).toBe(1);
    expect((await readRows(await DeltaTable.open(dir))).map((x) => x['a b'])).toEqual(['w', 'l']);
    const names = new Set(readdirSync(dir).filter((f) => f.endsWith('.parquet')));
    expect(names.size).toBe(2); // the loser's first files were removed
  });

  it('refuses names Spark refuses without column mapping, and an unknown mode', async () => {
    const t = await DeltaTable.forPath(tmp());
    await expect(t.append([{ 'a b': 1 }], { create: { schema: parseDdl('`a b` INT') } })).rejects.toThrow(/column name "a b" contains a space, which Spark refuses in Delta column names .*a table with column mapping allows them/);
    await expect(t.append([{ a: 1 }], { create: { schema: parseDdl('a INT'), configuration: { 'delta.columnMapping.mode': 'names' } } })).rejects.toThrow(/delta.columnMapping.mode="names": must be none, name or id/);
    expect(t.exists).toBe(false);
  });

  it('parquetjs writes the same field ids', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append(rows, { create: { schema: parseDdl(DDL), configuration: ID }, engine: parquetHandler('parquetjs') });
    const schema = t.snapshot.schema;
    const footer = readFooter(readFileSync(path.join(dir, decodeURIComponent(t.snapshot.files[0].path))));
    const named = footer.schema.filter((e) => e.name.startsWith('col-'));
    expect(named.map((e) => [e.name, e.fieldId])).toEqual(allFields(schema).map(([, f]) => [physicalName(f), columnId(f)]));
    expect(await readRows(t)).toEqual(rows);
  });
});
