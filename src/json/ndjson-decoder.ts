import { isUtf8 } from 'node:buffer';
import * as arrow from 'apache-arrow';
import { BoolBuilder, type ColumnBuilder, DecimalBuilder, FixedBuilder, Int64Builder, type ListBuilder, type StructBuilder, VarBinaryBuilder } from '../arrow/builders.js';
import { MAX_SAFE_SECONDS } from '../arrow/coerce.js';
import type { Allocator } from '../arrow/arena.js';
import { buildersToBatch, columnBuilders, rowProblem } from '../arrow/record-batch.js';
import { toArrowSchema } from '../arrow/types.js';
import { TributaryError } from '../errors.js';
import type { DataType, StructType } from '../schema/schema.js';
import { isoDateDays, isoMinute, isoTail, isoTimestampMicros, nearestDouble, POW10 } from './byte-scalars.js';
import { JsonSyntaxError, MAX_DEPTH, parseJsonExact } from './exact-parse.js';
import { isCanonicalNumber, JsonNumber } from './json-number.js';
import { invalidUtf8Error, type LineNumbering, parseNdjsonLine, withInputLine } from './ndjson.js';
import { bomLength, firstInvalidUtf8 } from './utf8.js';
import { FULL, NdjsonAccelerator, STOPPED } from './ndjson-wasm.js';

/** Rows per record batch: the size the table's writer builds and encodes at a time. */
export const DEFAULT_CHUNK_ROWS = 65_536;
/**
 * Rows of the first batch when the caller sets no chunk size; each next batch doubles, up to
 * DEFAULT_CHUNK_ROWS. The encoder thread waits for the first batch: a 64K-row one of 30 columns
 * took the main thread 0.3 s to decode while the other core idled, and with 16K rows first the
 * wide bench file appends 3-4% sooner (8K and 32K the same within the noise; see the README).
 */
export const FIRST_CHUNK_ROWS = 16_384;

/**
 * How JSON text's values are read: an integer into a TIMESTAMP is seconds since the epoch, as
 * Spark's JSON reader reads it (JavaScript rows' numbers are milliseconds: see TimestampNumbers).
 * Every reader of JSON text builds with it: this decoder, the --merge-schema row path
 * (cli/input.ts) and the HTTP sources (json-records.ts, through this decoder).
 */
export const JSON_TEXT = { timestampNumbers: 'seconds' } as const;

export interface NdjsonDecoderOptions {
  /** The table's columns: every line is decoded into them. */
  schema: StructType;
  /**
   * Whether runs of lines go through the WebAssembly accelerator (ndjson-wasm.ts) where the
   * schema allows: by default yes, unless TRIBUTARY_NDJSON_WASM=0 (a comparison's other side).
   */
  accelerate?: boolean;
  /** The input's name in messages ("stdin", a path). */
  name: string;
  /** Invalid UTF-8: refuse the input naming the line (default), or store U+FFFD for the bad bytes. */
  invalidUtf8?: 'error' | 'replace';
  chunkRows?: number;
  /**
   * Rows of the first batch; each next one has twice as many, up to chunkRows. Default:
   * FIRST_CHUNK_ROWS when chunkRows is not set, chunkRows (all batches the same) when it is.
   */
  firstChunkRows?: number;
  /**
   * Where this input starts in a larger one (a range of a file decoded on its own, see
   * parallel-decoder.ts): the index of its first row and the number of its first line, so rows
   * and lines in messages are the whole input's; and whether it is the input's beginning (only
   * there is a byte order mark skipped). Defaults: row 0, line 1, the beginning.
   */
  firstRow?: number;
  firstLine?: number;
  atStart?: boolean;
  /**
   * Whether a row's error names its input line (` [name, line n]`, the default). False when the
   * lines are not the user's: records taken out of a larger JSON document and written one per
   * line (see json-records.ts), where the row is what the user can find.
   */
  inputLines?: boolean;
  /** How its lines are numbered in the input (a JSON array's elements: json-array.ts); default its own lines. */
  numbering?: LineNumbering;
  /**
   * Where the builders' buffers come from: new arrays by default; a pool's (arrow/buffer-pool.ts)
   * when the caller hands every batch over to the encoder thread, which gives their buffers back.
   */
  alloc?: Allocator;
}

// How a column's value is read from bytes. Anything a fast path does not take goes to the
// column builder's append() as the value the exact parser gives, so every column type works.
const STRING = 0;
const DOUBLE = 1;
const LONG = 2;
const INT = 3; // integer, short, byte (bounds per column)
const DECIMAL = 4;
const BOOL = 5;
const DATE = 6;
const TIMESTAMP = 7;
const TIMESTAMP_NTZ = 8;
const OTHER = 9; // float, binary, map, variant: the builder's append
const STRUCT = 10; // decoded in place (see nested()), field by field
const LIST = 11; // decoded in place, element by element

function kindOf(t: DataType): number {
  if (t.kind === 'decimal') return DECIMAL;
  if (t.kind === 'struct') return t.fields.length <= MAX_SLOT_FIELDS ? STRUCT : OTHER;
  if (t.kind === 'array') return LIST;
  if (t.kind !== 'primitive') return OTHER;
  switch (t.name) {
    case 'string':
      return STRING;
    case 'double':
      return DOUBLE;
    case 'long':
      return LONG;
    case 'integer':
    case 'short':
    case 'byte':
      return INT;
    case 'boolean':
      return BOOL;
    case 'date':
      return DATE;
    case 'timestamp':
      return TIMESTAMP;
    case 'timestamp_ntz':
      return TIMESTAMP_NTZ;
  }
  return OTHER;
}

/** A struct's fields seen in one value are bits of a small integer. */
const MAX_SLOT_FIELDS = 30;

/**
 * How a value inside a struct or list (a field, an element) is decoded: the same kinds as a
 * column's, with what its kind needs. One tree per nested column, made once per decoder.
 */
