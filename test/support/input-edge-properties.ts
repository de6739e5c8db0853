import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TributaryError } from '../../src/errors.js';
import { digitString, numberToken, timestampCase, tsParts } from './edge-cases.js';
import {
  civilMicros,
  compare,
  DOUBLE_OVERFLOW,
  doubleEven,
  exponentOf,
  FLOAT_OVERFLOW,
  floatEven,
  INT64_MAX,
  INT64_MIN,
  isCalendarDate,
  isInteger,
  isNearest,
  MAX_TS_MICROS,
  MIN_TS_MICROS,
  nextDouble,
  nextFloat,
  prevDouble,
  prevFloat,
  rationalOf,
  unscaledAt,
} from './exact.js';

/**
 * The input edge's value properties: a JSON value lands exactly in its column or is refused with
 * the row/column/value error; never a different value. Defined once and run against each path a
 * value can take from NDJSON text to Arrow (the exact parser + column builders, and the
 * schema-directed decoder), through a `land` function that says how. Seeded:
 * TRIBUTARY_PROPERTY_SEED replays a run, TRIBUTARY_PROPERTY_RUNS scales it.
 */
export const SEED = Number(process.env.TRIBUTARY_PROPERTY_SEED ?? 20261201);
export const RUNS = Number(process.env.TRIBUTARY_PROPERTY_RUNS ?? 3000);
export const params = (runs = RUNS) => ({ seed: SEED, numRuns: runs, endOnFailure: true });

export type Landed = { ok: true; value: unknown } | { ok: false; error: TributaryError };

/** Lands one JSON value (its text) in a one-column table `v <type>` and reads it back, or gives the refusal. */
export type Land = (json: string, type: string) => Landed;

export function expectRefusal(l: Landed, shown: string) {
  if (l.ok) throw new Error(`accepted as ${String(l.value)}, expected a refusal`);
  expect(l.error.message).toMatch(/^row 0, column "v": value /);
  // The message quotes the value as written (up to the 80-character preview).
  expect(l.error.message).toContain(shown.length > 77 ? shown.slice(0, 70) : shown);
}

/** Skip the few tokens whose exact value would need astronomically large integers to check. */
const checkable = (t: string) => {
  const e = exponentOf(t);
  return e > -2000n && e < 2000n;
};


/**
 * Doubles that are exactly halfway between two floats, written as their shortest text (what
 * JSON.stringify prints, and what the exact parser turns back into a JavaScript number): the
 * text is off the midpoint, on one side, so rounding the double to float32 would round twice.
 */
export const float32MidpointText = fc.tuple(fc.integer({ min: 2 ** 23, max: 2 ** 24 - 1 }), fc.integer({ min: -149, max: 103 }), fc.boolean()).map(([m, e, neg]) => {
  const x = (2 * m + 1) * 2 ** (e - 1);
  return String(neg ? -x : x).replace('e+', 'e');
});

