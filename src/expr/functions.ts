import type { RowFn, Value } from './arrow-io.js';
import { civilFromDays, compileDatePattern, dayOfYear, isoDayOfWeek, splitMicros, truncDays, truncLevel, truncMicros } from './datetime.js';
import { EvaluationError } from './errors.js';
import { type Big, fitsBits, negBig } from './numeric.js';
import { castTo, commonTypeOf, constant, type Ctx, map1, type Node, node, typeError, unsupported } from './nodes.js';
import { BOOLEAN, DATE, INT, INTEGRAL_BITS, isDecimal, isIntegral, isNull, isNumeric, isPrimitive, STRING, type SqlType, sqlTypeName, TIMESTAMP } from './types.js';

/**
 * The functions Tributary evaluates, each with Spark's argument types, implicit casts and
 * semantics (ANSI mode). A function that is not here is refused by name when a table's
 * expression uses it.
 */
type Fn = (ctx: Ctx, args: Node[], name: string) => Node;

const sqlOf = (name: string, args: readonly Node[]) => `${name}(${args.map((a) => a.sql).join(', ')})`;

function arity(ctx: Ctx, name: string, args: readonly Node[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    const n = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    typeError(ctx, `${name} takes ${n} argument${min === 1 && max === 1 ? '' : 's'}, not ${args.length}`);
  }
}

/** An argument as a DATE: dates as they are, timestamps and text cast (ANSI) as Spark does implicitly. */
function dateArg(ctx: Ctx, name: string, a: Node): Node {
  if (isPrimitive(a.type, 'date') || isNull(a.type)) return castTo(ctx, a, DATE, false);
  if (isPrimitive(a.type, 'timestamp', 'timestamp_ntz', 'string')) return castTo(ctx, a, DATE, false);
  return typeError(ctx, `${name} needs a DATE, not ${sqlTypeName(a.type)}`);
}

/** An argument as a TIMESTAMP (dates at midnight UTC, text cast); TIMESTAMP_NTZ keeps its wall clock, the same microseconds in UTC. */
function timestampArg(ctx: Ctx, name: string, a: Node): Node {
  if (isPrimitive(a.type, 'timestamp', 'timestamp_ntz')) return a;
  if (isPrimitive(a.type, 'date', 'string') || isNull(a.type)) return castTo(ctx, a, TIMESTAMP, false);
  return typeError(ctx, `${name} needs a TIMESTAMP, not ${sqlTypeName(a.type)}`);
}

/** An INT argument (positions, lengths): other integers are cast, with Spark 4's overflow error. */
function intArg(ctx: Ctx, name: string, a: Node): Node {
  if (isIntegral(a.type) || isNull(a.type)) return castTo(ctx, a, INT, false);
  return typeError(ctx, `${name} needs an integer, not ${sqlTypeName(a.type)}`);
}

/** A literal string argument (a format), or a refusal naming the function. */
function literalString(ctx: Ctx, name: string, a: Node, what: string): string | null {
  if (!a.value || !(isPrimitive(a.type, 'string') || isNull(a.type))) unsupported(ctx, `${name} with a ${what} that is not a string literal`, `${name} with a non-literal ${what}`);
  return a.value.v as string | null;
}

function datePart(get: (days: number) => number): Fn {
  return (ctx, args, name) => {
    arity(ctx, name, args, 1);
    const a = dateArg(ctx, name, args[0]);
    return map1(INT, sqlOf(name, args), a, get);
  };
}

function timePart(unit: number, mod: number): Fn {
  return (ctx, args, name) => {
    arity(ctx, name, args, 1);
    const a = timestampArg(ctx, name, args[0]);
    return map1(INT, sqlOf(name, args), a, (x: Big) => Math.floor(splitMicros(x).micros / unit) % mod);
  };
}

/** Code points of a string (Spark counts characters of its UTF-8, not UTF-16 units). */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      n--;
      i++;
    }
  }
  return n;
}

const hasSurrogates = (s: string) => /[\uD800-\uDFFF]/.test(s);

