import { TributaryError } from '../errors.js';
import { isCanonicalNumber, JsonNumber } from './json-number.js';

/**
 * A strict RFC 8259 parser that never changes a value on the way in:
 * - a number becomes a JavaScript number only when that number prints back as the same text
 *   (isCanonicalNumber); otherwise it stays a JsonNumber, whatever its length or exponent, so a
 *   long or decimal column gets exactly the digits that were written;
 * - an object that names a key twice is refused (JSON.parse silently keeps the last value);
 * - a \u escape that leaves half a surrogate pair is refused (it cannot become UTF-8);
 * - nesting is bounded, so a hostile document cannot exhaust the stack.
 * It is the reference for the input edge: the NDJSON reader and HTTP bodies go through it.
 */
export class JsonSyntaxError extends TributaryError {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super('INPUT_PARSE', message, { position });
    this.name = 'JsonSyntaxError';
  }
}

/** Deeper nesting is refused (the NDJSON decoder, which decodes nested values in place, checks it too). */
export const MAX_DEPTH = 512;

/**
 * `depth` is the nesting the text sits at, for a value cut out of a larger document (a column's
 * value in a row is at depth 1), so that the depth bound counts from the document's top.
 */
export function parseJsonExact(text: string, depth = 0): unknown {
  const p = new Parser(text);
  p.ws();
  const v = p.value(depth);
  p.ws();
  if (p.pos < text.length) p.fail(`unexpected ${p.describe(p.pos)} after the JSON value`);
  return v;
}

class Parser {
  pos = 0;
  constructor(private readonly s: string) {}

  fail(msg: string, at = this.pos): never {
    throw new JsonSyntaxError(`${msg} at position ${at}`, at);
  }

