import fc from 'fast-check';
import { civilMicros, isCalendarDate, INT64_MAX, INT64_MIN, MAX_TS_MICROS, MIN_TS_MICROS } from './exact.js';

/**
 * Generators of the input edge's hard cases, shared by the property tests and by the interop
 * suite's generator (so Spark judges tables made of the same values): JSON number tokens of every
 * length and exponent, ISO-8601 literals valid and invalid, column names a user might type.
 */
// ---------------------------------------------------------------------------------------------
// Number tokens of every length and exponent, with extra weight on the edges that matter.

export const digitString = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
const intPart = fc.oneof(fc.constant('0'), fc.tuple(fc.constantFrom(...'123456789'), digitString(0, 45)).map(([a, b]) => a + b));
const exponent = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -30, max: 30 }).map(String) },
  { weight: 2, arbitrary: fc.integer({ min: -500, max: 500 }).map(String) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('', '-', '+'), fc.constantFrom(...'123456789'), digitString(15, 25)).map(([s, a, b]) => s + a + b) },
);
export const generalToken = fc
  .tuple(fc.boolean(), intPart, fc.option(digitString(1, 45), { nil: undefined }), fc.option(fc.tuple(fc.constantFrom('e', 'E'), exponent), { nil: undefined }))
  .map(([neg, i, f, e]) => `${neg ? '-' : ''}${i}${f !== undefined ? `.${f}` : ''}${e ? `${e[0]}${e[1]}` : ''}`);
/** Integers around the long range, 2^53 and powers of ten; decimals with trailing zeros. */
export const edgeToken = fc.oneof(
  fc.tuple(fc.constantFrom(INT64_MAX, INT64_MIN, 2n ** 53n, -(2n ** 53n), 10n ** 18n, 10n ** 19n, 10n ** 38n), fc.integer({ min: -3, max: 3 })).map(([b, k]) => (b + BigInt(k)).toString()),
  fc.tuple(fc.constantFrom(INT64_MAX, INT64_MIN, 10n ** 18n), fc.integer({ min: 0, max: 4 })).map(([b, z]) => `${b}${z ? '.' + '0'.repeat(z) : ''}`),
  fc.tuple(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 5 })).map(([u, s, z]) => {
    const neg = u < 0n;
    const t = (neg ? -u : u).toString().padStart(s + 1, '0');
    const text = s ? `${t.slice(0, -s)}.${t.slice(-s)}${'0'.repeat(z)}` : t;
    return (neg ? '-' : '') + text;
  }),
  fc.tuple(fc.bigInt({ min: 1n, max: 10n ** 20n }), fc.integer({ min: -60, max: 60 })).map(([u, e]) => `${u}e${e}`),
);
export const numberToken = fc.oneof({ weight: 3, arbitrary: generalToken }, { weight: 2, arbitrary: edgeToken });


// ---------------------------------------------------------------------------------------------
// Timestamp literals as parts, valid and invalid

export const tsParts = fc.record({
  y: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 9999 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 9999) }),
  mo: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 12 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 13, 99) }),
  d: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 28 }) }, { weight: 3, arbitrary: fc.integer({ min: 29, max: 31 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 32, 99) }),
  h: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 23 }) }, { weight: 1, arbitrary: fc.constantFrom(24, 25, 99) }),
  mi: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 59 }) }, { weight: 1, arbitrary: fc.constantFrom(60, 99) }),
  s: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 59 }) }, { weight: 1, arbitrary: fc.constantFrom(60, 61, 99) }),
  frac: fc.option(fc.tuple(digitString(1, 9), fc.boolean()), { nil: undefined }),
  zone: fc.oneof(
    fc.constant(''),
    fc.constantFrom('Z', 'z', ' UTC', 'UTC'),
    fc.record({ sign: fc.constantFrom('+', '-'), oh: fc.integer({ min: 0, max: 25 }), om: fc.oneof(fc.constantFrom(0, 30, 45), fc.integer({ min: 0, max: 99 })), form: fc.constantFrom('hh:mm', 'hhmm', 'hh') }),
  ),
  sep: fc.constantFrom('T', ' ', 't'),
  seconds: fc.boolean(),
});
export type TsParts = typeof tsParts extends fc.Arbitrary<infer T> ? T : never;

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** The literal, and the oracle's verdict: its exact microseconds, or why it must be refused. */
export function timestampCase(p: TsParts, ntz: boolean): { text: string; micros?: bigint } {
  let text = `${pad(p.y, 4)}-${pad(p.mo, 2)}-${pad(p.d, 2)}${p.sep}${pad(p.h, 2)}:${pad(p.mi, 2)}`;
  let micros = 0;
  let subMicro = false;
  if (p.seconds) {
    text += `:${pad(p.s, 2)}`;
    if (p.frac) {
      const [digits, comma] = p.frac;
      text += (comma ? ',' : '.') + digits;
      micros = Number(digits.slice(0, 6).padEnd(6, '0'));
      subMicro = /[1-9]/.test(digits.slice(6));
    }
  }
  let offsetMin = 0;
  let zoneValid = true;
  let zoned = false;
  if (typeof p.zone === 'string') {
    text += p.zone;
    zoned = p.zone !== '';
  } else {
    const z = p.zone;
    text += z.sign + pad(z.oh, 2) + (z.form === 'hh' ? '' : (z.form === 'hh:mm' ? ':' : '') + pad(z.om, 2));
    const om = z.form === 'hh' ? 0 : z.om;
    zoned = true;
    zoneValid = om < 60 && z.oh * 60 + om <= 18 * 60;
    offsetMin = (z.sign === '-' ? -1 : 1) * (z.oh * 60 + om);
  }
  const secs = p.seconds ? p.s : 0;
  const valid = isCalendarDate(p.y, p.mo, p.d) && p.y >= 1 && p.h <= 23 && p.mi <= 59 && secs <= 59 && !subMicro && zoneValid && !(ntz && zoned);
  if (!valid) return { text };
  const v = civilMicros(p.y, p.mo, p.d, p.h, p.mi, secs, micros, offsetMin);
  return v < MIN_TS_MICROS || v > MAX_TS_MICROS ? { text } : { text, micros: v };
}

// ---------------------------------------------------------------------------------------------
// Column names: anything a user might type, biased towards what Spark refuses

export const columnName = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 0, maxLength: 12 }) },
  { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom(...'ab_Z9.-$é😀`\'"/#%:[]*'), minLength: 1, maxLength: 10 }) },
  { weight: 2, arbitrary: fc.tuple(fc.string({ unit: fc.constantFrom(...'abc'), minLength: 0, maxLength: 3 }), fc.constantFrom(' ', ',', ';', '{', '}', '(', ')', '\n', '\t', '=', '\r', '\u0000', '\u007f'), fc.string({ unit: fc.constantFrom(...'xyz'), minLength: 0, maxLength: 3 })).map(([a, c, b]) => a + c + b) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }) },
);

/** The oracle for names: Delta's checkFieldNames characters, control characters, empty, lone surrogates. */
export function nameAllowed(name: string): boolean {
  return name.length > 0 && !/[ ,;{}()\n\t=\u0000-\u001f\u007f]/.test(name) && name.isWellFormed();
}

/** Samples a generator deterministically (for tables generated outside fast-check's runner). */
export function sampleOf<T>(arb: fc.Arbitrary<T>, n: number, seed: number): T[] {
  return fc.sample(arb, { seed, numRuns: n });
}
