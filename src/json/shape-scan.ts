import { JsonNumber } from './json-number.js';

/**
 * An NDJSON line's shape, for schema inference: the object it holds, with every value replaced by
 * one that infers the same type (delta/infer.ts) and costs nothing to make. Strings become '',
 * integers 0 (a JsonNumber of their digits beyond 15, which may not fit a long), other numbers
 * 0.5 (a fraction or an exponent: double, as `1.0` and `1e3` are to Spark), booleans true; keys
 * are decoded exactly. A schema pass over a large file spent most of its time in the exact
 * parser making values it then looked only at the kind of (6 s for a million CoinGecko lines).
 *
 * Only lines plainly valid come out: anything else (not an object, a syntax error, a duplicate
 * key, an escape in a key, a `\u` escape, `__proto__`) is undefined, and the exact parser
 * (parseNdjsonLine) judges the line and words its error. `buf[start, end)` is one line, already
 * checked to be UTF-8, without its newline.
 */
export function shapeOfLine(buf: Uint8Array, start: number, end: number): Record<string, unknown> | undefined {
  const s = new Scan(buf, end);
  s.pos = start;
  s.space();
  if (buf[s.pos] !== 0x7b) return undefined;
  const row = s.value();
  if (row === FAIL) return undefined;
  s.space();
  return s.pos === end ? (row as Record<string, unknown>) : undefined;
}

/** What a scan returns for a line it leaves to the exact parser. */
const FAIL = Symbol('fail');

class Scan {
  pos = 0;
  constructor(
    private readonly b: Uint8Array,
    private readonly end: number,
  ) {}

  space(): void {
    const b = this.b;
    let p = this.pos;
    while (p < this.end && (b[p] === 0x20 || b[p] === 0x09 || b[p] === 0x0d || b[p] === 0x0a)) p++;
    this.pos = p;
  }

  value(): unknown {
    if (this.pos >= this.end) return FAIL;
    const c = this.b[this.pos];
    if (c === 0x22) return this.string() ? '' : FAIL;
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (this.word('true') || this.word('false')) return true;
    if (this.word('null')) return null;
    return FAIL;
  }

  private object(): unknown {
    const o: Record<string, unknown> = {};
    this.pos++; // {
    this.space();
    if (this.b[this.pos] === 0x7d) {
      this.pos++;
      return o;
    }
    for (;;) {
      if (this.b[this.pos] !== 0x22) return FAIL;
      const from = this.pos + 1;
      if (!this.string(true)) return FAIL;
      const key = Buffer.from(this.b.buffer, this.b.byteOffset + from, this.pos - 1 - from).toString('utf8');
      // The exact parser refuses a key twice; `__proto__` would set the prototype here.
      if (key === '__proto__' || Object.hasOwn(o, key)) return FAIL;
      this.space();
      if (this.b[this.pos] !== 0x3a) return FAIL;
      this.pos++;
      this.space();
      const v = this.value();
      if (v === FAIL) return FAIL;
      o[key] = v;
      this.space();
      const c = this.b[this.pos++];
      if (c === 0x7d) return o;
      if (c !== 0x2c) return FAIL;
      this.space();
    }
  }

  private array(): unknown {
    const a: unknown[] = [];
    this.pos++; // [
    this.space();
    if (this.b[this.pos] === 0x5d) {
      this.pos++;
      return a;
    }
    for (;;) {
      const v = this.value();
      if (v === FAIL) return FAIL;
      a.push(v);
      this.space();
      const c = this.b[this.pos++];
      if (c === 0x5d) return a;
      if (c !== 0x2c) return FAIL;
      this.space();
    }
  }

  /** Past a string at `pos` (its opening quote); false for what the exact parser must judge. A key takes no escape. */
  private string(key = false): boolean {
    const b = this.b;
    let p = this.pos + 1;
    while (p < this.end) {
      const c = b[p];
      if (c === 0x22) {
        this.pos = p + 1;
        return true;
      }
      if (c < 0x20) return false;
      if (c === 0x5c) {
        if (key) return false;
        const e = b[p + 1];
        // \" \\ \/ \b \f \n \r \t; \u (surrogates and all) is left to the exact parser.
        if (e !== 0x22 && e !== 0x5c && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return false;
        p += 2;
        continue;
      }
      p++;
    }
    return false;
  }

  /** A JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
  private number(): unknown {
    const b = this.b;
    const from = this.pos;
    let p = from;
    if (b[p] === 0x2d) p++;
    const intFrom = p;
    if (b[p] === 0x30) p++;
    else if (b[p] >= 0x31 && b[p] <= 0x39) while (b[p] >= 0x30 && b[p] <= 0x39 && p < this.end) p++;
    else return FAIL;
    const digits = p - intFrom;
    let integer = true;
    if (b[p] === 0x2e && p < this.end) {
      integer = false;
      p++;
      const f = p;
      while (b[p] >= 0x30 && b[p] <= 0x39 && p < this.end) p++;
      if (p === f) return FAIL;
    }
    if ((b[p] === 0x65 || b[p] === 0x45) && p < this.end) {
      integer = false;
      p++;
      if (b[p] === 0x2b || b[p] === 0x2d) p++;
      const f = p;
      while (b[p] >= 0x30 && b[p] <= 0x39 && p < this.end) p++;
      if (p === f) return FAIL;
    }
    if (p > this.end) return FAIL;
    this.pos = p;
    if (!integer) return 0.5;
    // Up to 15 digits always fit a long; beyond, the digits say whether they do.
    return digits <= 15 ? 0 : new JsonNumber(Buffer.from(b.buffer, b.byteOffset + from, p - from).toString('latin1'));
  }

  private word(w: string): boolean {
    if (this.pos + w.length > this.end) return false;
    for (let i = 0; i < w.length; i++) if (this.b[this.pos + i] !== w.charCodeAt(i)) return false;
    this.pos += w.length;
    return true;
  }
}
