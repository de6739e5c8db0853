import type { DataType, StructType } from '../schema/schema.js';
import { columnReader, type RowFn, type Value } from './arrow-io.js';
import { type BinaryOp, type Expr, type Literal, quoteIdent, quoteString } from './ast.js';
import { dateToString, stringToDate, stringToTimestamp, timestampToString } from './datetime.js';
import { EvaluationError, ExpressionError } from './errors.js';
import { FUNCTIONS } from './functions.js';
import { asDecimal, castTo, commonType, constant, type Ctx, map1, map2, type Node, node, typeError, unsupported } from './nodes.js';
import {
  addBig,
  type Big,
  compareDoubles,
  digitCount,
  divideToContext,
  fitsBits,
  mulBig,
  negBig,
  norm,
  quotBig,
  remBig,
  rescale,
  roundToContext,
  subBig,
  toBigInt,
  toDecimalType,
} from './numeric.js';
import {
  adjustPrecisionScale,
  BINARY,
  BOOLEAN,
  BYTE,
  DATE,
  decimalType,
  DOUBLE,
  FLOAT,
  INT,
  INTEGRAL_BITS,
  isDecimal,
  isIntegral,
  isNull,
  isNumeric,
  isPrimitive,
  LONG,
  MAX_PRECISION,
  NULL,
  sameType,
  SHORT,
  STRING,
  type SqlType,
  sqlTypeName,
  TIMESTAMP,
  TIMESTAMP_NTZ,
} from './types.js';
import type { DecimalType, PrimitiveType } from '../schema/schema.js';

/**
 * Resolves a parsed expression against a table schema and makes it evaluable: columns by name
 * (case-insensitively, as Spark resolves them; struct fields by path), literals typed as Spark
 * types them, operators and functions with Spark's implicit casts and result types. What cannot
 * be evaluated exactly as Spark 3.5 and Spark 4 both would is refused here, naming the part.
 */
export interface CompileOptions {
  /** Columns the expression may not read (a generated column may not read another). */
  forbidden?: (path: readonly string[]) => string | undefined;
}

export function compileAst(e: Expr, schema: StructType, source: string, opts: CompileOptions = {}): Node {
  return new Compiler(schema, { source }, opts).compile(e);
}

class Compiler {
  constructor(
    private readonly schema: StructType,
    private readonly ctx: Ctx,
    private readonly opts: CompileOptions,
  ) {}

  compile(e: Expr): Node {
    switch (e.kind) {
      case 'column':
        return this.column(e.path);
      case 'literal':
        return literal(this.ctx, e.value);
      case 'unary':
        return e.op === 'NOT' ? this.not(this.compile(e.arg)) : e.op === '-' ? this.negate(this.compile(e.arg)) : this.plus(this.compile(e.arg));
      case 'binary':
        return this.binary(e.op, e.left, e.right);
      case 'isNull': {
        const a = this.compile(e.arg);
        const not = e.not;
        return node(BOOLEAN, `(${a.sql} IS ${not ? 'NOT ' : ''}NULL)`, [a], ([f]) => (r) => (f(r) === null) !== not);
      }
      case 'isBool': {
        const a = this.boolean(this.compile(e.arg), 'IS TRUE/FALSE');
        const want = e.value;
        const not = e.not;
        return node(BOOLEAN, `(${a.sql} IS ${not ? 'NOT ' : ''}${want === null ? 'UNKNOWN' : want ? 'TRUE' : 'FALSE'})`, [a], ([f]) => (r) => (f(r) === want) !== not);
      }
      case 'distinct': {
        const eq = this.comparison('<=>', this.compile(e.left), this.compile(e.right));
        return e.not ? eq : node(BOOLEAN, `(${eq.sql.slice(1, -1).replace(' <=> ', ' IS DISTINCT FROM ')})`, [eq], ([f]) => (r) => !f(r));
      }
      case 'in':
        return this.in(e.not, e.arg, e.list);
      case 'between': {
        const arg = this.compile(e.arg);
        const ge = this.comparison('>=', arg, this.compile(e.low));
        const le = this.comparison('<=', arg, this.compile(e.high));
        const both = this.and(ge, le);
        return e.not ? this.not(both) : both;
      }
      case 'like':
        return this.like(e.not, this.compile(e.arg), this.compile(e.pattern), e.escape ?? '\\');
      case 'cast':
        return castTo(this.ctx, this.compile(e.arg), e.to, true);
      case 'call':
        return this.call(e.name, e.args);
      case 'case':
        return this.caseWhen(e);
    }
  }

