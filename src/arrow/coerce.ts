import { inInt64, JsonNumber } from './values.js';

/**
 * Coercion of one input value to the physical representation of a Delta primitive. Each function
 * returns the coerced value, or a `Reject` describing why not; the caller turns that into an
 * error that names the row and column. Coercions are deliberately narrow: anything that would
 * silently change a value (rounding a decimal, truncating an integer, guessing a date format) is
 * refused, because a data engineer would rather see the bad row than find it in Spark later.
 */
export class Reject {
  constructor(readonly reason: string) {}
}

const INT_RE = /^[+-]?\d+$/;

function integerText(v: unknown): string | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v).toString() : undefined;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof JsonNumber) {
    if (INT_RE.test(v.text)) return v.text;
    // "1e3" or "10.0" are integers written another way; accept only when exact.
    const dec = parseDecimalText(v.text);
    if (dec && dec.scale === 0) return dec.unscaled.toString();
    return undefined;
  }
  if (typeof v === 'string' && INT_RE.test(v.trim())) return v.trim();
  return undefined;
}

export function toInt64(v: unknown): bigint | Reject {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) {
    return new Reject(Number.isInteger(v) ? 'is beyond 2^53 and was already rounded by a JavaScript number; pass it as a string or BigInt' : 'is not an integer');
  }
  const t = integerText(v);
  if (t === undefined) return new Reject('is not an integer');
  const b = BigInt(t);
  if (!inInt64(b)) return new Reject('does not fit in a 64-bit long');
  return b;
}

/** Like toInt64, but a value that fits a double exactly stays a number (no BigInt allocated). */
export function toInt64Number(v: unknown): number | bigint | Reject {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  return toInt64(v);
}

export function toIntN(v: unknown, bits: 8 | 16 | 32, name: string): number | Reject {
  const t = integerText(v);
  if (t === undefined) return new Reject('is not an integer');
  const b = BigInt(t);
  const lim = 1n << BigInt(bits - 1);
  if (b < -lim || b >= lim) return new Reject(`does not fit in ${name} (${-lim} to ${lim - 1n})`);
  return Number(b);
}

export function toFloat(v: unknown): number | Reject {
  if (typeof v === 'number') return v;
  if (v instanceof JsonNumber) return Number(v.text);
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') {
    const s = v.trim();
    if (s === 'NaN') return NaN;
    if (s === 'Infinity' || s === '+Infinity' || s === 'inf') return Infinity;
    if (s === '-Infinity' || s === '-inf') return -Infinity;
    if (s !== '' && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s);
  }
  return new Reject('is not a number');
}

export function toBool(v: unknown): boolean | Reject {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return new Reject('is not a boolean');
}

export function toStringValue(v: unknown): string | Reject {
  if (typeof v === 'string') return v;
  return new Reject('is not a string');
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

export function toBinary(v: unknown): Uint8Array | Reject {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') {
    const s = v.replace(/\s+/g, '');
    if (s.length % 4 !== 0 || !BASE64_RE.test(s)) return new Reject('is not valid base64');
    return new Uint8Array(Buffer.from(s, 'base64'));
  }
  return new Reject('is not binary (expected base64 text or bytes)');
}

// ---------------------------------------------------------------------------------------------
// Decimals

export interface DecimalText {
  unscaled: bigint;
  scale: number;
}

