import { exactDecimal } from '../arrow/coerce.js';
import { decimalToString } from '../arrow/values.js';
import { EvaluationError } from './errors.js';

/**
 * Exact integers for 64-bit and decimal values without a BigInt per value: a value within ±2^53
 * is a number, anything larger a bigint. Keeping that form canonical (never a bigint that fits a
 * number) lets `===` compare values and `<` order them across both forms.
 */
export type Big = number | bigint;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_N = BigInt(MAX_SAFE);

export const norm = (x: bigint): Big => (x >= -MAX_SAFE_N && x <= MAX_SAFE_N ? Number(x) : x);
export const toBigInt = (x: Big): bigint => (typeof x === 'bigint' ? x : BigInt(x));

export function addBig(a: Big, b: Big): Big {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a + b;
    if (r >= -MAX_SAFE && r <= MAX_SAFE) return r;
  }
  return norm(toBigInt(a) + toBigInt(b));
}

export function subBig(a: Big, b: Big): Big {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a - b;
    if (r >= -MAX_SAFE && r <= MAX_SAFE) return r;
  }
  return norm(toBigInt(a) - toBigInt(b));
}

export function mulBig(a: Big, b: Big): Big {
  if (typeof a === 'number' && typeof b === 'number') {
    // A true product within ±2^53 is an integer a double holds, so the rounded product is exact;
    // one beyond it rounds to beyond it.
    const r = a * b;
    if (r >= -MAX_SAFE && r <= MAX_SAFE) return r === 0 ? 0 : r;
  }
  return norm(toBigInt(a) * toBigInt(b));
}

export const negBig = (a: Big): Big => (typeof a === 'number' ? (a === 0 ? 0 : -a) : norm(-a));
export const signBig = (a: Big): number => (a > 0 ? 1 : a < 0 ? -1 : 0);
export const absBig = (a: Big): Big => (a < 0 ? negBig(a) : a);

/** Java's truncating division and remainder (the caller rules out a zero divisor). */
export function quotBig(a: Big, b: Big): Big {
  if (typeof a === 'number' && typeof b === 'number') return Math.trunc(a / b) || 0;
  return norm(toBigInt(a) / toBigInt(b));
}
export function remBig(a: Big, b: Big): Big {
  if (typeof a === 'number' && typeof b === 'number') return a % b || 0;
  return norm(toBigInt(a) % toBigInt(b));
}

const POW10: bigint[] = [1n];
for (let i = 1; i <= 80; i++) POW10.push(POW10[i - 1] * 10n);
export const pow10 = (n: number): bigint => POW10[n] ?? 10n ** BigInt(n);

const INT_BOUNDS: Record<number, [Big, Big]> = {
  8: [-128, 127],
  16: [-32768, 32767],
  32: [-2147483648, 2147483647],
  64: [-(2n ** 63n), 2n ** 63n - 1n],
};

/** Whether an exact integer fits a signed integer type of `bits`. */
export const fitsBits = (x: Big, bits: number): boolean => x >= INT_BOUNDS[bits][0] && x <= INT_BOUNDS[bits][1];

// ---------------------------------------------------------------------------------------------
// Decimals: an unscaled integer and the scale of the type (value = unscaled / 10^scale).

/** |unscaled| < 10^precision. */
export function fitsPrecision(u: Big, precision: number): boolean {
  if (typeof u === 'number' && precision >= 16) return true;
  const b = toBigInt(u);
  return (b < 0n ? -b : b) < pow10(precision);
}

/** Divides by 10^digits, rounding half away from zero (Java's HALF_UP). */
export function roundHalfUp(u: bigint, digits: number): bigint {
  if (digits <= 0) return u * pow10(-digits);
  const d = pow10(digits);
  const q = u / d;
  const r = u % d;
  const twice = (r < 0n ? -r : r) * 2n;
  if (twice >= d) return u < 0n ? q - 1n : q + 1n;
  return q;
}

/** An unscaled value moved from one scale to another, HALF_UP when digits are dropped. */
export function rescale(u: Big, from: number, to: number): Big {
  if (to === from) return u;
  if (to > from) return mulBig(u, norm(pow10(to - from)));
  return norm(roundHalfUp(toBigInt(u), from - to));
}

const SIGNIFICANT = 39; // Spark's Decimal.MATH_CONTEXT: MAX_PRECISION + 1 digits, HALF_UP

