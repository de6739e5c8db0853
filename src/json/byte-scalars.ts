import { daysFromCivil, daysInMonth } from '../arrow/coerce.js';

/**
 * Scalars read straight from UTF-8 bytes, for the NDJSON decoder's fast paths. Each function
 * accepts only the common, unambiguous shapes of its value and returns NaN (or false) for
 * everything else (other spellings, and every invalid value): the caller then hands the text to
 * the coercion layer (src/arrow/coerce.ts), which accepts the rest of the grammar and words every
 * refusal. So a fast path never decides a refusal, and whatever it accepts the coercion layer
 * accepts with the same value (the decoder's differential test checks exactly that).
 *
 * Values that may be beyond 2^30 (epoch seconds and microseconds, doubles, 15-digit integers)
 * go in and out through a Float64Array (`io`), not as arguments and results: V8 boxes such a
 * number passed to or returned from a call it does not inline, a heap object each, and it did
 * not inline these (heap sampling: 5 boxes a CoinGecko line, 80 MB per million lines).
 */

/** Powers of ten that are exact doubles: 10^0 .. 10^22. */
export const POW10 = new Float64Array(23).map((_, i) => 10 ** i);

const d2 = (b: Uint8Array, i: number): number => {
  const x = b[i] - 48;
  const y = b[i + 1] - 48;
  // Out of 0-9 (or beyond the buffer: NaN) makes the result negative or NaN; callers test `>= 0`.
  return x >= 0 && x <= 9 && y >= 0 && y <= 9 ? x * 10 + y : -1;
};

/**
 * "YYYY-MM-DD" at b[s]: days since 1970-01-01 of a valid calendar date of years 0001-9999 (the
 * range toDateDays accepts), or NaN.
 */
export function isoDateDays(b: Uint8Array, s: number): number {
  const yh = d2(b, s);
  const yl = d2(b, s + 2);
  if (yh < 0 || yl < 0 || b[s + 4] !== 45 || b[s + 7] !== 45) return NaN;
  const y = yh * 100 + yl;
  const mo = d2(b, s + 5);
  const d = d2(b, s + 8);
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return NaN;
  return daysFromCivil(y, mo, d);
}

/**
 * Epoch microseconds of an ISO-8601 timestamp in b[s, e), into io[0], in the shapes nearly every
 * producer writes: `YYYY-MM-DD[(T|t| )HH:MM[:SS[.f{1,9}]]][Z|±HH:MM]`, with the same checks as
 * parseIsoTimestamp (calendar date, time of day, offset within ±18:00, no sub-microsecond digits,
 * no zone for timestamp_ntz). False for anything else, and for instants whose microseconds are
 * not below 2^53 as a number (years before ~1685 or after ~2255): parseIsoTimestamp takes those.
 */
export function isoTimestampMicros(b: Uint8Array, s: number, e: number, ntz: boolean, io: Float64Array): boolean {
  if (e - s >= 16) {
    const m = isoMinute(b, s);
    if (m === m) {
      io[0] = m;
      return isoTail(b, s + 16, e, ntz, io);
    }
  }
  if (e - s < 10) return false;
  const days = isoDateDays(b, s);
  if (days !== days) return false;
  io[0] = days * 86_400;
  return isoZone(b, s + 10, e, ntz, io, 0);
}

/** `YYYY-MM-DD(T|t| )HH:MM` at b[s]: its seconds since the epoch (UTC), or NaN. */
export function isoMinute(b: Uint8Array, s: number): number {
  const sep = b[s + 10];
  if (sep !== 84 && sep !== 116 && sep !== 32) return NaN;
  const hh = d2(b, s + 11);
  if (hh < 0 || hh > 23 || b[s + 13] !== 58) return NaN;
  const mi = d2(b, s + 14);
  if (mi < 0 || mi > 59) return NaN;
  return isoDateDays(b, s) * 86_400 + hh * 3600 + mi * 60;
}

/**
 * The rest of a timestamp after its minute (`[:SS[.f{1,9}]][Z|±HH:MM]` from b[i] to b[e]),
 * given the minute's seconds in io[0]: epoch microseconds into io[0], or false.
 */
