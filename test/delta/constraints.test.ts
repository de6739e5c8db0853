import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { DeltaTable } from '../../src/delta/table.js';
import { TributaryError } from '../../src/errors.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { field, primitive, schemaToString, struct } from '../../src/schema/schema.js';
import { tempDir } from '../support/tmp.js';

/**
 * CHECK constraints, SQL invariants and generated columns through the library's append: values
 * are computed and checked on every batch before any file is written, a refused batch leaves the
 * table exactly as it was (same version, no new files), and a table whose expressions Tributary
 * cannot evaluate is refused by name.
 */
const tmp = tempDir('tributary-constraints-');

/** Every file below `dir` (data files and log), to show nothing was left behind. */
const files = (dir: string) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();

async function refused(p: Promise<unknown>): Promise<TributaryError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(TributaryError);
  return e as TributaryError;
}

/** A commit Spark would write for ALTER TABLE ... ADD CONSTRAINT: the metadata with one more property. */
function addConstraint(dir: string, version: number, name: string, expr: string) {
  const log = path.join(dir, '_delta_log');
  const last = readdirSync(log).filter((f) => f.endsWith('.json')).sort();
  let meta: Record<string, unknown> | undefined;
  for (const f of last) for (const line of readFileSync(path.join(log, f), 'utf8').split('\n')) if (line.includes('"metaData"')) meta = JSON.parse(line).metaData;
  const m = meta as { configuration: Record<string, string> };
  const next = { ...m, configuration: { ...m.configuration, [`delta.constraints.${name}`]: expr } };
  writeFileSync(path.join(log, `${String(version).padStart(20, '0')}.json`), JSON.stringify({ metaData: next }) + '\n' + JSON.stringify({ protocol: { minReaderVersion: 1, minWriterVersion: 3 } }) + '\n');
}

describe('CHECK constraints', () => {
  it('refuse a batch with a violating row, naming constraint, row and values; nothing is written', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append([{ id: 1, price: 10, coin: 'btc' }], {
      create: { schema: parseDdl('id BIGINT, price DOUBLE, coin STRING'), configuration: { 'delta.constraints.positive_price': 'price > 0', 'delta.constraints.known_coin': "coin IN ('btc', 'eth')" } },
    });
    expect(t.snapshot.protocol).toEqual({ minReaderVersion: 1, minWriterVersion: 3 });
    await t.append([{ id: 2, price: 1.5, coin: 'eth' }]);
    const before = files(dir);
    const e = await refused(t.append([{ id: 3, price: 2, coin: 'btc' }, { id: 4, price: -1, coin: 'btc' }]));
    expect(e.code).toBe('CONSTRAINT_VIOLATION');
    expect(e.message).toBe('row 1: CHECK constraint positive_price (price > 0) is violated by price = -1.0; nothing was written');
    expect(e.details).toMatchObject({ row: 1, constraint: 'CHECK constraint positive_price' });
    expect(files(dir)).toEqual(before);
    expect((await DeltaTable.open(dir)).version).toBe(1);
  });

  it('count NULL as violated, as Delta does', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append([{ coin: 'btc' }], { create: { schema: parseDdl('coin STRING'), configuration: { 'delta.constraints.known': "coin IN ('btc', 'eth')" } } });
    const e = await refused(t.append([{ coin: 'eth' }, { coin: null }]));
    expect(e.message).toBe("row 1: CHECK constraint known (coin IN ('btc', 'eth')) is NULL, which Delta counts as violated by coin = NULL; nothing was written");
  });

  it('refuse a row Spark 4 cannot evaluate (overflow), instead of Spark 3.5 wrapping it', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append([{ n: 1 }], { create: { schema: parseDdl('n INT'), configuration: { 'delta.constraints.next_positive': 'n + 1 > 0' } } });
    const e = await refused(t.append([{ n: 2147483647 }]));
    expect(e.message).toBe('row 0: CHECK constraint next_positive (n + 1 > 0) cannot be evaluated: int overflow in 2147483647 + 1 (Spark 4 fails the write with ARITHMETIC_OVERFLOW) by n = 2147483647; nothing was written');
  });

  it('are checked in every chunk of a large append: a violation in the second chunk leaves no file', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    const rows = Array.from({ length: 70_000 }, (_, i) => ({ id: i, v: i === 69_999 ? 0 : 1 }));
    await t.append([{ id: -1, v: 1 }], { create: { schema: parseDdl('id BIGINT, v INT'), configuration: { 'delta.constraints.v_one': 'v = 1' } } });
    const before = files(dir);
    const e = await refused(t.append(rows, { maxRecordsPerFile: 50_000 }));
    expect(e.details.row).toBe(69_999);
    expect(files(dir)).toEqual(before);
  });

  it('apply to a table Spark gave a constraint (ALTER TABLE ADD CONSTRAINT), from the next append on', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append([{ d: '2020-01-01' }], { create: { schema: parseDdl('d DATE') } });
    addConstraint(dir, 1, 'recent', "d >= '2020-01-01'");
    const t2 = await DeltaTable.open(dir);
    await t2.append([{ d: '2021-06-01' }]);
    const e = await refused(t2.append([{ d: '2019-12-31' }]));
    expect(e.message).toMatch(/^row 0: CHECK constraint recent \(d >= '2020-01-01'\) is violated by d = 2019-12-31/);
  });

  it('refuse a table whose constraint uses what Tributary does not evaluate, naming it', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append([{ s: 'A' }], { create: { schema: parseDdl('s STRING') } });
    addConstraint(dir, 1, 'upper_only', 'upper(s) = s');
    const e = await refused((await DeltaTable.open(dir)).append([{ s: 'B' }]));
    expect(e.code).toBe('UNSUPPORTED_FEATURE');
    expect(e.message).toContain('checkConstraints (CHECK constraint upper_only (upper(s) = s) uses the function upper, which Tributary does not evaluate)');
    // At creation, the property is refused the same way.
    const e2 = await refused((await DeltaTable.forPath(tmp())).append([{ s: 'x' }], { create: { schema: parseDdl('s STRING'), configuration: { 'delta.constraints.c': "s RLIKE 'x'" } } }));
    expect(e2.code).toBe('INVALID_ARGUMENT');
    expect(e2.message).toMatch(/table property delta\.constraints\.c="s RLIKE 'x'": the CHECK constraint c \(s RLIKE 'x'\) uses RLIKE/);
  });
});