/** UTF8String.substringSQL: one-based, 0 is the first character, negative counts from the end. */
export function substringSql(s: string, pos: number, length: number): string {
  const chars = hasSurrogates(s) ? Array.from(s) : undefined;
  const len = chars ? chars.length : s.length;
  const start = pos > 0 ? pos - 1 : pos < 0 ? len + pos : 0;
  const end = Math.max(-2147483648, Math.min(2147483647, length + start));
  if (end <= start || start >= len) return '';
  const a = Math.max(start, 0);
  const b = Math.min(end, len);
  if (b <= a) return '';
  return chars ? chars.slice(a, b).join('') : s.slice(a, b);
}

function castToString(ctx: Ctx, name: string, a: Node): Node {
  if (isPrimitive(a.type, 'string')) return a;
  if (isPrimitive(a.type, 'binary')) unsupported(ctx, `${name} of BINARY values`);
  return castTo(ctx, a, STRING, false);
}

export const FUNCTIONS: Record<string, Fn> = {
  length: lengthFn,
  char_length: lengthFn,
  character_length: lengthFn,
  substring: substringFn,
  substr: substringFn,
  concat(ctx, args, name) {
    arity(ctx, name, args, 1, Infinity);
    const parts = args.map((a) => castToString(ctx, name, a));
    return node(STRING, sqlOf(name, args), parts, (fns) => (r) => {
      let out = '';
      for (const f of fns) {
        const v = f(r);
        if (v === null) return null;
        out += v as string;
      }
      return out;
    });
  },
  coalesce(ctx, args, name) {
    arity(ctx, name, args, 1, Infinity);
    const t = commonTypeOf(ctx, args, name);
    const cast = args.map((a) => castTo(ctx, a, t, false));
    return node(t, sqlOf(name, args), cast, (fns) => (r) => {
      for (const f of fns) {
        const v = f(r);
        if (v !== null) return v;
      }
      return null;
    });
  },
  nvl: nvlFn,
  ifnull: nvlFn,
  if(ctx, args, name) {
    arity(ctx, name, args, 3);
    const cond = booleanArg(ctx, name, args[0]);
    const t = commonTypeOf(ctx, args.slice(1), name);
    const [a, b] = args.slice(1).map((x) => castTo(ctx, x, t, false));
    return node(t, sqlOf(name, args), [cond, a, b], ([fc, fa, fb]) => (r) => (fc(r) === true ? fa(r) : fb(r)));
  },
  isnull(ctx, args, name) {
    arity(ctx, name, args, 1);
    return node(BOOLEAN, sqlOf(name, args), args, ([f]) => (r) => f(r) === null);
  },
  isnotnull(ctx, args, name) {
    arity(ctx, name, args, 1);
    return node(BOOLEAN, sqlOf(name, args), args, ([f]) => (r) => f(r) !== null);
  },
  abs(ctx, args, name) {
    arity(ctx, name, args, 1);
    const a = args[0];
    if (isNull(a.type)) return constant(INT, null, sqlOf(name, args));
    if (!isNumeric(a.type)) typeError(ctx, `${name} needs a number, not ${sqlTypeName(a.type)}`);
    if (isIntegral(a.type)) {
      const bits = INTEGRAL_BITS[(a.type as { name: 'long' }).name]!;
      return map1(a.type, sqlOf(name, args), a, (x: Big) => {
        const r = x < 0 ? negBig(x) : x;
        if (!fitsBits(r, bits)) throw new EvaluationError('ARITHMETIC_OVERFLOW', `${sqlTypeName(a.type).toLowerCase()} overflow in abs(${String(x)})`);
        return r;
      });
    }
    if (isDecimal(a.type)) return map1(a.type, sqlOf(name, args), a, (x: Big) => (x < 0 ? negBig(x) : x));
    return map1(a.type, sqlOf(name, args), a, (x: number) => Math.abs(x));
  },
  year: datePart((d) => civilFromDays(d).year),
  quarter: datePart((d) => Math.ceil(civilFromDays(d).month / 3)),
  month: datePart((d) => civilFromDays(d).month),
  day: datePart((d) => civilFromDays(d).day),
  dayofmonth: datePart((d) => civilFromDays(d).day),
  dayofyear: datePart((d) => dayOfYear(d)),
  // Sunday 1 ... Saturday 7.
  dayofweek: datePart((d) => (isoDayOfWeek(d) % 7) + 1),
  hour: timePart(3_600_000_000, 24),
  minute: timePart(60_000_000, 60),
  second: timePart(1_000_000, 60),
  to_date(ctx, args, name) {
    arity(ctx, name, args, 1, 2);
    if (args.length === 2) unsupported(ctx, `${name} with a format (write CAST(x AS DATE) or to_date(x))`, `${name}(x, format)`);
    return { ...dateArg(ctx, name, args[0]), sql: sqlOf(name, args) };
  },
  date_format(ctx, args, name) {
    arity(ctx, name, args, 2);
    const a = timestampArg(ctx, name, args[0]);
    const fmt = literalString(ctx, name, args[1], 'format');
    if (fmt === null) return constant(STRING, null, sqlOf(name, args));
    const print = compileDatePattern(fmt, ctx.source);
    return map1(STRING, sqlOf(name, args), a, print);
  },
  date_trunc(ctx, args, name) {
    arity(ctx, name, args, 2);
    const fmt = literalString(ctx, name, args[0], 'unit');
    const a = timestampArg(ctx, name, args[1]);
    const level = fmt === null ? undefined : truncLevel(fmt);
    if (level === undefined) return constant(TIMESTAMP, null, sqlOf(name, args));
    return map1(TIMESTAMP, sqlOf(name, args), a, (x: Big) => truncMicros(x, level));
  },
  trunc(ctx, args, name) {
    arity(ctx, name, args, 2);
    const a = dateArg(ctx, name, args[0]);
    const fmt = literalString(ctx, name, args[1], 'unit');
    const level = fmt === null ? undefined : truncLevel(fmt);
    // trunc keeps a date: units below a week are NULL.
    if (level !== 'WEEK' && level !== 'MONTH' && level !== 'QUARTER' && level !== 'YEAR') return constant(DATE, null, sqlOf(name, args));
    return map1(DATE, sqlOf(name, args), a, (d: number) => truncDays(d, level));
  },
};