export function isoTail(b: Uint8Array, i: number, e: number, ntz: boolean, io: Float64Array): boolean {
  let micros = 0;
  if (i < e && b[i] === 58) {
    const ss = d2(b, i + 1);
    if (ss < 0 || ss > 59) return false;
    io[0] += ss;
    i += 3;
    if (i < e && b[i] === 46) {
      i++;
      let k = 0;
      for (; i < e; i++, k++) {
        const d = b[i] - 48;
        if (d < 0 || d > 9) break;
        if (k < 6) micros = micros * 10 + d;
        else if (d !== 0) return false; // sub-microsecond digits: refused by the reference
      }
      if (k === 0 || k > 9) return false;
      if (k < 6) micros *= POW10[6 - k];
    }
  }
  return isoZone(b, i, e, ntz, io, micros);
}

/** The zone from b[i] to b[e], applied to the seconds in io[0]; io[0] becomes epoch microseconds (plus `micros`). */
function isoZone(b: Uint8Array, i: number, e: number, ntz: boolean, io: Float64Array, micros: number): boolean {
  let secs = io[0];
  if (i < e) {
    const z = b[i];
    if (z === 90 && i + 1 === e) {
      // Z: UTC
    } else if ((z === 43 || z === 45) && i + 6 === e && b[i + 3] === 58) {
      const oh = d2(b, i + 1);
      const om = d2(b, i + 4);
      if (oh < 0 || om < 0 || om > 59 || oh * 60 + om > 18 * 60) return false;
      secs -= (z === 45 ? -60 : 60) * (oh * 60 + om);
    } else return false;
    if (ntz) return false;
  }
  // The bound microsOf uses: below it, seconds * 10^6 + micros is exact as a double.
  if (secs >= 9_007_199_254 || secs <= -9_007_199_254) return false;
  io[0] = secs * 1_000_000 + micros;
  return true;
}

/** Veltkamp's splitting constant (2^27 + 1): splits a double into two halves of 26 bits. */
const SPLIT = 134217729;

/**
 * The double nearest to the decimal (hi * 10^k + lo) * 10^e, where hi (io[0]) holds the first
 * 15 significant digits and lo (io[1]) the next k (k <= 4, so up to 19 digits in all) and
 * |e| <= 22, into io[0]; false when this cannot be decided here (the caller then parses the
 * text with Number()).
 *
 * Full-precision doubles print 16 or 17 digits, beyond Clinger's fast path (which needs the
 * digits to be an exact double). Here the digits are an exact pair of doubles (mh + ml), and
 * the scaling by 10^|e| (an exact double) is carried out in double-double arithmetic (Dekker's
 * exact product, the exact remainder of a correctly rounded division), so that xh + xl is the
 * decimal's value with a relative error below 2^-100. Rounding xh + xl gives the nearest
 * double unless the value lies within that error of a boundary between two doubles; so the
 * result is given only when both ends of a much wider neighbourhood (2^-80, relative) round
 * to it, which fails for about one number in 10^8 (and for exact ties, which Number() settles).
 */
export function nearestDouble(io: Float64Array, k: number, e: number): boolean {
  const hi = io[0];
  const lo = io[1];
  // m = hi * 10^k + lo, exactly, as mh + ml (m < 10^19 needs 64 bits; ml is a small integer).
  const P = POW10[k];
  const p = hi * P;
  let c = SPLIT * hi;
  let ah = c - (c - hi);
  let al = hi - ah;
  c = SPLIT * P;
  let bh = c - (c - P);
  let bl = P - bh;
  const pe = ah * bh - p + ah * bl + al * bh + al * bl;
  const mh = p + lo;
  const v = mh - p;
  const ml = p - (mh - v) + (lo - v) + pe;
  let xh: number;
  let xl: number;
  if (e >= 0) {
    const D = POW10[e];
    xh = mh * D;
    c = SPLIT * mh;
    ah = c - (c - mh);
    al = mh - ah;
    c = SPLIT * D;
    bh = c - (c - D);
    bl = D - bh;
    xl = ah * bh - xh + ah * bl + al * bh + al * bl + ml * D;
  } else {
    const D = POW10[-e];
    xh = mh / D;
    // The remainder mh - xh * D is a double, computed exactly from Dekker's product of xh and D.
    const q = xh * D;
    c = SPLIT * xh;
    ah = c - (c - xh);
    al = xh - ah;
    c = SPLIT * D;
    bh = c - (c - D);
    bl = D - bh;
    const qe = ah * bh - q + ah * bl + al * bh + al * bl;
    xl = (mh - q - qe + ml) / D;
  }
  const x = xh + xl;
  const t = xh - x + xl; // x + t === xh + xl exactly
  const tol = Math.abs(x) * 8.271806125530277e-25; // 2^-80
  if (x + (t + tol) !== x || x + (t - tol) !== x) return false;
  io[0] = x;
  return true;
}
