import type * as arrow from 'apache-arrow';
import type { RowFn, Value } from './arrow-io.js';
import { castFunction } from './cast.js';
import { EvaluationError, ExpressionError } from './errors.js';
import { type Big, digitCount } from './numeric.js';
import {
  boundedDecimal,
  decimalForIntegral,
  decimalType,
  DOUBLE,
  integralRank,
  isDecimal,
  isIntegral,
  isNull,
  isNumeric,
  isPrimitive,
  sameType,
  type SqlType,
  sqlTypeName,
  TIMESTAMP,
  TIMESTAMP_NTZ,
  widerDecimal,
} from './types.js';
import type { DecimalType, PrimitiveType } from '../schema/schema.js';

/**
 * A resolved, typed expression: its Spark type, its SQL for messages, and how to evaluate it
 * over the rows of an Arrow batch (`bind` makes a per-row function; the tree is walked once per
 * batch, not per row). An expression without columns is folded into its value when compiled.
 */
export interface Node {
  readonly type: SqlType;
  readonly sql: string;
  /** Folded value (an expression of literals), when it could be computed. */
  readonly value?: { v: Value };
  /** Written as a number literal: Spark types those by their digits next to decimals. */
  readonly numberLiteral?: Big;
  bind(batch: arrow.RecordBatch): RowFn;
}

/** Everything a compilation needs to word its refusals. */
export interface Ctx {
  /** The expression text, as the table stores it. */
  readonly source: string;
}

export function constant(type: SqlType, v: Value, sql: string, numberLiteral?: Big): Node {
  const fn: RowFn = () => v;
  return { type, sql, value: { v }, numberLiteral, bind: () => fn };
}

/**
 * A node computed from its children; folded into a constant when every child is one (an error
 * while folding is kept for the rows, as Spark 4 would raise it when the query runs).
 */
export function node(type: SqlType, sql: string, children: readonly Node[], make: (fns: RowFn[]) => RowFn): Node {
  if (children.every((c) => c.value)) {
    const fns = children.map((c) => c.bind(undefined as unknown as arrow.RecordBatch));
    try {
      return constant(type, make(fns)(0), sql);
    } catch (e) {
      if (!(e instanceof EvaluationError)) throw e;
    }
  }
  return { type, sql, bind: (b) => make(children.map((c) => c.bind(b))) };
}

/** A null-intolerant unary operation: NULL in, NULL out. */
export function map1(type: SqlType, sql: string, a: Node, f: (x: any) => Value): Node {
  return node(type, sql, [a], ([fa]) => (r) => {
    const x = fa(r);
    return x === null ? null : f(x);
  });
}

/** A null-intolerant binary operation; the right side is not evaluated when the left is NULL (Spark's order). */
export function map2(type: SqlType, sql: string, a: Node, b: Node, f: (x: any, y: any) => Value): Node {
  return node(type, sql, [a, b], ([fa, fb]) => (r) => {
    const x = fa(r);
    if (x === null) return null;
    const y = fb(r);
    return y === null ? null : f(x, y);
  });
}

export function unsupported(ctx: Ctx, what: string, part = what): never {
  throw new ExpressionError('unsupported', what, ctx.source, undefined, part);
}
export function typeError(ctx: Ctx, what: string): never {
  throw new ExpressionError('type', what, ctx.source);
}

/** An explicit or implicit CAST, with Spark 4's ANSI semantics. */
export function castTo(ctx: Ctx, n: Node, to: SqlType, explicit = true): Node {
  // An explicit CAST of a literal is no longer a literal (Spark types literals by their digits).
  if (sameType(n.type, to)) return explicit ? { ...n, numberLiteral: undefined } : n;
  if (isPrimitive(n.type, 'float') && isPrimitive(to, 'string')) {
    unsupported(ctx, 'CAST from FLOAT to STRING (Spark on Java 17 and on Java 19+ print floats differently)', 'CAST from FLOAT to STRING');
  }
  const fn = castFunction(n.type, to);
  if (!fn) unsupported(ctx, `CAST from ${sqlTypeName(n.type)} to ${sqlTypeName(to)}`);
  const sql = explicit ? `CAST(${n.sql} AS ${sqlTypeName(to)})` : n.sql;
  return map1(to, sql, n, fn as (x: unknown) => Value);
}

/** DecimalType.fromLiteral: the digits of an integer literal, for arithmetic next to decimals. */
const literalDecimal = (v: Big): DecimalType => decimalType(Math.max(digitCount(v), 1), 0);

