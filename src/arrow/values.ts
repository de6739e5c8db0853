// ---------------------------------------------------------------------------------------------
// Exact text forms of values, used by stats, partition values and the reader.

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
export const inInt64 = (v: bigint) => v >= INT64_MIN && v <= INT64_MAX;

/** Unscaled decimal -> plain text with exactly `scale` fraction digits ("-12.30"). */
export function decimalToString(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  let digits = (neg ? -unscaled : unscaled).toString();
  if (scale === 0) return (neg ? '-' : '') + digits;
  digits = digits.padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** Days since 1970-01-01 -> "YYYY-MM-DD" (proleptic Gregorian, zero-padded year). */
export function daysToDate(days: number): string {
  const d = new Date(days * 86_400_000);
  return `${padYear(d.getUTCFullYear())}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}`;
}

const p2 = (n: number) => String(n).padStart(2, '0');
const padYear = (y: number) => (y < 0 ? '-' + String(-y).padStart(4, '0') : String(y).padStart(4, '0'));

function splitMicros(micros: bigint): { ms: number; micro: number } {
  // Floor division, so negative timestamps floor towards the past like Spark's.
  let ms = micros / 1000n;
  let rem = micros % 1000n;
  if (rem < 0n) {
    ms -= 1n;
    rem += 1000n;
  }
  return { ms: Number(ms), micro: Number(rem) };
}

/** Microseconds -> "YYYY-MM-DDTHH:MM:SS.SSSZ", floored to the millisecond (Delta stats form). */
export function microsToStatsTimestamp(micros: bigint, utc = true): string {
  const { ms } = splitMicros(micros);
  const d = new Date(ms);
  const s = `${padYear(d.getUTCFullYear())}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}T${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
  return utc ? `${s}Z` : s;
}

/** Microseconds -> "YYYY-MM-DDTHH:MM:SS.ffffffZ" (Spark's UTC partition-value form). */
export function microsToIso(micros: bigint, utc = true, sep = 'T'): string {
  const { ms, micro } = splitMicros(micros);
  const d = new Date(ms);
  const frac = String(d.getUTCMilliseconds()).padStart(3, '0') + String(micro).padStart(3, '0');
  const s = `${padYear(d.getUTCFullYear())}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}${sep}${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${frac}`;
  return utc ? `${s}Z` : s;
}

/** Java's Double.toString, which Spark uses for float/double partition values. */
export function javaDoubleToString(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(x);
    return s.includes('.') ? s : `${s}.0`;
  }
  // Java: d.dddE±n with at least one fraction digit.
  const [mant, exp] = x.toExponential().split('e');
  const m = mant.includes('.') ? mant : `${mant}.0`;
  return `${m}E${Number(exp)}`;
}

/** Java's Float.toString: the shortest digits that read back as the same float32. */
export function javaFloatToString(x: number): string {
  if (!Number.isFinite(x) || x === 0) return javaDoubleToString(x);
  for (let p = 1; p <= 9; p++) {
    const t = Number(x.toPrecision(p));
    if (Math.fround(t) === x) return javaDoubleToString(t);
  }
  return javaDoubleToString(x);
}

export function bytesToBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}
