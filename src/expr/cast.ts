import { Reject, toFloat32 } from '../arrow/coerce.js';
import { decimalToString, javaDoubleToString, javaFloatToString } from '../arrow/values.js';
import { dateToString, joinMicros, MICROS_PER_DAY, splitMicros, stringToDate, stringToTimestamp, timestampToString } from './datetime.js';
import { EvaluationError } from './errors.js';
import { type Big, decimalText, fitsBits, fitsPrecision, mulBig, norm, parseDecimal, pow10, rescale, toBigInt, toDecimalType } from './numeric.js';
import { INTEGRAL_BITS, isDecimal, isIntegral, isPrimitive, type SqlType, sqlTypeName } from './types.js';

/**
 * CAST as Spark 4 evaluates it in ANSI mode (its default): a value that does not fit or text that
 * is no value of the target type is an error (CAST_OVERFLOW, CAST_INVALID_INPUT,
 * NUMERIC_VALUE_OUT_OF_RANGE), never the NULL or wrapped value Spark 3.5 gives without ANSI mode.
 * Casts whose result Tributary cannot promise to be Spark's are not offered (castFunction
 * returns undefined, and the expression is refused by name).
 */
export type CastFn = (v: any) => unknown;

const overflow = (v: unknown, from: SqlType, to: SqlType): never => {
  throw new EvaluationError('CAST_OVERFLOW', `the value ${String(v)} of the type ${sqlTypeName(from)} cannot be cast to ${sqlTypeName(to)} due to an overflow`);
};
const invalid = (s: string, to: SqlType): never => {
  throw new EvaluationError('CAST_INVALID_INPUT', `the value ${JSON.stringify(s)} of the type STRING cannot be cast to ${sqlTypeName(to)} because it is malformed`);
};

/** Spark trims ASCII whitespace and control characters around text it casts (UTF8String.trimAll). */
function trimAll(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) <= 0x20 || s.charCodeAt(a) === 0x7f)) a++;
  while (b > a && (s.charCodeAt(b - 1) <= 0x20 || s.charCodeAt(b - 1) === 0x7f)) b--;
  return s.slice(a, b);
}

const TRUE_STRINGS = new Set(['t', 'true', 'y', 'yes', '1']);
const FALSE_STRINGS = new Set(['f', 'false', 'n', 'no', '0']);
const FLOAT_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?$/;

function specialDouble(s: string): number | undefined {
  switch (s.toLowerCase()) {
    case 'inf':
    case '+inf':
    case 'infinity':
    case '+infinity':
      return Infinity;
    case '-inf':
    case '-infinity':
      return -Infinity;
    case 'nan':
    case '+nan':
    case '-nan':
      return NaN;
  }
  return undefined;
}

function parseDouble(s: string, to: SqlType): number {
  const t = trimAll(s);
  const sp = specialDouble(t);
  if (sp !== undefined) return sp;
  if (!FLOAT_RE.test(t)) {
    if (/^[+-]?0[xX]/.test(t)) throw new EvaluationError('TRIBUTARY_UNSUPPORTED', `the hexadecimal number ${JSON.stringify(s)}`);
    return invalid(s, to);
  }
  return Number(t.replace(/[dDfF]$/, ''));
}

/** A double as decimal text the way scala.BigDecimal(d) reads it (Double.toString's digits). */
function doubleToDecimal(x: number, p: number, s: number, from: SqlType, to: SqlType): Big {
  if (!Number.isFinite(x)) return overflow(x, from, to);
  const d = parseDecimal(String(x));
  if (!d) return overflow(x, from, to);
  return toDecimalType(d.u, d.scale, p, s);
}

function toIntegral(x: Big, bits: number, from: SqlType, to: SqlType): Big {
  if (!fitsBits(x, bits)) overflow(x, from, to);
  return x;
}

function fractionalToIntegral(x: number, bits: number, from: SqlType, to: SqlType): Big {
  if (!Number.isFinite(x)) return overflow(x, from, to);
  const t = Math.trunc(x) || 0;
  const v = Number.isSafeInteger(t) ? t : norm(BigInt(t));
  return toIntegral(v, bits, from, to);
}

