import { daysFromCivil, daysInMonth } from '../arrow/coerce.js';
import { EvaluationError, ExpressionError } from './errors.js';
import { type Big, norm, toBigInt } from './numeric.js';

/**
 * Dates (days since 1970-01-01) and timestamps (microseconds since the epoch) as Spark computes
 * with them, in the session time zone, which for Tributary is always UTC (documented: Spark must
 * run with spark.sql.session.timeZone=UTC for date parts of timestamps to agree). Text forms
 * follow Spark's own parsers (SparkDateTimeUtils.stringToDate / parseTimestampString) and its
 * formatters (java.time patterns as Spark restricts them).
 */
export const MICROS_PER_SECOND = 1_000_000;
export const MICROS_PER_DAY = 86_400_000_000;
const MICROS_PER_DAY_N = 86_400_000_000n;

export interface Civil {
  year: number;
  month: number;
  day: number;
}

/** Howard Hinnant's civil_from_days: proleptic Gregorian, as java.time.LocalDate. */
export function civilFromDays(days: number): Civil {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

export { daysFromCivil };

/** ISO day of week: Monday 1 ... Sunday 7 (1970-01-01 was a Thursday). */
export const isoDayOfWeek = (days: number): number => ((((days + 3) % 7) + 7) % 7) + 1;
export const dayOfYear = (days: number): number => days - daysFromCivil(civilFromDays(days).year, 1, 1) + 1;

/** A timestamp split into its UTC day and the microseconds into that day (floor division). */
export function splitMicros(micros: Big): { days: number; micros: number } {
  if (typeof micros === 'number') {
    let days = Math.floor(micros / MICROS_PER_DAY);
    let rest = micros - days * MICROS_PER_DAY;
    // The quotient of two doubles can land one off near midnight; the remainder is exact.
    if (rest < 0) {
      days--;
      rest += MICROS_PER_DAY;
    } else if (rest >= MICROS_PER_DAY) {
      days++;
      rest -= MICROS_PER_DAY;
    }
    return { days, micros: rest };
  }
  let days = micros / MICROS_PER_DAY_N;
  let rest = micros % MICROS_PER_DAY_N;
  if (rest < 0n) {
    days--;
    rest += MICROS_PER_DAY_N;
  }
  return { days: Number(days), micros: Number(rest) };
}

export const joinMicros = (days: number, microsOfDay: number): Big => {
  const x = days * MICROS_PER_DAY + microsOfDay;
  return Number.isSafeInteger(x) ? x : norm(BigInt(days) * MICROS_PER_DAY_N + BigInt(microsOfDay));
};

// ---------------------------------------------------------------------------------------------
// Parsing (CAST from STRING)

/** Spark trims whitespace and ISO control characters (bytes 0x00-0x20 and 0x7F) before parsing. */
function trimBounds(s: string): [number, number] {
  let a = 0;
  let b = s.length;
  const skip = (c: number) => c <= 0x20 || c === 0x7f;
  while (a < b && skip(s.charCodeAt(a))) a++;
  while (b > a && skip(s.charCodeAt(b - 1))) b--;
  return [a, b];
}

const isDigitCode = (c: number) => c >= 48 && c <= 57;

/** java.time.LocalDate.of: a valid calendar date (any year Spark's int days can hold). */
function validDate(y: number, m: number, d: number): boolean {
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m) && Math.abs(y) <= 999_999_999;
}

/**
 * SparkDateTimeUtils.stringToDate: `[+-]yyyy*`, `[+-]yyyy*-[m]m`, `[+-]yyyy*-[m]m-[d]d`, and the
 * last followed by a space or T and anything. Undefined when the text is no date.
 */
