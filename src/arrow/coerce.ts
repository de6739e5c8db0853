import { JsonNumber } from '../json/json-number.js';
import { inInt64 } from './values.js';

/**
 * Coercion of one input value to the physical representation of a Delta primitive. Each function
 * returns the coerced value, or a `Reject` describing why not; the caller turns that into an
 * error that names the row and column. The rule: a value lands exactly or is refused. Nothing is
 * rounded except where the column type itself rounds (DOUBLE and FLOAT round a decimal number as
 * IEEE-754 does), nothing is guessed (date formats, time zones), and every literal is checked
 * against its grammar and range (calendar dates, offsets within ±18:00, years Spark reads).
 */
export class Reject {
  constructor(readonly reason: string) {}
}

// ---------------------------------------------------------------------------------------------
// Exact decimal numbers

/** A decimal number exactly: digits × 10^exp, digits without leading or trailing zeros. */
export interface ExactDecimal {
  negative: boolean;
  /** "" for zero. */
  digits: string;
  exp: number;
}

const DEC_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?)(\d+))?$/;
/** Exponents are clamped here: any non-zero value beyond it is out of every column's range. */
const EXP_CLAMP = 1e15;

/** Parses decimal text exactly (no floating point anywhere); undefined if it is not a number. */
export function exactDecimal(text: string): ExactDecimal | undefined {
  const m = DEC_RE.exec(text.trim());
  if (!m) return undefined;
  const intPart = m[2];
  const frac = m[3] ?? '';
  if (intPart === '' && frac === '') return undefined;
  let exp = 0;
  if (m[5] !== undefined) {
    const e = m[5].replace(/^0+/, '');
    exp = e.length > 15 ? EXP_CLAMP : Number(e);
    if (m[4] === '-') exp = -exp;
  }
  let digits = intPart + frac;
  exp -= frac.length;
  let a = 0;
  while (a < digits.length && digits.charCodeAt(a) === 48) a++;
  let b = digits.length;
  while (b > a && digits.charCodeAt(b - 1) === 48) b--;
  exp += digits.length - b;
  digits = digits.slice(a, b);
  if (digits === '') return { negative: false, digits: '', exp: 0 };
  return { negative: m[1] === '-', digits, exp };
}

/** Order of two exact decimals (-1, 0, 1), with no floating point. */
export function compareExactDecimals(a: ExactDecimal, b: ExactDecimal): number {
  const sa = a.digits === '' ? 0 : a.negative ? -1 : 1;
  const sb = b.digits === '' ? 0 : b.negative ? -1 : 1;
  if (sa !== sb || sa === 0) return Math.sign(sa - sb);
  // Same sign: compare magnitudes by the position of the leading digit, then digit by digit.
  const ma = a.digits.length + a.exp;
  const mb = b.digits.length + b.exp;
  let c = ma === mb ? 0 : ma > mb ? 1 : -1;
  if (c === 0) {
    const n = Math.max(a.digits.length, b.digits.length);
    const da = a.digits.padEnd(n, '0');
    const db = b.digits.padEnd(n, '0');
    c = da === db ? 0 : da > db ? 1 : -1;
  }
  return sa * c;
}

/** The text of any numeric input: exact for JsonNumber, bigint and strings, shortest for numbers. */
function numericText(v: unknown): string | undefined {
  if (v instanceof JsonNumber) return v.text;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : undefined;
  if (typeof v === 'string') return v;
  return undefined;
}

export interface DecimalText {
  unscaled: bigint;
  scale: number;
}

/** Decimal text as unscaled value and scale (trailing zeros normalised away); stats use it. */
export function parseDecimalText(s: string): DecimalText | undefined {
  const d = exactDecimal(s);
  if (!d) return undefined;
  if (d.digits === '') return { unscaled: 0n, scale: 0 };
  if (Math.abs(d.exp) > 400) return undefined;
  const u = BigInt(d.digits) * 10n ** BigInt(Math.max(0, d.exp));
  return { unscaled: d.negative ? -u : u, scale: Math.max(0, -d.exp) };
}