  private column(path: readonly string[]): Node {
    const indices: number[] = [];
    const names: string[] = [];
    let t: DataType = this.schema;
    for (const part of path) {
      if (t.kind !== 'struct') {
        throw new ExpressionError('column', `${names.map(quoteIdent).join('.')} is ${sqlTypeName(t)}, not a struct: it has no field ${quoteIdent(part)}`, this.ctx.source);
      }
      const lower = part.toLowerCase();
      const i: number = t.fields.findIndex((f) => f.name.toLowerCase() === lower);
      if (i < 0) {
        const where = names.length ? `${names.map(quoteIdent).join('.')} has no field ${quoteIdent(part)}` : `there is no column ${quoteIdent(part)}`;
        throw new ExpressionError('column', `${where} (columns: ${t.fields.map((f) => f.name).join(', ')})`, this.ctx.source);
      }
      indices.push(i);
      names.push(t.fields[i].name);
      t = t.fields[i].type;
    }
    const why = this.opts.forbidden?.(names);
    if (why) throw new ExpressionError('column', why, this.ctx.source);
    const type = t;
    return { type, sql: names.map(quoteIdent).join('.'), bind: (b) => columnReader(b, indices, type) };
  }

  private boolean(n: Node, what: string): Node {
    if (isPrimitive(n.type, 'boolean')) return n;
    if (isNull(n.type)) return castTo(this.ctx, n, BOOLEAN, false);
    return typeError(this.ctx, `${what} needs BOOLEAN operands, not ${sqlTypeName(n.type)} (${n.sql})`);
  }

  private not(a: Node): Node {
    const b = this.boolean(a, 'NOT');
    return map1(BOOLEAN, `(NOT ${b.sql})`, b, (x: boolean) => !x);
  }

  /** Three-valued AND and OR, evaluated left to right and stopping early, as Spark does. */
  private and(a: Node, b: Node): Node {
    const x = this.boolean(a, 'AND');
    const y = this.boolean(b, 'AND');
    return node(BOOLEAN, `(${x.sql} AND ${y.sql})`, [x, y], ([fa, fb]) => (r) => {
      const l = fa(r);
      if (l === false) return false;
      const rr = fb(r);
      if (rr === false) return false;
      return l === null || rr === null ? null : true;
    });
  }

  private or(a: Node, b: Node): Node {
    const x = this.boolean(a, 'OR');
    const y = this.boolean(b, 'OR');
    return node(BOOLEAN, `(${x.sql} OR ${y.sql})`, [x, y], ([fa, fb]) => (r) => {
      const l = fa(r);
      if (l === true) return true;
      const rr = fb(r);
      if (rr === true) return true;
      return l === null || rr === null ? null : false;
    });
  }

  private plus(a: Node): Node {
    if (!isNumeric(a.type) && !isNull(a.type)) typeError(this.ctx, `unary + needs a number, not ${sqlTypeName(a.type)}`);
    return { ...a, sql: `(+ ${a.sql})`, numberLiteral: undefined };
  }

  private negate(a: Node): Node {
    const t = a.type;
    const sql = `(- ${a.sql})`;
    if (isNull(t)) return constant(NULL, null, sql);
    if (isIntegral(t)) {
      const bits = INTEGRAL_BITS[(t as PrimitiveType).name]!;
      return map1(t, sql, a, (x: Big) => checkInt(negBig(x), bits, t, () => `-(${String(x)})`));
    }
    if (isDecimal(t)) return map1(t, sql, a, negBig);
    if (isPrimitive(t, 'double', 'float')) return map1(t, sql, a, (x: number) => -x);
    return typeError(this.ctx, `unary - needs a number, not ${sqlTypeName(t)}`);
  }

