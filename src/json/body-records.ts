import { TributaryError } from '../errors.js';
import { MAX_DEPTH, parseJsonExact } from './exact-parse.js';

/**
 * Records of a JSON document (an HTTP body) found in its bytes, without a JavaScript value per
 * scalar: one pass validates the whole document as the exact parser does (same grammar, duplicate
 * keys and half surrogate pairs refused, nesting bounded) and notes where each wanted value lies
 * (its byte span), following pointers compiled once per query. The records' values then reach the
 * NDJSON decoder as their own bytes (JsonRecordsDecoder.pushSpans), so digits, escapes and nested
 * values land verbatim: exactness by construction, and no parse-then-reserialise.
 *
 * A document the scan refuses is handed to the exact parser, whose error is thrown: the message a
 * user sees for a malformed body is the reference's, by construction (that path is rare).
 */

/** A column of a record: RFC 6901 pointer tokens relative to the record, or the record's own property. */
export interface ColumnPath {
  tokens: readonly string[];
  /**
   * The record's property of this name (tokens has one): an array record has none, whereas a
   * pointer `/0` reads an array's first element (as resolvePointer and ownProperty do).
   */
  ownProperty: boolean;
}

/** What the records pointer found: an array (the records), JSON null, nothing, or another value. */
export type RecordsFound = 'array' | 'null' | 'missing' | 'other';

/** One node of the compiled pointers: what a value reached by this path is wanted for. */
class Node {
  /** Spans to note for the value here: >= 0 a column of the current record, < 0 extra -c-1. */
  captures: number[] = [];
  /** Children by key (an object's member); name as UTF-8 and its hash, compared with keys' bytes. */
  keys: { bytes: Buffer; hash: number; node: Node }[] = [];
  /** Children by index (an array's element). */
  elems = new Map<number, Node>();
  /** Set on the node of the records pointer: the plan for each record. */
  records: Node | undefined;
  /** The records pointer's node: what the value there is gets noted. */
  isRecordsPath = false;
  /** Elements of the records array that other pointers also reach (merged plans, by index). */
  recordElems = new Map<number, Node>();

  key(name: string): Node {
    const bytes = Buffer.from(name, 'utf8');
    const hash = hashBytes(bytes, 0, bytes.length);
    let k = this.keys.find((x) => x.hash === hash && x.bytes.equals(bytes));
    if (!k) this.keys.push((k = { bytes, hash, node: new Node() }));
    return k.node;
  }

  elem(i: number): Node {
    let n = this.elems.get(i);
    if (!n) this.elems.set(i, (n = new Node()));
    return n;
  }
}

const INDEX = /^(0|[1-9]\d*)$/;

/** Adds a pointer's path: a token reaches an object's member, and an array's element when it is an index. */
function insert(node: Node, tokens: readonly string[], at: number, capture: number, ownProperty: boolean): Node[] {
  if (at === tokens.length) {
    node.captures.push(capture);
    return [node];
  }
  const t = tokens[at];
  const ends = insert(node.key(t), tokens, at + 1, capture, false);
  if (!ownProperty && INDEX.test(t) && Number.isSafeInteger(Number(t))) ends.push(...insert(node.elem(Number(t)), tokens, at + 1, capture, false));
  return ends;
}

/** A plan that does what both plans do (an element of the records array another pointer reaches). */
function merge(a: Node, b: Node): Node {
  const m = new Node();
  m.captures = [...a.captures, ...b.captures];
  for (const src of [a, b]) {
    for (const k of src.keys) {
      const have = m.keys.find((x) => x.hash === k.hash && x.bytes.equals(k.bytes));
      if (have) have.node = merge(have.node, k.node);
      else m.keys.push({ ...k });
    }
    for (const [i, n] of src.elems) m.elems.set(i, m.elems.has(i) ? merge(m.elems.get(i)!, n) : n);
  }
  return m;
}

/** FNV-1a over bytes: keys are compared by hash first, bytes only when hashes agree. */
function hashBytes(b: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = s; i < e; i++) h = Math.imul(h ^ b[i], 16777619);
  return h;
}

/** The scan refused the document; the exact parser then says why. */
class Refused {}
const REFUSED = new Refused();

/** A document's records (and extra values) as byte spans into `bytes`; -1 marks an absent value. */
export class ScannedBody {
  constructor(
    readonly bytes: Buffer,
    /** Columns per record. */
    readonly columns: number,
    /** Number of records (0 unless found is 'array'). */
    readonly count: number,
    /** Record r's column k spans [spans[2(r*columns+k)], spans[2(r*columns+k)+1]). */
    readonly spans: Int32Array,
    readonly found: RecordsFound,
    /** The span of what the records pointer found, when found is 'other'. */
    private readonly foundSpan: readonly [number, number],
    private readonly extras: Int32Array,
  ) {}