/** Unscaled value at the column's scale, refusing any rounding and any precision overflow. */
export function toDecimal(v: unknown, precision: number, scale: number): bigint | Reject {
  if (typeof v === 'number' && !Number.isFinite(v)) return new Reject('is not a finite number');
  const text = numericText(v);
  if (text === undefined) return new Reject('is not a decimal (expected a number or numeric string)');
  const d = exactDecimal(text);
  if (!d) return new Reject('is not a decimal number');
  if (d.digits === '') return 0n;
  const fracDigits = Math.max(0, -d.exp);
  if (fracDigits > scale) {
    return new Reject(`has ${fracDigits} digits after the point, more than the column's scale ${scale} (rounding would change it)`);
  }
  if (d.digits.length + d.exp > precision - scale) return new Reject(`does not fit in decimal(${precision},${scale})`);
  const u = BigInt(d.digits) * 10n ** BigInt(d.exp + scale);
  return d.negative ? -u : u;
}

// ---------------------------------------------------------------------------------------------
// Integers

const INT_RE = /^[+-]?\d+$/;

/** The exact integer an input denotes, or why it is not one. */
function integerOf(v: unknown): bigint | Reject {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return BigInt(v);
    if (Number.isInteger(v)) return new Reject('is beyond 2^53 and was already rounded by a JavaScript number; pass it as a string or BigInt');
    return new Reject('is not an integer');
  }
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string') {
    const s = v.trim();
    return INT_RE.test(s) ? BigInt(s) : new Reject('is not an integer');
  }
  if (v instanceof JsonNumber) {
    // "1e3" or "10.0" are integers written another way: accepted, exactly.
    const d = exactDecimal(v.text);
    if (!d) return new Reject('is not an integer');
    if (d.digits === '') return 0n;
    if (d.exp < 0) return new Reject('is not an integer');
    if (d.digits.length + d.exp > 20) return new Reject('does not fit in a 64-bit long');
    const u = BigInt(d.digits) * 10n ** BigInt(d.exp);
    return d.negative ? -u : u;
  }
  return new Reject('is not an integer');
}

export function toInt64(v: unknown): bigint | Reject {
  const b = integerOf(v);
  if (b instanceof Reject) return b;
  if (!inInt64(b)) return new Reject('does not fit in a 64-bit long');
  return b;
}

/** Like toInt64, but a value that fits a double exactly stays a number (no BigInt allocated). */
export function toInt64Number(v: unknown): number | bigint | Reject {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  const b = toInt64(v);
  if (b instanceof Reject) return b;
  return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
}

export function toIntN(v: unknown, bits: 8 | 16 | 32, name: string): number | Reject {
  const lim = 2 ** (bits - 1);
  if (typeof v === 'number' && Number.isInteger(v)) {
    if (v < -lim || v >= lim) return new Reject(`does not fit in ${name} (${-lim} to ${lim - 1})`);
    return v === 0 ? 0 : v; // -0 is the integer 0
  }
  const b = integerOf(v);
  if (b instanceof Reject) return b;
  if (b < BigInt(-lim) || b >= BigInt(lim)) return new Reject(`does not fit in ${name} (${-lim} to ${lim - 1})`);
  return Number(b);
}

// ---------------------------------------------------------------------------------------------
// Floating point: the only columns that round, and they round once, as IEEE-754 does.

const FLOAT_TEXT_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function specialFloat(s: string): number | undefined {
  switch (s) {
    case 'NaN':
      return NaN;
    case 'Infinity':
    case '+Infinity':
    case 'inf':
      return Infinity;
    case '-Infinity':
    case '-inf':
      return -Infinity;
  }
  return undefined;
}

