import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import type * as arrow from 'apache-arrow';
import { TributaryError } from '../errors.js';
import { type Row, rowsToRecordBatch } from '../arrow/record-batch.js';
import type { Allocator } from '../arrow/arena.js';
import { SettledLines } from '../json/settled-lines.js';
import { JsonArrayLines, firstSignificant } from '../json/json-array.js';
import { invalidUtf8Error, isBlankLine, type LineNumbering, parseNdjsonLine, withInputLine } from '../json/ndjson.js';
import { DEFAULT_CHUNK_ROWS, JSON_TEXT, NdjsonDecoder } from '../json/ndjson-decoder.js';
import { ParallelNdjsonDecoder } from '../json/parallel-decoder.js';
import { ShapeSignatures, shapeOfLine } from '../json/shape-scan.js';
import { bomLength, firstInvalidUtf8, isValidUtf8 } from '../json/utf8.js';
import type { StructType } from '../schema/schema.js';
import { SchemaInference } from '../delta/infer.js';

export interface NdjsonInput {
  /** The rows before the first bad line (all of them when `error` is undefined). */
  rows: Row[];
  /** 1-based input line of each row, to point errors at the line a user can open. */
  lines: number[];
  name: string;
  /**
   * The first bad line's error (not UTF-8, not JSON, not an object). It is not thrown by the
   * reader: the earliest problem in input order wins, so a caller first checks the rows before
   * that line (a bad value on line 2 beats a syntax error on line 100), then throws this.
   */
  error?: TributaryError;
}

export interface NdjsonOptions {
  /** How the reader's lines are numbered in the input (a JSON array's elements); default its own lines. */
  numbering?: LineNumbering;
  /** Invalid UTF-8: refuse the input naming the line (default), or store U+FFFD for the bad bytes. */
  invalidUtf8?: 'error' | 'replace';
  /** Called after each chunk read: the bytes read so far and the rows parsed from them. */
  onProgress?: (bytesRead: number, rows: number) => void;
}

/**
 * Newline-delimited JSON as rows, read as bytes so that nothing is decoded before it is checked:
 * a leading byte order mark is skipped, invalid UTF-8 is refused naming the line (unless the
 * caller asked for replacement), and each line is parsed by the exact parser (numbers keep their
 * digits, duplicate keys are refused). Reading stops at the first bad line. This is the reference
 * reader (and the one --merge-schema uses, as it needs the rows to infer new columns); with a
 * known schema, NdjsonDecoder goes from bytes to Arrow without a row object.
 */
export class NdjsonRowReader {
  private readonly rows: Row[] = [];
  private readonly lines: number[] = [];
  private error: TributaryError | undefined;
  private lineNo = 0;
  private carry: Buffer | undefined;
  private first = true;

  private count = 0;
  /** While completeLines reads them: the lines are known to be valid UTF-8. */
  private linesValid = false;

  /**
   * With `sink`, each row goes to it (with its input line) as it is read and is not kept: `end()`
   * then has no rows. What the sink throws goes through `push` and `end` unchanged. With
   * `shapes` (for schema inference), the sink gets undefined for a line of a shape it was given
   * before (ShapeSignatures), else the line's shape (shapeOfLine: values stand for their kinds)
   * where the line is plainly valid, else the exact parser's row.
   */
  constructor(
    readonly name: string,
    private readonly opts: NdjsonOptions = {},
    private readonly sink?: (row: Row | undefined, line: number) => void,
    shapes = false,
    /** With a sink: runs of lines that add nothing to the schema pass it feeds, each given to the sink as undefined. */
    private readonly settled?: SettledLines,
  ) {
    this.signatures = shapes ? new ShapeSignatures() : undefined;
  }

  private readonly signatures: ShapeSignatures | undefined;

  /** The rows read so far. */
  get rowCount(): number {
    return this.count;
  }

  /** True once a bad line was met: further input is not read. */
  get stopped(): boolean {
    return this.error !== undefined;
  }

