import { escapeInvisible, TributaryError } from '../errors.js';
import { JsonSyntaxError, parseJsonExact } from './exact-parse.js';

/**
 * One NDJSON line, as the input edge judges it. Both readers of NDJSON (the row reader in
 * src/cli/input.ts and the schema-directed decoder) word their line errors here, so that a line
 * fails with the same message whichever of them read it.
 */

/**
 * What a reader's lines are in the input, for messages: NDJSON's own lines, or the elements of a
 * JSON array document each written as a line (json-array.ts), named by the line they start on.
 */
export interface LineNumbering {
  /** What one of the reader's lines is. */
  readonly record: 'line' | 'array element';
  /** The input line the reader's line `n` (1-based) is, or starts on. */
  input(n: number): number;
}

/** The error for a line that is not valid UTF-8: `at` is the offset of the first bad byte in the line (the element, in a JSON array). */
export function invalidUtf8Error(name: string, line: number, byte: number, at: number, record: LineNumbering['record'] = 'line'): TributaryError {
  return new TributaryError(
    'INPUT_PARSE',
    `${name}, line ${line}: not valid UTF-8 (byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')} at byte ${at + 1} of the ${record === 'line' ? 'line' : 'array element that starts there'}); fix the input or pass --invalid-utf8 replace to store U+FFFD instead`,
    { line },
  );
}

/** Whether a line holds only blanks (a trailing CR included): such lines are skipped. */
export function isBlankLine(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/**
 * The text of a non-blank line (its CR already removed) as a row: the exact parser's object, or
 * an INPUT_PARSE error naming the line (not JSON, or not an object).
 */
export function parseNdjsonLine(text: string, name: string, line: number, record: LineNumbering['record'] = 'line'): Record<string, unknown> {
  let v: unknown;
  try {
    v = parseJsonExact(text);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    throw new TributaryError('INPUT_PARSE', `${name}, line ${line}: not valid JSON (${err.message}${excerpt(text, err.position)})`, { line });
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new TributaryError('INPUT_PARSE', `${name}, line ${line}: expected a JSON object per ${record}`, { line });
  }
  return v as Record<string, unknown>;
}

/** A short, visible excerpt of the line around a syntax error. */
function excerpt(text: string, at: number): string {
  const from = Math.max(0, at - 20);
  const to = Math.min(text.length, at + 20);
  return `: ${from > 0 ? '...' : ''}${escapeInvisible(text.slice(from, to))}${to < text.length ? '...' : ''}`;
}

/** Appends the input location to a row error, as the CLI shows it: `... [file, line n]`. */
export function withInputLine(e: TributaryError, name: string, line: number): TributaryError {
  e.message = `${e.message} [${name}, line ${line}]`;
  e.details.line = line;
  return e;
}