/** A double column's value. */
export function toFloat(v: unknown): number | Reject {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') {
    const x = Number(v);
    return Number.isFinite(x) ? x : new Reject('is beyond the range of a double (about ±1.8e308)');
  }
  let text: string;
  if (v instanceof JsonNumber) text = v.text;
  else if (typeof v === 'string') {
    text = v.trim();
    const sp = specialFloat(text);
    if (sp !== undefined) return sp;
    if (!FLOAT_TEXT_RE.test(text)) return new Reject('is not a number');
  } else return new Reject('is not a number');
  const x = Number(text);
  if (!Number.isFinite(x)) return new Reject('is beyond the range of a double (about ±1.8e308)');
  // JSON's integer -0 is 0.0, as Spark's reader takes it (Jackson reads an integer token, which
  // has no negative zero); "-0.0" and "-0e0" stay -0.0 there and here. A JavaScript -0 is kept.
  return text === '-0' && v instanceof JsonNumber ? 0 : x;
}

const F32_MAX = 3.4028234663852886e38;

/**
 * A float column's value. Text is rounded to float32 directly: going through a double first can
 * round twice (when the double lands exactly halfway between two floats), so that one case is
 * settled against the exact decimal. A JavaScript number stands for its shortest decimal text:
 * that is what the NDJSON line said when the exact parser made it a number ("1.0000000596046448"
 * is the double 1 + 2^-24, halfway between two floats, but the text is above it and rounds up).
 */
