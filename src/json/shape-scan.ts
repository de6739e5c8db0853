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
  const s = new ShapeScan();
  s.start(buf, start, end);
  if (buf[s.pos] !== 0x7b) return undefined;
  const row = s.value();
  if (row === FAIL) return undefined;
  s.space();
  return s.pos === end ? (row as Record<string, unknown>) : undefined;
}

/** What a scan returns for a line it leaves to the exact parser. */
const FAIL = Symbol('fail');

/**
 * What both scans of a line share: its bytes, the end, the position, and the JSON grammar's
 * pieces (whitespace, strings, literals, numbers). A piece that does not match returns false and
 * the line goes to the exact parser. Reads stop at `end`: the bytes after it are the next line's.
 */
abstract class LineScanner {
  protected b: Uint8Array = EMPTY;
  protected end = 0;
  pos = 0;
  /** The last number's: its integer part's digits, where they start, and whether it has a fraction or an exponent. */
  protected digits = 0;
  protected intFrom = 0;
  protected integer = true;

  start(b: Uint8Array, start: number, end: number): void {
    this.b = b;
    this.end = end;
    this.pos = start;
    this.space();
  }

  space(): void {
    const b = this.b;
    let p = this.pos;
    while (p < this.end && (b[p] === 0x20 || b[p] === 0x09 || b[p] === 0x0d || b[p] === 0x0a)) p++;
    this.pos = p;
  }

  /** At `{`, `:`, `,` and the like: the byte at `pos`, or -1 at the end. */
  protected at(): number {
    return this.pos < this.end ? this.b[this.pos] : -1;
  }

  /** Past a string at `pos` (its opening quote). A key takes no escape, a value no `\u` (surrogates and all): both left to the exact parser. */
  protected string(key: boolean): boolean {
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
        if (key || p + 1 >= this.end) return false;
        const e = b[p + 1];
        // \" \\ \/ \b \f \n \r \t
        if (e !== 0x22 && e !== 0x5c && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return false;
        p += 2;
        continue;
      }
      p++;
    }
    return false;
  }

  /** Past a JSON number at `pos`: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, noting its digits and kind. */
  protected number(): boolean {
    const b = this.b;
    const end = this.end;
    let p = this.pos;
    if (b[p] === 0x2d) p++;
    this.intFrom = p;
    if (p < end && b[p] === 0x30) p++;
    else if (p < end && b[p] >= 0x31 && b[p] <= 0x39) while (p < end && b[p] >= 0x30 && b[p] <= 0x39) p++;
    else return false;
    this.digits = p - this.intFrom;
    this.integer = true;
    if (p < end && b[p] === 0x2e) {
      this.integer = false;
      const f = ++p;
      while (p < end && b[p] >= 0x30 && b[p] <= 0x39) p++;
      if (p === f) return false;
    }
    if (p < end && (b[p] === 0x65 || b[p] === 0x45)) {
      this.integer = false;
      p++;
      if (p < end && (b[p] === 0x2b || b[p] === 0x2d)) p++;
      const f = p;
      while (p < end && b[p] >= 0x30 && b[p] <= 0x39) p++;
      if (p === f) return false;
    }
    this.pos = p;
    return true;
  }

  protected word(w: string): boolean {
    if (this.pos + w.length > this.end) return false;
    for (let i = 0; i < w.length; i++) if (this.b[this.pos + i] !== w.charCodeAt(i)) return false;
    this.pos += w.length;
    return true;
  }
}

/** shapeOfLine's scan: the values it stands in for the line's. */
class ShapeScan extends LineScanner {
  value(): unknown {
    const c = this.at();
    if (c === 0x22) return this.string(false) ? '' : FAIL;
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.numberShape();
    if (this.word('true') || this.word('false')) return true;
    if (this.word('null')) return null;
    return FAIL;
  }

