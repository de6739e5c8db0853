import { TributaryError } from '../../errors.js';

/** RFC 6901: "" is the whole document; otherwise "/"-separated tokens with ~1 = "/" and ~0 = "~".
 *  The URI-fragment form ("#/a/b", percent-encoded) is accepted too. */
export function parsePointer(text: string, option: string): string[] {
  let p = text;
  if (p.startsWith('#')) {
    try {
      p = decodeURIComponent(p.slice(1));
    } catch {
      throw new TributaryError('INVALID_ARGUMENT', `source "http-json": option ${option}=${JSON.stringify(text)} is not a valid JSON pointer (bad percent-encoding)`);
    }
  }
  if (p === '') return [];
  if (!p.startsWith('/')) {
    throw new TributaryError('INVALID_ARGUMENT', `source "http-json": option ${option}=${JSON.stringify(text)} is not a JSON pointer: it must be "" or start with "/" (e.g. "/data/items")`);
  }
  return p
    .slice(1)
    .split('/')
    .map((t) => {
      if (/~[^01]|~$/.test(t)) throw new TributaryError('INVALID_ARGUMENT', `source "http-json": option ${option}=${JSON.stringify(text)} has "~" not followed by 0 or 1 (write ~0 for "~" and ~1 for "/")`);
      return t.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

/** The value a parsed pointer refers to, or undefined when there is none. */
export function resolvePointer(doc: unknown, tokens: readonly string[]): unknown {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9]\d*)$/.test(t)) return undefined;
      const i = Number(t);
      if (i >= cur.length) return undefined;
      cur = cur[i];
    } else if (cur !== null && typeof cur === 'object') {
      cur = ownProperty(cur, t);
      if (cur === undefined) return undefined;
    } else {
      return undefined;
    }
  }
  return cur;
}

export function ownProperty(v: unknown, key: string): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  return Object.prototype.hasOwnProperty.call(v, key) ? (v as Record<string, unknown>)[key] : undefined;
}
