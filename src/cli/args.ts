import { isTributaryError, showValue, TributaryError } from '../errors.js';
import { parseDuration, parseSize } from '../units.js';

/**
 * Parsers for the CLI's numeric options, given to commander so every command gets numbers that
 * are already checked. `Number()` is not one: it reads "" as 0, "1.5" and "1e3" as numbers and
 * "abc" as NaN, which turned `--version 1.5` into a silently different version and
 * `--row-group-rows abc` into a WebAssembly trap. Every refusal names the option and the value.
 */
export interface Range {
  min?: number;
  max?: number;
}

const refuse = (option: string, value: string, expected: string) =>
  new TributaryError('INVALID_ARGUMENT', `${option} expects ${expected}, got ${showValue(value)}`, { option, value });

const describe = (what: string, { min = 0, max = Number.MAX_SAFE_INTEGER }: Range) =>
  max === Number.MAX_SAFE_INTEGER ? `${what} of at least ${min}` : `${what} from ${min} to ${max}`;

/** Plain decimal digits only: no sign, point, exponent, hex or blank. */
export function wholeNumber(option: string, range: Range = {}): (value: string) => number {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = range;
  return (value) => {
    const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw refuse(option, value, describe('a whole number', range));
    return n;
  };
}

/** Sizes like "128MB", "512k", "1048576", in whole bytes within the range. */
export function sizeArg(option: string, range: Range = {}): (value: string) => number {
  const { min = 1, max = Number.MAX_SAFE_INTEGER } = range;
  const expected = `${describe('a size in bytes', { min, max })} (examples: 128MB, 512k, 1048576)`;
  return (value) => {
    let n: number;
    try {
      n = parseSize(value);
    } catch (e) {
      if (isTributaryError(e)) throw refuse(option, value, expected);
      throw e;
    }
    if (!Number.isSafeInteger(n) || n < min || n > max) throw refuse(option, value, expected);
    return n;
  };
}

/** Durations like "168h", "30 minutes", in whole milliseconds. */
export function durationArg(option: string): (value: string) => number {
  const expected = 'a duration (examples: 168h, 90m, 3600s)';
  return (value) => {
    let ms: number;
    try {
      ms = parseDuration(value);
    } catch (e) {
      if (isTributaryError(e)) throw refuse(option, value, expected);
      throw e;
    }
    if (!Number.isSafeInteger(ms)) throw refuse(option, value, expected);
    return ms;
  };
}

/** Repeated `key=value` flags (`--property`, `--option`, `--storage-option`) as a record. */
export function keyValues(option: string, list: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new TributaryError('INVALID_ARGUMENT', `${option} expects key=value, got ${showValue(kv)}`);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}
