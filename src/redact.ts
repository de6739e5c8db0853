/**
 * Secrets (API keys, tokens, passwords) and every form they can take in what Tributary prints.
 *
 * A key reaches our output through text we did not write: a server echoing it in an error body, a
 * URL we show (`new URL` percent-encodes a key in the path one way, encodeURIComponent another,
 * URLSearchParams a third), a preview we JSON.stringify (quotes and backslashes escaped, maybe
 * twice when a warning travels inside --json progress), an HTML error page (character
 * references), a Basic credential (base64). Listing encoded copies of a key misses the next
 * encoder, so each secret is compiled into one pattern where every character may appear in any of
 * those forms, mixed freely; and its base64 forms are matched at all three byte alignments, so a
 * key inside a larger base64 text (`user:key`) is found too.
 *
 * Redaction happens before any truncation (`preview`): a cut-off that falls inside a key would
 * otherwise print its prefix. Text that someone else truncated (a value shown as `"abc...`) is
 * covered by a second rule: four or more leading characters of a secret right before a `...` or
 * `…`, or trailing characters right after one, are redacted too.
 */
export const REDACTED = '***';

/** Shorter values are not credentials, and redacting them would blank out ordinary text. */
const MIN_SECRET_LENGTH = 3;
/** How many leading (or trailing) characters of a secret next to a truncation mark are redacted. */
const MIN_PARTIAL = 4;
/** Base64 fragments shorter than this are too likely to occur by chance. */
const MIN_BASE64_CORE = 6;

export class Secrets {
  private readonly values = new Set<string>();
  private delegate: Secrets | undefined;
  private compiled: { re: RegExp | undefined; maxLength: number } | undefined;

  constructor(values: Iterable<string | undefined> = []) {
    for (const v of values) this.add(v);
  }

  /** Registers a value never to show. Empty and very short values are ignored. */
  add(value: string | undefined): this {
    if (this.delegate) {
      this.delegate.add(value);
      return this;
    }
    if (value === undefined || [...value].length < MIN_SECRET_LENGTH || this.values.has(value)) return this;
    this.values.add(value);
    this.compiled = undefined;
    return this;
  }

  /**
   * From now on this registry is `registry`: what was added here moves there, and redaction uses
   * everything the shared registry holds. A session attaches each source's registry to its own,
   * so an HTTP client redacts every key of the session, not only its source's.
   */
  attachTo(registry: Secrets): void {
    if (registry === this || this.delegate) return;
    for (const v of this.values) registry.add(v);
    this.values.clear();
    this.compiled = undefined;
    this.delegate = registry;
  }

  get size(): number {
    return this.delegate ? this.delegate.size : this.values.size;
  }

  /** `text` with every occurrence of every secret, in any encoding, replaced by `***`. */
  redact(text: string): string {
    if (this.delegate) return this.delegate.redact(text);
    const { re } = this.compile();
    return re ? text.replace(re, (...m) => replacement(m[m.length - 1] as Groups)) : text;
  }

  /**
   * The first `max` characters of `text` after redaction: redacting first means a cut-off inside
   * a key never shows part of it. Only a window just past the cut-off is searched, so a large
   * error body costs no more than its preview.
   */
  preview(text: string, max: number): string {
    if (this.delegate) return this.delegate.preview(text, max);
    const { re, maxLength } = this.compile();
    if (!re) return text.slice(0, max);
    let out = '';
    let pos = 0;
    while (out.length < max && pos < text.length) {
      const room = max - out.length;
      // Any occurrence starting inside `room` ends within maxLength more characters.
      const chunk = text.slice(pos, pos + room + maxLength);
      re.lastIndex = 0;
      const m = re.exec(chunk);
      if (!m || m.index >= room) {
        out += chunk.slice(0, room);
        break;
      }
      out += chunk.slice(0, m.index) + replacement(m.groups as Groups);
      pos += m.index + m[0].length;
    }
    return out.slice(0, max);
  }

  /**
   * Redacts an error in place (message, stack, string details, causes) and returns it: the last
   * pass over a failure before it is printed, whatever code wrote its message.
   */
  scrub<T>(e: T): T {
    const seen = new Set<unknown>();
    let cur: unknown = e;
    while (cur instanceof Error && !seen.has(cur) && this.size > 0) {
      seen.add(cur);
      const err = cur as Error & { details?: unknown };
      try {
        err.message = this.redact(err.message);
        if (typeof err.stack === 'string') err.stack = this.redact(err.stack);
        const details = err.details;
        if (details !== null && typeof details === 'object') {
          for (const [k, v] of Object.entries(details)) if (typeof v === 'string') (details as Record<string, unknown>)[k] = this.redact(v);
        }
      } catch {
        // A frozen error cannot be rewritten; the printed line is still redacted by its printer.
      }
      cur = err.cause;
    }
    return e;
  }

