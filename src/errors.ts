import { JsonNumber } from './json/json-number.js';

/**
 * Every failure Tributary reports on purpose carries a stable `code`, so callers (and the CLI's
 * exit path) can branch on it without parsing messages. Messages name the row, column, value or
 * file involved, because "bad input" without a location is not actionable.
 */
export type ErrorCode =
  | 'SCHEMA_PARSE'
  | 'SCHEMA_INVALID'
  | 'SCHEMA_MISMATCH'
  | 'ROW_INVALID'
  | 'CONSTRAINT_VIOLATION'
  | 'INPUT_PARSE'
  | 'TABLE_NOT_FOUND'
  | 'TABLE_EXISTS'
  | 'UNSUPPORTED_FEATURE'
  | 'COMMIT_CONFLICT'
  | 'LOG_CORRUPT'
  | 'CHECKPOINT_INVALID'
  | 'VERSION_NOT_FOUND'
  | 'PARTITION_INVALID'
  | 'INVALID_ARGUMENT'
  | 'IO'
  | 'CONDITIONAL_WRITE_UNSUPPORTED'
  | 'DATA_FILE_MISSING'
  | 'CHECKPOINT_LOCKED'
  | 'SOURCE_ERROR'
  | 'SINK_ERROR'
  | 'PARQUET_INVALID'
  | 'DEPENDENCY_MISSING'
  /** A signal stopped a command, which undid what it had started (exit 130 for SIGINT, 143 for SIGTERM). */
  | 'INTERRUPTED'
  | 'INTERNAL';

export class TributaryError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TributaryError';
    this.code = code;
    this.details = details;
  }
}

/**
 * Checks a numeric option of the library (rowGroupRows, targetFileSize, ...): NaN, fractions and
 * values out of range fail here with the option's name instead of deep in an encoder (arrow-rs
 * in WebAssembly traps with "unreachable" on a row-group size of 0).
 */
export function checkWholeNumber(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new TributaryError('INVALID_ARGUMENT', `${name} must be a whole number ${range}, got ${showValue(value)}`, { option: name, value: showValue(value) });
  }
  return value;
}

export function isTributaryError(e: unknown, code?: ErrorCode): e is TributaryError {
  return e instanceof TributaryError && (code === undefined || e.code === code);
}

/** Renders a value for an error message: short, unambiguous, never a multi-kilobyte dump. */
/**
 * For a key that is not among `names` but differs from one of them only in case: that name and
 * how to write it (Delta names are case-insensitive, so such a key can never be added on its own).
 * `holder` says whose names they are: the table's columns or a struct's fields.
 */
export function caseHint(key: string, names: readonly string[], holder: 'table' | 'struct'): string | undefined {
  const lower = key.toLowerCase();
  const same = names.find((n) => n.toLowerCase() === lower);
  return same === undefined ? undefined : `the ${holder} has "${same}" (names differing only in case are the same ${holder === 'table' ? 'column' : 'field'} in Delta; write it as "${same}")`;
}

export function showValue(value: unknown): string {
  let s: string;
  // A bigint as the number it is (users read these messages; `128n` is JavaScript's spelling).
  if (typeof value === 'bigint') s = String(value);
  else if (value === undefined) s = 'undefined';
  else if (value instanceof Uint8Array) s = `<${value.length} bytes>`;
  // A number kept as text is shown as written, not as the double it would round to.
  else if (value instanceof JsonNumber) s = value.text;
  else {
    try {
      // JSON.stringify applies toJSON before a replacer sees the value: look at the holder instead.
      s = JSON.stringify(value, function (this: Record<string, unknown>, k, v) {
        const orig = this[k];
        return orig instanceof JsonNumber ? `\u0000${orig.text}\u0000` : typeof v === 'bigint' ? `\u0000${v}\u0000` : v;
      })?.replace(/"\\u0000([^"\\]*)\\u0000"/g, '$1') ?? String(value);
    } catch {
      s = String(value);
    }
  }
  s = escapeInvisible(s);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

// Characters a terminal shows as nothing (or that reorder the line): format characters such as
// the byte order mark, zero-width and bidi controls, line/paragraph separators, other controls.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}\u00A0\u2000-\u200A\u3000]/gu;

/** Makes invisible characters visible as \uXXXX escapes, so a message says what it quotes. */
export function escapeInvisible(s: string): string {
  return s.replace(INVISIBLE, (c) => {
    const cp = c.codePointAt(0)!;
    return cp > 0xffff ? `\\u{${cp.toString(16).toUpperCase()}}` : `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  });
}