/** The decimal an integral or decimal operand takes next to a decimal (DecimalPrecision). */
export function asDecimal(n: Node, literalRule: boolean): DecimalType {
  if (isDecimal(n.type)) return n.type;
  if (literalRule && n.numberLiteral !== undefined) return literalDecimal(n.numberLiteral);
  return decimalForIntegral(n.type as PrimitiveType);
}

const isFloat = (t: SqlType) => isPrimitive(t, 'float');
const isDouble = (t: SqlType) => isPrimitive(t, 'double');

/**
 * The common type two operands are cast to, where Spark 3.5 and Spark 4 agree on it:
 * numbers widen (integers to the wider integer, to DECIMAL next to a decimal, to DOUBLE next to a
 * double), a DATE meets a TIMESTAMP as a TIMESTAMP, text meets a date or timestamp as that type.
 * Mixes the two lines type differently are refused by name: FLOAT with an integer (Spark 4 makes
 * it DOUBLE, 3.5 FLOAT), text with a number or a boolean (4 casts the text to BIGINT or refuses, 3.5
 * to DOUBLE), a number with a boolean.
 * `literalRule`: integer literals next to decimals count only their digits (comparisons and
 * arithmetic do this in Spark; CASE, COALESCE and IN do not).
 */
export function commonType(ctx: Ctx, a: Node, b: Node, what: string, literalRule: boolean): SqlType {
  const ta = a.type;
  const tb = b.type;
  if (sameType(ta, tb)) return ta;
  if (isNull(ta)) return tb;
  if (isNull(tb)) return ta;
  if (isNumeric(ta) && isNumeric(tb)) {
    if ((isFloat(ta) && (isIntegral(tb) || isFloat(tb))) || (isFloat(tb) && isIntegral(ta))) {
      if (isFloat(ta) && isFloat(tb)) return ta;
      unsupported(ctx, `${what} of FLOAT and ${sqlTypeName(isFloat(ta) ? tb : ta)} (Spark 4 computes it as DOUBLE, Spark 3.5 as FLOAT; add a CAST)`, 'FLOAT mixed with an integer type');
    }
    if (isDouble(ta) || isDouble(tb) || isFloat(ta) || isFloat(tb)) return DOUBLE;
    if (isDecimal(ta) || isDecimal(tb)) return widerDecimal(asDecimal(a, literalRule), asDecimal(b, literalRule));
    return integralRank(ta as unknown as PrimitiveType) >= integralRank(tb as unknown as PrimitiveType) ? ta : tb;
  }
  const dt = (t: SqlType) => isPrimitive(t, 'date', 'timestamp', 'timestamp_ntz');
  if (dt(ta) && dt(tb)) {
    if (isPrimitive(ta, 'date')) return tb;
    if (isPrimitive(tb, 'date')) return ta;
    unsupported(ctx, `${what} of TIMESTAMP and TIMESTAMP_NTZ`);
  }
  if (isPrimitive(ta, 'string') && dt(tb)) return tb;
  if (isPrimitive(tb, 'string') && dt(ta)) return ta;
  if ((isPrimitive(ta, 'string') && (isNumeric(tb) || isPrimitive(tb, 'boolean'))) || (isPrimitive(tb, 'string') && (isNumeric(ta) || isPrimitive(ta, 'boolean')))) {
    unsupported(ctx, `${what} of ${sqlTypeName(ta)} and ${sqlTypeName(tb)} (Spark 4 and Spark 3.5 convert the text differently; add a CAST)`, `${what} of STRING and ${sqlTypeName(isPrimitive(ta, 'string') ? tb : ta)}`);
  }
  if ((isNumeric(ta) && isPrimitive(tb, 'boolean')) || (isNumeric(tb) && isPrimitive(ta, 'boolean'))) {
    unsupported(ctx, `${what} of ${sqlTypeName(ta)} and ${sqlTypeName(tb)} (Spark 3.5 accepts it, Spark 4 refuses it)`, `${what} of a number and a BOOLEAN`);
  }
  return typeError(ctx, `${what} of ${sqlTypeName(ta)} and ${sqlTypeName(tb)}: the types do not match`);
}

/** The wider of several types (CASE branches, COALESCE, IN lists). */
export function commonTypeOf(ctx: Ctx, nodes: readonly Node[], what: string): SqlType {
  let t: Node = nodes[0];
  for (const n of nodes.slice(1)) {
    const c = commonType(ctx, t, n, what, false);
    t = { type: c, sql: '', bind: t.bind };
  }
  return t.type;
}

export { boundedDecimal, DOUBLE, TIMESTAMP, TIMESTAMP_NTZ };