  describe(at: number): string {
    if (at >= this.s.length) return 'end of input';
    const c = this.s.codePointAt(at)!;
    return c >= 0x21 && c <= 0x7e ? `character "${this.s[at]}"` : `character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  }

  ws(): void {
    const s = this.s;
    let i = this.pos;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
    this.pos = i;
  }

  value(depth: number): unknown {
    const c = this.s.charCodeAt(this.pos);
    if (c === 34) return this.string();
    if (c === 123) return this.object(depth + 1);
    if (c === 91) return this.array(depth + 1);
    if (c === 45 || (c >= 48 && c <= 57)) return this.number();
    if (c === 116) return this.literal('true', true);
    if (c === 102) return this.literal('false', false);
    if (c === 110) return this.literal('null', null);
    return this.fail(`expected a JSON value, found ${this.describe(this.pos)}`);
  }

  private literal(word: string, v: boolean | null): boolean | null {
    if (this.s.startsWith(word, this.pos)) {
      this.pos += word.length;
      return v;
    }
    return this.fail(`expected a JSON value, found ${this.describe(this.pos)}`);
  }

  private object(depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
    this.pos++;
    const out: Record<string, unknown> = {};
    // Keys seen so far; rows have few keys, so a list beats a Set until it grows.
    const keys: string[] = [];
    let seen: Set<string> | undefined;
    this.ws();
    if (this.s.charCodeAt(this.pos) === 125) {
      this.pos++;
      return out;
    }
    for (;;) {
      if (this.s.charCodeAt(this.pos) !== 34) this.fail(`expected a quoted key, found ${this.describe(this.pos)}`);
      const keyAt = this.pos;
      const key = this.string();
      if (seen) {
        if (seen.has(key)) this.fail(`the key ${shortKey(key)} appears twice in one object`, keyAt);
        seen.add(key);
      } else {
        if (keys.includes(key)) this.fail(`the key ${shortKey(key)} appears twice in one object`, keyAt);
        keys.push(key);
        if (keys.length > 16) seen = new Set(keys);
      }
      this.ws();
      if (this.s.charCodeAt(this.pos) !== 58) this.fail(`expected ":" after a key, found ${this.describe(this.pos)}`);
      this.pos++;
      this.ws();
      const v = this.value(depth);
      // "__proto__" is data here, as it is for JSON.parse, not the object's prototype.
      if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      this.ws();
      const c = this.s.charCodeAt(this.pos);
      if (c === 44) {
        this.pos++;
        this.ws();
      } else if (c === 125) {
        this.pos++;
        return out;
      } else this.fail(`expected "," or "}" in an object, found ${this.describe(this.pos)}`);
    }
  }

  private array(depth: number): unknown[] {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
    this.pos++;
    const out: unknown[] = [];
    this.ws();
    if (this.s.charCodeAt(this.pos) === 93) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth));
      this.ws();
      const c = this.s.charCodeAt(this.pos);
      if (c === 44) {
        this.pos++;
        this.ws();
      } else if (c === 93) {
        this.pos++;
        return out;
      } else this.fail(`expected "," or "]" in an array, found ${this.describe(this.pos)}`);
    }
  }

  private number(): number | JsonNumber {
    const s = this.s;
    const start = this.pos;
    let i = start;
    if (s.charCodeAt(i) === 45) i++;
    const d0 = s.charCodeAt(i);
    if (d0 === 48) i++;
    else if (d0 >= 49 && d0 <= 57) while (isDigit(s.charCodeAt(i))) i++;
    else this.fail(`expected a digit, found ${this.describe(i)}`, i);
    if (s.charCodeAt(i) === 46) {
      i++;
      if (!isDigit(s.charCodeAt(i))) this.fail(`expected a digit after the decimal point, found ${this.describe(i)}`, i);
      while (isDigit(s.charCodeAt(i))) i++;
    }
    const e = s.charCodeAt(i);
    if (e === 101 || e === 69) {
      i++;
      const sign = s.charCodeAt(i);
      if (sign === 43 || sign === 45) i++;
      if (!isDigit(s.charCodeAt(i))) this.fail(`expected a digit in the exponent, found ${this.describe(i)}`, i);
      while (isDigit(s.charCodeAt(i))) i++;
    }
    this.pos = i;
    const token = s.slice(start, i);
    return isCanonicalNumber(token) ? Number(token) : new JsonNumber(token);
  }

  string(): string {
    const s = this.s;
    const start = this.pos + 1;
    let i = start;
    // Fast path: no escapes, the text between the quotes is the value.
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 34) {
        this.pos = i + 1;
        return s.slice(start, i);
      }
      if (c === 92) break;
      if (c < 0x20 || c !== c) {
        if (c !== c) this.fail('unterminated string', start - 1);
        this.fail(`control character U+${c.toString(16).toUpperCase().padStart(4, '0')} in a string (write it as an escape)`, i);
      }
      i++;
    }
    let out = s.slice(start, i);
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 34) {
        this.pos = i + 1;
        return out;
      }
      if (c !== c) this.fail('unterminated string', start - 1);
      if (c < 0x20) this.fail(`control character U+${c.toString(16).toUpperCase().padStart(4, '0')} in a string (write it as an escape)`, i);
      if (c !== 92) {
        // Copy the run up to the next quote or backslash at once.
        let j = i + 1;
        for (;;) {
          const d = s.charCodeAt(j);
          if (d === 34 || d === 92 || d < 0x20 || d !== d) break;
          j++;
        }
        out += s.slice(i, j);
        i = j;
        continue;
      }
      const e = s.charCodeAt(i + 1);
      i += 2;
      switch (e) {
        case 34:
          out += '"';
          break;
        case 92:
          out += '\\';
          break;
        case 47:
          out += '/';
          break;
        case 98:
          out += '\b';
          break;
        case 102:
          out += '\f';
          break;
        case 110:
          out += '\n';
          break;
        case 114:
          out += '\r';
          break;
        case 116:
          out += '\t';
          break;
        case 117: {
          const u = this.hex4(i);
          i += 4;
          if (u >= 0xd800 && u <= 0xdbff) {
            // A high surrogate must be followed by an escaped low surrogate.
            const lo = s.charCodeAt(i) === 92 && s.charCodeAt(i + 1) === 117 ? this.hex4(i + 2) : -1;
            if (lo < 0xdc00 || lo > 0xdfff) this.fail(`\\u${u.toString(16)} is half of a surrogate pair without its other half (not a character)`, i - 6);
            out += String.fromCharCode(u, lo);
            i += 6;
          } else if (u >= 0xdc00 && u <= 0xdfff) {
            this.fail(`\\u${u.toString(16)} is half of a surrogate pair without its other half (not a character)`, i - 6);
          } else out += String.fromCharCode(u);
          break;
        }
        default:
          this.fail(`invalid escape "\\${e === e ? String.fromCharCode(e) : ''}" in a string`, i - 2);
      }
    }
  }

  private hex4(at: number): number {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const c = this.s.charCodeAt(at + k);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else return this.fail('expected four hex digits after \\u', at - 2);
      v = v * 16 + d;
    }
    return v;
  }
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/** A key for a message: quoted, and cut short (it may be any length). */
const shortKey = (k: string) => JSON.stringify(k.length > 40 ? `${k.slice(0, 37)}...` : k);
