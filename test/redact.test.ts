import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64Cores, credentialsInHeader, credentialsInUrl, REDACTED, Secrets } from '../src/redact.js';

/** A key whose characters each encode differently in some scheme. */
const KEY = 'k3Y/p+q=r%s t|ü€"\\x9Z';

const pct = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Every form of a key that our output can hold (the key as a server or a URL gives it back). */
const ENCODINGS: Record<string, (k: string) => string> = {
  raw: (k) => k,
  encodeURIComponent: (k) => encodeURIComponent(k),
  encodeURI: (k) => encodeURI(k),
  percentAll: pct,
  lowerHex: (k) => pct(k).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
  doublyEncoded: (k) => encodeURIComponent(encodeURIComponent(k)),
  form: (k) => new URLSearchParams({ q: k }).toString().slice(2),
  urlPath: (k) => {
    const u = new URL('http://h/');
    u.pathname = `/${k}`;
    return u.pathname.slice(1);
  },
  urlQuery: (k) => {
    const u = new URL('http://h/');
    u.search = `q=${k}`;
    return u.search.slice(3);
  },
  urlSearchParams: (k) => new URL(`http://h/?q=${encodeURIComponent(k)}`).searchParams.toString().slice(2),
  json: (k) => JSON.stringify(k).slice(1, -1),
  jsonTwice: (k) => JSON.stringify(JSON.stringify(k).slice(1, -1)).slice(1, -1),
  jsonAscii: (k) => JSON.stringify(k).slice(1, -1).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  html: (k) => k.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;'),
  htmlHex: (k) => [...k].map((c) => (/[A-Za-z0-9]/.test(c) ? c : `&#x${c.codePointAt(0)!.toString(16)};`)).join(''),
  pythonBytes: (k) => [...Buffer.from(k, 'utf8')].map((b) => (b >= 0x30 && b < 0x7b && /[A-Za-z0-9]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join(''),
};

const FILL = '~';

describe('Secrets', () => {
  it('redacts every encoding of a key, whole, wherever it sits', () => {
    const s = new Secrets([KEY]);
    for (const [name, enc] of Object.entries(ENCODINGS)) {
      const e = enc(KEY);
      expect(s.redact(`a ${e} b ${e}`), name).toBe(`a ${REDACTED} b ${REDACTED}`);
    }
    expect(s.redact('nothing to see')).toBe('nothing to see');
    expect(new Secrets().redact(KEY)).toBe(KEY);
  });

  it('redacts before it cuts: a preview cut-off inside any encoding of the key shows none of it', () => {
    const s = new Secrets([KEY]);
    for (const cut of [80, 200]) {
      for (const [name, enc] of Object.entries(ENCODINGS)) {
        const e = enc(KEY);
        for (let at = cut - e.length - 1; at <= cut + 1; at++) {
          const text = FILL.repeat(at) + e + FILL.repeat(300);
          const expected = (FILL.repeat(at) + REDACTED + FILL.repeat(300)).slice(0, cut);
          expect(s.preview(text, cut), `${name} at ${at}, cut ${cut}`).toBe(expected);
        }
      }
    }
  });

  it('holds for any key: every encoding at every offset around a cut-off (property)', () => {
    // No "*" (the mark) or "~" (the filler) in keys, so the expected text is exact.
    const alphabet = [...'aZ09/+=% |&?#<>"\'\\:;@$,!()[]{}^`-_.\t\nüé€😀'];
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...alphabet), minLength: 3, maxLength: 24 }), fc.integer({ min: 20, max: 120 }), (key, cut) => {
        // URL parsing removes a path segment of dots (that form does not hold the key at all) and
        // drops tabs and newlines (what is left must still be a key: three characters or more).
        const left = key.replace(/[\t\n]/g, '');
        fc.pre(!/(^|[/\\])\.{1,2}([/\\]|$)/.test(left) && [...left].length >= 3);
        const s = new Secrets([key]);
        for (const [name, enc] of Object.entries(ENCODINGS)) {
          const e = enc(key);
          for (let at = Math.max(0, cut - e.length - 1); at <= cut + 1; at++) {
            const text = FILL.repeat(at) + e + FILL.repeat(cut);
            const whole = FILL.repeat(at) + REDACTED + FILL.repeat(cut);
            if (s.redact(text) !== whole) throw new Error(`${name} ${JSON.stringify(e)}: redact gave ${JSON.stringify(s.redact(text))}`);
            if (s.preview(text, cut) !== whole.slice(0, cut)) throw new Error(`${name} ${JSON.stringify(e)} at ${at}: preview gave ${JSON.stringify(s.preview(text, cut))}`);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('finds the key inside base64 at every alignment (a Basic credential), standard and URL-safe', () => {
    const s = new Secrets([KEY]);
    for (const user of ['', 'u', 'us', 'user', 'admin']) {
      for (const enc of ['base64', 'base64url'] as const) {
        const b64 = Buffer.from(`${user}:${KEY}`).toString(enc);
        const out = s.redact(`Authorization: Basic ${b64}.`);
        expect(out).toContain(REDACTED);
        for (const core of base64Cores(KEY)) expect(out).not.toContain(core.slice(0, 6));
      }
    }
    // The cores are the characters that depend on the key alone.
    for (const core of base64Cores(KEY)) expect(core.length).toBeGreaterThanOrEqual(Math.floor((Buffer.byteLength(KEY) * 4) / 3) - 2);
  });

  it('redacts four or more characters of a key cut short by someone else (`"abc...`, `...xyz`)', () => {
    const s = new Secrets([KEY]);
    const json = JSON.stringify(KEY).slice(1, -1);
    for (let n = 4; n < [...json].length; n++) {
      const shown = `value "${[...json].slice(0, n).join('')}...`;
      expect(s.redact(shown), shown).toBe(`value "${REDACTED}...`);
    }
    const chars = [...KEY];
    for (let n = 1; n <= chars.length - 4; n++) {
      for (const enc of [(k: string) => k, encodeURIComponent, (k: string) => JSON.stringify(k).slice(1, -1)]) {
        const shown = `..."${enc(chars.slice(n).join(''))}" is not valid`;
        expect(s.redact(shown), shown).toBe(`..."${REDACTED}" is not valid`);
      }
    }
    // Three characters are not enough to say, and ordinary text stays.
    expect(s.redact('see k3Y... and r%s')).toBe('see k3Y... and r%s');
  });

  it('a registry attached to a session forwards everything to it; every client redacts every key', () => {
    const session = new Secrets();
    const source = new Secrets(['first-key-1']);
    source.attachTo(session);
    source.add('second-key-2');
    new Secrets(['other-source-key']).attachTo(session);
    expect(session.size).toBe(3);
    expect(source.redact('first-key-1 second-key-2 other-source-key')).toBe('*** *** ***');
    expect(session.redact('first-key-1')).toBe(REDACTED);
    // Values too short to be credentials are not registered.
    source.add('ab');
    source.add('');
    source.add(undefined);
    expect(session.size).toBe(3);
  });

  it('scrubs an error in place: message, stack, string details and causes', () => {
    const s = new Secrets([KEY]);
    const cause = new Error(`inner ${encodeURIComponent(KEY)}`);
    const e = Object.assign(new Error(`outer ${KEY}`, { cause }), { details: { value: KEY, n: 1 } });
    expect(s.scrub(e)).toBe(e);
    expect(e.message).toBe(`outer ${REDACTED}`);
    expect(e.stack).not.toContain(KEY);
    expect(e.details).toEqual({ value: REDACTED, n: 1 });
    expect(cause.message).toBe(`inner ${REDACTED}`);
  });

  it('finds credentials written literally in URLs and headers', () => {
    expect(credentialsInUrl('https://bob:pa%24%24word@api.example.com/v1/x?api_key=lit-key-123&page={page}&token=${env:T}&q=plain')).toEqual(['pa%24%24word', 'pa$$word', 'lit-key-123']);
    expect(credentialsInUrl('https://api.example.com/v1/x?limit=5&keyword=shoes&author=someone')).toEqual([]);
    expect(credentialsInUrl('https://api.example.com/v1/x?access_token=tok-123456&apiKey=k-123456')).toEqual(['tok-123456', 'k-123456']);
    const basic = Buffer.from('alice:s3cr3t-pw').toString('base64');
    expect(credentialsInHeader('Authorization', `Basic ${basic}`)).toEqual([`Basic ${basic}`, basic, 'alice:s3cr3t-pw', 's3cr3t-pw']);
    expect(credentialsInHeader('X-Api-Key', 'abc-123-def')).toEqual(['abc-123-def']);
    expect(credentialsInHeader('Accept', 'application/json')).toEqual([]);
  });
});
