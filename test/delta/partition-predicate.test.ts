import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePartitionPredicate } from '../../src/delta/operations/predicate.js';
import { parseDdl } from '../../src/schema/ddl.js';

/**
 * OPTIMIZE's --where on partition columns compares values as the column's type, as Spark does:
 * `id = 01` on an INT partition compared text with "1" and matched nothing, exit 0 with nothing
 * optimized; `id = 'notint'` matched nothing where Spark's ANSI cast refuses it.
 */
const schema = parseDdl('id INT, big BIGINT, p DOUBLE, f FLOAT, ok BOOLEAN, day DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ, amt DECIMAL(10,2), s STRING');
const cols = schema.fields.map((f) => f.name);
const where = (w: string) => parsePartitionPredicate(w, cols, (c) => schema.fields.find((f) => f.name === c)!.type);

describe('OPTIMIZE --where on typed partition columns', () => {
  it('compares as the column type: numbers, booleans, dates, timestamps and decimals in any form match their partition', () => {
    const cases: [string, Record<string, string | null>, boolean][] = [
      ['id = 01', { id: '1' }, true],
      ['id = 1', { id: '1' }, true],
      ["id = '1'", { id: '1' }, true],
      ['id = 1', { id: '10' }, false],
      ['big = -9007199254740993', { big: '-9007199254740993' }, true],
      ['big = -9007199254740993', { big: '-9007199254740992' }, false],
      ['p = 1.50', { p: '1.5' }, true],
      ['p = 1000', { p: '1000.0' }, true],
      ['f = 0.1', { f: '0.1' }, true],
      ["ok = 'TRUE'", { ok: 'true' }, true],
      ['ok = false', { ok: 'true' }, false],
      ["day = '2026-11-27'", { day: '2026-11-27' }, true],
      // Spark writes TIMESTAMP partition values without a zone; both sides read the same way.
      ["ts = '2026-11-28T10:00:00Z'", { ts: '2026-11-28 10:00:00' }, true],
      ["ts = '2026-11-28 10:00:00'", { ts: '2026-11-28T10:00:00.000000Z' }, true],
      ["ts = '2026-11-28 10:00:01'", { ts: '2026-11-28 10:00:00' }, false],
      ["ntz = '2026-11-28 10:00:00'", { ntz: '2026-11-28 10:00:00.000000' }, true],
      ['amt = 1.5', { amt: '1.50' }, true],
      ["s = '01'", { s: '1' }, false],
      ["s = 'a''b'", { s: "a'b" }, true],
      ['s IS NULL', { s: null }, true],
      ['s IS NULL', { s: '' }, true],
      ['id IS NULL', { id: '1' }, false],
      ["id = 1 AND day = '2026-11-27'", { id: '1', day: '2026-11-28' }, false],
      ["id = 1 AND day = '2026-11-27'", { id: '1', day: '2026-11-27' }, true],
      // Another writer's form the type does not read is compared as written.
      ["s = 'x'", { s: 'x' }, true],
    ];
    for (const [w, values, expected] of cases) expect([w, where(w).matches(values)]).toEqual([w, expected]);
  });

  it('refuses a literal the column type cannot hold, naming the column, its type and the value', () => {
    expect(() => where("id = 'notint'")).toThrow(/cannot compare partition column "id" \(integer\) with "notint": is not an integer/);
    expect(() => where('id = 1.5')).toThrow(/cannot compare partition column "id" \(integer\) with "1.5"/);
    expect(() => where('id = 3000000000')).toThrow(/cannot compare partition column "id" \(integer\)/);
    expect(() => where("day = '2026-1-7'")).toThrow(/cannot compare partition column "day" \(date\)/);
    expect(() => where("ok = 'yes'")).toThrow(/cannot compare partition column "ok" \(boolean\)/);
    expect(() => where('amt = 1.234')).toThrow(/cannot compare partition column "amt" \(decimal\(10,2\)\)/);
    expect(() => where("s = ''")).toThrow(/matches no partition: a null partition value is written for it; use s IS NULL/);
  });

  it('an integer literal in any spelling matches exactly the partition of its value (seeded property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.nat(3), (lit, stored, zeros) => {
        const text = (lit < 0 ? '-' : '') + '0'.repeat(zeros) + String(Math.abs(lit));
        const p = where(`id = ${text}`);
        expect(p.matches({ id: String(stored) })).toBe(lit === stored);
        expect(p.matches({ id: String(lit) })).toBe(true);
      }),
      { seed: 20261203, numRuns: 500 },
    );
  });
});
