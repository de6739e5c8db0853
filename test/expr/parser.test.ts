import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Expr, type Literal, toSql } from '../../src/expr/ast.js';
import { ExpressionError } from '../../src/expr/errors.js';
import { parseExpression } from '../../src/expr/parser.js';
import { decimal, primitive, PRIMITIVE_NAMES } from '../../src/schema/schema.js';

/**
 * The parser reads Spark SQL's expression grammar (precedence, literals, escapes) and refuses by
 * name what Tributary does not evaluate; printing a tree and parsing the text gives the same tree
 * (a seeded property over random trees: TRIBUTARY_PROPERTY_SEED replays a run).
 */
const SEED = Number(process.env.TRIBUTARY_PROPERTY_SEED ?? 20261202);
const RUNS = Number(process.env.TRIBUTARY_PROPERTY_RUNS ?? 2000);

const col = (...path: string[]): Expr => ({ kind: 'column', path });
const num = (text: string, negative = false, suffix: '' | 'L' | 'S' | 'Y' | 'F' | 'D' | 'BD' = ''): Expr => ({ kind: 'literal', value: { type: 'number', text, suffix, negative } });
const str = (value: string): Expr => ({ kind: 'literal', value: { type: 'string', value } });

describe('parseExpression', () => {
  it('follows Spark precedence: OR < AND < NOT < predicates < comparisons < + - || < * / % DIV < unary minus', () => {
    expect(parseExpression('a OR b AND NOT c = d')).toEqual({
      kind: 'binary',
      op: 'OR',
      left: col('a'),
      right: { kind: 'binary', op: 'AND', left: col('b'), right: { kind: 'unary', op: 'NOT', arg: { kind: 'binary', op: '=', left: col('c'), right: col('d') } } },
    });
    expect(toSql(parseExpression('a + b * c - d || e'))).toBe('(((`a` + (`b` * `c`)) - `d`) || `e`)');
    expect(toSql(parseExpression('-a * b DIV c % d'))).toBe('((((- (`a`)) * `b`) DIV `c`) % `d`)'.replace('(- (`a`))', '(-(`a`))'));
    expect(toSql(parseExpression('a + 1 BETWEEN 0 AND 10 AND b IS NOT NULL'))).toBe('(((`a` + 1) BETWEEN 0 AND 10) AND (`b` IS NOT NULL))');
    expect(toSql(parseExpression('NOT a LIKE \'x%\' ESCAPE \'!\''))).toBe("(NOT (`a` LIKE 'x%' ESCAPE '!'))");
    expect(toSql(parseExpression('x NOT IN (1, 2) OR y IS DISTINCT FROM z'))).toBe('((`x` NOT IN (1, 2)) OR (`y` IS DISTINCT FROM `z`))');
  });

  it('reads literals as Spark lexes them', () => {
    // A minus before a number is part of the literal (Spark's `number` rule); -(n) is a negation.
    expect(parseExpression('-2147483648')).toEqual(num('2147483648', true));
    expect(parseExpression('- 5')).toEqual(num('5', true));
    expect(parseExpression('-(5)')).toEqual({ kind: 'unary', op: '-', arg: num('5') });
    expect(parseExpression('a - 1')).toEqual({ kind: 'binary', op: '-', left: col('a'), right: num('1') });
    expect(parseExpression('10L + 1.50BD + 2e3 + 1.5F + 7s + 3Y + .5 + 1.')).toBeTruthy();
    expect(parseExpression("DATE '2020-02-29'")).toEqual({ kind: 'literal', value: { type: 'typed', name: 'DATE', value: '2020-02-29' } });
    expect(parseExpression("timestamp_ntz'2020-01-01 00:00:00'")).toEqual({ kind: 'literal', value: { type: 'typed', name: 'TIMESTAMP_NTZ', value: '2020-01-01 00:00:00' } });
    expect(parseExpression("X'0aFF'")).toEqual({ kind: 'literal', value: { type: 'typed', name: 'X', value: '0aFF' } });
    // A column named like a type is a column unless a string follows.
    expect(parseExpression("date >= '2020-01-01'")).toEqual({ kind: 'binary', op: '>=', left: col('date'), right: str('2020-01-01') });
    expect(parseExpression('`a b`.`c``d`.e')).toEqual(col('a b', 'c`d', 'e'));
  });

  it("unescapes strings as Spark does: \\n, \\u, octal, and \\% \\_ kept for LIKE; adjacent literals join", () => {
    expect(parseExpression("'a\\nb\\u00e9\\101\\%\\_\\'\\\\'")).toEqual(str("a\nbéA\\%\\_'\\"));
    expect(parseExpression('"dq" \'sq\'')).toEqual(str('dqsq'));
  });

  it("refuses '' inside a string: Spark 4 reads a quote there, Spark 3.5 two literals", () => {
    const e = catchError(() => parseExpression("s = 'it''s'"));
    expect(e.kind).toBe('unsupported');
    expect(e.message).toMatch(/doubled quote/);
  });

  it('reads CAST, ::, SUBSTRING ... FROM ... FOR and CASE', () => {
    expect(parseExpression('CAST(ts AS DATE)')).toEqual({ kind: 'cast', arg: col('ts'), to: primitive('date') });
    expect(parseExpression('x::decimal(5,2)')).toEqual({ kind: 'cast', arg: col('x'), to: decimal(5, 2) });
    expect(parseExpression('SUBSTRING(s FROM 2 FOR 3)')).toEqual({ kind: 'call', name: 'SUBSTRING', args: [col('s'), num('2'), num('3')] });
    expect(toSql(parseExpression("CASE x WHEN 1 THEN 'a' ELSE 'b' END"))).toBe("CASE `x` WHEN 1 THEN 'a' ELSE 'b' END");
  });

  it('refuses by name what Tributary does not evaluate', () => {
    const cases: [string, RegExp][] = [
      ['a[0] > 1', /array and map element access/],
      ['a & 1 = 1', /bitwise operator &/],
      ["s RLIKE 'x'", /RLIKE/],
      ["s ILIKE 'x'", /ILIKE/],
      ["d > INTERVAL '1' DAY", /INTERVAL/],
      ['transform(xs, x -> x + 1) IS NULL', /lambda/],
      ["TRY_CAST(s AS INT) > 0", /TRY_CAST/],
      ['x IN (SELECT 1)', /subquery/],
      ['current_date > d', /CURRENT_DATE/],
      ['count(*) > 0', /count\(\*\)/],
      ['1a > 0', /identifier starting with a digit/],
    ];
    for (const [text, re] of cases) {
      const e = catchError(() => parseExpression(text));
      expect(e.kind, text).toBe('unsupported');
      expect(e.message, text).toMatch(re);
    }
  });

  it('names the character of a syntax error', () => {
    const e = catchError(() => parseExpression('a > '));
    expect(e.kind).toBe('syntax');
    expect(e.message).toMatch(/at character 5/);
    expect(catchError(() => parseExpression("'open")).message).toMatch(/unclosed string literal at character 1/);
  });

  it('prints any tree as text that parses to the same tree (property)', () => {
    fc.assert(
      fc.property(exprArb, (e) => {
        const text = toSql(e);
        expect(parseExpression(text)).toEqual(e);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  });
});

function catchError(f: () => unknown): ExpressionError {
  try {
    f();
  } catch (e) {
    if (e instanceof ExpressionError) return e;
    throw e;
  }
  throw new Error('no error');
}

// ---------------------------------------------------------------------------------------------
// Random trees

const nameArb = fc.oneof(fc.constantFrom('a', 'B', 'date', 'value', 'end', 'a b', 'x`y', 'é', '1st', 'select'), fc.string({ minLength: 1, maxLength: 6, unit: 'grapheme' }));
const stringArb = fc.oneof(fc.string({ maxLength: 8, unit: 'binary' }), fc.constantFrom("it's", 'back\\slash', '\\%', 'tab\there', '"', '`', '\u0000'));
const numberArb: fc.Arbitrary<Literal> = fc.oneof(
  fc.record({ text: fc.bigInt({ min: 0n, max: 10n ** 25n }).map(String), suffix: fc.constantFrom('' as const, 'L' as const, 'S' as const, 'Y' as const, 'F' as const, 'D' as const, 'BD' as const) }),
  fc.record({
    text: fc.tuple(fc.nat(99999), fc.nat(9999), fc.constantFrom('', 'e3', 'E-2', 'e+10')).map(([a, b, e]) => `${a}.${b}${e}`),
    suffix: fc.constantFrom('' as const, 'F' as const, 'D' as const, 'BD' as const),
  }),
  fc.record({ text: fc.constantFrom('.5', '1.', '0.000', '1e5'), suffix: fc.constant('' as const) }),
).chain((n) => fc.boolean().map((negative) => ({ type: 'number' as const, text: n.text, suffix: n.suffix, negative })));
const literalArb: fc.Arbitrary<Expr> = fc
  .oneof(
    fc.constant<Literal>({ type: 'null' }),
    fc.boolean().map<Literal>((value) => ({ type: 'boolean', value })),
    numberArb,
    stringArb.map<Literal>((value) => ({ type: 'string', value })),
    fc.tuple(fc.constantFrom('DATE' as const, 'TIMESTAMP' as const, 'TIMESTAMP_NTZ' as const, 'X' as const), stringArb).map<Literal>(([name, value]) => ({ type: 'typed', name, value })),
  )
  .map((value) => ({ kind: 'literal', value }));
const typeArb = fc.oneof(
  fc.constantFrom(...PRIMITIVE_NAMES).map((n) => primitive(n)),
  fc.integer({ min: 1, max: 38 }).chain((p) => fc.integer({ min: 0, max: p }).map((s) => decimal(p, s))),
);
const BINARY_OPS = ['+', '-', '*', '/', '%', 'DIV', '||', '=', '==', '<=>', '<>', '!=', '<', '<=', '>', '>=', 'AND', 'OR'] as const;

const exprArb: fc.Arbitrary<Expr> = fc.letrec<{ e: Expr }>((tie) => {
  const e = tie('e');
  return {
    e: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.array(nameArb, { minLength: 1, maxLength: 3 }).map<Expr>((path) => ({ kind: 'column', path })),
      literalArb,
      fc.record({ op: fc.constantFrom('-' as const, '+' as const, 'NOT' as const), arg: e }).map<Expr>((x) => ({ kind: 'unary', ...x })),
      fc.record({ op: fc.constantFrom(...BINARY_OPS), left: e, right: e }).map<Expr>((x) => ({ kind: 'binary', ...x })),
      fc.record({ not: fc.boolean(), arg: e }).map<Expr>((x) => ({ kind: 'isNull', ...x })),
      fc.record({ not: fc.boolean(), value: fc.constantFrom(true, false, null), arg: e }).map<Expr>((x) => ({ kind: 'isBool', ...x })),
      fc.record({ not: fc.boolean(), left: e, right: e }).map<Expr>((x) => ({ kind: 'distinct', ...x })),
      fc.record({ not: fc.boolean(), arg: e, list: fc.array(e, { minLength: 1, maxLength: 3 }) }).map<Expr>((x) => ({ kind: 'in', ...x })),
      fc.record({ not: fc.boolean(), arg: e, low: e, high: e }).map<Expr>((x) => ({ kind: 'between', ...x })),
      fc.record({ not: fc.boolean(), arg: e, pattern: e, escape: fc.option(fc.constantFrom('!', '\\', '😀', "'"), { nil: undefined }) }).map<Expr>((x) => ({ kind: 'like', ...x })),
      fc.record({ arg: e, to: typeArb }).map<Expr>((x) => ({ kind: 'cast', ...x })),
      fc.record({ name: fc.constantFrom('f', 'length', 'concat', 'coalesce', 'date_format', 'My_Fn'), args: fc.array(e, { maxLength: 3 }) }).map<Expr>((x) => ({ kind: 'call', ...x })),
      fc
        .record({ operand: fc.option(e, { nil: undefined }), branches: fc.array(fc.record({ when: e, then: e }), { minLength: 1, maxLength: 2 }), otherwise: fc.option(e, { nil: undefined }) })
        .map<Expr>((x) => ({ kind: 'case', ...x })),
    ),
  };
}).e;