export function stringToDate(s: string): number | undefined {
  const [start, end] = trimBounds(s);
  if (start === end) return undefined;
  const valid = (seg: number, digits: number) => (seg === 0 && digits >= 4 && digits <= 7) || (seg !== 0 && digits > 0 && digits <= 2);
  const segs = [1, 1, 1];
  let sign = 1;
  let i = 0;
  let value = 0;
  let digits = 0;
  let j = start;
  const c0 = s.charCodeAt(j);
  if (c0 === 45 || c0 === 43) {
    sign = c0 === 45 ? -1 : 1;
    j++;
  }
  while (j < end && i < 3) {
    const c = s.charCodeAt(j);
    if (c === 32 || c === 84) break; // ' ' or 'T'
    if (i < 2 && c === 45) {
      if (!valid(i, digits)) return undefined;
      segs[i] = value;
      value = 0;
      digits = 0;
      i++;
    } else if (isDigitCode(c)) {
      value = value * 10 + (c - 48);
      digits++;
    } else return undefined;
    j++;
  }
  if (!valid(i, digits)) return undefined;
  if (i < 2 && j < end) return undefined;
  segs[i] = value;
  const y = sign * segs[0];
  if (!validDate(y, segs[1], segs[2])) return undefined;
  return daysFromCivil(y, segs[1], segs[2]);
}

export interface TimestampParts {
  /** year, month, day, hour, minute, second, microsecond */
  segs: number[];
  zone: string | undefined;
  justTime: boolean;
}

/**
 * SparkDateTimeUtils.parseTimestampString: a date as above, then [T or space][h]h:[m]m:[s]s
 * with up to 6 fraction digits kept (more are cut), then a zone id. Undefined when the text is
 * no timestamp.
 */
export function parseTimestampString(s: string): TimestampParts | undefined {
  const valid = (seg: number, digits: number) =>
    seg === 6 || (seg === 0 && digits >= 4 && digits <= 6) || (seg === 7 && digits <= 2) || (seg !== 0 && seg !== 6 && seg !== 7 && digits > 0 && digits <= 2);
  const [start, end] = trimBounds(s);
  if (start === end) return undefined;
  const segs = [1, 1, 1, 0, 0, 0, 0, 0, 0];
  let zone: string | undefined;
  let i = 0;
  let value = 0;
  let digits = 0;
  let fractionDigits = 0;
  let justTime = false;
  let yearSign: number | undefined;
  let j = start;
  const c0 = s.charCodeAt(j);
  if (c0 === 45 || c0 === 43) {
    yearSign = c0 === 45 ? -1 : 1;
    j++;
  }
  const close = (): boolean => {
    if (!valid(i, digits)) return false;
    segs[i] = value;
    value = 0;
    digits = 0;
    i++;
    return true;
  };
  for (; j < end; j++) {
    const c = s.charCodeAt(j);
    if (isDigitCode(c)) {
      if (i === 6) fractionDigits++;
      if (i !== 6 || digits < 6) value = value * 10 + (c - 48);
      digits++;
      continue;
    }
    if (j === 0 && c === 84) {
      justTime = true;
      i += 3;
    } else if (i < 2) {
      if (c === 45) {
        if (!close()) return undefined;
      } else if (i === 0 && c === 58 && yearSign === undefined) {
        justTime = true;
        if (!valid(3, digits)) return undefined;
        segs[3] = value;
        value = 0;
        digits = 0;
        i = 4;
      } else return undefined;
    } else if (i === 2) {
      if (c !== 32 && c !== 84) return undefined;
      if (!close()) return undefined;
    } else if (i === 3 || i === 4) {
      if (c !== 58) return undefined;
      if (!close()) return undefined;
    } else if (i === 5 || i === 6) {
      if (c === 46 && i === 5) {
        if (!close()) return undefined;
      } else {
        if (!close()) return undefined;
        zone = s.slice(j, end);
        j = end - 1;
        if (i === 6) i++;
      }
    } else {
      if (i < segs.length && (c === 58 || c === 32)) {
        if (!close()) return undefined;
      } else return undefined;
    }
  }
  if (!valid(i, digits)) return undefined;
  segs[i] = value;
  while (fractionDigits < 6) {
    segs[6] *= 10;
    fractionDigits++;
  }
  segs[0] *= yearSign ?? 1;
  return { segs, zone: zone?.trim(), justTime };
}