interface Slot {
  readonly kind: number;
  /** Decimal precision and scale, or integer bounds. */
  readonly a: number;
  readonly b: number;
  /** A struct's field names (as UTF-8, compared with keys' bytes) and their slots. */
  readonly names: readonly string[];
  readonly keys: readonly Uint8Array[];
  readonly fields: readonly Slot[];
  /** A list's element. */
  readonly element: Slot | undefined;
  /**
   * A timestamp column's last minute (see minuteAt): its first 16 bytes as four words, then its
   * seconds. Each column its own: a row's timestamps often differ in minute from one another.
   */
  readonly minute: Float64Array;
}

const NO_MINUTE = new Float64Array(0);

function slotOf(t: DataType): Slot {
  const kind = kindOf(t);
  let a = 0;
  let b = 0;
  if (t.kind === 'decimal') {
    a = t.precision;
    b = t.scale;
  } else if (kind === INT && t.kind === 'primitive') {
    const lim = t.name === 'integer' ? 2 ** 31 : t.name === 'short' ? 2 ** 15 : 2 ** 7;
    a = -lim;
    b = lim - 1;
  }
  const struct = kind === STRUCT && t.kind === 'struct' ? t.fields : [];
  return {
    kind,
    a,
    b,
    names: struct.map((f) => f.name),
    keys: struct.map((f) => Buffer.from(f.name, 'utf8')),
    fields: struct.map((f) => slotOf(f.type)),
    element: t.kind === 'array' ? slotOf(t.elementType) : undefined,
    minute: kind === TIMESTAMP || kind === TIMESTAMP_NTZ ? Float64Array.of(-1, -1, -1, -1, NaN) : NO_MINUTE,
  };
}

/**
 * Bytes that end a plain run of string content: the quote, the backslash, and control
 * characters (refused in strings; the line's newline among them). One table load per byte
 * instead of three comparisons. Never written after this.
 */
const STRING_STOP = new Uint8Array(256).map((_, c) => (c === 34 || c === 92 || c < 32 ? 1 : 0));

/** Thrown by the fast path when a line is not what it reads; the line is then judged by the reference. */
const MALFORMED = Symbol('malformed line');
const NEWLINE = new Uint8Array([0x0a]);

/**
 * Newline-delimited JSON -> Arrow record batches of a known schema, straight from bytes: no
 * JavaScript object per row, no string per value where the bytes can be used as they are. It is
 * the fast form of the reference path (NdjsonRowReader: parseJsonExact per line, then
 * rowsToRecordBatch) and gives the same values and the same errors:
 *
 * - Input arrives in chunks of any size (push), split anywhere, even inside a character; the
 *   complete lines of a chunk are checked as UTF-8 at once (natively), decoded, and the
 *   incomplete last line waits for the next chunk. Rows are built into batches of `chunkRows`
 *   (the first ones smaller: `firstChunkRows`).
 * - Each line is scanned once. A value in its column's common form (a string without escapes, a
 *   number for a double or long, an ISO-8601 timestamp, ...) is parsed from its bytes into the
 *   column's buffers. Any other value is parsed by the exact parser and appended through the
 *   column builder's append(), the reference coercion itself.
 * - Whatever goes wrong on a line (a syntax error, an unknown or repeated key, a bad value, a
 *   missing NOT NULL column) is judged again by the reference on that line's text: parse it as
 *   readNdjson does, then check the row as rowsToRecordBatch does. So the message (and which of
 *   several problems is reported) is the reference's, with ` [name, line n]` appended. Lines
 *   are decoded in order, so the earliest bad line is the one reported.
 *
 * A decoder that has thrown stays failed. Memory is bounded by one chunk of rows plus the
 * longest line, whatever the input's size.
 */
export class NdjsonDecoder {
  readonly name: string;
  private readonly schema: StructType;
  private readonly arrowSchema: arrow.Schema;
  private readonly replaceInvalidUtf8: boolean;
  private readonly chunkRows: number;
  private readonly ncols: number;
  /** Column names as UTF-8, compared with keys' bytes. */
  private readonly keys: Uint8Array[];
  private readonly plainKey: boolean[];
  private readonly keyWords: Uint32Array[];
  /** The buffer being decoded, as a DataView for keyAt. */
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private readonly byName: Map<string, number>;
  /** Per column: how its values are decoded (kind, decimal precision and scale or integer bounds, nested fields). */
  private readonly slots: Slot[];
  private builders: ColumnBuilder[];
  private readonly alloc: Allocator | undefined;
  /** The row stamp at which each column last got a value: repeated keys and missing columns. */
  private readonly seen: Float64Array;
  private stamp = 0;
  private chunkLen = 0;
  /** Rows of the batch being built: from firstChunkRows, doubled after each full one, up to chunkRows. */
  private target: number;
  private rowCount: number;
  private lineNo: number;
  private readonly firstRow: number;
  private lineStart = 0;
  /** The incomplete line carried to the next chunk (and the first bytes, until a BOM is ruled out). */
  private carry = Buffer.allocUnsafe(4096);
  private carryLen = 0;
  private bomPending: boolean;
  private failed: unknown;
  private readonly inputLines: boolean;
  private readonly numbering: LineNumbering | undefined;
  private out: arrow.RecordBatch[] = [];
  /** Rows from which `line - row` changes (blank lines): lineOf() without an entry per row. */
  private readonly breakRows: number[] = [];
  private readonly breakDelta: number[] = [];
  private delta = NaN;
  // The number just scanned (see number()): its first 15 significant digits (an exact double),
  // the next four, the count of significant digits, the decimal exponent of the last one, ...
  private numHi = 0;
  private numLo = 0;
  private numDigits = 0;
  private numExp = 0;
  private numFrac = 0;
  private numNeg = false;
  private numHasExp = false;
  /**
   * A value on its way into a builder (see Int64Builder.appendIntOf): doubles and integers beyond
   * 2^30 passed to or returned from a call that V8 does not inline are boxed, a heap object each.
   */
  private readonly f64 = new Float64Array(2);
  private readonly accel: NdjsonAccelerator | undefined;
  /**
   * Lines the JavaScript path decodes before the accelerator is tried again, after it stopped at
   * a line with no row before it: doubles each time (to 4,096), so an input whose every line it
   * stops at costs few of its calls; back to 0 after a run of rows.
   */
  private pause = 0;
  private paused = 0;
  /** Rows in the accelerator's run, counted in chunkLen and rowCount, not yet in the builders. */
  private pending = 0;
  private acceleratedRows = 0;

