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
  | 'DATA_FILE_MISSING'
  | 'CHECKPOINT_LOCKED'
  | 'SOURCE_ERROR'
  | 'SINK_ERROR'
  | 'QUERY_STOPPED'
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
export function showValue(value: unknown): string {
  let s: string;
  if (typeof value === 'bigint') s = `${value}n`;
  else if (value === undefined) s = 'undefined';
  else if (value instanceof Uint8Array) s = `<${value.length} bytes>`;
  else {
    try {
      s = JSON.stringify(value) ?? String(value);
    } catch {
      s = String(value);
    }
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
