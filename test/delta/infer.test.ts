import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { inferSchema } from '../../src/delta/infer.js';
import { DeltaTable } from '../../src/delta/table.js';
import { JsonNumber } from '../../src/json/json-number.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { type StructType, typeToString } from '../../src/schema/schema.js';
import { tempDir } from '../support/tmp.js';

/**
 * mergeSchema without an input schema: the types rows bring, at any depth, by the rules of
 * Spark's JSON inference (test/interop/test_merge_schema_features.py has Spark's side). Before,
 * only new top-level columns of scalars were inferred: a new field inside a struct was refused
 * ("unknown field") and a column only ever null was "not a column of the table" even with
 * mergeSchema.
 */
const tmp = tempDir('tributary-infer-');
const infer = (rows: unknown[], ddl: string) => typeToString(inferSchema(rows as Record<string, unknown>[], parseDdl(ddl)));
const ddl = (s: string) => typeToString(parseDdl(s));

describe('inferSchema', () => {
  it('adds new fields inside the table’s structs, also in arrays and map values, after the table’s own', () => {
    expect(infer([{ id: 1, s: { a: 1, b: 'x', c: { d: [1, 2.5] } } }], 'id BIGINT, s STRUCT<a: BIGINT>')).toBe(ddl('id BIGINT, s STRUCT<a: BIGINT, b: STRING, c: STRUCT<d: ARRAY<DOUBLE>>>'));
    expect(infer([{ items: [{ a: 1 }, { a: 2, b: true }, null] }, { items: null }], 'items ARRAY<STRUCT<a: INT>>')).toBe(ddl('items ARRAY<STRUCT<a: INT, b: BOOLEAN>>'));
    expect(infer([{ m: { k1: { a: 1, c: 'x' }, k2: null } }], 'm MAP<STRING, STRUCT<a: INT>>')).toBe(ddl('m MAP<STRING, STRUCT<a: INT, c: STRING>>'));
    expect(infer([{ m: new Map([['k', { a: 1, c: 2 }]]) }], 'm MAP<STRING, STRUCT<a: INT>>')).toBe(ddl('m MAP<STRING, STRUCT<a: INT, c: BIGINT>>'));
    // A field the rows leave out stays; the table's order comes first whatever the rows' order.
    expect(infer([{ s: { z: 1, b: 2 } }], 'a INT, s STRUCT<a: INT, b: BIGINT>, t INT')).toBe(ddl('a INT, s STRUCT<a: INT, b: BIGINT, z: BIGINT>, t INT'));
  });

  it('types new columns as Spark’s JSON inference does: only-null and only-empty positions are STRING, long with double is double', () => {
    expect(infer([{ n: null }, {}], 'id BIGINT')).toBe(ddl('id BIGINT, n STRING'));
    expect(infer([{ e: [] }, { e: [null] }], 'id BIGINT')).toBe(ddl('id BIGINT, e ARRAY<STRING>'));
    expect(infer([{ x: 1 }, { x: 2.5 }, { x: null }], 'id BIGINT')).toBe(ddl('id BIGINT, x DOUBLE'));
    expect(infer([{ x: [1, 2.5, null], y: { p: null } }, { y: { q: [[1]] } }], 'id BIGINT')).toBe(ddl('id BIGINT, x ARRAY<DOUBLE>, y STRUCT<p: STRING, q: ARRAY<ARRAY<BIGINT>>>'));
    expect(infer([{ big: new JsonNumber('123456789012345678901') }, { f: new JsonNumber('1.00000000000000000001') }], 'id BIGINT')).toBe(ddl('id BIGINT, big DECIMAL(21,0), f DOUBLE'));
    expect(infer([{ t: new Date(0), b: new Uint8Array([1]), ok: false, n: 5n }], 'id BIGINT')).toBe(ddl('id BIGINT, t TIMESTAMP, b BINARY, ok BOOLEAN, n BIGINT'));
    // New fields keep the order they first appear in, across rows.
    expect(infer([{ s: { b: 1 } }, { s: { a: 1, b: 2 } }], 'id BIGINT')).toBe(ddl('id BIGINT, s STRUCT<b: BIGINT, a: BIGINT>'));
  });

  it('types integers beyond 64 bits as Spark does: DECIMAL(digits, 0), widened with long to DECIMAL(20, 0) or more, with double to double', () => {
    const n = (t: string) => new JsonNumber(t);
    // Long's bounds exactly: the first integer past each is a decimal of its digits (Jackson's BIG_INTEGER).
    expect(infer([{ a: n('9223372036854775807'), b: n('-9223372036854775808'), c: n('9223372036854775808'), d: n('-9223372036854775809') }], 'id BIGINT')).toBe(
      ddl('id BIGINT, a BIGINT, b BIGINT, c DECIMAL(19,0), d DECIMAL(19,0)'),
    );
    expect(infer([{ x: 2n ** 64n, y: -(2n ** 63n) }], 'id BIGINT')).toBe(ddl('id BIGINT, x DECIMAL(20,0), y BIGINT'));
    // 38 digits is the widest decimal; 39 is a double.
    expect(infer([{ w: n('9'.repeat(38)), h: n('1' + '0'.repeat(38)) }], 'id BIGINT')).toBe(ddl('id BIGINT, w DECIMAL(38,0), h DOUBLE'));
    // Across rows and elements: long with a 19-digit decimal is DECIMAL(20,0); two decimals the wider; any with double double.
    expect(infer([{ x: n('9223372036854775808') }, { x: 1 }], 'id BIGINT')).toBe(ddl('id BIGINT, x DECIMAL(20,0)'));
    expect(infer([{ x: [n('1' + '0'.repeat(25)), n('-9223372036854775809')] }], 'id BIGINT')).toBe(ddl('id BIGINT, x ARRAY<DECIMAL(26,0)>'));
    expect(infer([{ x: n('1' + '0'.repeat(25)) }, { x: 0.5 }], 'id BIGINT')).toBe(ddl('id BIGINT, x DOUBLE'));
    expect(() => infer([{ x: n('1' + '0'.repeat(25)) }, { x: 'a' }], 'id BIGINT')).toThrow(/^column "x": row 0 has a decimal but row 1 a string/);
  });

  it('leaves the table’s columns to the coercion: values of any kind in them are not its business', () => {
    // A timestamp given as text and as a number, a struct column given a string: the coercion lands or refuses each.
    expect(infer([{ t: '2026-01-01T00:00:00Z' }, { t: 5 }, { s: 'no' }, { s: { a: 1 } }], 't TIMESTAMP, s STRUCT<a: INT>')).toBe(ddl('t TIMESTAMP, s STRUCT<a: INT>'));
    // Names match the table's whatever their case.
    expect(infer([{ S: { A: 1, b: 2 } }], 's STRUCT<a: INT>')).toBe(ddl('s STRUCT<a: INT, b: BIGINT>'));
  });

  it('keeps the table’s fields’ nullability and metadata; new fields are nullable', () => {
    const table: StructType = { kind: 'struct', fields: [{ name: 's', nullable: false, metadata: { comment: 'c' }, type: { kind: 'struct', fields: [{ name: 'a', nullable: false, metadata: { 'delta.columnMapping.id': 2 }, type: { kind: 'primitive', name: 'long' } }] } }] };
    const got = inferSchema([{ s: { a: 1, b: 'x' } }], table);
    expect(got.fields[0]).toMatchObject({ name: 's', nullable: false, metadata: { comment: 'c' } });
    const s = got.fields[0].type as StructType;
    expect(s.fields.map((f) => [f.name, f.nullable, f.metadata])).toEqual([['a', false, { 'delta.columnMapping.id': 2 }], ['b', true, {}]]);
  });

  it('refuses what it cannot type, naming the column and the rows', () => {
    expect(() => infer([{ x: 1 }, { x: 'a' }], 'id BIGINT')).toThrow(/^column "x": row 0 has a long but row 1 a string; pass an input schema/);
    expect(() => infer([{ s: { a: { b: 1 } } }, { s: { a: { b: [1] } } }], 's STRUCT<z: INT>')).toThrow(/^column "s.a.b": row 0 has a long but row 1 an array/);
    expect(() => infer([{ x: [1, 'a'] }], 'id BIGINT')).toThrow(/^column "x.element": row 0 has a long but row 0 a string/);
    expect(() => infer([{ o: {} }, { o: null }], 'id BIGINT')).toThrow(/^row 0, column "o": only empty objects, so its fields cannot be inferred/);
    expect(() => infer([{ s: { ab: 1, AB: 2 } }], 's STRUCT<z: INT>')).toThrow(/^row 0, column "s": the keys "ab" and "AB" differ only in case/);
    expect(() => infer([{ x: 1 }, { X: 2 }], 'id BIGINT')).toThrow(/^row 1, column "X": row 0 named it "x"/);
    expect(() => infer([{ f: () => 1 }], 'id BIGINT')).toThrow(/^row 0, column "f": cannot infer a type for function/);
  });

  it('property: rows written from a schema infer back to it (seeded)', () => {
    // Random nested schemas of long, double, string, boolean, structs and arrays; one row that has
    // every position non-null (doubles with a fraction) infers exactly that schema.
    type Gen = { ddl: string; value: () => unknown };
    const leaf = fc.constantFrom<Gen>({ ddl: 'BIGINT', value: () => 7 }, { ddl: 'DOUBLE', value: () => 0.5 }, { ddl: 'STRING', value: () => 's' }, { ddl: 'BOOLEAN', value: () => true });
    const { t: typed } = fc.letrec<{ t: Gen }>((tie) => ({
      t: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9_]{0,5}$/), tie('t')), { minLength: 1, maxLength: 4 }).map((fs) => {
          const uniq = [...new Map(fs.map(([n, g]) => [n, g])).entries()];
          return { ddl: `STRUCT<${uniq.map(([n, g]) => `${n}: ${g.ddl}`).join(', ')}>`, value: () => Object.fromEntries(uniq.map(([n, g]) => [n, g.value()])) };
        }),
        tie('t').map((g) => ({ ddl: `ARRAY<${g.ddl}>`, value: () => [g.value(), null, g.value()] })),
      ),
    }));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.stringMatching(/^c[a-z0-9_]{0,5}$/), typed), { minLength: 1, maxLength: 5 }), (cols) => {
        const uniq = [...new Map(cols.map(([n, g]) => [n, g])).entries()];
        const row = Object.fromEntries(uniq.map(([n, g]) => [n, g.value()]));
        // Half of it known to the table already (its first column), the rest new.
        const expected = `id BIGINT, ${uniq.map(([n, g]) => `${n} ${g.ddl}`).join(', ')}`;
        expect(infer([{ id: 1 }, row, { id: 2 }], 'id BIGINT')).toBe(ddl(expected));
        expect(infer([row], `id BIGINT, ${uniq[0][0]} ${uniq[0][1].ddl}`)).toBe(ddl(expected));
      }),
      { seed: 20261203, numRuns: 300 },
    );
  });
});

