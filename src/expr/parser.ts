import { type DataType, decimal } from '../schema/schema.js';
import type { BinaryOp, Expr } from './ast.js';
import { ExpressionError } from './errors.js';
import { type Token, tokenize } from './lexer.js';
import { BINARY, BOOLEAN, BYTE, DATE, DOUBLE, FLOAT, INT, LONG, SHORT, STRING, TIMESTAMP, TIMESTAMP_NTZ } from './types.js';

/**
 * Spark SQL expressions (SqlBaseParser's `expression` rule) into the tree of ast.ts, with
 * Spark's precedence: OR < AND < NOT < predicates (BETWEEN, IN, LIKE, IS ...) < comparisons <
 * bitwise < + - || < * / % DIV < unary minus < :: casts. Constructs outside the subset Tributary
 * evaluates (subqueries, lambdas, intervals, array and map access, window functions...) are
 * refused by name here; functions are refused by name when they are resolved.
 */
export function parseExpression(text: string): Expr {
  const p = new Parser(text, tokenize(text));
  const e = p.expression();
  p.expectEnd();
  return e;
}

/** Words that end or continue an expression rather than name a column. */
const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IS', 'IN', 'BETWEEN', 'LIKE', 'ILIKE', 'RLIKE', 'REGEXP', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'CAST', 'TRY_CAST', 'NULL', 'TRUE', 'FALSE', 'DIV', 'ESCAPE', 'DISTINCT', 'FROM', 'FOR', 'INTERVAL', 'EXISTS', 'ANY', 'SOME', 'ALL', 'UNKNOWN', 'SELECT']);

const SIMPLE_TYPES: Record<string, DataType> = {
  string: STRING,
  bigint: LONG,
  long: LONG,
  int: INT,
  integer: INT,
  smallint: SHORT,
  short: SHORT,
  tinyint: BYTE,
  byte: BYTE,
  double: DOUBLE,
  float: FLOAT,
  real: FLOAT,
  boolean: BOOLEAN,
  binary: BINARY,
  date: DATE,
  timestamp: TIMESTAMP,
  timestamp_ltz: TIMESTAMP,
  timestamp_ntz: TIMESTAMP_NTZ,
};

