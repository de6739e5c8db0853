import { TributaryError } from '../errors.js';

/**
 * An offset is a plain JSON object chosen by the source. The engine compares offsets by their
 * canonical JSON text (keys sorted at every level), so {"a":1,"b":2} and {"b":2,"a":1} are the
 * same position and never start a spurious batch.
 */
export type Offset = { [key: string]: OffsetValue };
export type OffsetValue = string | number | boolean | null | OffsetValue[] | { [key: string]: OffsetValue };

export function canonicalOffset(o: Offset): string {
  return JSON.stringify(sortKeys(o));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

export function offsetsEqual(a: Offset, b: Offset): boolean {
  return canonicalOffset(a) === canonicalOffset(b);
}

export function parseOffset(text: string, where: string): Offset {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new TributaryError('LOG_CORRUPT', `${where}: offset is not JSON (${(e as Error).message})`);
  }
  return checkOffset(v, where);
}

export function checkOffset(v: unknown, where: string): Offset {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new TributaryError('INVALID_ARGUMENT', `${where}: an offset must be a plain JSON object, got ${JSON.stringify(v)}`);
  }
  return v as Offset;
}
