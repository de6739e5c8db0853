import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rowsToRecordBatch } from '../../src/arrow/record-batch.js';
import { EvaluationError } from '../../src/expr/errors.js';
import { compileExpression } from '../../src/expr/evaluate.js';
import { parseDdl } from '../../src/schema/ddl.js';
import type { Value } from '../../src/expr/arrow-io.js';

/**
 * The evaluator against independent references on random rows (seeded; TRIBUTARY_PROPERTY_SEED
 * replays a run): integer arithmetic against BigInt with Spark 4's overflow errors, decimals
 * against exact integers, string order against UTF-8 bytes, dates against JavaScript's UTC
 * calendar, Kleene logic against its truth tables, LIKE against literal matching. The interop
 * suite compares the same evaluator with Spark itself.
 */
const SEED = Number(process.env.TRIBUTARY_PROPERTY_SEED ?? 20261203);
const RUNS = Number(process.env.TRIBUTARY_PROPERTY_RUNS ?? 300);
const params = { seed: SEED, numRuns: RUNS, endOnFailure: true };

/** Evaluates `text` over `rows` of `ddl`: each row's value, or the Spark error class it raised. */
function evaluate(ddl: string, text: string, rows: Record<string, unknown>[]): (Value | { error: string })[] {
  const schema = parseDdl(ddl);
  const c = compileExpression(text, schema);
  const batch = rowsToRecordBatch(rows, schema);
  const f = c.bind(batch);
  return rows.map((_, r) => {
    try {
      return f(r);
    } catch (e) {
      if (e instanceof EvaluationError) return { error: e.errorClass };
      throw e;
    }
  });
}

const big = (v: Value | { error: string }) => (typeof v === 'number' || typeof v === 'bigint' ? BigInt(v) : v);
const INT_MIN = -(2n ** 31n);
const INT_MAX = 2n ** 31n - 1n;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

const intArb = fc.oneof(fc.integer(), fc.constantFrom(0, 1, -1, 2147483647, -2147483648, 46341, -46341));
const longArb = fc.oneof(fc.bigInt({ min: LONG_MIN, max: LONG_MAX }), fc.constantFrom(0n, 1n, -1n, LONG_MAX, LONG_MIN, 2n ** 53n, -(2n ** 53n) - 1n, 3037000500n));

describe('integer arithmetic is exact, and overflows as Spark 4 does', () => {
  const ops: [string, (a: bigint, b: bigint) => bigint | 'DIVIDE_BY_ZERO' | 'REMAINDER_BY_ZERO'][] = [
    ['+', (a, b) => a + b],
    ['-', (a, b) => a - b],
    ['*', (a, b) => a * b],
    ['%', (a, b) => (b === 0n ? 'REMAINDER_BY_ZERO' : a % b)],
  ];
  for (const [op, ref] of ops) {
    it(`INT ${op} INT and BIGINT ${op} BIGINT`, () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(intArb, intArb, longArb, longArb), { minLength: 1, maxLength: 20 }), (rows) => {
          const data = rows.map(([a, b, c, d]) => ({ a, b, c, d }));
          const ints = evaluate('a INT, b INT, c BIGINT, d BIGINT', `a ${op} b`, data);
          const longs = evaluate('a INT, b INT, c BIGINT, d BIGINT', `c ${op} d`, data);
          rows.forEach(([a, b, c, d], i) => {
            const wantInt = ref(BigInt(a), BigInt(b));
            expect(big(ints[i])).toEqual(typeof wantInt === 'string' ? { error: wantInt } : wantInt < INT_MIN || wantInt > INT_MAX ? { error: 'ARITHMETIC_OVERFLOW' } : wantInt);
            const wantLong = ref(c, d);
            expect(big(longs[i])).toEqual(typeof wantLong === 'string' ? { error: wantLong } : wantLong < LONG_MIN || wantLong > LONG_MAX ? { error: 'ARITHMETIC_OVERFLOW' } : wantLong);
          });
        }),
        params,
      );
    });
  }

  it('a DIV b truncates toward zero as a BIGINT', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(longArb, longArb), { minLength: 1, maxLength: 20 }), (rows) => {
        const got = evaluate('c BIGINT, d BIGINT', 'c DIV d', rows.map(([c, d]) => ({ c, d })));
        rows.forEach(([c, d], i) => {
          const want = d === 0n ? { error: 'DIVIDE_BY_ZERO' } : c / d > LONG_MAX ? { error: 'ARITHMETIC_OVERFLOW' } : c / d;
          expect(big(got[i])).toEqual(want);
        });
      }),
      params,
    );
  });
});