  private object(): unknown {
    const o: Record<string, unknown> = {};
    this.pos++; // {
    this.space();
    if (this.at() === 0x7d) {
      this.pos++;
      return o;
    }
    for (;;) {
      if (this.at() !== 0x22) return FAIL;
      const from = this.pos + 1;
      if (!this.string(true)) return FAIL;
      const key = Buffer.from(this.b.buffer, this.b.byteOffset + from, this.pos - 1 - from).toString('utf8');
      // The exact parser refuses a key twice; `__proto__` would set the prototype here.
      if (key === '__proto__' || Object.hasOwn(o, key)) return FAIL;
      this.space();
      if (this.at() !== 0x3a) return FAIL;
      this.pos++;
      this.space();
      const v = this.value();
      if (v === FAIL) return FAIL;
      o[key] = v;
      this.space();
      const c = this.at();
      this.pos++;
      if (c === 0x7d) return o;
      if (c !== 0x2c) return FAIL;
      this.space();
    }
  }

  private array(): unknown {
    const a: unknown[] = [];
    this.pos++; // [
    this.space();
    if (this.at() === 0x5d) {
      this.pos++;
      return a;
    }
    for (;;) {
      const v = this.value();
      if (v === FAIL) return FAIL;
      a.push(v);
      this.space();
      const c = this.at();
      this.pos++;
      if (c === 0x5d) return a;
      if (c !== 0x2c) return FAIL;
      this.space();
    }
  }

  private numberShape(): unknown {
    const from = this.pos;
    if (!this.number()) return FAIL;
    if (!this.integer) return 0.5;
    // Up to 15 digits always fit a long; beyond, the digits say whether they do.
    return this.digits <= 15 ? 0 : new JsonNumber(Buffer.from(this.b.buffer, this.b.byteOffset + from, this.pos - from).toString('latin1'));
  }
}

/**
 * Whether a line's shape was seen before, told from its bytes without making its shape: a schema
 * pass over a file of a million lines of a few shapes then infers from each shape once. The
 * signature is exact (each key by an id of its bytes, each value by the kind the inference sees:
 * string, boolean, null, long, double, DECIMAL(n, 0) by its digits, objects and arrays by their
 * parts), so a line skipped as seen would have inferred nothing new: the inference is the same
 * whether it reads one line of a shape or all of them (its messages name the first row that
 * said a type, and the first that clashed, which is never a repeat).
 */
export class ShapeSignatures extends LineScanner {
  private readonly byHash = new Map<number, Key[]>();
  private keyCount = 0;
  /** The key met at each place of the last line (the n-th key of a line, in order). */
  private readonly keyAt: Key[] = [];
  private keyNo = 0;
  private cur = new Uint16Array(64);
  private prev = new Uint16Array(64);
  private prevLen = -1;
  private len = 0;
  private readonly seen = new Set<string>();