/**
 * The offset in seconds of a zone id as java.time.ZoneId.of reads it (after Spark's getZoneId
 * fixes `+h:mm` and `+hh:m`): Z, UTC, GMT, UT, those followed by an offset, a bare offset, and
 * the fixed short ids EST, MST, HST. Undefined for text that is no zone id; 'region' for a
 * region id (Europe/Paris, PST), whose offset depends on tzdata, which Tributary does not use.
 */
export function zoneOffsetSeconds(zone: string): number | 'region' | undefined {
  let z = zone.replace(/^([+-])(\d):/, '$10$2:').replace(/^([+-])(\d\d):(\d)$/, '$1$2:0$3');
  if (z === 'Z' || z === 'UTC' || z === 'GMT' || z === 'UT') return 0;
  const fixed: Record<string, number> = { EST: -5 * 3600, MST: -7 * 3600, HST: -10 * 3600 };
  if (z in fixed) return fixed[z];
  const prefix = /^(UTC|GMT|UT)(?=[+-])/.exec(z);
  if (prefix) z = z.slice(prefix[0].length);
  if (z.startsWith('+') || z.startsWith('-')) return offsetOf(z);
  if (/^[A-Za-z][A-Za-z0-9~/._+-]+$/.test(z)) return 'region';
  return undefined;
}

/** ZoneOffset.of: +h, +hh, +hh:mm, +hhmm, +hh:mm:ss, +hhmmss, within ±18:00. */
function offsetOf(z: string): number | undefined {
  const m = /^([+-])(\d{1,2})(?:(:?)(\d{2})(?:\3(\d{2}))?)?$/.exec(z);
  if (!m) return undefined;
  if (m[2].length === 1 && m[4] !== undefined) return undefined;
  const h = Number(m[2]);
  const mi = Number(m[4] ?? 0);
  const se = Number(m[5] ?? 0);
  if (h > 18 || mi > 59 || se > 59) return undefined;
  const total = h * 3600 + mi * 60 + se;
  if (total > 18 * 3600) return undefined;
  return (m[1] === '-' ? -1 : 1) * total;
}

/**
 * CAST(string AS TIMESTAMP) in the session time zone (UTC), as microseconds; undefined for text
 * Spark does not read as a timestamp. Text Spark reads only with a time zone database (a region
 * id) or today's date (a time without a date) is refused: Tributary cannot compute those as Spark
 * does.
 */
export function stringToTimestamp(s: string, ntz: boolean): Big | undefined {
  const p = parseTimestampString(s);
  if (!p) return undefined;
  const [y, mo, d, h, mi, se, us] = p.segs;
  if (p.justTime) throw new EvaluationError('TRIBUTARY_UNSUPPORTED', `the timestamp ${JSON.stringify(s)} has no date: Spark takes today's, which is not deterministic`);
  if (!validDate(y, mo, d) || h > 23 || mi > 59 || se > 59) return undefined;
  let offset = 0;
  if (p.zone !== undefined) {
    const z = zoneOffsetSeconds(p.zone);
    if (z === undefined) return undefined;
    if (z === 'region') throw new EvaluationError('TRIBUTARY_UNSUPPORTED', `the timestamp ${JSON.stringify(s)} names the time zone ${p.zone}: Tributary reads fixed offsets only (Z, UTC, +hh:mm), not region ids`);
    if (ntz) throw new EvaluationError('TRIBUTARY_UNSUPPORTED', `the TIMESTAMP_NTZ ${JSON.stringify(s)} has a time zone, which Spark drops`);
    offset = z;
  }
  const days = daysFromCivil(y, mo, d);
  const secs = h * 3600 + mi * 60 + se - offset;
  return addMicros(days, secs * MICROS_PER_SECOND + us);
}

function addMicros(days: number, micros: number): Big {
  const x = days * MICROS_PER_DAY + micros;
  return Number.isSafeInteger(x) ? x : norm(BigInt(days) * MICROS_PER_DAY_N + BigInt(micros));
}

// ---------------------------------------------------------------------------------------------
// Formatting

const pad = (n: number, width: number) => String(n).padStart(width, '0');