describe('SQL invariants (delta.invariants in field metadata)', () => {
  it('are checked on top-level and nested fields', async () => {
    const inv = (sql: string) => JSON.stringify({ expression: { expression: sql } });
    const schema = struct([
      field('x', primitive('integer'), true, { 'delta.invariants': inv('x > 0') }),
      field('s', struct([field('a', primitive('string'), true, { 'delta.invariants': inv("length(s.a) <= 3") })])),
    ]);
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append([{ x: 1, s: { a: 'abc' } }], { create: { schema } });
    expect(t.snapshot.protocol).toEqual({ minReaderVersion: 1, minWriterVersion: 2 });
    expect(JSON.parse(t.snapshot.metadata.schemaString)).toEqual(JSON.parse(schemaToString(schema)));
    const e = await refused(t.append([{ x: 5, s: { a: 'abcd' } }]));
    expect(e.message).toBe('row 0: invariant on column s.a (length(s.a) <= 3) is violated by s.a = "abcd"; nothing was written');
    const e2 = await refused(t.append([{ x: 0, s: null }]));
    expect(e2.message).toMatch(/^row 0: invariant on column x \(x > 0\) is violated by x = 0/);
  });
});

describe('generated columns', () => {
  const DDL = 'coin STRING, ts TIMESTAMP, price DOUBLE, date DATE GENERATED ALWAYS AS (CAST(ts AS DATE)), hour INT NOT NULL GENERATED ALWAYS AS (hour(ts))';

  it('are computed when the input leaves them out, as partition values too, and checked when given', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append(
      [
        { coin: 'btc', ts: '2024-02-29T23:59:59.999999Z', price: 1 },
        { coin: 'eth', ts: '1969-12-31T00:00:00Z', price: 2, date: '1969-12-31', hour: 0 },
        { coin: 'sol', ts: '2024-03-01T00:00:00Z', price: 3, date: null },
      ],
      { create: { schema: parseDdl(DDL), partitionColumns: ['date'] } },
    );
    const p = t.snapshot.protocol;
    expect({ ...p, writerFeatures: [...(p.writerFeatures ?? [])].sort() }).toEqual({ minReaderVersion: 1, minWriterVersion: 7, writerFeatures: ['appendOnly', 'generatedColumns', 'invariants'] });
    expect(readdirSync(dir).filter((n) => n.startsWith('date=')).sort()).toEqual(['date=1969-12-31', 'date=2024-02-29', 'date=2024-03-01']);
    const rows = arrowToRows(await t.read()).map((r) => [r.coin, r.date, r.hour]).sort();
    expect(rows).toEqual([
      ['btc', '2024-02-29', 23],
      ['eth', '1969-12-31', 0],
      ['sol', '2024-03-01', 0],
    ]);
    const before = files(dir);
    const e = await refused(t.append([{ coin: 'ada', ts: '2024-03-01T10:00:00Z', price: 4, date: '2024-03-02' }]));
    expect(e.code).toBe('CONSTRAINT_VIOLATION');
    expect(e.message).toBe('row 0, column "date": its generation expression CAST(ts AS DATE) (with ts = 2024-03-01T10:00:00.000000Z) gives 2024-03-01, but the row has 2024-03-02; leave the column out (or null) to have it computed; nothing was written');
    const e2 = await refused(t.append([{ coin: 'ada', ts: null, price: 4 }]));
    expect(e2.message).toBe('row 0, column "hour": its generation expression hour(ts) (with ts = NULL) gives NULL, but the column is NOT NULL; nothing was written');
    expect(files(dir)).toEqual(before);
  });

  it('are computed for Arrow input without the column', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append([], { create: { schema: parseDdl('v BIGINT, half BIGINT GENERATED ALWAYS AS (v DIV 2)') } });
    const input = arrow.tableFromArrays({ v: BigInt64Array.from([7n, -7n]) });
    await t.append(input);
    expect(arrowToRows(await t.read()).map((r) => r.half)).toEqual([3n, -3n]);
  });

  it('are plain columns in a table whose protocol lacks the feature, as Spark treats them', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append([{ v: 1 }], { create: { schema: parseDdl('v INT'), configuration: { 'delta.minWriterVersion': '2' } } });
    // Metadata with a generation expression under writer version 2 (an old writer's table).
    const m = { ...t.snapshot.metadata, schemaString: schemaToString(parseDdl('v INT, w INT GENERATED ALWAYS AS (v + 1)')) };
    writeFileSync(path.join(dir, '_delta_log', '00000000000000000001.json'), JSON.stringify({ metaData: m }) + '\n');
    const t2 = await DeltaTable.open(dir);
    await t2.append([{ v: 5, w: 100 }, { v: 6 }]);
    expect(arrowToRows(await t2.read()).map((r) => [r.v, r.w])).toEqual(expect.arrayContaining([[5, 100], [6, null]]));
  });

  it('are refused at creation as Spark refuses them: unsupported functions, other types, other generated columns', async () => {
    const cases: [string, RegExp][] = [
      ['s STRING, u STRING GENERATED ALWAYS AS (upper(s))', /generated column u \(GENERATED ALWAYS AS \(upper\(s\)\)\) uses the function upper, which Tributary does not evaluate/],
      ['ts TIMESTAMP, y BIGINT GENERATED ALWAYS AS (year(ts))', /generated column y \(GENERATED ALWAYS AS \(year\(ts\)\)\) is INT, but the column is BIGINT/],
      ['ts TIMESTAMP, y INT GENERATED ALWAYS AS (year(ts)), z INT GENERATED ALWAYS AS (y + 1)', /cannot read another generated column \(y\)/],
      ['v INT, w INT GENERATED ALWAYS AS (nope + 1)', /there is no column `nope`/],
    ];
    for (const [ddl, re] of cases) {
      const dir = tmp();
      const e = await refused((await DeltaTable.forPath(dir)).append([], { create: { schema: parseDdl(ddl) } }));
      expect(e.code, ddl).toBe('SCHEMA_INVALID');
      expect(e.message, ddl).toMatch(re);
      expect(files(dir), ddl).toEqual([]);
    }
  });
});