  /**
   * True: this shape was seen (the line adds nothing to the inference); false: a new shape,
   * remembered now (the caller infers from the line); undefined: not told (a line the scan leaves
   * to the exact parser, or too large a shape): the caller infers from the line.
   */
  seenBefore(buf: Uint8Array, start: number, end: number): boolean | undefined {
    this.len = 0;
    this.keyNo = 0;
    this.start(buf, start, end);
    const ok = this.at() === 0x7b && this.value() && (this.space(), this.pos === end);
    this.b = EMPTY;
    if (!ok) return undefined;
    const n = this.len;
    if (n === this.prevLen) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (this.cur[i] !== this.prev[i]) {
          same = false;
          break;
        }
      }
      if (same) return true;
    }
    const t = this.prev;
    this.prev = this.cur;
    this.cur = t.length >= this.prev.length ? t : new Uint16Array(this.prev.length);
    this.prevLen = n;
    const sig = String.fromCharCode.apply(null, this.prev.subarray(0, n) as unknown as number[]);
    if (this.seen.has(sig)) return true;
    if (this.seen.size < MAX_SHAPES) this.seen.add(sig);
    return false;
  }

  private put(token: number): boolean {
    if (this.len === this.cur.length) {
      if (this.len >= MAX_TOKENS) return false;
      const bigger = new Uint16Array(this.cur.length * 2);
      bigger.set(this.cur);
      this.cur = bigger;
    }
    this.cur[this.len++] = token;
    return true;
  }

  private value(): boolean {
    const c = this.at();
    if (c === 0x22) return this.string(false) && this.put(K_STRING);
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.numberKind();
    if (this.word('true') || this.word('false')) return this.put(K_BOOLEAN);
    if (this.word('null')) return this.put(K_NULL);
    return false;
  }

  private object(): boolean {
    this.pos++;
    if (!this.put(K_OBJECT)) return false;
    this.space();
    if (this.at() === 0x7d) {
      this.pos++;
      return this.put(K_END);
    }
    for (;;) {
      if (this.at() !== 0x22) return false;
      const from = this.pos + 1;
      if (!this.string(true)) return false;
      const id = this.keyId(from, this.pos - 1);
      if (id < 0 || !this.put(id)) return false;
      this.space();
      if (this.at() !== 0x3a) return false;
      this.pos++;
      this.space();
      if (!this.value()) return false;
      this.space();
      const c = this.at();
      this.pos++;
      if (c === 0x7d) return this.put(K_END);
      if (c !== 0x2c) return false;
      this.space();
    }
  }

  private array(): boolean {
    this.pos++;
    if (!this.put(K_ARRAY)) return false;
    this.space();
    if (this.at() === 0x5d) {
      this.pos++;
      return this.put(K_END);
    }
    for (;;) {
      if (!this.value()) return false;
      this.space();
      const c = this.at();
      this.pos++;
      if (c === 0x5d) return this.put(K_END);
      if (c !== 0x2c) return false;
      this.space();
    }
  }

  /**
   * A key's id, from its bytes: equal bytes are the same key, and the key is told without making
   * its string (which was most of a schema pass's time). Lines of one shape name their keys in the
   * same order, so the key this line has at this place is tried first, then the keys of that hash.
   * A key twice in one object needs no check here: the first line of a shape is always read in
   * full (seenBefore is false), and the exact parser refuses such a line, which ends the pass.
   */
  private keyId(from: number, to: number): number {
    const b = this.b;
    const at = this.keyNo++;
    const guess = this.keyAt[at];
    if (guess !== undefined && sameBytes(guess.bytes, b, from, to)) return guess.id;
    let h = 0x811c9dc5;
    for (let i = from; i < to; i++) h = Math.imul(h ^ b[i], 0x01000193);
    let list = this.byHash.get(h);
    let key = list?.find((k) => sameBytes(k.bytes, b, from, to));
    if (!key) {
      if (this.keyCount >= MAX_KEYS) return -1;
      key = { bytes: b.slice(from, to), id: K_FIRST_KEY + this.keyCount++ };
      if (list) list.push(key);
      else this.byHash.set(h, (list = [key]));
    }
    if (at < MAX_TOKENS) this.keyAt[at] = key;
    return key.id;
  }

  /** A JSON number, by the kind the inference gives it (delta/infer.ts: integral). */
  private numberKind(): boolean {
    const negative = this.b[this.pos] === 0x2d;
    if (!this.number()) return false;
    const digits = this.digits;
    if (!this.integer || digits > 38) return this.put(K_DOUBLE);
    if (digits < 19) return this.put(K_LONG);
    if (digits === 19) {
      // Past a long's range: DECIMAL(19, 0). Same length, so the digits compare as text does.
      const limit = negative ? LONG_MIN_DIGITS : LONG_MAX_DIGITS;
      let cmp = 0;
      for (let i = 0; i < 19 && cmp === 0; i++) cmp = this.b[this.intFrom + i] - limit.charCodeAt(i);
      if (cmp <= 0) return this.put(K_LONG);
    }
    return this.put(K_DECIMAL + digits);
  }
}

interface Key {
  bytes: Uint8Array;
  id: number;
}

function sameBytes(k: Uint8Array, b: Uint8Array, from: number, to: number): boolean {
  if (k.length !== to - from) return false;
  for (let i = 0; i < k.length; i++) if (k[i] !== b[from + i]) return false;
  return true;
}

const EMPTY = new Uint8Array(0);
const LONG_MAX_DIGITS = '9223372036854775807';
const LONG_MIN_DIGITS = '9223372036854775808';
// Tokens: the kinds, DECIMAL(n, 0) as K_DECIMAL + n (n from 19 to 38), then the keys' ids.
const K_STRING = 1;
const K_BOOLEAN = 2;
const K_NULL = 3;
const K_LONG = 4;
const K_DOUBLE = 5;
const K_OBJECT = 6;
const K_ARRAY = 7;
const K_END = 8;
const K_DECIMAL = 9;
const K_FIRST_KEY = K_DECIMAL + 39;
/** Bounds that keep the signatures small: beyond them a line is simply inferred from. */
const MAX_KEYS = 60_000;
const MAX_TOKENS = 4096;
const MAX_SHAPES = 10_000;