function checkYear(y: number): void {
  // java.time prints years beyond 9999 with a sign; no Delta date reaches them.
  if (y < 1 || y > 9999) throw new EvaluationError('TRIBUTARY_UNSUPPORTED', `the year ${y} is outside 0001-9999`);
}

/** CAST(date AS STRING): yyyy-MM-dd. */
export function dateToString(days: number): string {
  const c = civilFromDays(days);
  checkYear(c.year);
  return `${pad(c.year, 4)}-${pad(c.month, 2)}-${pad(c.day, 2)}`;
}

/** CAST(timestamp AS STRING): yyyy-MM-dd HH:mm:ss, then the fraction without trailing zeros. */
export function timestampToString(micros: Big): string {
  const { days, micros: t } = splitMicros(micros);
  const secs = Math.floor(t / MICROS_PER_SECOND);
  const frac = t - secs * MICROS_PER_SECOND;
  const base = `${dateToString(days)} ${pad(Math.floor(secs / 3600), 2)}:${pad(Math.floor(secs / 60) % 60, 2)}:${pad(secs % 60, 2)}`;
  return frac === 0 ? base : `${base}.${pad(frac, 6).replace(/0+$/, '')}`;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const QUARTERS = ['1st quarter', '2nd quarter', '3rd quarter', '4th quarter'];

type Printer = (c: Civil, days: number, microsOfDay: number) => string;

/**
 * A date_format pattern compiled to a printer, for the letters whose output Tributary knows to be
 * Spark's (java.time in the English locale): y, M, L, d, D, Q, q, E, a, H, h, K, k, m, s, S,
 * quoted text and other characters. Anything else (zones, week-based fields, optional sections,
 * eras) is refused by name, as Spark refuses several of them.
 */
export function compileDatePattern(pattern: string, source: string): (micros: Big) => string {
  const parts: Printer[] = [];
  const refuse = (what: string): never => {
    throw new ExpressionError('unsupported', `date_format pattern ${JSON.stringify(pattern)}: ${what}`, source, undefined, `date_format pattern ${what}`);
  };
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i];
    if (ch === "'") {
      let j = i + 1;
      let text = '';
      for (;;) {
        if (j >= pattern.length) refuse('an unclosed quote');
        if (pattern[j] === "'") {
          if (pattern[j + 1] === "'") {
            text += "'";
            j += 2;
            continue;
          }
          break;
        }
        text += pattern[j++];
      }
      // '' alone is one quote.
      const lit = j === i + 1 ? "'" : text;
      parts.push(() => lit);
      i = j + 1;
      continue;
    }
    if (/[A-Za-z]/.test(ch)) {
      let n = 1;
      while (pattern[i + n] === ch) n++;
      parts.push(letter(ch, n, refuse));
      i += n;
      continue;
    }
    if ('[]{}#'.includes(ch)) refuse(`the character ${ch}`);
    parts.push(() => ch);
    i++;
  }
  return (micros) => {
    const { days, micros: t } = splitMicros(micros);
    const c = civilFromDays(days);
    checkYear(c.year);
    let out = '';
    for (const p of parts) out += p(c, days, t);
    return out;
  };
}