  constructor(opts: NdjsonDecoderOptions) {
    this.name = opts.name;
    this.schema = opts.schema;
    this.arrowSchema = toArrowSchema(opts.schema);
    this.replaceInvalidUtf8 = opts.invalidUtf8 === 'replace';
    this.chunkRows = opts.chunkRows ?? DEFAULT_CHUNK_ROWS;
    this.target = Math.min(opts.firstChunkRows ?? (opts.chunkRows === undefined ? FIRST_CHUNK_ROWS : this.chunkRows), this.chunkRows);
    this.rowCount = this.firstRow = opts.firstRow ?? 0;
    this.lineNo = (opts.firstLine ?? 1) - 1;
    this.bomPending = opts.atStart ?? true;
    this.inputLines = opts.inputLines ?? true;
    this.numbering = opts.numbering;
    if (!Number.isSafeInteger(this.chunkRows) || this.chunkRows < 1) throw new TributaryError('INVALID_ARGUMENT', `chunkRows must be a whole number of at least 1, got ${this.chunkRows}`);
    if (!Number.isSafeInteger(this.target) || this.target < 1) throw new TributaryError('INVALID_ARGUMENT', `firstChunkRows must be a whole number of at least 1, got ${opts.firstChunkRows}`);
    const fields = opts.schema.fields;
    this.ncols = fields.length;
    this.keys = fields.map((f) => Buffer.from(f.name, 'utf8'));
    this.plainKey = this.keys.map((k) => k.every((c) => c >= 32 && c !== 34 && c !== 92));
    this.keyWords = this.keys.map((k) => {
      // The name's bytes and its closing quote, as whole little-endian words (the rest is compared bytewise).
      const bytes = Buffer.concat([k, Buffer.from('"')]);
      return Uint32Array.from({ length: bytes.length >> 2 }, (_, i) => bytes.readUInt32LE(4 * i));
    });
    this.byName = new Map(fields.map((f, i) => [f.name, i]));
    this.seen = new Float64Array(this.ncols);
    this.slots = fields.map((f) => slotOf(f.type));
    this.alloc = opts.alloc;
    this.builders = columnBuilders(opts.schema, this.alloc, JSON_TEXT);
    const accelerate = opts.accelerate ?? process.env.TRIBUTARY_NDJSON_WASM !== '0';
    this.accel = accelerate ? NdjsonAccelerator.for(opts.schema, this.chunkRows) : undefined;
  }

  /** Rows the accelerator decoded (of `rows`): 0 where the schema or TRIBUTARY_NDJSON_WASM=0 leaves it out. */
  get accelerated(): number {
    return this.acceleratedRows;
  }

  /** Rows decoded so far (counted from firstRow). */
  get rows(): number {
    return this.rowCount;
  }

  /** The number of the last line read (blank lines included; 0 before any). */
  get line(): number {
    return this.lineNo;
  }

  /**
   * Where `line - row` changes (at blank lines): lineOf's table, for a caller that combines the
   * tables of several ranges (rows[i] is the first row from which line = row + deltas[i]).
   */
  get lineBreaks(): { rows: readonly number[]; deltas: readonly number[] } {
    return { rows: this.breakRows, deltas: this.breakDelta };
  }

  /** The input line of the decoder's line `n`. */
  private inputLine(n: number): number {
    return this.numbering ? this.numbering.input(n) : n;
  }

