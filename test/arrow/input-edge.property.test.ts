import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rowsToRecordBatch } from '../../src/arrow/record-batch.js';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { field, primitive, struct, validateTableSchema } from '../../src/schema/schema.js';
import { DeltaTable } from '../../src/delta/table.js';
import { tempDir } from '../support/tmp.js';
import { TributaryError } from '../../src/errors.js';
import { parseJsonExact } from '../../src/json/exact-parse.js';
import { JsonNumber } from '../../src/json/json-number.js';
import { JSON_TEXT } from '../../src/json/ndjson-decoder.js';
import { columnName, nameAllowed } from '../support/edge-cases.js';
import { defineValueProperties, type Land, params } from '../support/input-edge-properties.js';

/**
 * Properties at the input edge: a JSON value lands exactly in its column or is refused with the
 * row/column/value error; never a different value. Here each value goes the reference way of an
 * NDJSON line (the exact JSON parser, then the column builders that every append uses) and is
 * read back from the Arrow data that is handed to the Parquet encoder; test/json runs the same
 * properties through the schema-directed decoder. Seeded: TRIBUTARY_PROPERTY_SEED replays a
 * run, TRIBUTARY_PROPERTY_RUNS scales it (CI runs the defaults: a few thousand cases each).
 */

/** One NDJSON line `{"v": <json>}` into a one-column table of `type` by the reference path, read back. */
const land: Land = (json, type) => {
  const row = parseJsonExact(`{"v":${json}}`) as Record<string, unknown>;
  try {
    // As the --merge-schema path builds an NDJSON line's row: JSON text's reading (JSON_TEXT).
    const batch = rowsToRecordBatch([row], parseDdl(`v ${type}`), JSON_TEXT);
    return { ok: true, value: arrowToRows(batch)[0].v };
  } catch (e) {
    if (e instanceof TributaryError && e.code === 'ROW_INVALID') return { ok: false, error: e };
    throw e;
  }
};

defineValueProperties(land);

// ---------------------------------------------------------------------------------------------
// The exact parser agrees with JSON.parse wherever JSON.parse is exact

describe('the exact JSON parser', () => {
  it('parses every JSON document as JSON.parse does, numbers aside (kept as their text when a double would change them)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        const ours = parseJsonExact(text);
        const plain = (x: unknown): unknown => (x instanceof JsonNumber ? Number(x.text) : Array.isArray(x) ? x.map(plain) : x && typeof x === 'object' ? Object.fromEntries(Object.entries(x).map(([k, y]) => [k, plain(y)])) : x);
        expect(plain(ours)).toEqual(JSON.parse(text));
      }),
      params(1000),
    );
  });

  it('refuses duplicate keys and lone surrogate escapes', () => {
    expect(() => parseJsonExact('{"a":1,"a":1}')).toThrow(/appears twice/);
    expect(() => parseJsonExact('{"a":"\\ud800"}')).toThrow(/surrogate/);
    expect(() => parseJsonExact('{"a":"\\udc00\\ud800"}')).toThrow(/surrogate/);
    expect(parseJsonExact('{"a":"\\ud83d\\ude00"}')).toEqual({ a: '😀' });
    expect(parseJsonExact('{"__proto__":1}')).toEqual(JSON.parse('{"__proto__":1}'));
  });
});

// ---------------------------------------------------------------------------------------------
// Column names: one rule wherever a column is born

describe('column names', () => {
  const quoted = (n: string) => '`' + n.replace(/`/g, '``') + '`';
  const dirs = tempDir('tributary-names-');

  it('through --schema DDL: a name is accepted exactly as written or refused with SCHEMA_INVALID', () => {
    fc.assert(
      fc.property(columnName, (name) => {
        let problem: TributaryError | undefined;
        try {
          const schema = parseDdl(`id BIGINT, ${quoted(name)} STRING`);
          expect(schema.fields[1].name).toBe(name);
          validateTableSchema(schema, []);
        } catch (e) {
          if (!(e instanceof TributaryError)) throw e;
          problem = e;
        }
        if (name.toLowerCase() === 'id') expect(problem?.code).toBe('SCHEMA_INVALID'); // a duplicate
        else if (nameAllowed(name)) expect(problem, `${JSON.stringify(name)} refused: ${problem?.message}`).toBeUndefined();
        else expect(problem?.code, JSON.stringify(name)).toBe('SCHEMA_INVALID');
      }),
      params(),
    );
  });

  it('through the library (create, and mergeSchema of new keys): the same rule, the table unchanged on refusal', async () => {
    await fc.assert(
      fc.asyncProperty(columnName, async (name) => {
        fc.pre(name.toLowerCase() !== 'id');
        const dir = dirs();
        // Created with the name.
        const created = await DeltaTable.forPath(dir)
          .then((t) => t.append([{ id: 1, [name]: 'x' }], { create: { schema: struct([field('id', primitive('long')), field(name, primitive('string'))]) } }))
          .then(() => undefined, (e: unknown) => e);
        // Added by mergeSchema (inferred from the row's new key) to an existing table.
        const other = dirs();
        const t = await DeltaTable.forPath(other);
        await t.append([{ id: 1 }], { create: { schema: parseDdl('id BIGINT') } });
        const before = listTree(other);
        const merged = await t.append([{ id: 2, [name]: 'y' }], { mergeSchema: true }).then(() => undefined, (e: unknown) => e);
        if (nameAllowed(name)) {
          expect(created, String(created)).toBeUndefined();
          expect(merged, String(merged)).toBeUndefined();
          const back = await DeltaTable.open(other);
          expect(back.snapshot.schema.fields.map((f) => f.name)).toEqual(['id', name]);
          expect((await DeltaTable.open(dir)).snapshot.schema.fields[1].name).toBe(name);
        } else {
          expect((created as TributaryError).code).toBe('SCHEMA_INVALID');
          expect((merged as TributaryError).code).toBe('SCHEMA_INVALID');
          expect(listTree(dir)).toEqual([]);
          expect(listTree(other)).toEqual(before);
        }
      }),
      params(400),
    );
  });
});

function listTree(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true }).map(String).sort();
  } catch {
    return [];
  }
}