const DEC_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Parses decimal text exactly (no floating point anywhere), normalising trailing zeros. */
export function parseDecimalText(s: string): DecimalText | undefined {
  const m = DEC_RE.exec(s.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  let intPart = m[2];
  let frac = m[3] ?? '';
  const exp = m[4] ? Number(m[4]) : 0;
  if (Math.abs(exp) > 400) return undefined;
  if (exp > 0) {
    const move = frac.slice(0, exp).padEnd(exp, '0');
    intPart += move;
    frac = frac.slice(exp);
  } else if (exp < 0) {
    const k = -exp;
    const padded = intPart.padStart(k, '0');
    frac = padded.slice(padded.length - k) + frac;
    intPart = padded.slice(0, padded.length - k);
  }
  frac = frac.replace(/0+$/, '');
  const digits = (intPart + frac).replace(/^0+/, '') || '0';
  const unscaled = BigInt(digits) * (m[1] === '-' ? -1n : 1n);
  return { unscaled, scale: frac.length };
}

/** Unscaled value at the column's scale, refusing any rounding and any precision overflow. */
export function toDecimal(v: unknown, precision: number, scale: number): bigint | Reject {
  let text: string;
  if (typeof v === 'string') text = v;
  else if (v instanceof JsonNumber) text = v.text;
  else if (typeof v === 'bigint') text = v.toString();
  else if (typeof v === 'number') {
    if (!Number.isFinite(v)) return new Reject('is not a finite number');
    // The shortest round-trip text is what the user wrote for any double that came from JSON.
    text = String(v);
  } else return new Reject('is not a decimal (expected a number or numeric string)');
  const d = parseDecimalText(text);
  if (!d) return new Reject('is not a decimal number');
  if (d.scale > scale) return new Reject(`has ${d.scale} digits after the point, more than the column's scale ${scale} (rounding would change it)`);
  const unscaled = d.unscaled * 10n ** BigInt(scale - d.scale);
  const abs = unscaled < 0n ? -unscaled : unscaled;
  if (abs >= 10n ** BigInt(precision)) return new Reject(`does not fit in decimal(${precision},${scale})`);
  return unscaled;
}

// ---------------------------------------------------------------------------------------------
// Dates and timestamps

const DATE_RE = /^([+-]?\d{4,6})-(\d{2})-(\d{2})$/;

function civilToDays(y: number, m: number, d: number): number | undefined {
  if (m < 1 || m > 12 || d < 1 || d > 31) return undefined;
  // Date.UTC maps years 0..99 to 1900..1999; setUTCFullYear does not.
  const dt = new Date(0);
  dt.setUTCFullYear(y, m - 1, d);
  dt.setUTCHours(0, 0, 0, 0);
  if (dt.getUTCMonth() !== m - 1 || dt.getUTCDate() !== d) return undefined;
  return Math.round(dt.getTime() / 86_400_000);
}

export function toDateDays(v: unknown): number | Reject {
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) return new Reject('is an invalid Date');
    return Math.floor(v.getTime() / 86_400_000);
  }
  if (typeof v !== 'string') return new Reject('is not a date (expected "YYYY-MM-DD")');
  const m = DATE_RE.exec(v.trim());
  if (!m) return new Reject('is not a date (expected "YYYY-MM-DD")');
  const days = civilToDays(Number(m[1]), Number(m[2]), Number(m[3]));
  if (days === undefined) return new Reject('is not a valid calendar date');
  return days;
}

const TS_RE = /^([+-]?\d{4,6})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$/;

export const MAX_SAFE_MS = 9_007_199_254_740; // ms * 1000 stays below 2^53

/** Like toTimestampMicros, but a Date or millisecond number stays a number when exact. */
export function toTimestampMicrosNumber(v: unknown, ntz: boolean): number | bigint | Reject {
  if (v instanceof Date) {
    const t = v.getTime();
    if (Number.isNaN(t)) return new Reject('is an invalid Date');
    if (Math.abs(t) < MAX_SAFE_MS) return t * 1000;
  } else if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < MAX_SAFE_MS) {
    return v * 1000;
  }
  const r = toTimestampMicros(v, ntz);
  if (typeof r === 'bigint' && r > -9007199254740991n && r < 9007199254740991n) return Number(r);
  return r;
}

/**
 * ISO-8601 text -> microseconds since the epoch. A timestamp without a zone is read as UTC for
 * `timestamp` (documented; Spark would use the session time zone) and as wall-clock time for
 * `timestamp_ntz`, which must not carry a zone. Numbers are epoch milliseconds (JavaScript's
 * convention), BigInts epoch microseconds, Dates their instant.
 */
export function toTimestampMicros(v: unknown, ntz: boolean): bigint | Reject {
  if (v instanceof Date) {
    const t = v.getTime();
    if (Number.isNaN(t)) return new Reject('is an invalid Date');
    return BigInt(t) * 1000n;
  }
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return new Reject('is not a finite epoch-millisecond number');
    // Keep sub-millisecond digits if present, without going through a lossy multiply.
    const whole = Math.floor(v);
    return BigInt(whole) * 1000n + BigInt(Math.round((v - whole) * 1000));
  }
  if (typeof v !== 'string') return new Reject('is not a timestamp (expected ISO-8601 text)');
  const m = TS_RE.exec(v.trim());
  if (!m) return new Reject('cannot be parsed as an ISO-8601 timestamp');
  const days = civilToDays(Number(m[1]), Number(m[2]), Number(m[3]));
  const hh = Number(m[4] ?? 0);
  const mi = Number(m[5] ?? 0);
  const ss = Number(m[6] ?? 0);
  if (days === undefined || hh > 23 || mi > 59 || ss > 59) return new Reject('is not a valid date and time');
  const fracText = (m[7] ?? '').padEnd(9, '0');
  if (m[7] && m[7].length > 6 && /[1-9]/.test(m[7].slice(6))) return new Reject('has sub-microsecond digits; Delta timestamps hold microseconds');
  const micros = BigInt(fracText.slice(0, 6));
  const zone = m[8];
  if (ntz && zone) return new Reject('carries a time zone, but the column is timestamp_ntz (wall-clock time)');
  let offsetMin = 0;
  if (zone && zone !== 'Z' && zone !== 'z' && zone !== 'UTC') {
    const zm = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    offsetMin = (zm[1] === '-' ? -1 : 1) * (Number(zm[2]) * 60 + Number(zm[3] ?? 0));
  }
  const secs = BigInt(days) * 86_400n + BigInt(hh * 3600 + mi * 60 + ss) - BigInt(offsetMin * 60);
  return secs * 1_000_000n + micros;
}