  /** The 1-based input line of a decoded row (its own line: see `numbering` for a JSON array's). */
  lineOf(row: number): number | undefined {
    if (!(row >= this.firstRow && row < this.rowCount)) return undefined;
    const br = this.breakRows;
    let lo = 0;
    let hi = br.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (br[mid] <= row) lo = mid;
      else hi = mid - 1;
    }
    return this.inputLine(row + this.breakDelta[lo]);
  }

  /**
   * Decodes the complete lines so far; returns the batches that became full. When a line is bad,
   * the rows before it are returned first (as a last, shorter batch) and the line's error is
   * thrown by the next call (push or end): a later stage may find an earlier problem in those
   * rows (a partition value), and the earliest problem is the one reported.
   */
  push(chunk: Uint8Array): arrow.RecordBatch[] {
    if (this.failed !== undefined) throw this.failed;
    try {
      return this.decodeChunk(chunk);
    } catch (e) {
      return this.afterFailure(e);
    }
  }

  /**
   * The end of the input: decodes a last line without a newline, returns the remaining batches.
   * A bad line's error is thrown here at once (a caller's last call gets it), including one
   * push() met after handing out the rows before it.
   */
  end(): arrow.RecordBatch[] {
    if (this.failed !== undefined) throw this.failed;
    return this.decodeEnd();
  }

  /** The rows decoded before a bad line, if any; otherwise the line's error at once. */
  private afterFailure(e: unknown): arrow.RecordBatch[] {
    if (e !== this.failed) throw e;
    try {
      this.flushBefore();
    } catch {
      this.out = []; // the rows before it are not needed to report the line
    }
    const out = this.takeOut();
    if (out.length) return out;
    throw e;
  }

  private decodeChunk(chunk: Uint8Array): arrow.RecordBatch[] {
    let b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.bomPending) {
      // A byte order mark may arrive split over the first chunks: gather three bytes first.
      this.appendCarry(b);
      if (this.carryLen < 3) return [];
      this.bomPending = false;
      const carry = this.carry;
      const skip = bomLength(carry.subarray(0, 3));
      const last = carry.lastIndexOf(0x0a, this.carryLen - 1);
      if (last >= skip) {
        this.region(carry, skip, last + 1);
        this.shiftCarry(last + 1);
      } else this.shiftCarry(skip);
      return this.takeOut();
    }
    if (this.carryLen > 0) {
      // The line begun in the previous chunk: completed here, decoded from the carry.
      const nl = b.indexOf(0x0a);
      if (nl < 0) {
        this.appendCarry(b);
        return [];
      }
      this.appendCarry(b.subarray(0, nl + 1));
      this.region(this.carry, 0, this.carryLen);
      this.carryLen = 0;
      b = b.subarray(nl + 1);
    }
    const last = b.lastIndexOf(0x0a);
    if (last >= 0) this.region(b, 0, last + 1);
    // Copied: the caller may reuse its chunk.
    this.appendCarry(b.subarray(last + 1));
    return this.takeOut();
  }

  private decodeEnd(): arrow.RecordBatch[] {
    if (this.carryLen > 0) {
      // Fewer than three bytes in all cannot be a byte order mark and a line.
      const skip = this.bomPending ? bomLength(this.carry.subarray(0, this.carryLen)) : 0;
      this.bomPending = false;
      // A short input still held for the BOM check may already end its last line.
      if (this.carry[this.carryLen - 1] !== 0x0a) this.appendCarry(NEWLINE);
      const n = this.carryLen;
      this.carryLen = 0;
      this.region(this.carry, skip, n);
    }
    this.bomPending = false;
    this.flush();
    return this.takeOut();
  }

  private takeOut(): arrow.RecordBatch[] {
    const out = this.out;
    if (out.length) this.out = [];
    return out;
  }

  private appendCarry(b: Uint8Array): void {
    const need = this.carryLen + b.length;
    if (need > this.carry.length) {
      const next = Buffer.allocUnsafe(Math.max(need, this.carry.length * 2));
      this.carry.copy(next, 0, 0, this.carryLen);
      this.carry = next;
    }
    this.carry.set(b, this.carryLen);
    this.carryLen = need;
  }

  private shiftCarry(n: number): void {
    this.carry.copyWithin(0, n, this.carryLen);
    this.carryLen -= n;
  }

  private fail(e: unknown): unknown {
    this.failed = e;
    return e;
  }

  /** Complete lines b[start, end) (b[end - 1] is a newline): UTF-8 checked, then decoded. */
  private region(b: Buffer, start: number, end: number): void {
    let s = start;
    while (s < end) {
      // Natively, once per chunk; the bad byte is looked for (in JavaScript) only when there is one.
      if (isUtf8(b.subarray(s, end))) return this.lines(b, s, end);
      const at = firstInvalidUtf8(b, s, end);
      if (at < 0) return this.lines(b, s, end);
      const ls = Math.max(s, b.lastIndexOf(0x0a, s + at) + 1);
      const nl = b.indexOf(0x0a, s + at);
      this.lines(b, s, ls);
      this.invalidUtf8Line(b, ls, nl);
      s = nl + 1;
    }
  }

  /** A line that is not UTF-8: refused, or decoded with U+FFFD for its bad bytes, as the reference does. */
  private invalidUtf8Line(b: Buffer, ls: number, nl: number): void {
    let e = nl;
    if (e > ls && b[e - 1] === 0x0d) e--;
    if (!this.replaceInvalidUtf8) {
      const at = firstInvalidUtf8(b, ls, e);
      throw this.fail(invalidUtf8Error(this.name, this.inputLine(this.lineNo + 1), b[ls + at], at, this.numbering?.record));
    }
    const fixed = Buffer.from(`${b.toString('utf8', ls, e)}\n`, 'utf8');
    this.lines(fixed, 0, fixed.length);
  }

  /**
   * Decodes lines of valid UTF-8, b[s, e), e just after a newline: runs of them by the
   * accelerator where it takes them, every other line by row().
   */
  private lines(b: Buffer, s: number, e: number): void {
    let p = s;
    if (this.view.buffer !== b.buffer || this.view.byteOffset !== b.byteOffset || this.view.byteLength !== b.length) this.view = new DataView(b.buffer, b.byteOffset, b.length);
    const accel = this.accel;
    if (accel) accel.load(b, s, e);
    try {
      while (p < e) {
        if (accel && this.paused === 0) {
          p = this.run(accel, p, e);
          if (p >= e) break;
        } else if (this.paused > 0) this.paused--;
        this.lineStart = p;
        this.lineNo++;
        p = this.row(b, p);
      }
    } catch (err) {
      throw this.fail(this.lineFailure(err, b, this.lineStart));
    }
  }

  /**
   * Lines from b[p] (loaded in the accelerator) into its run, up to the end of the batch each
   * time, until the lines end or it stops at one; returns where. The run grows over the reads of
   * a batch and is appended to the builders once (drain), when the batch is full, before the
   * JavaScript path decodes a line, and when the batch is flushed: so a batch the accelerator
   * decodes whole is copied to its builders once, into empty ones.
   */
  private run(accel: NdjsonAccelerator, p: number, e: number): number {
    for (;;) {
      const { status, next, rows } = accel.decode(p, e, this.pending + this.target - this.chunkLen);
      const added = rows - this.pending;
      if (added > 0) {
        // Each row is the next line (a blank line stops the accelerator): one lineOf entry at most.
        const r = this.rowCount;
        if (this.lineNo + 1 - r !== this.delta) {
          this.delta = this.lineNo + 1 - r;
          this.breakRows.push(r);
          this.breakDelta.push(this.delta);
        }
        this.rowCount += added;
        this.lineNo += added;
        this.chunkLen += added;
        this.pending = rows;
        this.acceleratedRows += added;
        this.pause = 0;
      }
      p = next;
      if (this.chunkLen === this.target) this.flush();
      if (status === FULL && p < e) continue; // the batch was full: the next one
      if (status !== STOPPED) return p;
      this.drain();
      if (added <= 0) {
        this.pause = Math.min(Math.max(1, this.pause * 2), 4096);
        this.paused = this.pause;
      }
      return p;
    }
  }

  /** The accelerator's run appended to the builders (the rows before whatever comes next). */
  private drain(): void {
    const n = this.pending;
    if (n === 0) return;
    const runs = this.accel!.runs(n);
    for (let k = 0; k < this.ncols; k++) this.builders[k].appendRun(runs[k], n);
    this.accel!.reset();
    this.pending = 0;
  }

  /**
   * The error for the line at b[ls] that the fast path could not take: the reference's verdict
   * on its text. Failures that are not about the line (out of memory, 2 GiB of text in one
   * batch) go through as they are.
   */
  private lineFailure(err: unknown, b: Buffer, ls: number): unknown {
    if (err !== MALFORMED && !(err instanceof JsonSyntaxError) && !(err instanceof TributaryError && err.code === 'ROW_INVALID')) return err;
    let e = b.indexOf(0x0a, ls);
    if (e < 0) e = b.length;
    if (e > ls && b[e - 1] === 0x0d) e--;
    const text = b.toString('utf8', ls, e);
    let problem: TributaryError | undefined;
    try {
      problem = rowProblem(parseNdjsonLine(text, this.name, this.inputLine(this.lineNo), this.numbering?.record), this.rowCount, this.schema, columnBuilders(this.schema, undefined, JSON_TEXT));
    } catch (e) {
      if (!(e instanceof TributaryError)) throw e;
      return e; // not JSON, or not an object
    }
    if (problem) return typeof problem.details.row === 'number' && this.inputLines ? withInputLine(problem, this.name, this.inputLine(this.lineNo)) : problem;
    return new TributaryError(
      'INTERNAL',
      `${this.name}, line ${this.inputLine(this.lineNo)}: the NDJSON decoder refused a line that the reference reader accepts (${err === MALFORMED ? 'malformed' : String(err)}); please report this`,
      { line: this.inputLine(this.lineNo) },
      { cause: err },
    );
  }

  private endRow(): void {
    const r = this.rowCount++;
    if (this.lineNo - r !== this.delta) {
      this.delta = this.lineNo - r;
      this.breakRows.push(r);
      this.breakDelta.push(this.delta);
    }
    if (++this.chunkLen === this.target) this.flush();
  }

  /**
   * The complete rows of the chunk being built, when a line failed part-way: the failing row may
   * have left values in some builders, so each column is cut to the rows before it.
   */
  private flushBefore(): void {
    this.drain();
    const n = this.chunkLen;
    if (n === 0) return;
    const children = this.builders.map((b) => {
      const d = b.finish();
      return d.length > n ? d.slice(0, n) : d;
    });
    const data = arrow.makeData({ type: new arrow.Struct(this.arrowSchema.fields), length: n, nullCount: 0, children });
    this.out.push(new arrow.RecordBatch(this.arrowSchema, data));
    this.chunkLen = 0;
  }

  private flush(): void {
    this.drain();
    if (this.chunkLen === 0) return;
    const full = this.chunkLen === this.target;
    this.out.push(buildersToBatch(this.schema, this.builders, this.chunkLen, this.arrowSchema));
    this.builders = columnBuilders(this.schema, this.alloc, JSON_TEXT);
    if (full) this.target = Math.min(this.target * 2, this.chunkRows);
    // After a full chunk, the next is likely full too: its buffers are sized once, not doubled.
    if (full) for (const b of this.builders) b.reserve(this.target);
    this.chunkLen = 0;
  }

  // -------------------------------------------------------------------------------------------
  // The fast path. Every line handed to it ends with a newline, which stops every scan (it is
  // not whitespace inside a line, not a digit, and a control character inside a string), so the
  // loops need no bounds checks. Positions are returned; MALFORMED is thrown at anything unusual.

  /** One line from b[p]: a row, or nothing for a blank line. Returns the position after its newline. */
  private row(b: Buffer, p: number): number {
    let c = b[p];
    while (c === 32 || c === 9 || c === 13) c = b[++p];
    if (c === 10) return p + 1;
    if (c !== 123) throw MALFORMED;
    const stamp = ++this.stamp;
    const seen = this.seen;
    let col = -1;
    let count = 0;
    c = b[++p];
    while (c === 32 || c === 9 || c === 13) c = b[++p];
    if (c !== 125) {
      for (;;) {
        if (c !== 34) throw MALFORMED;
        // The key: usually the next column's name, compared in place (its bytes, then the quote).
        let k = col + 1;
        if (k < this.ncols && this.keyAt(k, b, p + 1)) p += this.keys[k].length + 2;
        else {
          let q = p + 1;
          c = b[q];
          while (c !== 34 && c !== 92 && c >= 32) c = b[++q];
          if (c === 34) {
            k = this.column(b, p + 1, q);
            p = q + 1;
          } else {
            // A key with escapes: its text by the exact parser.
            q = this.stringEnd(b, p);
            k = this.byName.get(parseJsonExact(b.toString('utf8', p, q)) as string) ?? -1;
            p = q;
          }
        }
        // A key that is no column, or a column named twice: the reference words it.
        if (k < 0 || seen[k] === stamp) throw MALFORMED;
        seen[k] = stamp;
        count++;
        col = k;
        c = b[p];
        while (c === 32 || c === 9 || c === 13) c = b[++p];
        if (c !== 58) throw MALFORMED;
        c = b[++p];
        while (c === 32 || c === 9 || c === 13) c = b[++p];
        p = this.value(k, b, p);
        c = b[p];
        while (c === 32 || c === 9 || c === 13) c = b[++p];
        if (c === 44) {
          c = b[++p];
          while (c === 32 || c === 9 || c === 13) c = b[++p];
          continue;
        }
        if (c !== 125) throw MALFORMED;
        break;
      }
    }
    c = b[++p];
    while (c === 32 || c === 9 || c === 13) c = b[++p];
    if (c !== 10) throw MALFORMED;
    if (count < this.ncols) {
      // Missing columns are nulls (refused in a NOT NULL column).
      for (let k = 0; k < this.ncols; k++) if (seen[k] !== stamp) this.builders[k].append(undefined, this.rowCount);
    }
    this.endRow();
    return p + 1;
  }

  /**
   * Whether the key starting at b[s] is column k's name: its bytes followed by the closing quote.
   * Only for names a JSON key writes as they are (no quote, backslash or control character).
   */
  private keyAt(k: number, b: Buffer, s: number): boolean {
    const key = this.keys[k];
    const n = key.length;
    // Four bytes at a time (most of a row's bytes are its keys): the name and its closing quote
    // as little-endian words, against the line read through a DataView (which V8 inlines).
    if (!this.plainKey[k] || s + n >= b.length) return false;
    const words = this.keyWords[k];
    const view = this.view;
    const w = words.length;
    for (let i = 0; i < w; i++) if (view.getUint32(s + 4 * i, true) !== words[i]) return false;
    // What is left of name and quote after the whole words, byte by byte.
    for (let i = 4 * w; i <= n; i++) if (b[s + i] !== (i < n ? key[i] : 34)) return false;
    return true;
  }

  private keyIs(k: number, b: Buffer, s: number, e: number): boolean {
    const key = this.keys[k];
    const n = key.length;
    if (e - s !== n) return false;
    for (let i = 0; i < n; i++) if (b[s + i] !== key[i]) return false;
    return true;
  }

  /** The column whose name is b[s, e) when the keys are not in schema order, or -1. */
  private column(b: Buffer, s: number, e: number): number {
    if (this.ncols <= 16) {
      for (let k = 0; k < this.ncols; k++) if (this.keyIs(k, b, s, e)) return k;
      return -1;
    }
    return this.byName.get(b.toString('utf8', s, e)) ?? -1;
  }

  /** The value at b[p] into column k; returns the position after it. */
  private value(k: number, b: Buffer, p: number): number {
    // A column is a slot at the row's depth: the same fast paths as a struct's field or a list's element.
    return this.slotValue(this.slots[k], this.builders[k], b, p, 1);
  }

  /**
   * Any other value: parsed as the exact parser parses it (a string, a number that prints back
   * the same or else its text, a boolean, an object, an array) and appended by the builder (a
   * column's, a field's, an element's), which coerces (or refuses) it exactly as for a row
   * object. `depth` is the nesting of the value's container (1: the row).
   */
  private appendParsed(bld: ColumnBuilder, b: Buffer, p: number, depth: number): number {
    const c = b[p];
    let q: number;
    let v: unknown;
    if (c === 34) {
      q = this.stringEnd(b, p);
      let esc = false;
      for (let i = p + 1; i < q - 1 && !esc; i++) esc = b[i] === 92;
      v = esc ? parseJsonExact(b.toString('utf8', p, q)) : b.toString('utf8', p + 1, q - 1);
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      q = this.number(b, p);
      if (q < 0) throw MALFORMED;
      const text = b.toString('latin1', p, q);
      v = isCanonicalNumber(text) ? Number(text) : new JsonNumber(text);
    } else if (c === 116 && b[p + 1] === 114 && b[p + 2] === 117 && b[p + 3] === 101) {
      q = p + 4;
      v = true;
    } else if (c === 102 && b[p + 1] === 97 && b[p + 2] === 108 && b[p + 3] === 115 && b[p + 4] === 101) {
      q = p + 5;
      v = false;
    } else if (c === 123 || c === 91) {
      q = this.nestedEnd(b, p);
      // At its depth in the line, so that the nesting bound counts as for the whole line.
      v = parseJsonExact(b.toString('utf8', p, q), depth);
    } else throw MALFORMED;
    bld.append(v, this.rowCount);
    return q;
  }

  /** The position after the string whose opening quote is at b[p] (escapes skipped, not checked). */
  private stringEnd(b: Buffer, p: number): number {
    let q = p + 1;
    for (;;) {
      const c = b[q];
      if (c === 34) return q + 1;
      if (c === 92) {
        // Never step over the line's newline.
        if (!(b[q + 1] >= 32)) throw MALFORMED;
        q += 2;
      } else if (c >= 32) q++;
      else throw MALFORMED;
    }
  }

  /** The position after the object or array opening at b[p] (brackets counted, strings skipped; the exact parser checks the rest). */
  private nestedEnd(b: Buffer, p: number): number {
    let depth = 0;
    let q = p;
    for (;;) {
      const c = b[q];
      if (c === 34) {
        q = this.stringEnd(b, q);
        continue;
      }
      if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        if (--depth === 0) return q + 1;
      } else if (c === 10 || c === undefined) throw MALFORMED;
      q++;
    }
  }

  /**
   * Scans a JSON number at b[p] (RFC 8259's grammar exactly) into the num* fields; returns the
   * position after it, or -1 when b[p] does not start one.
   */
  private number(b: Buffer, p: number): number {
    let q = p;
    let c = b[q];
    const neg = c === 45;
    if (neg) c = b[++q];
    // Significant digits: the first 15 into hi, the next 4 into lo (both exact), the rest counted.
    let hi = 0;
    let lo = 0;
    let digits = 0;
    let frac = 0;
    // (Each run of digits is read by two loops: the first, branch-free, while hi has room.)
    if (c === 48) c = b[++q];
    else if (c >= 49 && c <= 57) {
      do {
        hi = hi * 10 + (c - 48);
        digits++;
        c = b[++q];
      } while (c >= 48 && c <= 57 && digits < 15);
      for (; c >= 48 && c <= 57; c = b[++q]) if (++digits <= 19) lo = lo * 10 + (c - 48);
    } else return -1;
    if (c === 46) {
      c = b[++q];
      if (!(c >= 48 && c <= 57)) return -1;
      const f0 = q;
      // Zeros before the first significant digit only move the point.
      if (digits === 0) while (c === 48) c = b[++q];
      for (; c >= 48 && c <= 57 && digits < 15; c = b[++q]) {
        hi = hi * 10 + (c - 48);
        digits++;
      }
      for (; c >= 48 && c <= 57; c = b[++q]) if (++digits <= 19) lo = lo * 10 + (c - 48);
      frac = q - f0;
    }
    let exp = 0;
    let hasExp = false;
    if (c === 101 || c === 69) {
      hasExp = true;
      c = b[++q];
      let expNeg = false;
      if (c === 43 || c === 45) {
        expNeg = c === 45;
        c = b[++q];
      }
      if (!(c >= 48 && c <= 57)) return -1;
      do {
        // Beyond 10^9 every non-zero value is out of every column's range: stop counting.
        if (exp < 1e9) exp = exp * 10 + (c - 48);
        c = b[++q];
      } while (c >= 48 && c <= 57);
      if (expNeg) exp = -exp;
    }
    this.numHi = hi;
    this.numLo = lo;
    this.numDigits = digits;
    this.numFrac = frac;
    this.numExp = exp - frac;
    this.numNeg = neg;
    this.numHasExp = hasExp;
    return q;
  }

  /**
   * isoTimestampMicros of b[s, e) into f64[0] (false: not a timestamp of the fast path),
   * remembering the column's last minute: timestamps in a stream share their date and minute with the
   * previous one nearly always, and then only the seconds, fraction and zone are left to read.
   */
  private timestamp(minute: Float64Array, b: Buffer, s: number, e: number, ntz: boolean): boolean {
    if (e - s >= 16 && this.minuteAt(minute, b, s)) {
      this.f64[0] = minute[4];
      return isoTail(b, s + 16, e, ntz, this.f64);
    }
    return isoTimestampMicros(b, s, e, ntz, this.f64);
  }

  /**
   * Whether b[s, s + 16) is a `YYYY-MM-DDTHH:MM` (isoMinute), its seconds then in minute[4]: the
   * column's last one's when the 16 bytes are the same (compared as four words, minute[0..3]).
   */
  private minuteAt(minute: Float64Array, b: Buffer, s: number): boolean {
    const v = this.view;
    const w0 = v.getUint32(s, true);
    const w1 = v.getUint32(s + 4, true);
    const w2 = v.getUint32(s + 8, true);
    const w3 = v.getUint32(s + 12, true);
    if (w0 === minute[0] && w1 === minute[1] && w2 === minute[2] && w3 === minute[3]) return true;
    minute[4] = isoMinute(b, s);
    if (minute[4] !== minute[4]) {
      minute[0] = -1; // no minute to match
      return false;
    }
    minute[0] = w0;
    minute[1] = w1;
    minute[2] = w2;
    minute[3] = w3;
    return true;
  }

  /** The number just scanned as an integer, into f64[0]: exact when it has at most 16 digits and is below 2^53. */
  private integer(): void {
    // hi * 10 is exact (an even integer below 2^54); the sum is exact below 2^53.
    const m = this.numDigits <= 15 ? this.numHi : this.numHi * 10 + this.numLo;
    this.f64[0] = this.numNeg ? -m : m;
  }

  /**
   * The double nearest to the number just scanned (b[p, q)), into f64[0]. Up to 15 significant
   * digits and a power of ten up to 22, both operands are exact doubles and one multiplication or
   * division rounds once, correctly (Clinger's fast path); up to 19 digits, nearestDouble; anything else
   * (and the rare number nearestDouble cannot settle) is parsed by Number(), correctly too.
   * The integer -0 is 0.0, as in Spark's reader (an integer token has no negative zero; "-0.0"
   * and "-0e0" are -0.0 there too); coerce.ts's toFloat says the same for the row path.
   */
  private double(b: Buffer, p: number, q: number): void {
    const e = this.numExp;
    const f = this.f64;
    if (e >= -22 && e <= 22) {
      const d = this.numDigits;
      let exact = true;
      if (d <= 15) f[0] = e >= 0 ? this.numHi * POW10[e] : this.numHi / POW10[-e];
      else if (d <= 19) {
        f[0] = this.numHi;
        f[1] = this.numLo;
        exact = nearestDouble(f, d - 15, e);
      } else exact = false;
      if (exact) {
        if (this.numNeg && (f[0] !== 0 || this.numFrac !== 0 || this.numHasExp)) f[0] = -f[0];
        return;
      }
    }
    f[0] = Number(b.toString('latin1', p, q));
  }

  // -------------------------------------------------------------------------------------------
  // Values by their slot: a column's, a struct field's, a list element's. Nested values are
  // decoded in place: no JavaScript object or array per value.

  /**
   * A value at b[p] into `bld` (a column's, a field's or an element's builder), by the slot's
   * kind: one set of fast paths for all three. Fast paths land what the builder's append()
   * lands for the exact parser's value; anything else goes through appendParsed, the reference
   * coercion. `depth` is the nesting of the value's container (1: the row).
   */
  private slotValue(slot: Slot, bld: ColumnBuilder, b: Buffer, p: number, depth: number): number {
    const c = b[p];
    if (c === 110) {
      if (b[p + 1] === 117 && b[p + 2] === 108 && b[p + 3] === 108) {
        bld.append(null, this.rowCount); // refused in a NOT NULL field or element
        return p + 4;
      }
      throw MALFORMED;
    }
    switch (slot.kind) {
      case STRING:
        if (c === 34) {
          let q = p + 1;
          while (STRING_STOP[b[q]] === 0) q++;
          if (b[q] === 34) {
            (bld as VarBinaryBuilder).appendBytes(b, p + 1, q);
            return q + 1;
          }
        }
        break;
      case DOUBLE:
        if (c === 45 || (c >= 48 && c <= 57)) {
          const q = this.number(b, p);
          if (q < 0) throw MALFORMED;
          this.double(b, p, q);
          if (this.f64[0] - this.f64[0] === 0) {
            (bld as FixedBuilder<Float64Array>).appendRawOf(this.f64);
            return q;
          }
        }
        break;
      case LONG:
        if (c === 45 || (c >= 48 && c <= 57)) {
          const q = this.number(b, p);
          if (q < 0) throw MALFORMED;
          if (this.numFrac === 0 && !this.numHasExp && this.numDigits <= 16) {
            this.integer();
            const x = this.f64[0];
            if (x <= Number.MAX_SAFE_INTEGER && x >= -Number.MAX_SAFE_INTEGER) {
              (bld as Int64Builder).appendIntOf(this.f64);
              return q;
            }
          }
        }
        break;
      case INT:
        if (c === 45 || (c >= 48 && c <= 57)) {
          const q = this.number(b, p);
          if (q < 0) throw MALFORMED;
          if (this.numFrac === 0 && !this.numHasExp && this.numDigits <= 15) {
            this.integer();
            const x = this.f64[0];
            if (x >= slot.a && x <= slot.b) {
              (bld as FixedBuilder<Int32Array>).appendRawOf(this.f64);
              return q;
            }
          }
        }
        break;
      case DECIMAL:
        if (c === 45 || (c >= 48 && c <= 57)) {
          const q = this.number(b, p);
          if (q < 0) throw MALFORMED;
          if (this.decimalInto(bld, slot.a, slot.b)) return q;
        } else if (c === 34) {
          const q = this.number(b, p + 1);
          if (q > 0 && b[q] === 34 && this.decimalInto(bld, slot.a, slot.b)) return q + 1;
        }
        break;
      case BOOL:
        if (c === 116 && b[p + 1] === 114 && b[p + 2] === 117 && b[p + 3] === 101) {
          (bld as BoolBuilder).appendBool(true);
          return p + 4;
        }
        if (c === 102 && b[p + 1] === 97 && b[p + 2] === 108 && b[p + 3] === 115 && b[p + 4] === 101) {
          (bld as BoolBuilder).appendBool(false);
          return p + 5;
        }
        break;
      case DATE:
        if (c === 34 && b[p + 11] === 34) {
          const days = isoDateDays(b, p + 1);
          if (days === days) {
            (bld as FixedBuilder<Int32Array>).appendRaw(days);
            return p + 12;
          }
        }
        break;
      case TIMESTAMP:
      case TIMESTAMP_NTZ:
        if (c === 34) {
          let q = p + 1;
          while (STRING_STOP[b[q]] === 0) q++;
          if (b[q] === 34) {
            if (this.timestamp(slot.minute, b, p + 1, q, slot.kind === TIMESTAMP_NTZ)) {
              (bld as Int64Builder).appendIntOf(this.f64);
              return q + 1;
            }
          }
        } else if (c === 45 || (c >= 48 && c <= 57)) {
          const q = this.number(b, p);
          if (q < 0) throw MALFORMED;
          // Epoch seconds (JSON_TEXT); a fraction, an exponent or a large one: the builder's coercion.
          if (this.numFrac === 0 && !this.numHasExp && this.numDigits <= 10 && this.numHi <= MAX_SAFE_SECONDS) {
            this.integer();
            this.f64[0] *= 1_000_000;
            (bld as Int64Builder).appendIntOf(this.f64);
            return q;
          }
        }
        break;
      case STRUCT:
        if (c === 123 && depth < MAX_DEPTH) return this.struct(slot, bld as StructBuilder, b, p, depth + 1);
        break;
      case LIST:
        if (c === 91 && depth < MAX_DEPTH) return this.list(slot, bld as ListBuilder, b, p, depth + 1);
        break;
    }
    return this.appendParsed(bld, b, p, depth);
  }

  /**
   * The object at b[p] into a struct builder, its fields in any order: what StructBuilder.append
   * does with the exact parser's object. A key that is no field (the builder refuses it), a key
   * given twice (the exact parser refuses it) or broken syntax is MALFORMED: the reference words it.
   */
  private struct(slot: Slot, sb: StructBuilder, b: Buffer, p: number, depth: number): number {
    const keys = slot.keys;
    const n = keys.length;
    let seen = 0;
    let c = b[++p];
    while (c === 32 || c === 9 || c === 13) c = b[++p];
    if (c !== 125) {
      for (;;) {
        if (c !== 34) throw MALFORMED;
        let q = p + 1;
        c = b[q];
        while (c !== 34 && c !== 92 && c >= 32) c = b[++q];
        let i = -1;
        if (c === 34) {
          for (let j = 0; j < n; j++) {
            const key = keys[j];
            if (key.length !== q - p - 1) continue;
            let m = 0;
            while (m < key.length && key[m] === b[p + 1 + m]) m++;
            if (m === key.length) {
              i = j;
              break;
            }
          }
          p = q + 1;
        } else {
          // A key with escapes: its text by the exact parser.
          q = this.stringEnd(b, p);
          i = slot.names.indexOf(parseJsonExact(b.toString('utf8', p, q)) as string);
          p = q;
        }
        if (i < 0 || (seen & (1 << i)) !== 0) throw MALFORMED;
        seen |= 1 << i;
        c = b[p];
        while (c === 32 || c === 9 || c === 13) c = b[++p];
        if (c !== 58) throw MALFORMED;
        c = b[++p];
        while (c === 32 || c === 9 || c === 13) c = b[++p];
        p = this.slotValue(slot.fields[i], sb.children[i], b, p, depth);
        c = b[p];
        while (c === 32 || c === 9 || c === 13) c = b[++p];
        if (c === 44) {
          c = b[++p];
          while (c === 32 || c === 9 || c === 13) c = b[++p];
          continue;
        }
        if (c !== 125) throw MALFORMED;
        break;
      }
    }
    // Absent fields are nulls (refused in a NOT NULL field), as for an object without them.
    if (seen !== 2 ** n - 1) for (let i = 0; i < n; i++) if ((seen & (1 << i)) === 0) sb.children[i].append(undefined, this.rowCount);
    sb.appendPresent();
    return p + 1;
  }

  /** The array at b[p] into a list builder, element by element: what ListBuilder.append does with the exact parser's array. */
  private list(slot: Slot, lb: ListBuilder, b: Buffer, p: number, depth: number): number {
    const element = slot.element!;
    const child = lb.child;
    let c = b[++p];
    while (c === 32 || c === 9 || c === 13) c = b[++p];
    if (c !== 93) {
      for (;;) {
        p = this.slotValue(element, child, b, p, depth);
        c = b[p];
        while (c === 32 || c === 9 || c === 13) c = b[++p];
        if (c === 44) {
          c = b[++p];
          while (c === 32 || c === 9 || c === 13) c = b[++p];
          continue;
        }
        if (c !== 93) throw MALFORMED;
        break;
      }
    }
    lb.appendPresent();
    return p + 1;
  }

  /** decimal() for a field or element of the given precision and scale. */
  private decimalInto(bld: ColumnBuilder, precision: number, scale: number): boolean {
    if (this.numHasExp) return false;
    const shift = scale - this.numFrac;
    if (shift < 0 || this.numDigits + shift > 15) return false;
    const u = this.numHi * POW10[shift];
    if (precision <= 15 && u >= POW10[precision]) return false;
    this.f64[0] = this.numNeg ? -u : u;
    (bld as DecimalBuilder).appendUnscaledOf(this.f64);
    return true;
  }
}