  /**
   * A record's column value as the exact parser gives it, undefined when absent: for the few
   * values a source itself compares (a cursor), not for the values that land in the table.
   */
  value(record: number, column: number): unknown {
    const j = 2 * (record * this.columns + column);
    return this.at(this.spans[j], this.spans[j + 1]);
  }

  /** An extra pointer's value (a next-page URL or cursor), undefined when absent. */
  extra(e: number): unknown {
    if (!(e >= 0 && e < this.extras.length / 2)) throw new TributaryError('INTERNAL', `no extra pointer ${e} was compiled for this body`);
    return this.at(this.extras[2 * e], this.extras[2 * e + 1]);
  }

  /** What the records pointer found when it is not an array of records (for a message). */
  foundValue(): unknown {
    return this.found === 'other' ? this.at(this.foundSpan[0], this.foundSpan[1]) : this.found === 'null' ? null : undefined;
  }

  private at(s: number, e: number): unknown {
    return s < 0 ? undefined : parseJsonExact(this.bytes.toString('utf8', s, e), 0);
  }
}

/**
 * The pointers of one query, compiled once: where the records are (`recordsPath`), each column
 * of a record, and `extras` (values read from the document itself, e.g. the next page's URL).
 */
export class BodyRecordsPlan {
  private readonly root = new Node();
  readonly columns: number;
  private readonly nExtras: number;

  constructor(recordsPath: readonly string[], columns: readonly ColumnPath[], extras: readonly (readonly string[])[] = []) {
    this.columns = columns.length;
    this.nExtras = extras.length;
    const record = new Node();
    columns.forEach((c, k) => insert(record, c.tokens, 0, k, c.ownProperty));
    extras.forEach((p, e) => insert(this.root, p, 0, -e - 1, false));
    for (const n of insert(this.root, recordsPath, 0, Number.NaN, false)) {
      n.captures = n.captures.filter((c) => !Number.isNaN(c));
      n.isRecordsPath = true;
      n.records = record;
      // An element of the records array that an extra pointer reaches too gets both plans.
      for (const [i, el] of n.elems) n.recordElems.set(i, merge(record, el));
    }
  }

  /** Scans `bytes` from `start` (after a byte order mark); throws the exact parser's error for a malformed document. */
  scan(bytes: Buffer, start = 0): ScannedBody {
    const s = new Scanner(bytes, start, this.columns, this.nExtras);
    try {
      s.document(this.root);
    } catch (e) {
      if (e !== REFUSED) throw e;
      // The reference says what is wrong, in the words users see for a malformed body.
      parseJsonExact(bytes.toString('utf8', start));
      throw new TributaryError('INTERNAL', `the JSON body scanner refused a document the exact parser accepts (at byte ${s.pos}); please report this`);
    }
    return new ScannedBody(bytes, this.columns, s.count, s.spans.subarray(0, 2 * s.count * this.columns), s.found, [s.foundStart, s.foundEnd], s.extras);
  }
}

class Scanner {
  pos: number;
  private readonly end: number;
  count = 0;
  spans: Int32Array;
  extras: Int32Array;
  found: RecordsFound = 'missing';
  foundStart = -1;
  foundEnd = -1;
  /** Index in spans of the current record's first column. */
  private recBase = 0;
  // Keys of the objects being scanned, innermost last: start, end (the quotes excluded), hash, escaped.
  private kStart = new Int32Array(64);
  private kEnd = new Int32Array(64);
  private kHash = new Int32Array(64);
  private kEsc = new Uint8Array(64);
  private kTop = 0;
  /** Set by string(): whether it had an escape. */
  private escaped = false;

  constructor(
    private readonly b: Buffer,
    start: number,
    private readonly ncols: number,
    nExtras: number,
  ) {
    this.pos = start;
    this.end = b.length;
    this.spans = new Int32Array(Math.max(16, 2 * ncols * 64));
    this.extras = new Int32Array(2 * nExtras).fill(-1);
  }

  document(root: Node): void {
    this.ws();
    this.value(root, 0);
    this.ws();
    if (this.pos < this.end) throw REFUSED;
  }