  private binary(op: BinaryOp, le: Expr, re: Expr): Node {
    const a = this.compile(le);
    const b = this.compile(re);
    switch (op) {
      case 'AND':
        return this.and(a, b);
      case 'OR':
        return this.or(a, b);
      case '||':
        return FUNCTIONS.concat(this.ctx, [a, b], 'concat');
      case '+':
      case '-':
      case '*':
      case '/':
      case '%':
      case 'DIV':
        return this.arithmetic(op, a, b);
      default:
        return this.comparison(op, a, b);
    }
  }

  private comparison(op: string, a: Node, b: Node): Node {
    const t = commonType(this.ctx, a, b, `the comparison ${op}`, true);
    if (isPrimitive(t, 'string') && (!isPrimitive(a.type, 'string') || !isPrimitive(b.type, 'string')) && !isNull(a.type) && !isNull(b.type)) {
      typeError(this.ctx, `${op} of ${sqlTypeName(a.type)} and ${sqlTypeName(b.type)}`);
    }
    if (t.kind === 'struct' || t.kind === 'array' || t.kind === 'map') unsupported(this.ctx, `comparing ${sqlTypeName(t)} values`);
    const x = castTo(this.ctx, a, t, false);
    const y = castTo(this.ctx, b, t, false);
    const cmp = comparator(t);
    const sql = `(${a.sql} ${op} ${b.sql})`;
    const test: Record<string, (c: number) => boolean> = {
      '=': (c) => c === 0,
      '==': (c) => c === 0,
      '<>': (c) => c !== 0,
      '!=': (c) => c !== 0,
      '<': (c) => c < 0,
      '<=': (c) => c <= 0,
      '>': (c) => c > 0,
      '>=': (c) => c >= 0,
    };
    if (op === '<=>') {
      return node(BOOLEAN, sql, [x, y], ([fa, fb]) => (r) => {
        const l = fa(r);
        const rr = fb(r);
        if (l === null || rr === null) return l === rr;
        return cmp(l, rr) === 0;
      });
    }
    const ok = test[op];
    return map2(BOOLEAN, sql, x, y, (l, rr) => ok(cmp(l, rr)));
  }

  private in(not: boolean, argE: Expr, listE: Expr[]): Node {
    const arg = this.compile(argE);
    const list = listE.map((x) => this.compile(x));
    let t = arg.type;
    for (const x of list) t = commonType(this.ctx, { ...arg, type: t, numberLiteral: undefined }, x, 'IN', false);
    const cmp = comparator(t);
    const a = castTo(this.ctx, arg, t, false);
    const items = list.map((x) => castTo(this.ctx, x, t, false));
    const sql = `(${arg.sql} ${not ? 'NOT ' : ''}IN (${list.map((x) => x.sql).join(', ')}))`;
    const inNode = node(BOOLEAN, sql, [a, ...items], ([fa, ...fs]) => (r) => {
      const v = fa(r);
      if (v === null) return null;
      let sawNull = false;
      for (const f of fs) {
        const w = f(r);
        if (w === null) sawNull = true;
        else if (cmp(v, w) === 0) return true;
      }
      return sawNull ? null : false;
    });
    return not ? map1(BOOLEAN, sql, inNode, (x: boolean) => !x) : inNode;
  }

  /**
   * LIKE with `%` and `_` (characters, not UTF-16 units) and an escape character that may only
   * precede `%`, `_` or itself (Spark's StringUtils.escapeLikeRegex).
   */
  private like(not: boolean, a: Node, p: Node, escape: string): Node {
    for (const n of [a, p]) if (!isPrimitive(n.type, 'string') && !isNull(n.type)) typeError(this.ctx, `LIKE needs STRING operands, not ${sqlTypeName(n.type)}`);
    const sql = `(${a.sql} ${not ? 'NOT ' : ''}LIKE ${p.sql}${escape === '\\' ? '' : ` ESCAPE ${quoteString(escape)}`})`;
    const compileP = (pattern: string) => likeRegex(pattern, escape);
    let result: Node;
    if (p.value) {
      if (p.value.v === null) return constant(BOOLEAN, null, sql);
      let re: RegExp;
      try {
        re = compileP(p.value.v as string);
      } catch (e) {
        if (e instanceof EvaluationError) throw new ExpressionError('syntax', `${sql}: ${e.message}`, this.ctx.source);
        throw e;
      }
      result = map1(BOOLEAN, sql, a, (s: string) => re.test(s));
    } else {
      const cache = new Map<string, RegExp>();
      result = map2(BOOLEAN, sql, a, p, (s: string, pat: string) => {
        let re = cache.get(pat);
        if (!re) {
          re = compileP(pat);
          if (cache.size < 1000) cache.set(pat, re);
        }
        return re.test(s);
      });
    }
    return not ? map1(BOOLEAN, sql, result, (x: boolean) => !x) : result;
  }

