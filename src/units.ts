import { TributaryError } from './errors.js';

/**
 * Sizes and durations as users write them in options and flags. The bottom layer: sources,
 * the engine and the CLI all read them.
 */

/** "128MB", "512k", "1048576" -> bytes. */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|k|mb|mib|m|gb|gib|g)?$/i.exec(s.trim());
  if (!m) throw new TributaryError('INVALID_ARGUMENT', `cannot read size "${s}" (examples: 128MB, 512k, 1048576)`);
  const mult: Record<string, number> = { b: 1, k: 1024, kb: 1024, kib: 1024, m: 1 << 20, mb: 1 << 20, mib: 1 << 20, g: 1 << 30, gb: 1 << 30, gib: 1 << 30 };
  return wholeUnits(m[1], mult[(m[2] ?? 'b').toLowerCase()] ?? 1, s, 'bytes');
}

/**
 * `digits` (a decimal like "1.5") times `unit`, exactly, when that is a whole number of the base
 * unit ("1.5k" is 1536 bytes, "1.5h" 5,400,000 ms); refused when it is not ("1.5" bytes,
 * "0.4ms"), rather than rounded to another value. Past 2^53 the result is not exact: every
 * caller's range check refuses it.
 */
function wholeUnits(digits: string, unit: number, given: string, what: string): number {
  const [int, frac = ''] = digits.split('.');
  const scaled = BigInt(int + frac) * BigInt(unit);
  const div = 10n ** BigInt(frac.length);
  if (scaled % div !== 0n) throw new TributaryError('INVALID_ARGUMENT', `"${given}" is not a whole number of ${what}`);
  return Number(scaled / div);
}

const UNITS: Record<string, number> = {
  ms: 1, millisecond: 1, milliseconds: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
};

/** "30 seconds", "30s", "500ms", "1 minute", or a number of milliseconds. */
export function parseDuration(v: string | number): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw new TributaryError('INVALID_ARGUMENT', `invalid duration ${v}`);
    return v;
  }
  const m = /^\s*(?:interval\s+)?(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v);
  const unit = m ? UNITS[(m[2] || 'ms').toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new TributaryError('INVALID_ARGUMENT', `cannot read duration "${v}" (examples: "30 seconds", "30s", "500ms")`);
  return wholeUnits(m[1], unit, v, 'milliseconds');
}
