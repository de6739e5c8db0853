import type { DataType } from '../schema/schema.js';
import { sqlTypeName } from './types.js';

/**
 * Parsed Spark SQL expressions, before names and types are resolved: what Spark's parser
 * (AstBuilder) makes of the text, for the subset Tributary reads. Pure data; `toSql` prints an
 * expression back as text that parses to the same tree.
 */
export type Expr =
  | { kind: 'column'; path: string[] }
  | { kind: 'literal'; value: Literal }
  | { kind: 'unary'; op: '-' | '+' | 'NOT'; arg: Expr }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr }
  | { kind: 'isNull'; not: boolean; arg: Expr }
  /** IS [NOT] TRUE / FALSE / UNKNOWN (UNKNOWN is null). */
  | { kind: 'isBool'; not: boolean; value: boolean | null; arg: Expr }
  /** IS [NOT] DISTINCT FROM. */
  | { kind: 'distinct'; not: boolean; left: Expr; right: Expr }
  | { kind: 'in'; not: boolean; arg: Expr; list: Expr[] }
  | { kind: 'between'; not: boolean; arg: Expr; low: Expr; high: Expr }
  | { kind: 'like'; not: boolean; arg: Expr; pattern: Expr; escape?: string }
  | { kind: 'cast'; arg: Expr; to: DataType }
  | { kind: 'call'; name: string; args: Expr[] }
  | { kind: 'case'; operand?: Expr; branches: { when: Expr; then: Expr }[]; otherwise?: Expr };

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | 'DIV' | '||' | '=' | '==' | '<=>' | '<>' | '!=' | '<' | '<=' | '>' | '>=' | 'AND' | 'OR';

export type Literal =
  | { type: 'null' }
  | { type: 'boolean'; value: boolean }
  /** A number as written (digits, point, exponent; no sign), its suffix, and a leading minus. */
  | { type: 'number'; text: string; suffix: '' | 'L' | 'S' | 'Y' | 'F' | 'D' | 'BD'; negative: boolean }
  | { type: 'string'; value: string }
  /** DATE '...', TIMESTAMP '...', TIMESTAMP_NTZ '...', TIMESTAMP_LTZ '...', X'...'. */
  | { type: 'typed'; name: 'DATE' | 'TIMESTAMP' | 'TIMESTAMP_NTZ' | 'TIMESTAMP_LTZ' | 'X'; value: string };

export const COMPARISONS: ReadonlySet<string> = new Set(['=', '==', '<=>', '<>', '!=', '<', '<=', '>', '>=']);

/** A string literal Spark's lexer reads back as `s`. */
export function quoteString(s: string): string {
  let out = "'";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (c < 0x20 || c === 0x7f) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + "'";
}

/** `name` as a back-quoted identifier. */
export const quoteIdent = (name: string): string => '`' + name.replace(/`/g, '``') + '`';

function literalSql(l: Literal): string {
  switch (l.type) {
    case 'null':
      return 'NULL';
    case 'boolean':
      return l.value ? 'TRUE' : 'FALSE';
    case 'number':
      return `${l.negative ? '-' : ''}${l.text}${l.suffix}`;
    case 'string':
      return quoteString(l.value);
    case 'typed':
      return `${l.name}${l.name === 'X' ? '' : ' '}${quoteString(l.value)}`;
  }
}

/** The expression as SQL text, fully parenthesised; parsing it gives the same tree. */
export function toSql(e: Expr): string {
  switch (e.kind) {
    case 'column':
      return e.path.map(quoteIdent).join('.');
    case 'literal':
      return literalSql(e.value);
    case 'unary':
      // `-(5)` stays a negation: `- 5` would read back as the literal -5.
      return e.op === 'NOT' ? `(NOT ${toSql(e.arg)})` : `(${e.op}(${toSql(e.arg)}))`;
    case 'binary':
      return `(${toSql(e.left)} ${e.op} ${toSql(e.right)})`;
    case 'isNull':
      return `(${toSql(e.arg)} IS ${e.not ? 'NOT ' : ''}NULL)`;
    case 'isBool':
      return `(${toSql(e.arg)} IS ${e.not ? 'NOT ' : ''}${e.value === null ? 'UNKNOWN' : e.value ? 'TRUE' : 'FALSE'})`;
    case 'distinct':
      return `(${toSql(e.left)} IS ${e.not ? 'NOT ' : ''}DISTINCT FROM ${toSql(e.right)})`;
    case 'in':
      return `(${toSql(e.arg)} ${e.not ? 'NOT ' : ''}IN (${e.list.map(toSql).join(', ')}))`;
    case 'between':
      return `(${toSql(e.arg)} ${e.not ? 'NOT ' : ''}BETWEEN ${toSql(e.low)} AND ${toSql(e.high)})`;
    case 'like':
      return `(${toSql(e.arg)} ${e.not ? 'NOT ' : ''}LIKE ${toSql(e.pattern)}${e.escape === undefined ? '' : ` ESCAPE ${quoteString(e.escape)}`})`;
    case 'cast':
      return `CAST(${toSql(e.arg)} AS ${sqlTypeName(e.to)})`;
    case 'call':
      return `${e.name}(${e.args.map(toSql).join(', ')})`;
    case 'case':
      return `CASE${e.operand ? ` ${toSql(e.operand)}` : ''}${e.branches.map((b) => ` WHEN ${toSql(b.when)} THEN ${toSql(b.then)}`).join('')}${e.otherwise ? ` ELSE ${toSql(e.otherwise)}` : ''} END`;
  }
}

/** Every column path the expression reads. */
export function columnsOf(e: Expr, out: string[][] = []): string[][] {
  switch (e.kind) {
    case 'column':
      out.push(e.path);
      break;
    case 'literal':
      break;
    case 'unary':
    case 'isNull':
    case 'isBool':
    case 'cast':
      columnsOf(e.arg, out);
      break;
    case 'binary':
    case 'distinct':
      columnsOf(e.left, out);
      columnsOf(e.right, out);
      break;
    case 'in':
      columnsOf(e.arg, out);
      e.list.forEach((x) => columnsOf(x, out));
      break;
    case 'between':
      [e.arg, e.low, e.high].forEach((x) => columnsOf(x, out));
      break;
    case 'like':
      columnsOf(e.arg, out);
      columnsOf(e.pattern, out);
      break;
    case 'call':
      e.args.forEach((x) => columnsOf(x, out));
      break;
    case 'case':
      if (e.operand) columnsOf(e.operand, out);
      for (const b of e.branches) {
        columnsOf(b.when, out);
        columnsOf(b.then, out);
      }
      if (e.otherwise) columnsOf(e.otherwise, out);
      break;
  }
  return out;
}
