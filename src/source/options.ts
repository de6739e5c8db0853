import { TributaryError } from '../errors.js';
import type { SourceOptions } from './source.js';

/** The range a numeric option must fall in; `maxReason` says where the maximum comes from. */
export interface NumberRange {
  min?: number;
  max?: number;
  /** A whole number, and a safe one: 1e22 and 2^53 + 1 are refused, not rounded. */
  integer?: boolean;
  maxReason?: string;
}

/** The largest delay setTimeout honours; longer ones fire at once (Node clamps them to 1 ms). */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Typed access to string options (a source's, or a writeStream's), with errors that name the
 * option, the value and what it must be. Options are read when a query starts, before anything is
 * written to its checkpoint, so a bad value is refused before it can be logged into a batch plan.
 */
export class Options {
  private readonly label: string;

  constructor(
    source: string,
    private readonly opts: SourceOptions,
    label?: string,
  ) {
    this.label = label ?? `source "${source}"`;
  }

  /** The options of `writeStream` (the sink and the engine), with messages that say so. */
  static forWriteStream(opts: SourceOptions): Options {
    return new Options('', opts, 'writeStream');
  }

  has(key: string): boolean {
    return this.opts[key] !== undefined;
  }

  string(key: string, dflt?: string): string | undefined {
    return this.opts[key] ?? dflt;
  }

  required(key: string): string {
    const v = this.opts[key];
    if (v === undefined || v === '') throw new TributaryError('INVALID_ARGUMENT', `${this.label} needs option ${key}`);
    return v;
  }

  private invalid(key: string, raw: string, must: string): TributaryError {
    return new TributaryError('INVALID_ARGUMENT', `${this.label}: option ${key}=${JSON.stringify(raw)} must be ${must}`, { option: key, value: raw });
  }

  private check(key: string, raw: string, n: number, what: string, r: NumberRange): number {
    const min = r.min ?? (r.integer ? -Number.MAX_SAFE_INTEGER : undefined);
    const max = r.max ?? (r.integer ? Number.MAX_SAFE_INTEGER : undefined);
    const ok = Number.isFinite(n) && (!r.integer || Number.isSafeInteger(n)) && (min === undefined || n >= min) && (max === undefined || n <= max);
    if (ok) return n;
    const range = min !== undefined && max !== undefined ? ` from ${min} to ${max}` : min !== undefined ? ` >= ${min}` : max !== undefined ? ` <= ${max}` : '';
    const why = r.maxReason && max !== undefined && n > max ? ` (${r.maxReason})` : '';
    throw this.invalid(key, raw, `${what}${range}${why}`);
  }

  number(key: string, dflt?: number, range: NumberRange = {}): number | undefined {
    const raw = this.opts[key];
    if (raw === undefined) return dflt;
    const n = raw.trim() === '' ? NaN : Number(raw);
    return this.check(key, raw, n, range.integer ? 'an integer' : 'a number', range);
  }

  /** A size ("128MB") or a duration ("10s") option: `parse` reads it as a whole number of units. */
  amount(key: string, dflt: number | undefined, parse: (text: string) => number, unit: string, range: Omit<NumberRange, 'integer'> = {}): number | undefined {
    const raw = this.opts[key];
    if (raw === undefined) return dflt;
    let n: number;
    try {
      n = parse(raw);
    } catch (e) {
      throw new TributaryError('INVALID_ARGUMENT', `${this.label}: option ${key}: ${(e as Error).message}`, { option: key, value: raw });
    }
    return this.check(key, raw, n, `a ${unit}`, { ...range, integer: true });
  }

  boolean(key: string, dflt: boolean): boolean {
    const raw = this.opts[key];
    if (raw === undefined) return dflt;
    if (raw === 'true' || raw === 'false') return raw === 'true';
    throw this.invalid(key, raw, 'true or false');
  }

  choice<T extends string>(key: string, dflt: T | undefined, choices: readonly T[]): T | undefined {
    const raw = this.opts[key];
    if (raw === undefined) return dflt;
    if ((choices as readonly string[]).includes(raw)) return raw as T;
    throw this.invalid(key, raw, `one of ${choices.join(', ')}`);
  }

  list(key: string, dflt: string[] = []): string[] {
    const raw = this.opts[key];
    return raw === undefined ? dflt : raw.split(',').map((s) => s.trim()).filter(Boolean);
  }
}