  push(chunk: Uint8Array): void {
    if (this.error) return;
    const c = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // The line carried from the last chunk is completed on its own (a copy of it and this chunk's
    // head), and the rest of the chunk read where it is: joining the two whole was a copy of
    // every chunk (0.1 s of a million-line schema pass).
    const nl = this.carry && !this.first ? c.indexOf(0x0a) : -1;
    if (nl >= 0) {
      const line = Buffer.concat([this.carry!, c.subarray(0, nl + 1)]);
      this.carry = undefined;
      this.completeLines(line);
      if (!this.error) this.completeLines(c.subarray(nl + 1));
      return;
    }
    const buf = this.carry ? Buffer.concat([this.carry, c]) : c;
    // A byte order mark may arrive split over the first chunks.
    if (this.first && buf.length < 3) {
      this.carry = Buffer.from(buf);
      return;
    }
    this.completeLines(buf);
  }

  /** The complete lines of `buf` (after a byte order mark, at the start); the rest is carried. */
  private completeLines(buf: Buffer): void {
    let pos = 0;
    if (this.first) {
      pos = bomLength(buf);
      this.first = false;
    }
    // The complete lines' bytes checked as UTF-8 at once (natively): a newline is never inside a
    // character, so they are valid exactly when each line is, and a line then needs no check of
    // its own (a check per line, of a view made for it, was a tenth of a schema pass).
    const last = buf.lastIndexOf(0x0a);
    this.linesValid = last >= pos && this.opts.invalidUtf8 !== 'replace' && isValidUtf8(buf, pos, last);
    const settled = this.linesValid ? this.settled : undefined;
    settled?.lines(buf, last + 1);
    for (;;) {
      if (settled && !this.error) {
        const run = settled.run(pos);
        for (let k = 0; k < run.lines; k++) {
          this.lineNo++;
          this.count++;
          this.sink!(undefined, this.inputLine());
        }
        pos = run.next;
      }
      const nl = buf.indexOf(0x0a, pos);
      if (nl < 0 || this.error) break;
      this.take(buf, pos, nl);
      settled?.tookOne();
      pos = nl + 1;
    }
    this.linesValid = false;
    // A copy: the caller may reuse its chunk.
    this.carry = pos < buf.length && !this.error ? Buffer.from(buf.subarray(pos)) : undefined;
  }

  /** The input read; with `partial`, it was cut short: the line the last chunk ends in is not read. */
  end(partial = false): NdjsonInput {
    // Input shorter than a byte order mark was held back whole: it may hold newlines too.
    if (this.first && this.carry && !this.error && !partial) this.completeLines(this.carry);
    if (this.carry && this.carry.length && !this.error && !partial) this.take(this.carry, 0, this.carry.length);
    this.carry = undefined;
    return { rows: this.rows, lines: this.lines, name: this.name, error: this.error };
  }

  private inputLine(): number {
    return this.opts.numbering ? this.opts.numbering.input(this.lineNo) : this.lineNo;
  }

  private take(buf: Buffer, start: number, end: number): void {
    this.lineNo++;
    let e = end;
    if (e > start && buf[e - 1] === 0x0d) e--; // CRLF
    if (e - start === 0) return;
    if (!this.linesValid && this.opts.invalidUtf8 !== 'replace' && !isValidUtf8(buf, start, e)) {
      const at = firstInvalidUtf8(buf, start, e);
      this.error = invalidUtf8Error(this.name, this.inputLine(), buf[start + at], at, this.opts.numbering?.record);
      return;
    }
    if (this.signatures?.seenBefore(buf, start, e) === true) {
      this.count++;
      this.sink!(undefined, this.inputLine());
      return;
    }
    let row = this.signatures ? shapeOfLine(buf, start, e) : undefined;
    if (!row) {
      const text = buf.toString('utf8', start, e);
      if (isBlankLine(text)) return;
      try {
        row = parseNdjsonLine(text, this.name, this.inputLine(), this.opts.numbering?.record);
      } catch (err) {
        if (!(err instanceof TributaryError)) throw err;
        this.error = err;
        return;
      }
    }
    this.count++;
    if (this.sink) this.sink(row, this.inputLine());
    else {
      this.rows.push(row);
      this.lines.push(this.inputLine());
    }
  }
}

const READ_BYTES = 1 << 20;