describe('append with mergeSchema and no input schema', () => {
  it('evolves nested structs from the rows and reads the old rows with the new fields null, column mapping or not', async () => {
    for (const mode of ['none', 'name']) {
      const t = await DeltaTable.forPath(path.join(tmp(), `t-${mode}`));
      await t.append([{ id: 1, s: { a: 1 }, items: [{ a: 1 }] }], { create: { schema: parseDdl('id BIGINT, s STRUCT<a: BIGINT>, items ARRAY<STRUCT<a: BIGINT>>'), configuration: mode === 'name' ? { 'delta.columnMapping.mode': 'name' } : {} } });
      const r = await t.append([{ id: 2, s: { a: 2, b: 'x' }, items: [{ a: 2, c: 2.5 }], n: null, e: [] }], { mergeSchema: true });
      expect(r.version).toBe(1);
      expect(typeToString(t.snapshot.schema)).toBe(ddl('id BIGINT, s STRUCT<a: BIGINT, b: STRING>, items ARRAY<STRUCT<a: BIGINT, c: DOUBLE>>, n STRING, e ARRAY<STRING>'));
      const rows = arrowToRows(await t.read()).sort((x, y) => Number(x.id) - Number(y.id));
      expect(JSON.parse(JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)))).toEqual([
        { id: 1, s: { a: 1, b: null }, items: [{ a: 1, c: null }], n: null, e: null },
        { id: 2, s: { a: 2, b: 'x' }, items: [{ a: 2, c: 2.5 }], n: null, e: [] },
      ]);
    }
  });

  it('a row it cannot type is refused before anything is written', async () => {
    const t = await DeltaTable.forPath(path.join(tmp(), 't'));
    await t.append([{ id: 1 }], { create: { schema: parseDdl('id BIGINT') } });
    await expect(t.append([{ id: 2, x: 1 }, { id: 3, x: 'a' }], { mergeSchema: true })).rejects.toThrow(/column "x": row 0 has a long but row 1 a string/);
    expect(t.version).toBe(0);
    expect(typeToString(t.snapshot.schema)).toBe(ddl('id BIGINT'));
  });
});