describe('decimals', () => {
  const unscaled = fc.bigInt({ min: -(10n ** 10n) + 1n, max: 10n ** 10n - 1n });
  it('DECIMAL(10,2) + - * are exact in their Spark result types', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(unscaled, unscaled), { minLength: 1, maxLength: 20 }), (rows) => {
        const text = (u: bigint) => `${u < 0n ? '-' : ''}${(u < 0n ? -u : u) / 100n}.${String((u < 0n ? -u : u) % 100n).padStart(2, '0')}`;
        const data = rows.map(([a, b]) => ({ a: text(a), b: text(b) }));
        const sum = evaluate('a DECIMAL(10,2), b DECIMAL(10,2)', 'a + b', data);
        const diff = evaluate('a DECIMAL(10,2), b DECIMAL(10,2)', 'a - b', data);
        const prod = evaluate('a DECIMAL(10,2), b DECIMAL(10,2)', 'a * b', data);
        const lt = evaluate('a DECIMAL(10,2), b DECIMAL(10,2)', 'a < b + 0.001', data);
        rows.forEach(([a, b], i) => {
          expect(big(sum[i])).toBe(a + b); // DECIMAL(11,2)
          expect(big(diff[i])).toBe(a - b);
          expect(big(prod[i])).toBe(a * b); // DECIMAL(21,4)
          expect(lt[i]).toBe(a * 10n < b * 10n + 1n);
        });
      }),
      params,
    );
  });
});

describe('strings', () => {
  const text = fc.string({ maxLength: 12, unit: fc.oneof(fc.constantFrom('a', 'b', 'é', '😀', '\uffff', '\ue000', '%', '_', '\\'), fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme' })) });

  it('compare by UTF-8 bytes (code points), not UTF-16 units', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(text, text), { minLength: 1, maxLength: 20 }), (rows) => {
        const data = rows.map(([a, b]) => ({ a, b }));
        const lt = evaluate('a STRING, b STRING', 'a < b', data);
        const eq = evaluate('a STRING, b STRING', 'a = b', data);
        rows.forEach(([a, b], i) => {
          const c = Buffer.compare(Buffer.from(a), Buffer.from(b));
          expect(lt[i]).toBe(c < 0);
          expect(eq[i]).toBe(c === 0);
        });
      }),
      params,
    );
  });

  it('length counts characters; substring splits a string into pieces that concatenate back', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(text, fc.nat(14)), { minLength: 1, maxLength: 20 }), (rows) => {
        const data = rows.map(([s, k]) => ({ s, k }));
        const len = evaluate('s STRING, k INT', 'length(s)', data);
        const joined = evaluate('s STRING, k INT', 'concat(substring(s, 1, k), substring(s, k + 1)) = s AND substring(s, -length(s)) = s', data);
        const tail = evaluate('s STRING, k INT', 'substring(s, -k)', data);
        rows.forEach(([s, k], i) => {
          const chars = Array.from(s);
          expect(len[i]).toBe(chars.length);
          expect(joined[i]).toBe(true);
          expect(tail[i]).toBe(k === 0 ? s : chars.slice(Math.max(0, chars.length - k)).join(''));
        });
      }),
      params,
    );
  });

  it('LIKE: a string matches itself escaped, and its pieces with % and _ in between', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(text, fc.nat(12), fc.nat(12)), { minLength: 1, maxLength: 20 }), (rows) => {
        const escape = (s: string) => s.replace(/[\\%_]/g, '\\$&');
        const data = rows.map(([s, a, b]) => {
          const chars = Array.from(s);
          const i = Math.min(a, chars.length);
          const j = Math.min(i + b, chars.length);
          // s = head + middle + tail: head%tail matches; head + one _ per middle char + tail matches.
          const head = escape(chars.slice(0, i).join(''));
          const tail = escape(chars.slice(j).join(''));
          return { s, exact: escape(s), wild: `${head}%${tail}`, under: head + '_'.repeat(j - i) + tail, other: escape(s) + '_' };
        });
        for (const col of ['exact', 'wild', 'under']) {
          expect(evaluate('s STRING, exact STRING, wild STRING, under STRING, other STRING', `s LIKE ${col}`, data).every((v) => v === true), col).toBe(true);
        }
        expect(evaluate('s STRING, exact STRING, wild STRING, under STRING, other STRING', 's LIKE other', data).every((v) => v === false)).toBe(true);
      }),
      params,
    );
  });
});