/**
 * A file path or "-" for stdin, as the name messages use and a byte stream. With `reuse`, a
 * file is read into three buffers in turn: for a consumer done with each chunk before it asks for
 * the next but one (the decoders copy the part of a line a chunk ends with). A fresh 1 MiB
 * buffer per read made V8 count a large input's size again in external memory, which it answers
 * with full collections: 15 of them while appending the bench's 163 MiB file, 10 with buffers
 * reused (80 -> 19 ms of mark-compact on the main thread, `--trace-gc`).
 */
function openInput(source: InputSource, reuse = false): { name: string; stream: AsyncIterable<Buffer> } {
  const { path: file, name } = typeof source === 'string' ? { path: source, name: source === '-' ? 'stdin' : source } : source;
  if (file === '-') return { name, stream: process.stdin };
  // 1 MiB reads: at the default 64 KiB, a large file costs four times the reads (and the stream
  // bookkeeping around each), measurable next to decoding it.
  return { name, stream: reuse ? readInTurn(file) : createReadStream(file, { highWaterMark: READ_BYTES }) };
}

/**
 * Where NDJSON is read from: a file path, or "-" for standard input; or a file read under
 * another name (standard input spooled to a file keeps the name "stdin" in messages).
 */
export type InputSource = string | { path: string; name: string };

/** Standard input copied to a file (spoolStdin): read as "stdin", removed by `remove()`. */
export interface SpooledInput {
  source: { path: string; name: string };
  /** Bytes copied. */
  bytes: number;
  remove(): Promise<void>;
}

/**
 * Copies standard input to a file of its own in the system's temporary directory (TMPDIR), for an append that reads its input twice, a schema pass and then the
 * decoding (a new table without --schema, --merge-schema): a pipe can be read once, and holding
 * its rows instead would take memory in proportion to the input (a million CoinGecko lines as
 * rows: 750 MiB; copied, the append's memory is a file's). Stops early, the copy complete as far
 * as it went, when `stop()` says so after a chunk (a signal: the caller then removes it). A file
 * that cannot be written is an IO error naming it; the copy is removed then.
 */
export async function spoolStdin(opts: { stop?: () => boolean; onProgress?: (bytes: number) => void } = {}): Promise<SpooledInput> {
  const cannot = (where: string, e: unknown) =>
    new TributaryError('IO', `cannot copy stdin to ${where} (to read it twice): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; set TMPDIR to a directory with room for it, or pass --schema`);
  const base = tmpdir();
  await removeAbandonedSpools(base);
  let dir: string;
  try {
    dir = await mkdtemp(path.join(base, `${SPOOL_PREFIX}${hostTag()}-${process.pid}-`));
  } catch (e) {
    throw cannot(base, e);
  }
  const file = path.join(dir, 'stdin.ndjson');
  const remove = () => rm(dir, { recursive: true, force: true });
  let bytes = 0;
  try {
    const out = await open(file, 'wx');
    try {
      for await (const chunk of readChunks('stdin', process.stdin)) {
        try {
          // A whole write per chunk (FileHandle.write may write part of it).
          for (let at = 0; at < chunk.length; ) at += (await out.write(chunk, at, chunk.length - at)).bytesWritten;
        } catch (e) {
          throw cannot(file, e);
        }
        bytes += chunk.length;
        opts.onProgress?.(bytes);
        if (opts.stop?.()) break;
      }
    } finally {
      await out.close();
    }
  } catch (e) {
    await remove();
    throw e;
  }
  return { source: { path: file, name: 'stdin' }, bytes, remove };
}

const SPOOL_PREFIX = 'tributary-stdin-';
/** A copy's directory: the prefix, its host's tag and its process's id, then mkdtemp's letters. */
const SPOOL_NAME = /^tributary-stdin-([0-9a-f]{8})-(\d+)-[A-Za-z0-9]{6}$/;

/**
 * This machine's tag in a copy's name: a process id means something only on the host (container)
 * that ran it, and containers may share a temporary directory.
 */
function hostTag(): string {
  return createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
}