  private call(name: string, argsE: Expr[]): Node {
    const fn = FUNCTIONS[name.toLowerCase()];
    if (!fn) unsupported(this.ctx, `the function ${name}`, `${name}()`);
    return fn(this.ctx, argsE.map((x) => this.compile(x)), name.toLowerCase());
  }

  private caseWhen(e: Extract<Expr, { kind: 'case' }>): Node {
    const operand = e.operand ? this.compile(e.operand) : undefined;
    const conds = e.branches.map((b) => (operand ? this.comparison('=', operand, this.compile(b.when)) : this.boolean(this.compile(b.when), 'CASE WHEN')));
    const values = [...e.branches.map((b) => this.compile(b.then)), ...(e.otherwise ? [this.compile(e.otherwise)] : [])];
    let t: SqlType = values[0].type;
    for (const v of values.slice(1)) t = commonType(this.ctx, { ...values[0], type: t, numberLiteral: undefined }, v, 'CASE', false);
    const cast = values.map((v) => castTo(this.ctx, v, t, false));
    const n = conds.length;
    const hasElse = e.otherwise !== undefined;
    const sql = `CASE${operand ? ` ${operand.sql}` : ''}${e.branches.map((_, i) => ` WHEN ${conds[i].sql} THEN ${values[i].sql}`).join('')}${hasElse ? ` ELSE ${values[n].sql}` : ''} END`;
    return node(t, sql, [...conds, ...cast], (fns) => (r) => {
      for (let i = 0; i < n; i++) if (fns[i](r) === true) return fns[n + i](r);
      return hasElse ? fns[2 * n](r) : null;
    });
  }

  private arithmetic(op: '+' | '-' | '*' | '/' | '%' | 'DIV', a: Node, b: Node): Node {
    const sql = `(${a.sql} ${op} ${b.sql})`;
    for (const n of [a, b]) {
      if (isPrimitive(n.type, 'string')) unsupported(this.ctx, `${op} on STRING values (${n.sql}): Spark 4 casts the text to BIGINT, Spark 3.5 to DOUBLE; add a CAST`, `${op} on STRING values`);
      if (!isNumeric(n.type) && !isNull(n.type)) {
        if (isPrimitive(n.type, 'date', 'timestamp', 'timestamp_ntz')) unsupported(this.ctx, `${op} on ${sqlTypeName(n.type)} values (date arithmetic)`, `${op} on ${sqlTypeName(n.type)} values`);
        typeError(this.ctx, `${op} needs numbers, not ${sqlTypeName(n.type)} (${n.sql})`);
      }
    }
    if (isNull(a.type) && isNull(b.type)) return constant(op === '/' ? DOUBLE : op === 'DIV' ? LONG : INT, null, sql);
    const ta = isNull(a.type) ? b.type : a.type;
    const tb = isNull(b.type) ? a.type : b.type;
    const an: Node = isNull(a.type) ? { ...a, type: ta } : a;
    const bn: Node = isNull(b.type) ? { ...b, type: tb } : b;
    if (op === 'DIV') return this.integralDivide(sql, an, bn);
    const decimal = isDecimal(ta) || isDecimal(tb);
    const fractional = isPrimitive(ta, 'float', 'double') || isPrimitive(tb, 'float', 'double');
    if (op === '/' && !decimal) return this.fractional('/', sql, castTo(this.ctx, an, DOUBLE, false), castTo(this.ctx, bn, DOUBLE, false), DOUBLE);
    if (decimal && !fractional) return this.decimalArithmetic(op, sql, an, bn);
    const t = commonType(this.ctx, an, bn, op, true);
    const x = castTo(this.ctx, an, t, false);
    const y = castTo(this.ctx, bn, t, false);
    if (isPrimitive(t, 'float', 'double')) return this.fractional(op, sql, x, y, t);
    const bits = INTEGRAL_BITS[(t as unknown as PrimitiveType).name]!;
    const show = (l: Big, r: Big) => `${String(l)} ${op} ${String(r)}`;
    switch (op) {
      case '+':
        return map2(t, sql, x, y, (l: Big, r: Big) => checkInt(addBig(l, r), bits, t, () => show(l, r)));
      case '-':
        return map2(t, sql, x, y, (l: Big, r: Big) => checkInt(subBig(l, r), bits, t, () => show(l, r)));
      case '*':
        return map2(t, sql, x, y, (l: Big, r: Big) => checkInt(mulBig(l, r), bits, t, () => show(l, r)));
      default:
        return map2(t, sql, x, y, (l: Big, r: Big) => {
          if (r === 0) throw new EvaluationError('REMAINDER_BY_ZERO', `remainder by zero in ${show(l, r)}`);
          return remBig(l, r);
        });
    }
  }

