/**
 * Independent oracles for the input-edge property tests: exact arithmetic on the digits a JSON
 * number or an ISO-8601 literal states, written without the code under test (BigInt rationals for
 * numbers, Date.UTC for calendars), so a property compares the product with mathematics, not with
 * itself.
 */

/** A JSON number token as an exact rational: n / d (d a power of ten, n any integer). */
export interface Rational {
  n: bigint;
  d: bigint;
}

export function rationalOf(token: string): Rational {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(token);
  if (!m) throw new Error(`not a JSON number: ${token}`);
  const frac = m[3] ?? '';
  let n = BigInt(m[2] + frac);
  let d = 10n ** BigInt(frac.length);
  const e = BigInt(m[4] ?? '0');
  if (e > 0n) n *= 10n ** e;
  else if (e < 0n) d *= 10n ** -e;
  if (m[1] === '-') n = -n;
  return { n, d };
}

/** The exponent of a token, to skip oracles that would build astronomically large integers. */
export function exponentOf(token: string): bigint {
  const m = /[eE]([+-]?\d+)$/.exec(token);
  return m ? BigInt(m[1]) : 0n;
}

export const isInteger = (r: Rational) => r.n % r.d === 0n;
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

/** The unscaled value at `scale` when the rational is exactly representable there. */
export function unscaledAt(r: Rational, scale: number): bigint | undefined {
  const num = r.n * 10n ** BigInt(scale);
  return num % r.d === 0n ? num / r.d : undefined;
}

/** A finite double (or float) as an exact rational. */
export function rationalOfDouble(x: number): Rational {
  if (x === 0) return { n: 0n, d: 1n };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const sign = bits >> 63n ? -1n : 1n;
  const e = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const mant = e === 0 ? frac : frac | (1n << 52n);
  const p = (e === 0 ? 1 : e) - 1075;
  return p >= 0 ? { n: sign * (mant << BigInt(p)), d: 1n } : { n: sign * mant, d: 1n << BigInt(-p) };
}

export function compare(a: Rational, b: Rational): number {
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l === r ? 0 : l < r ? -1 : 1;
}

const sub = (a: Rational, b: Rational): Rational => ({ n: a.n * b.d - b.n * a.d, d: a.d * b.d });
const abs = (a: Rational): Rational => ({ n: a.n < 0n ? -a.n : a.n, d: a.d });

/**
 * Whether `x` is the correctly rounded binary value of `r` (round to nearest, ties to an even
 * last bit) among the values `next(x)`/`prev(x)` of its format; used for doubles and floats.
 */
export function isNearest(r: Rational, x: number, prev: (x: number) => number, next: (x: number) => number, evenLastBit: (x: number) => boolean): boolean {
  const dx = abs(sub(r, rationalOfDouble(x)));
  for (const y of [prev(x), next(x)]) {
    if (!Number.isFinite(y)) continue;
    const dy = abs(sub(r, rationalOfDouble(y)));
    const c = compare(dy, dx);
    if (c < 0) return false;
    if (c === 0 && !evenLastBit(x)) return false;
  }
  return true;
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
export function nextDouble(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  f64[0] = x;
  u64[0] += x > 0 ? 1n : -1n;
  return f64[0];
}
export function prevDouble(x: number): number {
  return -nextDouble(-x);
}
export function doubleEven(x: number): boolean {
  f64[0] = x;
  return (u64[0] & 1n) === 0n;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
export function nextFloat(x: number): number {
  if (x === 0) return 1.401298464324817e-45;
  f32[0] = x;
  u32[0] += x > 0 ? 1 : -1;
  return f32[0];
}
export function prevFloat(x: number): number {
  return -nextFloat(-x);
}
export function floatEven(x: number): boolean {
  f32[0] = x;
  return (u32[0] & 1) === 0;
}

/** The largest double and float as rationals, and the bounds beyond which a value overflows. */
export const DOUBLE_OVERFLOW: Rational = { n: 2n ** 1024n - 2n ** 970n, d: 1n }; // max + half an ulp
export const FLOAT_OVERFLOW: Rational = { n: 2n ** 128n - 2n ** 103n, d: 1n };

/** Epoch microseconds of a civil date-time in UTC, by Date.UTC (not by the code under test). */
export function civilMicros(y: number, mo: number, d: number, h: number, mi: number, s: number, micros: number, offsetMin: number): bigint {
  const dt = new Date(0);
  dt.setUTCFullYear(y, mo - 1, d);
  dt.setUTCHours(h, mi, s, 0);
  return (BigInt(dt.getTime()) - BigInt(offsetMin) * 60_000n) * 1000n + BigInt(micros);
}

export function isCalendarDate(y: number, mo: number, d: number): boolean {
  if (mo < 1 || mo > 12 || d < 1) return false;
  const dt = new Date(0);
  dt.setUTCFullYear(y, mo - 1, d);
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d;
}

export const MIN_TS_MICROS = -62135596800000000n;
export const MAX_TS_MICROS = 253402300799999999n;
