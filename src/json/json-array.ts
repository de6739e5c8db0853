import { TributaryError } from '../errors.js';
import type { LineNumbering } from './ndjson.js';

/**
 * A JSON document that is one array of records (what an API answers, saved to a file, one line
 * or pretty-printed) turned into NDJSON as it streams, so that the NDJSON readers decode it: each
 * element on a line of its own, its bytes as they are but for the line breaks inside it, which
 * become spaces. That changes no value: JSON allows a line break only as whitespace between
 * tokens, never inside a string (a raw one there is left as it is, and the line it breaks is
 * refused as not JSON, as the document is). The elements' numbering maps the readers' line
 * numbers (element n is their line n) back to the line each element starts on, for messages.
 *
 * Only the array's own syntax is checked here (its brackets and commas, nothing after it); each
 * element is judged by the NDJSON reader as a line is. An element's brackets are counted to find
 * its end, strings skipped: an element whose brackets do not pair is cut where the count says and
 * refused by the reader as not valid JSON.
 */

const BEFORE = 0; // before the opening bracket (a byte order mark, whitespace)
const FIRST = 1; // after "[": an element or "]"
const NEXT = 2; // after ",": an element
const IN = 3; // inside an element
const AFTER = 4; // after an element: "," or "]"
const END = 5; // after "]": whitespace only

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/**
 * Where the first byte that is not a byte order mark or whitespace is: its index, or -1 when
 * `b` has none yet (the caller reads on).
 */
export function firstSignificant(b: Uint8Array): number {
  let i = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  // A byte order mark split over reads: not decided until it is whole.
  if (b.length < 3 && b[0] === 0xef && (b.length === 1 || b[1] === 0xbb)) return -1;
  while (i < b.length && isSpace(b[i])) i++;
  return i < b.length ? i : -1;
}

export class JsonArrayLines implements LineNumbering {
  readonly record = 'array element' as const;
  /** The array's syntax error, once met: the input stops there (the elements before it are out). */
  error: TributaryError | undefined;
  private state = BEFORE;
  private line = 1;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private elements = 0;
  private offset = 0;
  // Elements' first lines as runs (first element, its line, the step between elements, count):
  // one run for a document printed uniformly, whatever its length.
  private readonly runFirst: number[] = [];
  private readonly runLine: number[] = [];
  private readonly runStep: number[] = [];
  private readonly runCount: number[] = [];

  constructor(private readonly name: string) {}

  /** The input line element `n` (1-based, the readers' line n) starts on. */
  input(n: number): number {
    const f = this.runFirst;
    let lo = 0;
    let hi = f.length - 1;
    if (hi < 0) return n;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (f[mid] <= n) lo = mid;
      else hi = mid - 1;
    }
    return this.runLine[lo] + (n - f[lo]) * this.runStep[lo];
  }

  /** The NDJSON lines of `chunk`: whole elements and the start of the one it ends in. */
  push(chunk: Uint8Array): Buffer {
    let out: Buffer = Buffer.allocUnsafe(chunk.length + 64);
    let o = 0;
    for (let i = 0; i < chunk.length && !this.error; i++, this.offset++) {
      const c = chunk[i];
      if (this.state === IN) {
        if (this.inString) {
          if (this.escaped) this.escaped = false;
          else if (c === 0x5c) this.escaped = true;
          else if (c === 0x22) this.inString = false;
          if (c === 10) this.line++;
          out[o++] = c;
          continue;
        }
        let ends = false;
        if (c === 0x22) this.inString = true;
        else if (c === 0x7b || c === 0x5b) this.depth++;
        else if (c === 0x7d || c === 0x5d) {
          if (this.depth === 0) {
            // "]" after a scalar element: the element and the array end here.
            this.state = c === 0x5d ? END : AFTER;
            if (c === 0x7d) this.fail(c);
            ({ out, o } = newline(out, o));
            continue;
          }
          ends = --this.depth === 0;
        } else if (this.depth === 0 && (c === 0x2c || isSpace(c))) {
          // A scalar element ends at a comma or whitespace (the reader refuses it: not an object).
          if (c === 10) this.line++;
          this.state = c === 0x2c ? NEXT : AFTER;
          ({ out, o } = newline(out, o));
          continue;
        }
        if (c === 10) this.line++;
        out[o++] = c === 10 || c === 13 ? 32 : c;
        if (ends) {
          this.state = AFTER;
          ({ out, o } = newline(out, o));
        }
        continue;
      }
      if (c === 10) this.line++;
      if (isSpace(c) || (this.state === BEFORE && this.offset < 3 && (c === 0xef || c === 0xbb || c === 0xbf))) continue;
      if (this.state === BEFORE && c === 0x5b) this.state = FIRST;
      else if (this.state === AFTER && c === 0x2c) this.state = NEXT;
      else if ((this.state === AFTER || this.state === FIRST) && c === 0x5d) this.state = END;
      else if ((this.state === FIRST || this.state === NEXT) && c !== 0x5d && c !== 0x2c) {
        this.start();
        i--; // the element's first byte, read again inside it
        this.offset--;
      } else this.fail(c);
    }
    return out.subarray(0, o);
  }

  /** The end of the input: an array not closed is an error. */
  end(): Buffer {
    if (this.error === undefined && this.state !== END) {
      this.error = new TributaryError('INPUT_PARSE', `${this.name}, line ${this.line}: not valid JSON (the input ends inside its array: ${this.elements} element(s) read, then no "]")`, { line: this.line });
      // An element cut short is refused by the reader first (its line is earlier).
      if (this.state === IN) return Buffer.from('\n');
    }
    return Buffer.alloc(0);
  }

  private start(): void {
    const n = ++this.elements;
    this.state = IN;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    const r = this.runFirst.length - 1;
    if (r >= 0 && this.runCount[r] === 1) {
      this.runStep[r] = this.line - this.runLine[r];
      this.runCount[r] = 2;
      return;
    }
    if (r >= 0 && this.runLine[r] + this.runCount[r] * this.runStep[r] === this.line) {
      this.runCount[r]++;
      return;
    }
    this.runFirst.push(n);
    this.runLine.push(this.line);
    this.runStep.push(0);
    this.runCount.push(1);
  }

  private fail(c: number): void {
    const found = c >= 32 && c < 127 ? `"${String.fromCharCode(c)}"` : `byte 0x${c.toString(16).toUpperCase().padStart(2, '0')}`;
    const what =
      this.state === NEXT && c === 0x5d
        ? 'a "]" right after a "," (a trailing comma)'
        : (this.state === FIRST || this.state === NEXT) && c === 0x2c
          ? 'a "," where an array element should be (an empty element)'
          : this.state === END
          ? `${found} after the array's closing "]" (the input must be one array)`
          : this.state === BEFORE
            ? `${found} where the array's "[" should be`
            : `${found} after array element ${this.elements - 1} where a "," or "]" should be`;
    this.error = new TributaryError('INPUT_PARSE', `${this.name}, line ${this.line}: not valid JSON (${what})`, { line: this.line });
  }
}

/** `out` with a newline at `o`, grown when full. */
function newline(out: Buffer, o: number): { out: Buffer; o: number } {
  if (o === out.length) {
    const next: Buffer = Buffer.allocUnsafe(out.length * 2);
    out.copy(next, 0, 0, o);
    out = next;
  }
  out[o++] = 10;
  return { out, o };
}