/**
 * An exact result (unscaled `u` at `scale`) as Spark's Decimal arithmetic leaves it before the
 * result type is applied: rounded to 39 significant digits (java.math.MathContext(39, HALF_UP)).
 */
export function roundToContext(u: bigint, scale: number): { u: bigint; scale: number } {
  const digits = (u < 0n ? -u : u).toString().length;
  if (digits <= SIGNIFICANT) return { u, scale };
  const drop = digits - SIGNIFICANT;
  return { u: roundHalfUp(u, drop), scale: scale - drop };
}

/**
 * The decimal `u / 10^scale` in a DECIMAL(precision, targetScale) result: HALF_UP rounding to the
 * scale, then the precision check Spark 4 turns into NUMERIC_VALUE_OUT_OF_RANGE.
 */
export function toDecimalType(u: bigint, scale: number, precision: number, targetScale: number): Big {
  const r = norm(roundHalfUp(u, scale - targetScale));
  if (!fitsPrecision(r, precision)) {
    throw new EvaluationError('NUMERIC_VALUE_OUT_OF_RANGE', `${decimalToString(toBigInt(r), targetScale)} cannot be represented as DECIMAL(${precision},${targetScale})`);
  }
  return r;
}

/**
 * Quotient of two decimals as BigDecimal.divide(x, MathContext(39, HALF_UP)) gives it (Spark's
 * Decimal./): the exact quotient rounded to 39 significant digits. Only its value matters, since
 * the result type's scale is applied next.
 */
export function divideToContext(a: bigint, sa: number, b: bigint, sb: number): { u: bigint; scale: number } {
  const negative = a < 0n !== b < 0n;
  const x = a < 0n ? -a : a;
  const y = b < 0n ? -b : b;
  if (x === 0n) return { u: 0n, scale: 0 };
  // Pad the dividend so the integer quotient has at least 40 digits: q = floor(x * 10^extra / y).
  const extra = Math.max(0, SIGNIFICANT + 2 + y.toString().length - x.toString().length);
  const q = (x * pow10(extra)) / y;
  const drop = q.toString().length - SIGNIFICANT;
  const d = pow10(drop);
  // HALF_UP: the dropped digits (and the remainder below them) are at least half of d exactly
  // when the dropped digits alone are, d being even.
  const u = (q % d) * 2n >= d ? q / d + 1n : q / d;
  return { u: negative ? -u : u, scale: sa + extra - sb - drop };
}

// ---------------------------------------------------------------------------------------------
// Text

/**
 * A decimal as text, the way both Spark lines print it: Spark 4 always plainly, Spark 3.5 with
 * java.math.BigDecimal.toString, which switches to E-notation for values below 10^-6 (0E-8 for a
 * zero of scale 8). Where the two differ Tributary refuses instead of picking one.
 */
export function decimalText(u: Big, scale: number): string {
  const b = toBigInt(u);
  const digits = (b < 0n ? -b : b).toString().length;
  const adjusted = digits - 1 - scale;
  if (scale > 0 && adjusted < -6) {
    throw new EvaluationError('TRIBUTARY_UNSUPPORTED', `the decimal ${decimalToString(b, scale)} is printed as ${decimalToString(b, scale)} by Spark 4 but in E-notation by Spark 3.5`);
  }
  return decimalToString(b, scale);
}

/** Exact decimal text (optional sign, digits, point, exponent) as unscaled value and scale. */
export function parseDecimal(text: string): { u: bigint; scale: number } | undefined {
  const d = exactDecimal(text);
  if (!d) return undefined;
  if (d.digits === '') return { u: 0n, scale: 0 };
  if (Math.abs(d.exp) > 100_000) return undefined;
  const mag = BigInt(d.digits);
  const u = d.exp >= 0 ? mag * pow10(d.exp) : mag;
  return { u: d.negative ? -u : u, scale: d.exp >= 0 ? 0 : -d.exp };
}

/** Number of decimal digits of |x| (1 for 0). */
export const digitCount = (x: Big): number => {
  const b = toBigInt(x);
  return (b < 0n ? -b : b).toString().length;
};

/**
 * Spark's ordering of doubles (SQLOrderingUtil.compareDoubles): NaN equals NaN and is above
 * everything, and -0.0 equals 0.0.
 */
export function compareDoubles(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) return 0;
  const an = a !== a;
  const bn = b !== b;
  return an === bn ? 0 : an ? 1 : -1;
}