  private fractional(op: string, sql: string, x: Node, y: Node, t: SqlType): Node {
    const round = isPrimitive(t, 'float') ? Math.fround : (v: number) => v;
    switch (op) {
      case '+':
        return map2(t, sql, x, y, (l: number, r: number) => round(l + r));
      case '-':
        return map2(t, sql, x, y, (l: number, r: number) => round(l - r));
      case '*':
        return map2(t, sql, x, y, (l: number, r: number) => round(l * r));
      case '/':
        return map2(t, sql, x, y, (l: number, r: number) => {
          if (r === 0) throw new EvaluationError('DIVIDE_BY_ZERO', `division by zero in ${l} / ${r}`);
          return round(l / r);
        });
      default:
        return map2(t, sql, x, y, (l: number, r: number) => {
          if (r === 0) throw new EvaluationError('REMAINDER_BY_ZERO', `remainder by zero in ${l} % ${r}`);
          return round(l % r);
        });
    }
  }

  /** DECIMAL arithmetic with Spark's result types (DecimalPrecision, precision loss allowed). */
  private decimalArithmetic(op: '+' | '-' | '*' | '/' | '%', sql: string, a: Node, b: Node): Node {
    const da = asDecimal(a, true);
    const db = asDecimal(b, true);
    const x = castTo(this.ctx, a, da, false);
    const y = castTo(this.ctx, b, db, false);
    const { precision: p1, scale: s1 } = da;
    const { precision: p2, scale: s2 } = db;
    let rt: DecimalType;
    switch (op) {
      case '+':
      case '-': {
        const s = Math.max(s1, s2);
        rt = adjustPrecisionScale(Math.max(p1 - s1, p2 - s2) + s + 1, s);
        break;
      }
      case '*':
        rt = adjustPrecisionScale(p1 + p2 + 1, s1 + s2);
        break;
      case '/': {
        const scale = Math.max(6, s1 + p2 + 1);
        rt = adjustPrecisionScale(p1 - s1 + s2 + scale, scale);
        break;
      }
      default: {
        const s = Math.max(s1, s2);
        rt = adjustPrecisionScale(Math.min(p1 - s1, p2 - s2) + s, s);
      }
    }
    const { precision: rp, scale: rs } = rt;
    const s = Math.max(s1, s2);
    const finish = (u: bigint, scale: number) => {
      const c = roundToContext(u, scale);
      return toDecimalType(c.u, c.scale, rp, rs);
    };
    switch (op) {
      case '+':
        return map2(rt, sql, x, y, (l: Big, r: Big) => finish(toBigInt(addBig(rescale(l, s1, s), rescale(r, s2, s))), s));
      case '-':
        return map2(rt, sql, x, y, (l: Big, r: Big) => finish(toBigInt(subBig(rescale(l, s1, s), rescale(r, s2, s))), s));
      case '*':
        return map2(rt, sql, x, y, (l: Big, r: Big) => finish(toBigInt(mulBig(l, r)), s1 + s2));
      case '/':
        return map2(rt, sql, x, y, (l: Big, r: Big) => {
          if (r === 0) throw new EvaluationError('DIVIDE_BY_ZERO', 'division by zero');
          const q = divideToContext(toBigInt(l), s1, toBigInt(r), s2);
          return toDecimalType(q.u, q.scale, rp, rs);
        });
      default:
        return map2(rt, sql, x, y, (l: Big, r: Big) => {
          if (r === 0) throw new EvaluationError('REMAINDER_BY_ZERO', 'remainder by zero');
          return finish(toBigInt(remBig(rescale(l, s1, s), rescale(r, s2, s))), s);
        });
    }
  }