  private ws(): void {
    const b = this.b;
    let i = this.pos;
    for (;;) {
      const c = b[i];
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
    this.pos = i;
  }

  private value(node: Node | undefined, depth: number): void {
    const start = this.pos;
    const c = this.b[start];
    if (c === 34) this.string();
    else if (c === 123) this.object(node, depth + 1);
    else if (c === 91) this.array(node, depth + 1);
    else if (c === 45 || (c >= 48 && c <= 57)) this.number();
    else if (c === 116) this.literal(0x74, 0x72, 0x75, 0x65, 4);
    else if (c === 102) this.literal5();
    else if (c === 110) this.literal(0x6e, 0x75, 0x6c, 0x6c, 4);
    else throw REFUSED;
    if (node === undefined) return;
    if (node.isRecordsPath && c !== 91) {
      this.found = c === 110 ? 'null' : 'other';
      this.foundStart = start;
      this.foundEnd = this.pos;
    }
    const caps = node.captures;
    for (let k = 0; k < caps.length; k++) {
      const cap = caps[k];
      if (cap >= 0) {
        this.spans[this.recBase + 2 * cap] = start;
        this.spans[this.recBase + 2 * cap + 1] = this.pos;
      } else {
        this.extras[2 * (-cap - 1)] = start;
        this.extras[2 * (-cap - 1) + 1] = this.pos;
      }
    }
  }

  private literal(c0: number, c1: number, c2: number, c3: number, n: number): void {
    const b = this.b;
    const i = this.pos;
    if (b[i] !== c0 || b[i + 1] !== c1 || b[i + 2] !== c2 || b[i + 3] !== c3) throw REFUSED;
    this.pos = i + n;
  }

  private literal5(): void {
    this.literal(0x66, 0x61, 0x6c, 0x73, 4);
    if (this.b[this.pos] !== 0x65) throw REFUSED;
    this.pos++;
  }

  private number(): void {
    const b = this.b;
    let i = this.pos;
    if (b[i] === 45) i++;
    const d0 = b[i];
    if (d0 === 48) i++;
    else if (d0 >= 49 && d0 <= 57) while (isDigit(b[i])) i++;
    else throw REFUSED;
    if (b[i] === 46) {
      i++;
      if (!isDigit(b[i])) throw REFUSED;
      while (isDigit(b[i])) i++;
    }
    const e = b[i];
    if (e === 101 || e === 69) {
      i++;
      const sign = b[i];
      if (sign === 43 || sign === 45) i++;
      if (!isDigit(b[i])) throw REFUSED;
      while (isDigit(b[i])) i++;
    }
    this.pos = i;
  }

  /** A string from its opening quote; pos ends after the closing one. Bytes >= 0x80 were checked as UTF-8 already. */
  private string(): void {
    const b = this.b;
    const n = this.end;
    let i = this.pos + 1;
    let escaped = false;
    for (;;) {
      if (i >= n) throw REFUSED;
      const c = b[i];
      if (c === 34) break;
      if (c < 0x20) throw REFUSED;
      if (c !== 92) {
        i++;
        continue;
      }
      escaped = true;
      const e = b[i + 1];
      if (e === 34 || e === 92 || e === 47 || e === 98 || e === 102 || e === 110 || e === 114 || e === 116) {
        i += 2;
        continue;
      }
      if (e !== 117) throw REFUSED;
      const u = hex4(b, i + 2);
      i += 6;
      if (u >= 0xd800 && u <= 0xdbff) {
        // A high surrogate must be followed by an escaped low surrogate.
        const lo = b[i] === 92 && b[i + 1] === 117 ? hex4(b, i + 2) : -1;
        if (lo < 0xdc00 || lo > 0xdfff) throw REFUSED;
        i += 6;
      } else if (u >= 0xdc00 && u <= 0xdfff) throw REFUSED;
    }
    this.escaped = escaped;
    this.pos = i + 1;
  }

  private object(node: Node | undefined, depth: number): void {
    if (depth > MAX_DEPTH) throw REFUSED;
    const b = this.b;
    this.pos++;
    this.ws();
    if (b[this.pos] === 125) {
      this.pos++;
      return;
    }
    const base = this.kTop;
    let byHash: Map<number, number[]> | undefined;
    const wanted = node === undefined ? undefined : node.keys.length ? node.keys : undefined;
    for (;;) {
      if (b[this.pos] !== 34) throw REFUSED;
      const ks = this.pos + 1;
      this.string();
      const ke = this.pos - 1;
      const esc = this.escaped;
      const canon = esc ? canonicalKey(b, ks, ke) : undefined;
      const h = canon ? hashBytes(canon, 0, canon.length) : hashBytes(b, ks, ke);
      // A key named twice is refused, as the exact parser refuses it.
      const j = this.pushKey(ks, ke, h, esc);
      if (j - base < 32) {
        for (let m = base; m < j; m++) if (this.kHash[m] === h && this.sameKey(m, j)) throw REFUSED;
      } else {
        if (!byHash) {
          byHash = new Map();
          for (let m = base; m < j; m++) addTo(byHash, this.kHash[m], m);
        }
        for (const m of byHash.get(h) ?? []) if (this.sameKey(m, j)) throw REFUSED;
        addTo(byHash, h, j);
      }
      let child: Node | undefined;
      if (wanted) {
        const len = canon ? canon.length : ke - ks;
        for (let w = 0; w < wanted.length; w++) {
          const x = wanted[w];
          if (x.hash !== h || x.bytes.length !== len) continue;
          if (canon ? x.bytes.equals(canon) : sameBytes(x.bytes, b, ks, len)) {
            child = x.node;
            break;
          }
        }
      }
      this.ws();
      if (b[this.pos] !== 58) throw REFUSED;
      this.pos++;
      this.ws();
      this.value(child, depth);
      this.ws();
      const c = b[this.pos];
      if (c === 44) {
        this.pos++;
        this.ws();
      } else if (c === 125) {
        this.pos++;
        this.kTop = base;
        return;
      } else throw REFUSED;
    }
  }

  private array(node: Node | undefined, depth: number): void {
    if (depth > MAX_DEPTH) throw REFUSED;
    const b = this.b;
    this.pos++;
    const records = node?.records;
    if (records) this.found = 'array';
    this.ws();
    if (b[this.pos] === 93) {
      this.pos++;
      return;
    }
    for (let idx = 0; ; idx++) {
      let child: Node | undefined;
      if (records) {
        child = node!.recordElems.get(idx) ?? records;
        this.newRecord();
      } else if (node !== undefined && node.elems.size) child = node.elems.get(idx);
      this.value(child, depth);
      this.ws();
      const c = b[this.pos];
      if (c === 44) {
        this.pos++;
        this.ws();
      } else if (c === 93) {
        this.pos++;
        return;
      } else throw REFUSED;
    }
  }

  private newRecord(): void {
    const need = 2 * (this.count + 1) * this.ncols;
    if (need > this.spans.length) {
      const grown = new Int32Array(Math.max(need, 2 * this.spans.length));
      grown.set(this.spans);
      this.spans = grown;
    }
    this.recBase = 2 * this.count * this.ncols;
    this.spans.fill(-1, this.recBase, need);
    this.count++;
  }

  private pushKey(s: number, e: number, h: number, esc: boolean): number {
    const j = this.kTop++;
    if (j >= this.kStart.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T): T => {
        const g = new (a.constructor as new (n: number) => T)(2 * a.length);
        g.set(a);
        return g;
      };
      this.kStart = grow(this.kStart);
      this.kEnd = grow(this.kEnd);
      this.kHash = grow(this.kHash);
      this.kEsc = grow(this.kEsc);
    }
    this.kStart[j] = s;
    this.kEnd[j] = e;
    this.kHash[j] = h;
    this.kEsc[j] = esc ? 1 : 0;
    return j;
  }

