import { TributaryError } from '../errors.js';
import type { SourceOptions } from './source.js';

/** Typed access to a source's string options, with errors that name the option. */
export class Options {
  constructor(
    private readonly source: string,
    private readonly opts: SourceOptions,
  ) {}

  string(key: string, dflt?: string): string | undefined {
    return this.opts[key] ?? dflt;
  }

  required(key: string): string {
    const v = this.opts[key];
    if (v === undefined || v === '') throw new TributaryError('INVALID_ARGUMENT', `source "${this.source}" needs option ${key}`);
    return v;
  }

  number(key: string, dflt?: number, { min, integer }: { min?: number; integer?: boolean } = {}): number | undefined {
    const raw = this.opts[key];
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || (min !== undefined && n < min)) {
      throw new TributaryError('INVALID_ARGUMENT', `source "${this.source}": option ${key}=${JSON.stringify(raw)} must be ${integer ? 'an integer' : 'a number'}${min !== undefined ? ` >= ${min}` : ''}`);
    }
    return n;
  }

  boolean(key: string, dflt: boolean): boolean {
    const raw = this.opts[key];
    if (raw === undefined) return dflt;
    if (raw === 'true' || raw === 'false') return raw === 'true';
    throw new TributaryError('INVALID_ARGUMENT', `source "${this.source}": option ${key}=${JSON.stringify(raw)} must be true or false`);
  }

  list(key: string, dflt: string[] = []): string[] {
    const raw = this.opts[key];
    return raw === undefined ? dflt : raw.split(',').map((s) => s.trim()).filter(Boolean);
  }
}