function letter(ch: string, n: number, refuse: (what: string) => never): Printer {
  const num = (get: (c: Civil, days: number, t: number) => number, max = 2): Printer => {
    if (n > max) refuse(`${ch.repeat(n)} (too many letters)`);
    return (c, d, t) => pad(get(c, d, t), n);
  };
  const hourOf = (t: number) => Math.floor(t / 3_600_000_000);
  switch (ch) {
    case 'y':
      // Two letters: the last two digits; otherwise the year padded to the count.
      return n === 2 ? (c) => pad(c.year % 100, 2) : (c) => pad(c.year, n);
    case 'M':
    case 'L':
      if (n === 3) return (c) => MONTHS[c.month - 1].slice(0, 3);
      if (n === 4) return (c) => MONTHS[c.month - 1];
      return num((c) => c.month);
    case 'd':
      return num((c) => c.day);
    case 'D':
      return num((_c, d) => dayOfYear(d), 3);
    case 'Q':
    case 'q':
      if (n === 3) return (c) => `Q${Math.ceil(c.month / 3)}`;
      if (n === 4) return (c) => QUARTERS[Math.ceil(c.month / 3) - 1];
      return num((c) => Math.ceil(c.month / 3));
    case 'E':
      if (n > 4) refuse(`${ch.repeat(n)} (too many letters)`);
      return n === 4 ? (_c, d) => WEEKDAYS[isoDayOfWeek(d) - 1] : (_c, d) => WEEKDAYS[isoDayOfWeek(d) - 1].slice(0, 3);
    case 'a':
      if (n > 1) refuse(`${ch.repeat(n)} (too many letters)`);
      return (_c, _d, t) => (hourOf(t) < 12 ? 'AM' : 'PM');
    case 'H':
      return num((_c, _d, t) => hourOf(t));
    case 'h':
      return num((_c, _d, t) => hourOf(t) % 12 || 12);
    case 'K':
      return num((_c, _d, t) => hourOf(t) % 12);
    case 'k':
      return num((_c, _d, t) => hourOf(t) || 24);
    case 'm':
      return num((_c, _d, t) => Math.floor(t / 60_000_000) % 60);
    case 's':
      return num((_c, _d, t) => Math.floor(t / 1_000_000) % 60);
    case 'S':
      if (n > 9) refuse(`${ch.repeat(n)} (too many letters)`);
      // The fraction's first n of nine digits (nanoseconds; microseconds followed by 000).
      return (_c, _d, t) => `${pad(t % 1_000_000, 6)}000`.slice(0, n);
    default:
      return refuse(`the letter ${ch}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Truncation (date_trunc, trunc)

export type TruncLevel = 'MICROSECOND' | 'MILLISECOND' | 'SECOND' | 'MINUTE' | 'HOUR' | 'DAY' | 'WEEK' | 'MONTH' | 'QUARTER' | 'YEAR';

/** DateTimeUtils.parseTruncLevel; undefined for a format Spark answers with NULL. */
export function truncLevel(format: string): TruncLevel | undefined {
  const f = format.toUpperCase();
  const aliases: Record<string, TruncLevel> = {
    MICROSECOND: 'MICROSECOND',
    MILLISECOND: 'MILLISECOND',
    SECOND: 'SECOND',
    MINUTE: 'MINUTE',
    HOUR: 'HOUR',
    DAY: 'DAY',
    DD: 'DAY',
    WEEK: 'WEEK',
    MON: 'MONTH',
    MONTH: 'MONTH',
    MM: 'MONTH',
    QUARTER: 'QUARTER',
    YEAR: 'YEAR',
    YYYY: 'YEAR',
    YY: 'YEAR',
  };
  return aliases[f];
}

/** The first day of the week, month, quarter or year `days` is in. */
export function truncDays(days: number, level: 'WEEK' | 'MONTH' | 'QUARTER' | 'YEAR'): number {
  if (level === 'WEEK') return days - (isoDayOfWeek(days) - 1);
  const c = civilFromDays(days);
  if (level === 'MONTH') return daysFromCivil(c.year, c.month, 1);
  if (level === 'QUARTER') return daysFromCivil(c.year, Math.floor((c.month - 1) / 3) * 3 + 1, 1);
  return daysFromCivil(c.year, 1, 1);
}

/** date_trunc in UTC. */
export function truncMicros(micros: Big, level: TruncLevel): Big {
  const unit: Partial<Record<TruncLevel, number>> = { MICROSECOND: 1, MILLISECOND: 1000, SECOND: 1_000_000, MINUTE: 60_000_000, HOUR: 3_600_000_000, DAY: MICROS_PER_DAY };
  const u = unit[level];
  const { days, micros: t } = splitMicros(micros);
  if (u !== undefined) return joinMicros(days, t - (t % u));
  return joinMicros(truncDays(days, level as 'WEEK'), 0);
}

export const microsOfDays = (days: number): Big => joinMicros(days, 0);
export const bigMicros = (x: Big): bigint => toBigInt(x);