  /** Whether keys m and j name the same member: their bytes, or their decoded text when one has escapes. */
  private sameKey(m: number, j: number): boolean {
    const b = this.b;
    if (!this.kEsc[m] && !this.kEsc[j]) return b.compare(b, this.kStart[m], this.kEnd[m], this.kStart[j], this.kEnd[j]) === 0;
    const key = (x: number) => (this.kEsc[x] ? canonicalKey(b, this.kStart[x], this.kEnd[x]) : b.subarray(this.kStart[x], this.kEnd[x]));
    return key(m).equals(key(j));
  }
}

/** A key with escapes as the UTF-8 of the text it stands for (valid: its surrogates are paired). */
function canonicalKey(b: Buffer, s: number, e: number): Buffer {
  return Buffer.from(parseJsonExact(b.toString('utf8', s - 1, e + 1)) as string, 'utf8');
}

/** `want` equals b[at, at + len) (len is want's length): a loop beats a native compare's call for a key. */
function sameBytes(want: Uint8Array, b: Uint8Array, at: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (want[i] !== b[at + i]) return false;
  return true;
}

function addTo(m: Map<number, number[]>, h: number, j: number): void {
  const l = m.get(h);
  if (l) l.push(j);
  else m.set(h, [j]);
}

function hex4(b: Buffer, at: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const c = b[at + k];
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else throw REFUSED;
    v = v * 16 + d;
  }
  return v;
}

const isDigit = (c: number | undefined) => c !== undefined && c >= 48 && c <= 57;