/** The number and timestamp properties, through `land`. */
export function defineValueProperties(land: Land): void {
  describe('JSON numbers land exactly or are refused', () => {
    it('into BIGINT: exactly the integer written, within the long range, or refused', () => {
      fc.assert(
        fc.property(numberToken, (token) => {
          const l = land(token, 'BIGINT');
          if (!checkable(token)) {
            // Huge exponents: never an integer in range unless the digits are all zero.
            if (l.ok) expect(rationalOf(token.replace(/[eE].*$/, '')).n).toBe(0n);
            return;
          }
          const r = rationalOf(token);
          const exact = isInteger(r) ? r.n / r.d : undefined;
          if (exact !== undefined && exact >= INT64_MIN && exact <= INT64_MAX) {
            expect(l.ok, `${token} should land`).toBe(true);
            expect(l.ok && l.value).toBe(exact);
          } else expectRefusal(l, token);
        }),
        params(),
      );
    });

    it('into DECIMAL(p,s) of random precision and scale: the exact value or a refusal', () => {
      fc.assert(
        fc.property(numberToken, fc.integer({ min: 1, max: 38 }), fc.nat(38), (token, p, sRaw) => {
          const s = sRaw % (p + 1);
          const l = land(token, `DECIMAL(${p},${s})`);
          if (!checkable(token)) {
            if (l.ok) expect(rationalOf(token.replace(/[eE].*$/, '')).n).toBe(0n);
            return;
          }
          const u = unscaledAt(rationalOf(token), s);
          if (u !== undefined && (u < 0n ? -u : u) < 10n ** BigInt(p)) {
            expect(l.ok, `${token} into decimal(${p},${s}) should land`).toBe(true);
            const neg = u < 0n;
            const digits = (neg ? -u : u).toString().padStart(s + 1, '0');
            expect(l.ok && l.value).toBe((neg ? '-' : '') + (s ? `${digits.slice(0, -s)}.${digits.slice(-s)}` : digits));
          } else expectRefusal(l, token);
        }),
        params(),
      );
    });

    it('into DOUBLE: the nearest double (ties to even), or refused when beyond the range', () => {
      fc.assert(
        fc.property(numberToken, (token) => {
          const l = land(token, 'DOUBLE');
          if (!checkable(token)) return;
          const r = rationalOf(token);
          const mag = { n: r.n < 0n ? -r.n : r.n, d: r.d };
          if (compare(mag, DOUBLE_OVERFLOW) >= 0) return expectRefusal(l, token);
          expect(l.ok, `${token} should land`).toBe(true);
          const x = (l as { value: number }).value;
          expect(Number.isFinite(x)).toBe(true);
          expect(isNearest(r, x, prevDouble, nextDouble, doubleEven), `${token} -> ${x}`).toBe(true);
        }),
        params(),
      );
    });

    it('into FLOAT: the nearest float, rounded once (not through a double), or refused', () => {
      // Halfway cases between two floats are where a double in between rounds twice.
      const halfway = fc.tuple(fc.integer({ min: 1, max: 2 ** 24 - 1 }), fc.integer({ min: -140, max: 100 }), fc.constantFrom(-1n, 0n, 1n)).map(([m, e, nudge]) => {
        // (2m+1) * 2^(e-1): exactly between two floats; nudged by 10^-60 relative either way.
        const n = BigInt(2 * m + 1);
        const r = e >= 1 ? { n: n << BigInt(e - 1), d: 1n } : { n, d: 1n << BigInt(1 - e) };
        const scale = 10n ** 80n;
        const num = r.n * scale * 10n ** 60n + nudge * r.n * scale;
        const den = r.d * 10n ** 60n;
        // As a decimal with enough digits to be exact: num/den * 10^k.
        const k = 200n;
        const q = (num * 10n ** k) / (den * scale);
        const text = q.toString().padStart(Number(k) + 1, '0');
        return `${text.slice(0, -Number(k))}.${text.slice(-Number(k))}`.replace(/0+$/, '').replace(/\.$/, '');
      });
      fc.assert(
        fc.property(fc.oneof(numberToken, halfway, float32MidpointText), (token) => {
          const l = land(token, 'FLOAT');
          if (!checkable(token)) return;
          const r = rationalOf(token);
          const mag = { n: r.n < 0n ? -r.n : r.n, d: r.d };
          if (compare(mag, FLOAT_OVERFLOW) >= 0) return expectRefusal(l, token);
          expect(l.ok, `${token} should land`).toBe(true);
          const x = (l as { value: number }).value;
          expect(isNearest(r, x, prevFloat, nextFloat, floatEven), `${token} -> ${x}`).toBe(true);
        }),
        params(),
      );
    });

    it('into INT, SMALLINT, TINYINT: exact within the type, or refused', () => {
      const types: [string, bigint][] = [
        ['INT', 2n ** 31n],
        ['SMALLINT', 2n ** 15n],
        ['TINYINT', 2n ** 7n],
      ];
      const small = fc.oneof(numberToken, fc.tuple(fc.constantFrom(2n ** 31n, 2n ** 15n, 2n ** 7n), fc.integer({ min: -2, max: 1 }), fc.boolean()).map(([b, k, neg]) => String((neg ? -b : b) + BigInt(k))));
      fc.assert(
        fc.property(small, fc.constantFrom(...types), (token, [type, lim]) => {
          const l = land(token, type);
          if (!checkable(token)) return;
          const r = rationalOf(token);
          const exact = isInteger(r) ? r.n / r.d : undefined;
          if (exact !== undefined && exact >= -lim && exact < lim) {
            expect(l.ok).toBe(true);
            expect(l.ok && BigInt(l.value as number)).toBe(exact);
          } else expectRefusal(l, token);
        }),
        params(),
      );
    });

    it('the decision never depends on how a number is spelled: equal values, equal outcomes', () => {
      // The same value written with a different exponent and padding zeros lands the same way.
      const respell = fc.tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: -20, max: 20 }), fc.integer({ min: 0, max: 30 }));
      fc.assert(
        fc.property(respell, fc.constantFrom('BIGINT', 'DECIMAL(38,10)', 'DECIMAL(10,2)', 'DOUBLE', 'FLOAT', 'INT'), ([u, e, pad], type) => {
          const a = `${u}e${e}`;
          // u * 10^e == (u * 10^pad) * 10^(e - pad), also as plain text with a point.
          const b = `${u * 10n ** BigInt(pad)}e${e - pad}`;
          const la = land(a, type);
          const lb = land(b, type);
          expect(la.ok).toBe(lb.ok);
          if (la.ok && lb.ok) expect(la.value).toEqual(lb.value);
        }),
        params(),
      );
    });
  });

  // ---------------------------------------------------------------------------------------------
  // Timestamps, dates and offsets

  describe('timestamps and dates land exactly or are refused', () => {
    it('ISO-8601 timestamps: valid calendar, time, offset (±18:00, minutes < 60) and year range, else refused', () => {
      fc.assert(
        fc.property(tsParts, fc.boolean(), (p, ntz) => {
          const { text, micros } = timestampCase(p, ntz);
          const l = land(JSON.stringify(text), ntz ? 'TIMESTAMP_NTZ' : 'TIMESTAMP');
          if (micros === undefined) return expectRefusal(l, text);
          expect(l.ok, `${text} should land`).toBe(true);
          expect(l.ok && l.value).toBe(micros);
        }),
        params(),
      );
    });

    it('dates: YYYY-MM-DD calendar dates of years 0001-9999, else refused', () => {
      fc.assert(
        fc.property(tsParts, (p) => {
          const text = `${String(p.y).padStart(4, '0')}-${String(p.mo).padStart(2, '0')}-${String(p.d).padStart(2, '0')}`;
          const l = land(JSON.stringify(text), 'DATE');
          if (!(isCalendarDate(p.y, p.mo, p.d) && p.y >= 1)) return expectRefusal(l, text);
          expect(l.ok).toBe(true);
          // The reader gives dates back as YYYY-MM-DD text: the same calendar date.
          expect(l.ok && l.value).toBe(text);
        }),
        params(),
      );
    });

    it('a JSON number into a timestamp is epoch seconds (as Spark reads it): exactly, to the microsecond, within years 0001-9999, or refused', () => {
      // Around the whole range (and past it, where milliseconds read as seconds fall), with fractions of 0-9 digits.
      const seconds = fc
        .tuple(fc.bigInt({ min: -70_000_000_000n, max: 260_000_000_000n }), fc.option(digitString(1, 9), { nil: undefined }), fc.constantFrom('', '', '', 'e0', 'E+2', 'e-3'))
        .map(([s, f, e]) => `${s}${f !== undefined ? `.${f}` : ''}${e}`);
      const bounds = fc.tuple(fc.constantFrom(MIN_TS_MICROS / 1_000_000n, MAX_TS_MICROS / 1_000_000n, 9_007_199_254n, -9_007_199_254n, 1_714_521_600_000n), fc.integer({ min: -2, max: 2 })).map(([b, k]) => String(b + BigInt(k)));
      fc.assert(
        fc.property(fc.oneof(seconds, bounds, numberToken), fc.boolean(), (token, ntz) => {
          const l = land(token, ntz ? 'TIMESTAMP_NTZ' : 'TIMESTAMP');
          if (!checkable(token)) {
            // Huge exponents: never a timestamp in range unless the digits are all zero.
            if (l.ok) expect(rationalOf(token.replace(/[eE].*$/, '')).n).toBe(0n);
            return;
          }
          const r = rationalOf(token);
          const micros = unscaledAt(r, 6);
          if (micros !== undefined && micros >= MIN_TS_MICROS && micros <= MAX_TS_MICROS) {
            expect(l.ok, `${token} should land`).toBe(true);
            expect(l.ok && l.value).toBe(micros);
          } else expectRefusal(l, token);
        }),
        params(),
      );
    });

    it('random text never lands as something it does not say', () => {
      const chars = fc.string({ unit: fc.constantFrom(...'0123456789-:T+.Z, tUCz'), minLength: 0, maxLength: 32 });
      const GRAMMAR = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)? ?(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$/;
      fc.assert(
        fc.property(chars, (text) => {
          const l = land(JSON.stringify(text), 'TIMESTAMP');
          if (!l.ok) return;
          // Accepted: it must be the grammar, and its fields must give exactly the value stored.
          const m = GRAMMAR.exec(text.trim());
          expect(m, `accepted ${JSON.stringify(text)}`).not.toBeNull();
          const [, y, mo, d, h = '0', mi = '0', s = '0', f = ''] = m!;
          const z = m![8] ?? 'Z';
          let off = 0;
          if (/^[+-]/.test(z)) {
            const zz = /^([+-])(\d{2}):?(\d{2})?$/.exec(z)!;
            off = (zz[1] === '-' ? -1 : 1) * (Number(zz[2]) * 60 + Number(zz[3] ?? 0));
          }
          expect(l.value).toBe(civilMicros(+y, +mo, +d, +h, +mi, +s, Number(f.slice(0, 6).padEnd(6, '0')), off));
        }),
        params(),
      );
    });
  });
}