  /** a DIV b: BIGINT, truncated toward zero. */
  private integralDivide(sql: string, a: Node, b: Node): Node {
    for (const n of [a, b]) if (isPrimitive(n.type, 'float', 'double')) unsupported(this.ctx, `DIV on ${sqlTypeName(n.type)} values`);
    if (isIntegral(a.type) && isIntegral(b.type)) {
      const x = castTo(this.ctx, a, LONG, false);
      const y = castTo(this.ctx, b, LONG, false);
      return map2(LONG, sql, x, y, (l: Big, r: Big) => {
        if (r === 0) throw new EvaluationError('DIVIDE_BY_ZERO', `division by zero in ${String(l)} div 0`);
        return checkInt(quotBig(l, r), 64, LONG, () => `${String(l)} div ${String(r)}`, 'Overflow in integral divide');
      });
    }
    const da = asDecimal(a, true);
    const db = asDecimal(b, true);
    const x = castTo(this.ctx, a, da, false);
    const y = castTo(this.ctx, b, db, false);
    const s = Math.max(da.scale, db.scale);
    return map2(LONG, sql, x, y, (l: Big, r: Big) => {
      if (r === 0) throw new EvaluationError('DIVIDE_BY_ZERO', 'division by zero');
      const q = norm(toBigInt(rescale(l, da.scale, s)) / toBigInt(rescale(r, db.scale, s)));
      return checkInt(q, 64, LONG, () => `${String(l)} div ${String(r)}`, 'Overflow in integral divide');
    });
  }
}

function checkInt(x: Big, bits: number, t: SqlType, show: () => string, what?: string): Big {
  if (!fitsBits(x, bits)) throw new EvaluationError('ARITHMETIC_OVERFLOW', `${what ?? `${sqlTypeName(t).toLowerCase()} overflow`} in ${show()}`);
  return x;
}

/** Order of two non-null values of type `t`, as Spark orders them. */
function comparator(t: SqlType): (a: any, b: any) => number {
  if (isPrimitive(t, 'float', 'double')) return compareDoubles;
  if (isPrimitive(t, 'string')) return compareStrings;
  if (isPrimitive(t, 'binary')) return compareBytes;
  if (isPrimitive(t, 'boolean')) return (a: boolean, b: boolean) => Number(a) - Number(b);
  // Integers, dates, timestamps, decimals of one scale: numbers and bigints order together.
  return (a: Big, b: Big) => (a < b ? -1 : a > b ? 1 : 0);
}

/** By code point, which is the order of UTF-8 bytes Spark compares. */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      // UTF-16 order differs from code point order only between surrogates and U+E000..U+FFFF.
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x < y ? -1 : 1;
    }
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** A LIKE pattern as a regular expression over code points. */
export function likeRegex(pattern: string, escape: string): RegExp {
  let re = '';
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === escape) {
      const next = chars[i + 1];
      if (next === undefined) throw new EvaluationError('INVALID_FORMAT', `the LIKE pattern ${JSON.stringify(pattern)} ends with the escape character`);
      if (next !== '_' && next !== '%' && next !== escape) throw new EvaluationError('INVALID_FORMAT', `in the LIKE pattern ${JSON.stringify(pattern)} the escape character may not precede ${JSON.stringify(next)}`);
      re += escapeRegex(next);
      i++;
    } else if (c === '_') re += '.';
    else if (c === '%') re += '.*';
    else re += escapeRegex(c);
  }
  return new RegExp(`^${re}$`, 'su');
}

// Only syntax characters may be escaped in a Unicode-mode regular expression.
const escapeRegex = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

function literal(ctx: Ctx, l: Literal): Node {
  switch (l.type) {
    case 'null':
      return constant(NULL, null, 'NULL');
    case 'boolean':
      return constant(BOOLEAN, l.value, l.value ? 'true' : 'false');
    case 'string':
      return constant(STRING, l.value, quoteString(l.value));
    case 'typed':
      return typedLiteral(ctx, l.name, l.value);
    case 'number':
      return numberLiteral(ctx, l.text, l.suffix, l.negative);
  }
}