export function castFunction(from: SqlType, to: SqlType): CastFn | undefined {
  if (from.kind === 'null') return () => null;
  if (from.kind === to.kind && sqlTypeName(from) === sqlTypeName(to)) return (v) => v;
  const toName = to.kind === 'primitive' ? to.name : to.kind;
  // To STRING.
  if (toName === 'string') {
    if (isIntegral(from)) return (v: Big) => String(v);
    if (isDecimal(from)) return (v: Big) => decimalText(v, from.scale);
    if (isPrimitive(from, 'double')) return (v: number) => javaDoubleToString(v);
    if (isPrimitive(from, 'float')) return (v: number) => javaFloatToString(v);
    if (isPrimitive(from, 'boolean')) return (v: boolean) => (v ? 'true' : 'false');
    if (isPrimitive(from, 'date')) return (v: number) => dateToString(v);
    if (isPrimitive(from, 'timestamp', 'timestamp_ntz')) return (v: Big) => timestampToString(v);
    return undefined;
  }
  // From STRING.
  if (isPrimitive(from, 'string')) {
    if (isIntegral(to)) {
      const bits = INTEGRAL_BITS[(to as { name: 'long' }).name]!;
      return (s: string) => {
        const t = trimAll(s);
        if (!/^[+-]?\d+$/.test(t)) return invalid(s, to);
        const x = norm(BigInt(t));
        return fitsBits(x, bits) ? x : invalid(s, to);
      };
    }
    if (isDecimal(to)) {
      return (s: string) => {
        const d = parseDecimal(trimAll(s));
        if (!d || /^[+-]?$/.test(trimAll(s))) return invalid(s, to);
        return toDecimalType(d.u, d.scale, to.precision, to.scale);
      };
    }
    if (isPrimitive(to, 'double')) return (s: string) => parseDouble(s, to);
    if (isPrimitive(to, 'float')) {
      return (s: string) => {
        const x = parseDouble(s, to);
        if (!Number.isFinite(x)) return x;
        // Float.parseFloat rounds the text once; an out-of-range one is an infinity.
        const f = toFloat32(trimAll(s).replace(/[dDfF]$/, ''));
        return f instanceof Reject ? (x > 0 ? Infinity : -Infinity) : f;
      };
    }
    if (isPrimitive(to, 'boolean')) {
      return (s: string) => {
        const t = trimAll(s).toLowerCase();
        if (TRUE_STRINGS.has(t)) return true;
        if (FALSE_STRINGS.has(t)) return false;
        return invalid(s, to);
      };
    }
    if (isPrimitive(to, 'date')) return (s: string) => stringToDate(s) ?? invalid(s, to);
    if (isPrimitive(to, 'timestamp')) return (s: string) => stringToTimestamp(s, false) ?? invalid(s, to);
    if (isPrimitive(to, 'timestamp_ntz')) return (s: string) => stringToTimestamp(s, true) ?? invalid(s, to);
    return undefined;
  }
  // Between numbers.
  if (isIntegral(from)) {
    if (isIntegral(to)) {
      const bits = INTEGRAL_BITS[(to as { name: 'long' }).name]!;
      return (v: Big) => toIntegral(v, bits, from, to);
    }
    if (isDecimal(to)) {
      return (v: Big) => {
        const u = mulBig(v, norm(pow10(to.scale)));
        if (!fitsPrecision(u, to.precision)) throw new EvaluationError('NUMERIC_VALUE_OUT_OF_RANGE', `${String(v)} cannot be represented as ${sqlTypeName(to)}`);
        return u;
      };
    }
    if (isPrimitive(to, 'double')) return (v: Big) => Number(v);
    if (isPrimitive(to, 'float')) return (v: Big) => (typeof v === 'number' ? Math.fround(v) : (toFloat32(v) as number));
    if (isPrimitive(to, 'boolean')) return (v: Big) => v !== 0;
    return undefined;
  }
  if (isDecimal(from)) {
    if (isDecimal(to)) return (v: Big) => toDecimalType(toBigInt(v), from.scale, to.precision, to.scale);
    if (isIntegral(to)) {
      const bits = INTEGRAL_BITS[(to as { name: 'long' }).name]!;
      return (v: Big) => toIntegral(norm(toBigInt(v) / pow10(from.scale)), bits, from, to);
    }
    if (isPrimitive(to, 'double')) return (v: Big) => Number(decimalToString(toBigInt(v), from.scale));
    if (isPrimitive(to, 'float')) return (v: Big) => toFloat32(decimalToString(toBigInt(v), from.scale)) as number;
    if (isPrimitive(to, 'boolean')) return (v: Big) => v !== 0;
    return undefined;
  }
  if (isPrimitive(from, 'double', 'float')) {
    if (isIntegral(to)) {
      const bits = INTEGRAL_BITS[(to as { name: 'long' }).name]!;
      return (v: number) => fractionalToIntegral(v, bits, from, to);
    }
    if (isPrimitive(to, 'double')) return (v: number) => v;
    if (isPrimitive(to, 'float')) return (v: number) => Math.fround(v);
    if (isPrimitive(to, 'boolean')) return (v: number) => v !== 0;
    // FLOAT to DECIMAL: whether Spark widens the float to a double first is not settled here.
    if (isDecimal(to) && isPrimitive(from, 'double')) return (v: number) => doubleToDecimal(v, to.precision, to.scale, from, to);
    return undefined;
  }
  if (isPrimitive(from, 'boolean')) {
    if (isIntegral(to)) return (v: boolean) => (v ? 1 : 0);
    if (isPrimitive(to, 'double', 'float')) return (v: boolean) => (v ? 1 : 0);
    if (isDecimal(to)) {
      return (v: boolean) => {
        if (!v) return 0;
        const u = rescale(1, 0, to.scale);
        if (!fitsPrecision(u, to.precision)) throw new EvaluationError('NUMERIC_VALUE_OUT_OF_RANGE', `1 cannot be represented as ${sqlTypeName(to)}`);
        return u;
      };
    }
    return undefined;
  }
  // Dates and timestamps, in UTC.
  if (isPrimitive(from, 'date')) {
    if (isPrimitive(to, 'timestamp', 'timestamp_ntz')) return (v: number) => joinMicros(v, 0);
    return undefined;
  }
  if (isPrimitive(from, 'timestamp', 'timestamp_ntz')) {
    if (isPrimitive(to, 'date')) return (v: Big) => splitMicros(v).days;
    if (isPrimitive(to, 'timestamp', 'timestamp_ntz')) return (v: Big) => v;
    return undefined;
  }
  return undefined;
}

export { MICROS_PER_DAY };
