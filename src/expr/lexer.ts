import { ExpressionError } from './errors.js';

/**
 * Tokens of Spark SQL expressions, as Spark's lexer (SqlBaseLexer.g4) makes them: identifiers
 * (plain or `back-quoted`), string literals in single or double quotes with Spark's backslash
 * escapes, numbers with their type suffixes (L, S, Y, F, D, BD), operators, and comments.
 */
export type TokenKind = 'ident' | 'quoted' | 'string' | 'number' | 'op' | 'eof';

export interface Token {
  kind: TokenKind;
  /** The identifier or operator as written; a string's unescaped value; a number's text without suffix. */
  value: string;
  /** Number suffix, upper case ('' for none). */
  suffix?: '' | 'L' | 'S' | 'Y' | 'F' | 'D' | 'BD';
  /** The number has a point or an exponent. */
  fractional?: boolean;
  exponent?: boolean;
  /** Offsets in the source text: [start, end). */
  start: number;
  end: number;
}

const OPS = ['<=>', '==', '!=', '<>', '<=', '>=', '||', '::', '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ',', '.', '!', '&', '|', '^', '~', '[', ']', ':', ';'];

const isIdentStart = (c: string) => /[A-Za-z_]/.test(c) || c.charCodeAt(0) > 0x7f;
const isIdentPart = (c: string) => /[A-Za-z0-9_]/.test(c) || c.charCodeAt(0) > 0x7f;
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '-' && src[i + 1] === '-') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const close = src.indexOf('*/', i + 2);
      if (close < 0) throw new ExpressionError('syntax', `unclosed /* comment at character ${i + 1}`, src, i);
      i = close + 2;
      continue;
    }
    const start = i;
    if (c === "'" || c === '"') {
      const { value, end } = stringLiteral(src, i);
      // 'it''s' is one literal with a quote in Spark 4 but two adjacent literals ("its") in Spark
      // 3.5: a table whose expression relies on either reading is refused.
      if (src[end] === c) throw new ExpressionError('unsupported', `a doubled quote inside a string literal (at character ${end}): Spark 4 reads it as a quote, Spark 3.5 as two literals; write \\${c} instead`, src, end, "''");
      out.push({ kind: 'string', value, start, end });
      i = end;
      continue;
    }
    if (c === '`') {
      let value = '';
      i++;
      for (;;) {
        if (i >= n) throw new ExpressionError('syntax', `unclosed \` at character ${start + 1}`, src, start);
        if (src[i] === '`') {
          if (src[i + 1] === '`') {
            value += '`';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += src[i++];
      }
      out.push({ kind: 'quoted', value, start, end: i });
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(src[i + 1]))) {
      out.push(number(src, i));
      i = out[out.length - 1].end;
      continue;
    }
    if (isIdentStart(c)) {
      while (i < n && isIdentPart(src[i])) i++;
      out.push({ kind: 'ident', value: src.slice(start, i), start, end: i });
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new ExpressionError('syntax', `unexpected character ${JSON.stringify(c)} at character ${i + 1}`, src, i);
    out.push({ kind: 'op', value: op, start, end: i + op.length });
    i += op.length;
  }
  out.push({ kind: 'eof', value: '', start: n, end: n });
  return out;
}

/** Spark's unescapeSQLString, for one literal starting at `i` (the quote). */
function stringLiteral(src: string, i: number): { value: string; end: number } {
  const q = src[i];
  let j = i + 1;
  let out = '';
  for (;;) {
    if (j >= src.length) throw new ExpressionError('syntax', `unclosed string literal at character ${i + 1}`, src, i);
    const c = src[j];
    if (c === q) return { value: out, end: j + 1 };
    if (c !== '\\') {
      out += c;
      j++;
      continue;
    }
    const e = src[j + 1];
    if (e === undefined) throw new ExpressionError('syntax', `unclosed string literal at character ${i + 1}`, src, i);
    if (e === 'u' && /^[0-9A-Fa-f]{4}$/.test(src.slice(j + 2, j + 6))) {
      out += String.fromCharCode(parseInt(src.slice(j + 2, j + 6), 16));
      j += 6;
      continue;
    }
    if (/^[0-3][0-7][0-7]$/.test(src.slice(j + 1, j + 4))) {
      out += String.fromCharCode(parseInt(src.slice(j + 1, j + 4), 8));
      j += 4;
      continue;
    }
    // \% and \_ keep their backslash: they are LIKE escapes.
    const map: Record<string, string> = { '0': '\u0000', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\u001A', '%': '\\%', _: '\\_' };
    out += map[e] ?? e;
    j += 2;
  }
}

function number(src: string, i: number): Token {
  const start = i;
  let j = i;
  while (isDigit(src[j])) j++;
  let fractional = false;
  let exponent = false;
  if (src[j] === '.' && !(src[j + 1] === '.')) {
    fractional = true;
    j++;
    while (isDigit(src[j])) j++;
  }
  if ((src[j] === 'e' || src[j] === 'E') && (isDigit(src[j + 1]) || ((src[j + 1] === '+' || src[j + 1] === '-') && isDigit(src[j + 2])))) {
    exponent = true;
    j += 2;
    while (isDigit(src[j])) j++;
  }
  const text = src.slice(start, j);
  let suffix: Token['suffix'] = '';
  const rest = src.slice(j, j + 2).toUpperCase();
  if (rest === 'BD') suffix = 'BD';
  else if (/^[LSYFD]/.test(rest)) suffix = rest[0] as Token['suffix'];
  let end = j + (suffix ?? '').length;
  if ((suffix === 'L' || suffix === 'S' || suffix === 'Y') && (fractional || exponent)) {
    throw new ExpressionError('syntax', `${src.slice(start, end)} is not a number Spark reads (L, S and Y follow whole numbers)`, src, start);
  }
  if (isIdentPart(src[end] ?? ' ')) {
    // Spark reads "1a" as an identifier; no Delta expression needs one.
    while (end < src.length && isIdentPart(src[end])) end++;
    throw new ExpressionError('unsupported', `${src.slice(start, end)} (an identifier starting with a digit; quote it with backticks)`, src, start, src.slice(start, end));
  }
  return { kind: 'number', value: text, suffix, fractional, exponent, start, end };
}
