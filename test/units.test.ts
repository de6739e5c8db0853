import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDuration, parseSize } from '../src/units.js';

/**
 * Sizes and durations as users write them: a whole number of bytes or milliseconds lands
 * exactly, anything else is refused. `--target-file-size 1.5` was 1 byte and `--retention 0.4ms`
 * 0 ms, with exit 0.
 */
const SIZE_UNITS: Record<string, bigint> = { '': 1n, b: 1n, k: 1024n, kb: 1024n, kib: 1024n, m: 1n << 20n, mb: 1n << 20n, MiB: 1n << 20n, g: 1n << 30n, GB: 1n << 30n };
const TIME_UNITS: Record<string, bigint> = { '': 1n, ms: 1n, s: 1000n, seconds: 1000n, m: 60_000n, min: 60_000n, h: 3_600_000n, hours: 3_600_000n, d: 86_400_000n, days: 86_400_000n };

/** The exact value of `int.frac` x unit as a fraction, or undefined when it is not whole. */
function exact(int: string, frac: string, unit: bigint): bigint | undefined {
  const scaled = BigInt(int + frac) * unit;
  const div = 10n ** BigInt(frac.length);
  return scaled % div === 0n ? scaled / div : undefined;
}

describe('sizes and durations', () => {
  it('takes whole numbers of the base unit exactly and refuses the rest (examples)', () => {
    expect(parseSize('1.5k')).toBe(1536);
    expect(parseSize('128MB')).toBe(128 * 1024 * 1024);
    expect(() => parseSize('1.5')).toThrow(/"1.5" is not a whole number of bytes/);
    expect(() => parseSize('0.3k')).toThrow(/not a whole number of bytes/);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('0.5s')).toBe(500);
    expect(() => parseDuration('0.4ms')).toThrow(/"0.4ms" is not a whole number of milliseconds/);
    expect(() => parseDuration('1.0005s')).toThrow(/not a whole number of milliseconds/);
    // Past 2^53: no longer exact, and above every bound the callers check (they refuse it).
    expect(parseSize('99999999999999999999')).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
  });

  it('a size or duration lands exactly or is refused, never another value (property, seeded)', () => {
    const digits = (max: number) => fc.stringMatching(new RegExp(`^[0-9]{1,${max}}$`));
    fc.assert(
      fc.property(digits(12), fc.option(digits(6), { nil: undefined }), fc.constantFrom(...Object.keys(SIZE_UNITS)), fc.constantFrom(...Object.keys(TIME_UNITS)), fc.boolean(), (int, frac, su, tu, space) => {
        const text = frac === undefined ? int : `${int}.${frac}`;
        for (const [unit, mult, parse] of [
          [su, SIZE_UNITS[su], parseSize],
          [tu, TIME_UNITS[tu], parseDuration],
        ] as const) {
          const given = `${text}${space && unit ? ' ' : ''}${unit}`;
          const want = exact(int, frac ?? '', mult);
          if (want === undefined) expect(() => parse(given)).toThrow(/whole number/);
          else if (want > BigInt(Number.MAX_SAFE_INTEGER)) expect(parse(given)).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
          else expect(parse(given)).toBe(Number(want));
        }
      }),
      { seed: 20261203, numRuns: 3000 },
    );
  });
});