  private compile(): { re: RegExp | undefined; maxLength: number } {
    if (this.compiled) return this.compiled;
    const full: string[] = [];
    const prefixes: string[] = [];
    const suffixes: string[] = [];
    let maxLength = 0;
    // Longest first, so a secret containing another is replaced whole.
    // URL parsing drops tabs and newlines, so a key holding them is also looked for without them.
    const strings = [...this.values].flatMap((v) => [v, v.replace(/[\t\n\r]/g, ''), ...base64Cores(v)]).filter((v) => v.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
    for (const s of new Set(strings)) {
      const chars = [...s].map(charPattern);
      full.push(chars.map((c) => c.src).join(''));
      maxLength = Math.max(maxLength, chars.reduce((n, c) => n + c.max, 0));
      if (chars.length > MIN_PARTIAL) {
        prefixes.push(prefixPattern(chars.map((c) => c.src)));
        suffixes.push(suffixPattern(chars.map((c) => c.src)));
      }
    }
    // The truncation mark before a suffix is matched (a lookbehind at every position would make
    // the scan ten times slower) and put back by replacement().
    const alternatives = [...full, ...prefixes, ...(suffixes.length ? [`(?<mark>${TRUNCATION_MARK}"?)(?:${suffixes.join('|')})`] : [])];
    // Every match starts with one of these characters; saying so up front lets the scan skip
    // ordinary text about ten times faster than trying each alternative at every position.
    const first = new Set(['\\', '%', '&', '+', '/', '.', '…', ...strings.map((v) => v.charAt(0))]);
    const firstClass = `[${[...first].map((c) => c.replace(/[\\\]^-]/g, '\\$&')).join('')}]`;
    this.compiled = { re: full.length ? new RegExp(`(?=${firstClass})(?:${alternatives.join('|')})`, 'g') : undefined, maxLength };
    return this.compiled;
  }
}

// ---------------------------------------------------------------------------------------------
// Patterns

const TRUNCATION_MARK = String.raw`(?:\.\.\.|…)`;
/** The start of a character's encoding cut short: `%C`, `%C3%B`, `\u00`, `&#x2`. */
const PARTIAL_ENCODING = String.raw`(?:(?:%(?:25){0,3}[0-9A-Fa-f]{0,2}){1,4}|\\{1,8}(?:u[0-9A-Fa-f]{0,3}|(?:x[0-9A-Fa-f]{0,2}){1,4})?|&#?[xX]?[0-9A-Fa-f]{0,7})?`;

/** Four or more leading characters (the last maybe cut mid-encoding) right before a truncation mark. */
function prefixPattern(chars: string[]): string {
  let tail = '';
  for (let i = chars.length - 2; i >= MIN_PARTIAL; i--) tail = `(?:${chars[i]}${tail})?`;
  return `${chars.slice(0, MIN_PARTIAL).join('')}${tail}${PARTIAL_ENCODING}(?="?${TRUNCATION_MARK})`;
}

/** Four or more trailing characters (to follow a truncation mark). */
function suffixPattern(chars: string[]): string {
  let head = '';
  for (let i = 1; i <= chars.length - 1 - MIN_PARTIAL; i++) head = `(?:${head}${chars[i]})?`;
  return `${head}${chars.slice(chars.length - MIN_PARTIAL).join('')}`;
}

type Groups = { mark?: string } | undefined;
const replacement = (g: Groups) => (g?.mark ?? '') + REDACTED;

const NAMED_ENTITIES: Record<string, string> = { '"': 'quot', '&': 'amp', '<': 'lt', '>': 'gt', "'": 'apos' };
const SHORT_ESCAPES: Record<string, string> = { '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't' };

/**
 * One character of a secret in every form it can take, and the longest of them:
 *   raw, maybe after backslashes (JSON's \" \\ \/, escaped again when JSON is nested);
 *   percent-encoded UTF-8 bytes, either hex case, maybe encoded again (%252F) — covers
 *     encodeURIComponent, encodeURI, the WHATWG URL path/query/userinfo sets, URLSearchParams;
 *   `+` for a space (form encoding); \uXXXX and %uXXXX (JSON's ensure_ascii, JS escape());
 *   \xNN bytes (Python and C reprs); \n-style short escapes; HTML character references.
 */
function charPattern(ch: string): { src: string; max: number } {
  const cp = ch.codePointAt(0)!;
  const bytes = [...Buffer.from(ch, 'utf8')];
  const units = Array.from({ length: ch.length }, (_, i) => ch.charCodeAt(i));
  const alts: [string, number][] = [
    [`\\\\{0,7}${escapeRegExp(ch)}`, 7 + ch.length],
    [bytes.map((b) => `%(?:25){0,3}${hex(b, 2)}`).join(''), 9 * bytes.length],
    [units.map((u) => `(?:\\\\{1,8}|%)u${hex(u, 4)}`).join(''), 13 * units.length],
    [bytes.map((b) => `\\\\{1,8}x${hex(b, 2)}`).join(''), 11 * bytes.length],
    [`&#0{0,6}${cp};`, 16],
    [`&#[xX]0{0,6}${hex(cp, 1)};`, 16],
  ];
  if (cp >= 0x80 && cp <= 0xff) alts.push([`%(?:25){0,3}${hex(cp, 2)}`, 9]); // Latin-1, as escape() does
  if (ch === ' ') alts.push([String.raw`\+`, 1]);
  if (ch === '\\') alts.push(['/', 1]); // a WHATWG URL path turns backslashes into slashes
  if (SHORT_ESCAPES[ch]) alts.push([`\\\\{1,8}${escapeRegExp(SHORT_ESCAPES[ch])}`, 9]);
  if (NAMED_ENTITIES[ch]) alts.push([`&${NAMED_ENTITIES[ch]};`, NAMED_ENTITIES[ch].length + 2]);
  // Escapes before the raw character: the first alternative that fits wins, and a key ending in
  // "\\" must take all of "\\x5c", not leave "x5c" behind.
  alts.push(alts.shift()!);
  return { src: `(?:${alts.map((a) => a[0]).join('|')})`, max: Math.max(...alts.map((a) => a[1])) };
}

/** `n` in hex, at least `width` digits, each letter digit matching either case. */
function hex(n: number, width: number): string {
  return n
    .toString(16)
    .padStart(width, '0')
    .replace(/[a-f]/g, (d) => `[${d}${d.toUpperCase()}]`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * The base64 (and base64url) text that encodes `secret` wherever it sits in a larger byte string:
 * for each of the three alignments, the characters that depend on the secret's bytes alone. A
 * Basic credential `user:key` contains one of them whatever the length of `user`.
 */
export function base64Cores(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const b64 = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    // Character j holds bits [6j, 6j+6); the secret's bits are [8k, 8(k+n)).
    const first = Math.ceil((8 * k) / 6);
    const last = Math.floor((8 * (k + bytes.length) - 6) / 6);
    const core = b64.slice(first, last + 1);
    if (core.length >= MIN_BASE64_CORE) out.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Credentials written into configuration rather than taken from the environment

/**
 * Names of query parameters and headers whose values are credentials, as whole words of the name
 * (`api_key`, `X-Api-Key`, `access_token`, `Authorization`, `client_secret`), not `keyword` or
 * `author`.
 */
const CREDENTIAL_NAME = /(?:^|[^a-z])(?:(?:api|access|private|secret)?[-_]?key|(?:access|auth|id|refresh|session)?[-_]?token|(?:client)?[-_]?secret|password|passwd|pwd|sig|signature|auth|authorization|credentials?|cookie|session(?:[-_]?id)?)(?:$|[^a-z])/i;

/**
 * Credentials written literally in a URL: the userinfo password and the values of key-like
 * query parameters (api_key=..., access_token=...). Template parts (`{cursor}`, `${env:...}`)
 * are skipped: what they become is known (or not secret) elsewhere.
 */
export function credentialsInUrl(url: string): string[] {
  const out: string[] = [];
  const at = /^[a-z][a-z0-9+.-]*:\/\/([^/?#@]*)@/i.exec(url);
  if (at) {
    const colon = at[1].indexOf(':');
    if (colon >= 0) out.push(...decoded(at[1].slice(colon + 1)));
  }
  const q = url.indexOf('?');
  if (q >= 0) {
    for (const part of url.slice(q + 1).split('#')[0].split('&')) {
      const eq = part.indexOf('=');
      if (eq <= 0) continue;
      const name = decoded(part.slice(0, eq))[0];
      const value = part.slice(eq + 1);
      if (CREDENTIAL_NAME.test(name) && !/\{/.test(value)) out.push(...decoded(value));
    }
  }
  return out.filter((v) => !/\{/.test(v));
}

/**
 * The credentials in a header value, when the header's name says it carries one: the value,
 * the part after an auth scheme (`Bearer <token>`), and for Basic the decoded `user:password`
 * and password, which a server may echo decoded.
 */
export function credentialsInHeader(name: string, value: string): string[] {
  if (!CREDENTIAL_NAME.test(name)) return [];
  const out = [value];
  const m = /^([A-Za-z][A-Za-z0-9-]*)\s+(\S.*)$/.exec(value.trim());
  if (m) {
    out.push(m[2]);
    if (m[1].toLowerCase() === 'basic' && /^[A-Za-z0-9+/_-]+=*$/.test(m[2])) {
      const text = Buffer.from(m[2], 'base64').toString('utf8');
      if (!text.includes('\uFFFD')) {
        out.push(text);
        const colon = text.indexOf(':');
        if (colon >= 0) out.push(text.slice(colon + 1));
      }
    }
  }
  return out;
}

function decoded(s: string): string[] {
  try {
    const d = decodeURIComponent(s.replace(/\+/g, ' '));
    return d === s ? [s] : [s, d];
  } catch {
    return [s];
  }
}