/** Whether a process of this host is running (or exists under another user: it is not ours to judge). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Removes the copies of appends that were killed (SIGKILL, the OOM killer) before they could
 * remove their own: a job retried after each such kill would otherwise fill TMPDIR with whole
 * inputs. Only copies made on this host by a process that is no longer running go; anything
 * that cannot be listed or removed is left (best effort: the append's own copy matters).
 */
async function removeAbandonedSpools(base: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(base);
  } catch {
    return;
  }
  const tag = hostTag();
  for (const name of names) {
    const m = SPOOL_NAME.exec(name);
    if (!m || m[1] !== tag || Number(m[2]) === process.pid || running(Number(m[2]))) continue;
    await rm(path.join(base, name), { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * The file's chunks, each read while the consumer works on the one before: the read of chunk
 * i + 1 is started as chunk i is handed out, into the buffer of chunk i - 2, which the consumer
 * is done with (it asked for chunk i). Reading then costs the main thread no wait per chunk.
 */
async function* readInTurn(path: string): AsyncGenerator<Buffer> {
  const file = await open(path, 'r');
  const buffers = [Buffer.allocUnsafe(READ_BYTES), Buffer.allocUnsafe(READ_BYTES), Buffer.allocUnsafe(READ_BYTES)];
  let ahead: Promise<{ bytesRead: number }> | undefined = file.read(buffers[0], 0, READ_BYTES, null);
  ahead.catch(() => undefined);
  try {
    for (let i = 0; ; i++) {
      const { bytesRead } = await ahead!;
      ahead = undefined;
      if (bytesRead === 0) return;
      ahead = file.read(buffers[(i + 1) % 3], 0, READ_BYTES, null);
      // Handled here too: a read that fails while the consumer is busy is thrown by the await
      // above when it asks for the chunk, not reported as an unhandled rejection meanwhile.
      ahead.catch(() => undefined);
      yield buffers[i % 3].subarray(0, bytesRead);
    }
  } finally {
    // A consumer that stopped early: the read under way ends before the file closes.
    await ahead?.catch(() => undefined);
    await file.close();
  }
}

/**
 * The stream's chunks. Only the stream's own failures become IO errors ("cannot read"); whatever
 * the consumer throws (a bad row) goes through unchanged, and a consumer that stops early or
 * throws stops the reading (and closes the file).
 */
async function* readChunks(name: string, stream: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const it = stream[Symbol.asyncIterator]();
  try {
    for (;;) {
      let r: IteratorResult<Buffer>;
      try {
        r = await it.next();
      } catch (e) {
        throw new TributaryError('IO', `cannot read ${name}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      if (r.done) return;
      yield r.value;
    }
  } finally {
    await it.return?.().catch(() => undefined);
  }
}

/**
 * The input as NDJSON: as it is, or, when its first byte (after a byte order mark and
 * whitespace) opens an array, that JSON document's elements one per line (json-array.ts). The
 * choice is known once the first chunk is out (`array`); it also numbers the lines for messages.
 */
class InputDocument implements LineNumbering {
  array: JsonArrayLines | undefined;
  private decided = false;
  constructor(private readonly name: string) {}

  get record(): LineNumbering['record'] {
    return this.array ? this.array.record : 'line';
  }

  input(n: number): number {
    return this.array ? this.array.input(n) : n;
  }

  /** The array's syntax error, after the elements before it have been read. */
  get error(): TributaryError | undefined {
    return this.array?.error;
  }

  async *lines(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    // Bytes read before the first significant one (a copy: reads may reuse their buffer).
    let head: Buffer | undefined;
    for await (let chunk of chunks) {
      if (!this.decided) {
        head = head ? Buffer.concat([head, chunk]) : chunk;
        const at = firstSignificant(head);
        if (at < 0) {
          head = Buffer.from(head);
          continue;
        }
        this.decided = true;
        if (head[at] === 0x5b) this.array = new JsonArrayLines(this.name);
        chunk = head;
        head = undefined;
      }
      yield this.array ? this.array.push(chunk) : chunk;
      if (this.array?.error) return;
    }
    if (head) yield head;
    if (this.array) yield this.array.end();
  }
}

/** The stream's chunks (readChunks), with the bytes read so far and `rows()` reported after each is consumed. */
async function* withProgress(name: string, stream: AsyncIterable<Buffer>, rows: () => number, onProgress: NdjsonOptions['onProgress']): AsyncGenerator<Buffer> {
  let bytesRead = 0;
  for await (const chunk of readChunks(name, stream)) {
    bytesRead += chunk.length;
    yield chunk;
    onProgress?.(bytesRead, rows());
  }
}

/** Reads newline-delimited JSON (a file path or "-" for stdin) as rows: see NdjsonRowReader. */
export async function readNdjson(source: InputSource, opts: NdjsonOptions = {}): Promise<NdjsonInput> {
  const { name, stream } = openInput(source, true);
  const doc = new InputDocument(name);
  const reader = new NdjsonRowReader(name, { ...opts, numbering: doc });
  for await (const lines of doc.lines(withProgress(name, stream, () => reader.rowCount, opts.onProgress))) {
    reader.push(lines);
    if (reader.stopped) break;
  }
  const input = reader.end();
  // The array's own syntax error comes after every element before it (which are checked first).
  if (!input.error && doc.error) input.error = doc.error;
  return input;
}

/**
 * Input lines of rows, for messages about a row read before: kept only where a row's line stops
 * being the previous row's plus one (blank lines, JSON array elements over several lines), so a
 * file's rows cost a few numbers, not one each.
 */
export class RowLines {
  private readonly from: number[] = [];
  private readonly offset: number[] = [];
  private count = 0;

  /** Row `row` (the next one: rows come in order) is on input line `line`. */
  note(row: number, line: number): void {
    const d = line - row;
    if (this.offset.length === 0 || this.offset[this.offset.length - 1] !== d) {
      this.from.push(row);
      this.offset.push(d);
    }
    this.count = row + 1;
  }

  lineOf(row: number): number | undefined {
    if (row < 0 || row >= this.count || !Number.isInteger(row)) return undefined;
    let lo = 0;
    let hi = this.from.length - 1;
    // The last run that starts at or before `row`.
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.from[mid] <= row) lo = mid;
      else hi = mid - 1;
    }
    return row + this.offset[lo];
  }
}

/** What a pass over NDJSON input inferred (see inferNdjson). */
export interface NdjsonInference {
  /** The table's schema with what the rows bring (the rows before the first bad line, if any). */
  schema: StructType;
  /** Rows read (before the first bad line). */
  rows: number;
  name: string;
  /** The first bad line's error, not thrown: the pass that appends the input meets it in its turn. */
  error?: TributaryError;
  /** Stopped by `stop()` before the end: the schema is a head's. */
  partial: boolean;
  /** Rows the accelerator showed to add nothing, in runs (SettledLines): 0 with it off. */
  accelerated: number;
}

/**
 * Reads NDJSON (a file path or "-") once to infer the schema its rows need beyond `table`'s (by
 * Spark's JSON inference rules, delta/infer.ts), holding no row: for a new table without a
 * schema, or --merge-schema, the input is then decoded with that schema, as with one given (as
 * Spark's JSON reader, which reads its input once to infer and again to load). Reading stops at
 * the first bad line (its error returned, not thrown), or when `stop()` says so after a chunk
 * (then the schema is the complete lines' before the end of that chunk: a head of the file). An
 * inference conflict (a column of two kinds) is thrown as found, with the row; `lines` gives that
 * row's input line.
 */
export async function inferNdjson(source: InputSource, table: StructType, lines: RowLines, opts: NdjsonOptions & { stop?: () => boolean; accelerate?: boolean } = {}): Promise<NdjsonInference> {
  const { name, stream } = openInput(source, true);
  const doc = new InputDocument(name);
  const inference = new SchemaInference(table);
  // Lines that add nothing to what is settled, skipped in runs by the NDJSON accelerator (as the
  // decoder's, on unless TRIBUTARY_NDJSON_WASM=0).
  const settled = (opts.accelerate ?? process.env.TRIBUTARY_NDJSON_WASM !== '0') ? new SettledLines(() => inference.settled()) : undefined;
  const reader = new NdjsonRowReader(
    name,
    { ...opts, numbering: doc },
    (row, line) => {
      const i = inference.rows;
      lines.note(i, line);
      if (row) {
        inference.add(row, i);
        settled?.changed();
      } else inference.again();
    },
    true,
    settled,
  );
  let partial = false;
  for await (const chunk of doc.lines(withProgress(name, stream, () => reader.rowCount, opts.onProgress))) {
    reader.push(chunk);
    if (reader.stopped) break;
    if ((partial = opts.stop?.() === true)) break;
  }
  const end = reader.end(partial);
  return { schema: inference.schema(), rows: inference.rows, name, error: end.error ?? (partial ? undefined : doc.error), partial, accelerated: settled?.taken ?? 0 };
}

/**
 * The reference path from rows to Arrow: the rows before the first bad line are built in chunks
 * (the first bad row wins, named by its input line), then the bad line's own error is thrown.
 */
export function ndjsonToBatches(input: NdjsonInput, schema: StructType, chunkRows = DEFAULT_CHUNK_ROWS): arrow.RecordBatch[] {
  const out: arrow.RecordBatch[] = [];
  for (let from = 0; from < input.rows.length; from += chunkRows) {
    try {
      out.push(rowsToRecordBatch(input.rows, schema, { from, to: Math.min(input.rows.length, from + chunkRows), ...JSON_TEXT }));
    } catch (e) {
      if (e instanceof TributaryError && typeof e.details.row === 'number') throw withInputLine(e, input.name, input.lines[e.details.row]);
      throw e;
    }
  }
  if (input.error) throw input.error;
  return out;
}

/**
 * NDJSON decoded into Arrow batches of a known schema as it is read (NdjsonDecoder): `batches`
 * reads the input a chunk at a time when the consumer asks for the next batch, so memory holds a
 * batch or two whatever the input's size. A bad line ends the stream with its error, after the
 * rows before it.
 */
export interface NdjsonBatches {
  batches: AsyncIterable<arrow.RecordBatch>;
  /** Rows decoded so far (all of them once `batches` has ended). */
  readonly rows: number;
  /** The input line of a row, for errors found after decoding (a partition directory too long). */
  lineOf(row: number): number | undefined;
  name: string;
}

/** Reads newline-delimited JSON (a file path or "-" for stdin) as a stream of Arrow batches: see NdjsonBatches. */
export function streamNdjson(source: InputSource, schema: StructType, opts: NdjsonOptions & { decodeWorkers?: number; alloc?: Allocator } = {}): NdjsonBatches {
  const threads = opts.decodeWorkers ?? 0;
  // The parallel decoder hands chunks to its threads as they are: only the decoder on this thread reads into reused buffers.
  const { name, stream } = openInput(source, threads === 0);
  let decoder: { readonly rows: number; lineOf(row: number): number | undefined } | undefined;
  const rows = () => decoder?.rows ?? 0;
  const doc = new InputDocument(name);
  async function* batches(): AsyncGenerator<arrow.RecordBatch> {
    const lines = doc.lines(withProgress(name, stream, rows, opts.onProgress));
    const first = await lines.next();
    const all = (async function* () {
      if (!first.done) yield first.value;
      yield* lines;
    })();
    if (threads > 0 && !doc.array) {
      // Ranges of the input decoded on threads (parallel-decoder.ts), the batches in input order.
      const parallel = new ParallelNdjsonDecoder({ schema, name, invalidUtf8: opts.invalidUtf8, threads, alsoHere: true });
      decoder = parallel;
      yield* parallel.decode(all);
      return;
    }
    // A JSON array's elements come one per line from a single stream: decoded here.
    const single = new NdjsonDecoder({ schema, name, invalidUtf8: opts.invalidUtf8, numbering: doc, alloc: opts.alloc });
    decoder = single;
    for await (const chunk of all) yield* single.push(chunk);
    yield* single.end();
    // The array's own syntax error comes after every element before it (which are checked first).
    if (doc.error) throw doc.error;
  }
  return {
    batches: batches(),
    get rows() {
      return rows();
    },
    lineOf: (r) => decoder?.lineOf(r),
    name,
  };
}