class Parser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly tokens: Token[],
  ) {}

  private get tok(): Token {
    return this.tokens[this.i];
  }
  private peekAt(k: number): Token {
    return this.tokens[Math.min(this.i + k, this.tokens.length - 1)];
  }
  private next(): Token {
    const t = this.tokens[this.i];
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private fail(msg: string, t: Token = this.tok): never {
    throw new ExpressionError('syntax', `${msg} at character ${t.start + 1}`, this.src, t.start);
  }
  private unsupported(what: string, t: Token = this.tok): never {
    throw new ExpressionError('unsupported', what, this.src, t.start, what);
  }

  private isWord(word: string, t: Token = this.tok): boolean {
    return t.kind === 'ident' && t.value.toUpperCase() === word;
  }
  private word(word: string): boolean {
    if (!this.isWord(word)) return false;
    this.i++;
    return true;
  }
  private expectWord(word: string) {
    if (!this.word(word)) this.fail(`expected ${word}, found ${this.describe()}`);
  }
  private isOp(op: string, t: Token = this.tok): boolean {
    return t.kind === 'op' && t.value === op;
  }
  private op(op: string): boolean {
    if (!this.isOp(op)) return false;
    this.i++;
    return true;
  }
  private expectOp(op: string) {
    if (!this.op(op)) this.fail(`expected "${op}", found ${this.describe()}`);
  }
  private describe(t: Token = this.tok): string {
    return t.kind === 'eof' ? 'the end of the expression' : JSON.stringify(this.src.slice(t.start, t.end));
  }

  expectEnd() {
    if (this.tok.kind !== 'eof') this.fail(`unexpected ${this.describe()}`);
  }

  expression(): Expr {
    let left = this.and();
    while (this.word('OR')) left = { kind: 'binary', op: 'OR', left, right: this.and() };
    return left;
  }

  private and(): Expr {
    let left = this.not();
    while (this.word('AND')) left = { kind: 'binary', op: 'AND', left, right: this.not() };
    return left;
  }

  private not(): Expr {
    if (this.word('NOT') || this.op('!')) return { kind: 'unary', op: 'NOT', arg: this.not() };
    if (this.isWord('EXISTS') && this.isOp('(', this.peekAt(1))) this.unsupported('EXISTS (subquery)');
    return this.predicated();
  }

  private predicated(): Expr {
    const arg = this.comparison();
    const start = this.tok;
    if (this.word('IS')) {
      const not = this.word('NOT');
      if (this.word('NULL')) return { kind: 'isNull', not, arg };
      if (this.word('TRUE')) return { kind: 'isBool', not, value: true, arg };
      if (this.word('FALSE')) return { kind: 'isBool', not, value: false, arg };
      if (this.word('UNKNOWN')) return { kind: 'isBool', not, value: null, arg };
      if (this.word('DISTINCT')) {
        this.expectWord('FROM');
        return { kind: 'distinct', not, left: arg, right: this.comparison() };
      }
      this.fail(`expected NULL, TRUE, FALSE, UNKNOWN or DISTINCT FROM after IS, found ${this.describe()}`);
    }
    const not = this.isWord('NOT') && ['BETWEEN', 'IN', 'LIKE', 'ILIKE', 'RLIKE', 'REGEXP'].some((w) => this.isWord(w, this.peekAt(1)));
    if (not) this.i++;
    if (this.word('BETWEEN')) {
      const low = this.comparison();
      this.expectWord('AND');
      return { kind: 'between', not, arg, low, high: this.comparison() };
    }
    if (this.word('IN')) {
      this.expectOp('(');
      if (this.isWord('SELECT')) this.unsupported('IN (subquery)');
      const list = [this.expression()];
      while (this.op(',')) list.push(this.expression());
      this.expectOp(')');
      return { kind: 'in', not, arg, list };
    }
    if (this.isWord('ILIKE')) this.unsupported('ILIKE');
    if (this.isWord('RLIKE') || this.isWord('REGEXP')) this.unsupported(`${this.tok.value.toUpperCase()} (Java regular expressions)`);
    if (this.word('LIKE')) {
      if (this.isWord('ANY') || this.isWord('ALL') || this.isWord('SOME')) this.unsupported(`LIKE ${this.tok.value.toUpperCase()}`);
      const pattern = this.comparison();
      let escape: string | undefined;
      if (this.word('ESCAPE')) {
        const t = this.next();
        if (t.kind !== 'string') this.fail('ESCAPE takes a string literal', t);
        if ([...t.value].length !== 1) throw new ExpressionError('syntax', `the ESCAPE string must be one character, not ${JSON.stringify(t.value)}`, this.src, t.start);
        escape = t.value;
      }
      return { kind: 'like', not, arg, pattern, escape };
    }
    if (not) this.fail('expected BETWEEN, IN or LIKE after NOT', start);
    return arg;
  }

  /** Comparisons, left-associative, below the bitwise operators (which are refused). */
  private comparison(): Expr {
    let left = this.bitwise();
    for (;;) {
      const t = this.tok;
      if (t.kind === 'op' && ['=', '==', '<=>', '<>', '!=', '<', '<=', '>', '>='].includes(t.value)) {
        this.i++;
        left = { kind: 'binary', op: t.value as BinaryOp, left, right: this.bitwise() };
      } else return left;
    }
  }

  private bitwise(): Expr {
    const left = this.additive();
    for (const op of ['&', '|', '^']) if (this.isOp(op)) this.unsupported(`the bitwise operator ${op}`);
    return left;
  }

  private additive(): Expr {
    let left = this.multiplicative();
    for (;;) {
      const t = this.tok;
      if (t.kind === 'op' && (t.value === '+' || t.value === '-' || t.value === '||')) {
        this.i++;
        left = { kind: 'binary', op: t.value, left, right: this.multiplicative() };
      } else return left;
    }
  }

  private multiplicative(): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.tok;
      if (t.kind === 'op' && (t.value === '*' || t.value === '/' || t.value === '%')) {
        this.i++;
        left = { kind: 'binary', op: t.value, left, right: this.unary() };
      } else if (this.isWord('DIV')) {
        this.i++;
        left = { kind: 'binary', op: 'DIV', left, right: this.unary() };
      } else return left;
    }
  }

  private unary(): Expr {
    const t = this.tok;
    if (t.kind === 'op' && (t.value === '-' || t.value === '+')) {
      // Spark's `number` rule takes a leading minus: -2147483648 is an INT literal, -(2147483648) a BIGINT negated.
      if (t.value === '-' && this.peekAt(1).kind === 'number') {
        this.i++;
        return this.postfix(this.numberLiteral(true));
      }
      this.i++;
      return { kind: 'unary', op: t.value, arg: this.unary() };
    }
    if (this.isOp('~')) this.unsupported('the bitwise operator ~');
    return this.postfix(this.primary());
  }

  private postfix(e: Expr): Expr {
    for (;;) {
      if (this.op('::')) e = { kind: 'cast', arg: e, to: this.dataType() };
      else if (this.isOp('[')) this.unsupported('[] (array and map element access)');
      else if (this.isOp('.')) this.unsupported('field access on an expression (only column.field is read)');
      else return e;
    }
  }

  private numberLiteral(negative: boolean): Expr {
    const t = this.next();
    return { kind: 'literal', value: { type: 'number', text: t.value, suffix: t.suffix ?? '', negative } };
  }

  private primary(): Expr {
    const t = this.tok;
    if (t.kind === 'number') return this.numberLiteral(false);
    if (t.kind === 'string') {
      // Adjacent literals are one ('a' 'b' is 'ab'), as in Spark.
      let value = '';
      while (this.tok.kind === 'string') value += this.next().value;
      return { kind: 'literal', value: { type: 'string', value } };
    }
    if (this.op('(')) {
      if (this.isWord('SELECT')) this.unsupported('a subquery');
      const e = this.expression();
      if (this.isOp(',')) this.unsupported('a struct constructor (a, b)');
      this.expectOp(')');
      return e;
    }
    if (t.kind === 'quoted') return this.columnPath();
    if (t.kind !== 'ident') this.fail(`expected an expression, found ${this.describe()}`);
    const upper = t.value.toUpperCase();
    const next = this.peekAt(1);
    if (next.kind === 'string' && ['DATE', 'TIMESTAMP', 'TIMESTAMP_NTZ', 'TIMESTAMP_LTZ', 'X'].includes(upper)) {
      this.i += 2;
      return { kind: 'literal', value: { type: 'typed', name: upper as 'DATE', value: next.value } };
    }
    if (next.kind === 'string' && (upper === 'INTERVAL' || upper === 'TIME')) this.unsupported(`${upper} literals`);
    switch (upper) {
      case 'NULL':
        this.i++;
        return { kind: 'literal', value: { type: 'null' } };
      case 'TRUE':
      case 'FALSE':
        this.i++;
        return { kind: 'literal', value: { type: 'boolean', value: upper === 'TRUE' } };
      case 'CASE':
        return this.caseExpr();
      case 'CAST':
      case 'TRY_CAST':
        if (this.isOp('(', next)) return this.castExpr(upper);
        break;
      case 'INTERVAL':
        this.unsupported('INTERVAL');
        break;
      case 'SUBSTRING':
      case 'SUBSTR':
        if (this.isOp('(', next)) return this.substring(t.value);
        break;
      case 'EXTRACT':
      case 'POSITION':
      case 'TRIM':
      case 'OVERLAY':
        if (this.isOp('(', next)) this.unsupported(`the function ${t.value}`);
        break;
    }
    if (this.isOp('(', next)) return this.call();
    if (KEYWORDS.has(upper)) this.fail(`expected an expression, found ${this.describe()}`);
    if (['CURRENT_DATE', 'CURRENT_TIMESTAMP', 'CURRENT_USER', 'USER', 'SESSION_USER', 'CURRENT_TIME'].includes(upper)) {
      this.unsupported(`${upper} (not deterministic)`);
    }
    return this.columnPath();
  }

  private columnPath(): Expr {
    const path = [this.name()];
    while (this.isOp('.') && (this.peekAt(1).kind === 'ident' || this.peekAt(1).kind === 'quoted')) {
      this.i++;
      path.push(this.name());
    }
    return { kind: 'column', path };
  }

  private name(): string {
    const t = this.next();
    if (t.kind !== 'ident' && t.kind !== 'quoted') this.fail(`expected a name, found ${this.describe(t)}`, t);
    return t.value;
  }

  private call(): Expr {
    const nameTok = this.next();
    const name = nameTok.value;
    this.expectOp('(');
    if (this.isWord('DISTINCT') || this.isWord('ALL')) this.unsupported(`${name}(${this.tok.value.toUpperCase()} ...) (an aggregate)`);
    const args: Expr[] = [];
    if (this.isOp('*')) this.unsupported(`${name}(*)`);
    if (!this.isOp(')')) {
      args.push(this.argument(name));
      while (this.op(',')) args.push(this.argument(name));
    }
    this.expectOp(')');
    if (this.isWord('OVER') || this.isWord('FILTER') || this.isWord('WITHIN')) this.unsupported(`${name}(...) ${this.tok.value.toUpperCase()} (window and aggregate functions)`);
    return { kind: 'call', name, args };
  }

  private argument(fn: string): Expr {
    // A lambda: x -> ..., (x, y) -> ...
    if ((this.tok.kind === 'ident' && this.isOp('-', this.peekAt(1)) && this.isOp('>', this.peekAt(2))) || (this.isOp('(') && this.peekAt(1).kind === 'ident' && this.isOp(',', this.peekAt(2)))) {
      this.unsupported(`a lambda function in ${fn}(...)`);
    }
    return this.expression();
  }

  private castExpr(word: string): Expr {
    if (word === 'TRY_CAST') this.unsupported('TRY_CAST');
    this.i++;
    this.expectOp('(');
    const arg = this.expression();
    this.expectWord('AS');
    const to = this.dataType();
    this.expectOp(')');
    return { kind: 'cast', arg, to };
  }

  /** SUBSTRING(str FROM pos [FOR len]) or SUBSTRING(str, pos [, len]). */
  private substring(name: string): Expr {
    this.i++;
    this.expectOp('(');
    const args = [this.expression()];
    if (this.word('FROM')) {
      args.push(this.expression());
      if (this.word('FOR')) args.push(this.expression());
    } else {
      while (this.op(',')) args.push(this.expression());
    }
    this.expectOp(')');
    return { kind: 'call', name, args };
  }

  private caseExpr(): Expr {
    this.i++;
    const operand = this.isWord('WHEN') ? undefined : this.expression();
    const branches: { when: Expr; then: Expr }[] = [];
    while (this.word('WHEN')) {
      const when = this.expression();
      this.expectWord('THEN');
      branches.push({ when, then: this.expression() });
    }
    if (branches.length === 0) this.fail('CASE needs at least one WHEN');
    const otherwise = this.word('ELSE') ? this.expression() : undefined;
    this.expectWord('END');
    return { kind: 'case', operand, branches, otherwise };
  }

  private dataType(): DataType {
    const t = this.next();
    if (t.kind !== 'ident') this.fail(`expected a type, found ${this.describe(t)}`, t);
    const name = t.value.toLowerCase();
    if (name === 'decimal' || name === 'dec' || name === 'numeric') {
      if (!this.op('(')) return decimal(10, 0);
      const p = this.integer();
      const s = this.op(',') ? this.integer() : 0;
      this.expectOp(')');
      try {
        return decimal(p, s);
      } catch {
        throw new ExpressionError('syntax', `DECIMAL(${p},${s}) is not a valid decimal type`, this.src, t.start);
      }
    }
    if (name === 'varchar' || name === 'char' || name === 'character') this.unsupported(`CAST to ${t.value.toUpperCase()}(n)`, t);
    const type = SIMPLE_TYPES[name];
    if (!type) {
      if (['array', 'map', 'struct', 'interval', 'variant', 'void', 'time'].includes(name)) this.unsupported(`the type ${t.value.toUpperCase()}`, t);
      this.fail(`unknown type ${JSON.stringify(t.value)}`, t);
    }
    return type;
  }

  private integer(): number {
    const t = this.next();
    if (t.kind !== 'number' || t.fractional || t.exponent || t.suffix) this.fail('expected a whole number', t);
    return Number(t.value);
  }
}