describe('dates and timestamps (UTC)', () => {
  const MIN = -62135596800000000n;
  const MAX = 253402300799999999n;
  const micros = fc.oneof(fc.bigInt({ min: MIN, max: MAX }), fc.bigInt({ min: -86_400_000_001n, max: 86_400_000_001n }), fc.constantFrom(0n, -1n, 951782400000000n - 1n, 951782400000000n, 1582934400000000n));

  it('CAST(ts AS DATE), year, month, day, hour, date_format and date_trunc agree with the UTC calendar', () => {
    fc.assert(
      fc.property(fc.array(micros, { minLength: 1, maxLength: 20 }), (values) => {
        const data = values.map((ts) => ({ ts }));
        const ddl = 'ts TIMESTAMP';
        const date = evaluate(ddl, 'CAST(ts AS DATE)', data);
        const parts = evaluate(ddl, "concat(year(ts), '/', month(ts), '/', day(ts), '/', hour(ts), '/', minute(ts), '/', second(ts))", data);
        const text = evaluate(ddl, "date_format(ts, 'yyyy-MM-dd HH:mm:ss.SSSSSS')", data);
        const hourStart = evaluate(ddl, "date_trunc('HOUR', ts)", data);
        values.forEach((u, i) => {
          const ms = Number(u / 1000n - (u % 1000n < 0n ? 1n : 0n));
          const d = new Date(ms);
          const floorDays = u / 86_400_000_000n - (u % 86_400_000_000n < 0n ? 1n : 0n);
          expect(BigInt(date[i] as number)).toBe(floorDays);
          expect(parts[i]).toBe(`${d.getUTCFullYear()}/${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCHours()}/${d.getUTCMinutes()}/${d.getUTCSeconds()}`);
          const frac = String(((u % 1_000_000n) + 1_000_000n) % 1_000_000n).padStart(6, '0');
          expect(text[i]).toBe(`${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)}.${frac}`);
          const hour = 3_600_000_000n;
          expect(big(hourStart[i])).toBe(u - (((u % hour) + hour) % hour));
        });
      }),
      params,
    );
  });

  it('CAST(string AS DATE) reads what CAST(date AS STRING) writes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -719162, max: 2932896 }), { minLength: 1, maxLength: 20 }), (days) => {
        const data = days.map((d) => ({ d: new Date(d * 86_400_000) }));
        expect(evaluate('d DATE', 'CAST(CAST(d AS STRING) AS DATE) = d', data).every((v) => v === true)).toBe(true);
      }),
      params,
    );
  });
});

describe('three-valued logic', () => {
  const b = fc.constantFrom(true, false, null);
  it('AND, OR, NOT, IS [NOT] NULL, <=> follow Kleene logic', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(b, b), { minLength: 1, maxLength: 20 }), (rows) => {
        const data = rows.map(([p, q]) => ({ p, q }));
        const ddl = 'p BOOLEAN, q BOOLEAN';
        const and = evaluate(ddl, 'p AND q', data);
        const or = evaluate(ddl, 'p OR q', data);
        const notP = evaluate(ddl, 'NOT p', data);
        const nse = evaluate(ddl, 'p <=> q', data);
        const inList = evaluate(ddl, 'p IN (q, true)', data);
        rows.forEach(([p, q], i) => {
          expect(and[i]).toBe(p === false || q === false ? false : p === null || q === null ? null : true);
          expect(or[i]).toBe(p === true || q === true ? true : p === null || q === null ? null : false);
          expect(notP[i]).toBe(p === null ? null : !p);
          expect(nse[i]).toBe(p === q);
          expect(inList[i]).toBe(p === null ? null : p === q || p === true ? true : q === null ? null : false);
        });
      }),
      params,
    );
  });
});

describe('CAST(string AS INT)', () => {
  it('takes optional spaces, a sign and digits within range; anything else is CAST_INVALID_INPUT', () => {
    const s = fc.oneof(fc.string({ maxLength: 6 }), fc.integer().map(String), fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }).map((x) => ` +${x} `.replace('+-', '-')));
    fc.assert(
      fc.property(fc.array(s, { minLength: 1, maxLength: 20 }), (texts) => {
        const got = evaluate('s STRING', 'CAST(s AS INT)', texts.map((t) => ({ s: t })));
        texts.forEach((t, i) => {
          const m = /^[\u0000-\u0020\u007f]*([+-]?\d+)[\u0000-\u0020\u007f]*$/.exec(t);
          const v = m ? BigInt(m[1]) : undefined;
          expect(big(got[i])).toEqual(v !== undefined && v >= INT_MIN && v <= INT_MAX ? v : { error: 'CAST_INVALID_INPUT' });
        });
      }),
      params,
    );
  });
});