export function toFloat32(v: unknown): number | Reject {
  let x: number;
  let text: string | undefined;
  if (typeof v === 'number') x = v;
  else if (typeof v === 'bigint') {
    text = v.toString();
    x = Number(v);
  } else {
    const r = toFloat(v);
    if (r instanceof Reject) return r;
    x = r;
    if (v instanceof JsonNumber) text = v.text;
    else if (typeof v === 'string' && specialFloat(v.trim()) === undefined) text = v.trim();
  }
  if (!Number.isFinite(x)) return x;
  let f = Math.fround(x);
  if (f !== x) {
    // Neighbours a < x < b; only x exactly at their midpoint can be a double rounding.
    const other = Math.fround(f > x ? prevFloat32(f) : nextFloat32(f));
    const [a, b] = f < other ? [f, other] : [other, f];
    if ((a + b) / 2 === x) {
      const d = exactDecimal(text ?? String(x))!;
      const c = compareDecimalToDouble(d, x);
      if (c > 0) f = b;
      else if (c < 0) f = a;
    }
  }
  if (!Number.isFinite(f) || Math.abs(f) > F32_MAX) return new Reject('is beyond the range of a float (about ±3.4e38)');
  return f;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function nextFloat32(f: number): number {
  f32[0] = f;
  if (f >= 0) u32[0] += 1;
  else u32[0] -= 1;
  return f32[0];
}
function prevFloat32(f: number): number {
  f32[0] = f;
  if (f > 0) u32[0] -= 1;
  else if (f === 0) return -nextFloat32(0);
  else u32[0] += 1;
  return f32[0];
}

/** Sign of (decimal - double), exactly, with BigInt arithmetic. */
export function compareDecimalToDouble(d: ExactDecimal, x: number): number {
  const dv = d.digits === '' ? 0 : d.negative ? -1 : 1;
  const xv = x === 0 ? 0 : x < 0 ? -1 : 1;
  if (dv !== xv) return Math.sign(dv - xv);
  if (dv === 0) return 0;
  // |d| = D * 10^e, |x| = M * 2^k; compare as integers scaled to a common denominator.
  const { mantissa, exp2 } = decomposeDouble(Math.abs(x));
  let lhs = BigInt(d.digits);
  let rhs = mantissa;
  if (d.exp >= 0) lhs *= 10n ** BigInt(d.exp);
  else rhs *= 10n ** BigInt(-d.exp);
  if (exp2 >= 0) rhs <<= BigInt(exp2);
  else lhs <<= BigInt(-exp2);
  const c = lhs === rhs ? 0 : lhs > rhs ? 1 : -1;
  return d.negative ? -c : c;
}

/** A positive finite double as mantissa * 2^exp2 (both exact). */
export function decomposeDouble(x: number): { mantissa: bigint; exp2: number } {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  const e = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  if (e === 0) return { mantissa: frac, exp2: -1074 };
  return { mantissa: frac | (1n << 52n), exp2: e - 1075 };
}

// ---------------------------------------------------------------------------------------------
// Other primitives

export function toBool(v: unknown): boolean | Reject {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return new Reject('is not a boolean');
}

export function toStringValue(v: unknown): string | Reject {
  if (typeof v !== 'string') return new Reject('is not a string');
  // Half a surrogate pair has no UTF-8 form: encoding would silently turn it into U+FFFD.
  if (!v.isWellFormed()) return new Reject('contains half of a UTF-16 surrogate pair, which is not a character');
  return v;
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
// Dates and timestamps: proleptic Gregorian, years 0001-9999 (the range Spark's DateType and
// TimestampType document), computed with integer arithmetic only.

export const MIN_DAYS = -719162; // 0001-01-01
export const MAX_DAYS = 2932896; // 9999-12-31
export const MIN_MICROS = -62135596800000000n; // 0001-01-01T00:00:00Z
export const MAX_MICROS = 253402300799999999n; // 9999-12-31T23:59:59.999999Z
export const MIN_MS = -62135596800000;
export const MAX_MS = 253402300799999;
const RANGE = 'is outside the range Spark reads (years 0001 to 9999)';
/** Epoch milliseconds below this (in magnitude) are microseconds below 2^53: the fast path. */
export const MAX_SAFE_MS = 9_007_199_254_740;
export const MIN_SECONDS = -62135596800;
export const MAX_SECONDS = 253402300799;
/** Epoch seconds at most this (in magnitude) are microseconds below 2^53: the fast path. */
export const MAX_SAFE_SECONDS = 9_007_199_254;
// A milliseconds count read as seconds is far beyond year 9999: say what the number is taken as.
const SECONDS_RANGE = "taken as seconds since the epoch (as Spark's JSON reader takes a number) is outside the range Spark reads (years 0001 to 9999); for milliseconds, divide by 1000 or write ISO-8601 text";

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

const digit = (s: string, i: number) => {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
};
function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const d = digit(s, i + k);
    if (d < 0) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** "YYYY-MM-DD" at `i`: days since the epoch, or a Reject; -1 year means "not this grammar". */
function civilDate(s: string, i: number): { days: number } | Reject | undefined {
  const y = digits(s, i, 4);
  if (y < 0 || s.charCodeAt(i + 4) !== 45) return undefined;
  const mo = digits(s, i + 5, 2);
  if (mo < 0 || s.charCodeAt(i + 7) !== 45) return undefined;
  const d = digits(s, i + 8, 2);
  if (d < 0) return undefined;
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return new Reject('is not a valid calendar date');
  if (y < 1) return new Reject(RANGE);
  return { days: daysFromCivil(y, mo, d) };
}

export function toDateDays(v: unknown): number | Reject {
  if (v instanceof Date) {
    const t = v.getTime();
    if (Number.isNaN(t)) return new Reject('is an invalid Date');
    if (t < MIN_MS || t > MAX_MS) return new Reject(RANGE);
    return Math.floor(t / 86_400_000);
  }
  if (typeof v !== 'string') return new Reject('is not a date (expected "YYYY-MM-DD")');
  const s = v.trim();
  const r = s.length === 10 ? civilDate(s, 0) : undefined;
  if (r === undefined) return new Reject('is not a date (expected "YYYY-MM-DD")');
  if (r instanceof Reject) return r;
  return r.days;
}

/** Microseconds as a number when exact, else a BigInt. */
const microsOf = (secs: number, micros: number): number | bigint =>
  Math.abs(secs) < 9_007_199_254 ? secs * 1_000_000 + micros : BigInt(secs) * 1_000_000n + BigInt(micros);

// A number here is below 2^53 in magnitude (microsOf), well inside the range.
const inRange = (u: number | bigint) => typeof u === 'number' || (u >= MIN_MICROS && u <= MAX_MICROS);

/**
 * ISO-8601 text -> microseconds since the epoch:
 *   YYYY-MM-DD[(T|t| )HH:MM[:SS[(.|,)fraction]]][ ][Z | z | UTC | ±HH | ±HH:MM | ±HHMM]
 * Offsets stay within ±18:00 (as java.time's ZoneOffset) with minutes below 60; a fraction may
 * have up to nine digits, but digits beyond the microsecond must be zero. A timestamp without a
 * zone is UTC for `timestamp` (documented; Spark would use the session time zone) and wall-clock
 * time for `timestamp_ntz`, which must not carry one.
 */
export function parseIsoTimestamp(text: string, ntz: boolean): number | bigint | Reject {
  const s = text.trim();
  const n = s.length;
  const bad = new Reject('cannot be parsed as an ISO-8601 timestamp');
  if (n < 10) return bad;
  const date = civilDate(s, 0);
  if (date === undefined) return bad;
  if (date instanceof Reject) return date;
  let i = 10;
  let hh = 0;
  let mi = 0;
  let ss = 0;
  let micros = 0;
  const sep = s.charCodeAt(i);
  if (i < n && (sep === 84 || sep === 116 || sep === 32) && digit(s, i + 1) >= 0) {
    hh = digits(s, i + 1, 2);
    if (hh < 0 || s.charCodeAt(i + 3) !== 58) return bad;
    mi = digits(s, i + 4, 2);
    if (mi < 0) return bad;
    i += 6;
    if (s.charCodeAt(i) === 58) {
      ss = digits(s, i + 1, 2);
      if (ss < 0) return bad;
      i += 3;
      const p = s.charCodeAt(i);
      if (p === 46 || p === 44) {
        i++;
        let k = 0;
        let subMicro = false;
        for (; digit(s, i + k) >= 0; k++) {
          const d = digit(s, i + k);
          if (k < 6) micros += d * 10 ** (5 - k);
          else if (d !== 0) subMicro = true;
        }
        if (k === 0 || k > 9) return bad;
        i += k;
        if (subMicro) return new Reject('has sub-microsecond digits; Delta timestamps hold microseconds');
      }
    }
    if (hh > 23 || mi > 59 || ss > 59) return new Reject('is not a valid time of day');
  }
  // The zone.
  let offsetMin = 0;
  if (i < n) {
    if (s.charCodeAt(i) === 32 && i + 1 < n) i++;
    const z = s.charCodeAt(i);
    let zoned = true;
    if ((z === 90 || z === 122) && i + 1 === n) i++;
    else if (s.startsWith('UTC', i) && i + 3 === n) i += 3;
    else if (z === 43 || z === 45) {
      const oh = digits(s, i + 1, 2);
      if (oh < 0) return bad;
      let om = 0;
      let j = i + 3;
      if (j < n) {
        if (s.charCodeAt(j) === 58) j++;
        om = digits(s, j, 2);
        if (om < 0) return bad;
        j += 2;
      }
      if (j !== n) return bad;
      if (om > 59) return new Reject('has an offset whose minutes are not below 60');
      if (oh * 60 + om > 18 * 60) return new Reject('has an offset beyond ±18:00');
      offsetMin = (z === 45 ? -1 : 1) * (oh * 60 + om);
      i = j;
    } else zoned = false;
    if (!zoned || i !== n) return bad;
    if (ntz) return new Reject('carries a time zone, but the column is timestamp_ntz (wall-clock time)');
  }
  const secs = date.days * 86_400 + hh * 3600 + mi * 60 + ss - offsetMin * 60;
  const u = microsOf(secs, micros);
  return inRange(u) ? u : new Reject(RANGE);
}

/**
 * What a number in a timestamp column counts since the epoch: 'milliseconds' for JavaScript
 * values (Date.getTime()'s unit); 'seconds' for JSON text, as Spark's JSON reader takes an
 * integer into a TimestampType (JacksonParser: getLongValue * 1000000). The same digits would
 * otherwise land 1000 times apart depending on which reader saw them: CoinGecko's
 * `last_updated_at` (seconds) read as milliseconds lands in January 1970, with exit 0.
 */
export type TimestampNumbers = 'milliseconds' | 'seconds';

/**
 * Any timestamp input -> microseconds (a number when exact, else a BigInt). Strings are ISO-8601
 * (parseIsoTimestamp); numbers are epoch milliseconds or seconds (`unit`), kept exact to the
 * microsecond or refused; BigInts are epoch microseconds; Dates are their instant.
 */
export function toTimestampMicrosNumber(v: unknown, ntz: boolean, unit: TimestampNumbers = 'milliseconds'): number | bigint | Reject {
  if (typeof v === 'string') return parseIsoTimestamp(v, ntz);
  if (v instanceof Date) {
    const t = v.getTime();
    if (Number.isNaN(t)) return new Reject('is an invalid Date');
    if (t < MIN_MS || t > MAX_MS) return new Reject(RANGE);
    return microsOf(Math.floor(t / 1000), (t - Math.floor(t / 1000) * 1000) * 1000);
  }
  if (typeof v === 'bigint') return v >= MIN_MICROS && v <= MAX_MICROS ? v : new Reject(RANGE);
  if (typeof v === 'number' || v instanceof JsonNumber) return epochMicros(v, EPOCH_UNITS[unit]);
  return new Reject('is not a timestamp (expected ISO-8601 text)');
}

/** A unit a number in a timestamp column may count: its microseconds (as a power of ten) and bounds. */
interface EpochUnit {
  name: string;
  /** Microseconds per unit = 10^digits. */
  digits: number;
  min: number;
  max: number;
  /** Numbers at most this (in magnitude) are microseconds below 2^53. */
  safe: number;
  range: string;
}

const EPOCH_UNITS: Record<TimestampNumbers, EpochUnit> = {
  milliseconds: { name: 'epoch-millisecond', digits: 3, min: MIN_MS, max: MAX_MS, safe: MAX_SAFE_MS, range: RANGE },
  seconds: { name: 'epoch-second', digits: 6, min: MIN_SECONDS, max: MAX_SECONDS, safe: MAX_SAFE_SECONDS, range: SECONDS_RANGE },
};

/** An epoch number in `u` as microseconds: exact (a fraction down to the microsecond), or refused. */
function epochMicros(v: number | JsonNumber, u: EpochUnit): number | bigint | Reject {
  if (typeof v === 'number' && Number.isInteger(v)) {
    if (v < u.min || v > u.max) return new Reject(u.range);
    return Math.abs(v) <= u.safe ? v * 10 ** u.digits : BigInt(v) * 10n ** BigInt(u.digits);
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return new Reject(`is not a finite ${u.name} number`);
  const d = exactDecimal(typeof v === 'number' ? String(v) : v.text);
  if (!d) return new Reject(`is not an ${u.name} number`);
  if (d.digits === '') return 0;
  if (d.exp < -u.digits) return new Reject('has sub-microsecond digits; Delta timestamps hold microseconds');
  // Beyond every bound's digits: refused before any BigInt is built from a huge exponent.
  if (d.digits.length + d.exp > 19 - u.digits) return new Reject(u.range);
  const m = BigInt(d.digits) * 10n ** BigInt(d.exp + u.digits) * (d.negative ? -1n : 1n);
  if (m < MIN_MICROS || m > MAX_MICROS) return new Reject(u.range);
  return m >= -9007199254740991n && m <= 9007199254740991n ? Number(m) : m;
}

export function toTimestampMicros(v: unknown, ntz: boolean): bigint | Reject {
  const r = toTimestampMicrosNumber(v, ntz);
  return typeof r === 'number' ? BigInt(r) : r;
}