function lengthFn(ctx: Ctx, args: Node[], name: string): Node {
  arity(ctx, name, args, 1);
  const a = args[0];
  if (isPrimitive(a.type, 'binary')) return map1(INT, sqlOf(name, args), a, (b: Uint8Array) => b.length);
  if (!isPrimitive(a.type, 'string') && !isNull(a.type)) typeError(ctx, `${name} needs a STRING or BINARY, not ${sqlTypeName(a.type)}`);
  return map1(INT, sqlOf(name, args), a, codePoints);
}

function substringFn(ctx: Ctx, args: Node[], name: string): Node {
  arity(ctx, name, args, 2, 3);
  const s = args[0];
  if (isPrimitive(s.type, 'binary')) unsupported(ctx, `${name} of BINARY values`);
  if (!isPrimitive(s.type, 'string') && !isNull(s.type)) typeError(ctx, `${name} needs a STRING, not ${sqlTypeName(s.type)}`);
  const pos = intArg(ctx, name, args[1]);
  const len = args[2] ? intArg(ctx, name, args[2]) : constant(INT, 2147483647, '2147483647');
  return node(STRING, sqlOf(name, args), [s, pos, len], ([fs, fp, fl]) => (r) => {
    const v = fs(r);
    if (v === null) return null;
    const p = fp(r);
    if (p === null) return null;
    const l = fl(r);
    if (l === null) return null;
    return substringSql(v as string, p as number, l as number);
  });
}

function nvlFn(ctx: Ctx, args: Node[], name: string): Node {
  arity(ctx, name, args, 2);
  return FUNCTIONS.coalesce(ctx, args, name);
}

function booleanArg(ctx: Ctx, name: string, a: Node): Node {
  if (isPrimitive(a.type, 'boolean')) return a;
  if (isNull(a.type)) return castTo(ctx, a, BOOLEAN, false);
  return typeError(ctx, `${name} needs a BOOLEAN condition, not ${sqlTypeName(a.type)}`);
}

export type { RowFn, SqlType, Value };