function typedLiteral(ctx: Ctx, name: string, text: string): Node {
  const bad = (): never => {
    throw new ExpressionError('syntax', `${name} ${quoteString(text)} is not a valid ${name} literal`, ctx.source);
  };
  const refuse = (e: unknown): never => {
    if (e instanceof EvaluationError) throw new ExpressionError('unsupported', `${name} ${quoteString(text)}: ${e.message}`, ctx.source, undefined, `${name} literal`);
    throw e;
  };
  switch (name) {
    case 'DATE': {
      const d = stringToDate(text) ?? bad();
      return constant(DATE, d, `DATE '${dateToString(d)}'`);
    }
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
    case 'TIMESTAMP_NTZ': {
      const ntz = name === 'TIMESTAMP_NTZ';
      let v: Big | undefined;
      try {
        v = stringToTimestamp(text, ntz);
      } catch (e) {
        refuse(e);
      }
      if (v === undefined) bad();
      return constant(ntz ? TIMESTAMP_NTZ : TIMESTAMP, v!, `${ntz ? 'TIMESTAMP_NTZ' : 'TIMESTAMP'} '${timestampToString(v!)}'`);
    }
    default: {
      if (!/^([0-9A-Fa-f]{2})*$/.test(text)) bad();
      return constant(BINARY, Uint8Array.from(Buffer.from(text, 'hex')), `X'${text.toUpperCase()}'`);
    }
  }
}

function numberLiteral(ctx: Ctx, text: string, suffix: string, negative: boolean): Node {
  const signed = (negative ? '-' : '') + text;
  const sql = signed + suffix;
  const outOfRange = (type: string): never => {
    throw new ExpressionError('syntax', `the ${type} literal ${sql} is out of range`, ctx.source);
  };
  const integral = (type: SqlType, bits: number): Node => {
    const v = norm(BigInt(signed));
    if (!fitsBits(v, bits)) outOfRange(sqlTypeName(type));
    return constant(type, v, sql, v);
  };
  const isWhole = /^\d+$/.test(text);
  switch (suffix) {
    case 'L':
      return integral(LONG, 64);
    case 'S':
      return integral(SHORT, 16);
    case 'Y':
      return integral(BYTE, 8);
    case 'D': {
      const x = Number(signed);
      if (!Number.isFinite(x)) outOfRange('DOUBLE');
      return constant(DOUBLE, x, sql);
    }
    case 'F': {
      const x = Math.fround(Number(signed));
      if (!Number.isFinite(x)) outOfRange('FLOAT');
      return constant(FLOAT, x, sql);
    }
  }
  if (suffix === '' && isWhole) {
    const v = norm(BigInt(signed));
    if (fitsBits(v, 32)) return constant(INT, v, sql, v);
    if (fitsBits(v, 64)) return constant(LONG, v, sql, v);
    if (digitCount(v) <= MAX_PRECISION) return constant(decimalType(digitCount(v), 0), v, sql);
    outOfRange('DECIMAL');
  }
  if (suffix === '' && /[eE]/.test(text)) {
    const x = Number(signed);
    if (!Number.isFinite(x)) outOfRange('DOUBLE');
    return constant(DOUBLE, x, sql);
  }
  // A decimal literal (1.5, .5, 1.50, 1.50BD): java.math.BigDecimal's precision and scale,
  // trailing zeros included (1.50 is DECIMAL(3,2)).
  const m = /^(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text)!;
  const frac = m[2] ?? '';
  let scale = frac.length - Number(m[3] ?? 0);
  if (scale < 0) unsupported(ctx, `the literal ${sql} (a negative decimal scale)`);
  const u = BigInt((negative ? '-' : '') + ((m[1] + frac).replace(/^0+(?=\d)/, '') || '0'));
  const precision = Math.max(digitCount(u), scale);
  if (precision > MAX_PRECISION) unsupported(ctx, `the literal ${sql} (more than 38 digits)`);
  return constant(decimalType(precision, scale), norm(u), sql);
}

export { sameType, type RowFn, type Value };
