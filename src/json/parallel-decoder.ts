import type { Worker } from 'node:worker_threads';
import { besideModule, startThread } from '../threads.js';
import * as arrow from 'apache-arrow';
import { batchFromParts } from '../arrow/transfer.js';
import { toArrowSchema } from '../arrow/types.js';
import { TributaryError } from '../errors.js';
import { schemaToString, type StructType } from '../schema/schema.js';
import type { FromDecoder, ToDecoder } from './decode-worker.js';
import { DEFAULT_CHUNK_ROWS, NdjsonDecoder } from './ndjson-decoder.js';
import { decodeRange, type DecodedRange } from './decode-range.js';

export interface ParallelDecodeOptions {
  schema: StructType;
  name: string;
  invalidUtf8?: 'error' | 'replace';
  /** The threads to decode on: a count (started here, ended with the input) or threads to share. */
  threads: number | DecodeThreads;
  /** Bytes per range handed to a thread (cut back to the last newline); default 8 MiB. */
  rangeBytes?: number;
  chunkRows?: number;
  /**
   * The calling thread decodes a share of the ranges too (one in every threads + 1), while it
   * waits for the threads' ranges: on a machine with few cores, one decoding thread beside it
   * doubles the decoding without a third busy thread besides the Parquet encoder's.
   */
  alsoHere?: boolean;
}

/** A range cut from the input: sent to a thread (its answer to come), or kept to decode here. */
type Range = { atStart: boolean } & ({ reply: Promise<FromDecoder> } | { pieces: Uint8Array[]; decoded?: DecodedRange });

const DEFAULT_RANGE_BYTES = 8 * 1024 * 1024;

/** Decoding threads (decode-worker.ts), each answering the ranges posted to it in order. */
export class DecodeThreads {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: (m: FromDecoder) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  constructor(count: number) {
    if (!Number.isInteger(count) || count < 1) throw new TributaryError('INVALID_ARGUMENT', `decoding threads must be a whole number of at least 1, got ${count}`);
    // The decode-worker beside this module: dist/json/'s, or from the CLI's bundle the bundle's
    // entry, which shares the CLI's chunks (scripts/bundle-cli.mjs: not apache-arrow's ~150 files).
    const url = besideModule(import.meta.url, 'decode-worker');
    for (let i = 0; i < count; i++) {
      const w = startThread(url);
      w.on('message', (m: FromDecoder) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        p?.resolve(m);
      });
      const fail = (e: Error) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      };
      w.on('error', fail);
      w.on('exit', (code) => fail(new TributaryError('INTERNAL', `an NDJSON decoding thread exited (code ${code})`)));
      this.workers.push(w);
    }
  }

  get count(): number {
    return this.workers.length;
  }

  /** Posts a range (its pieces' buffers transferred) to the next thread in turn; resolves with its answer. */
  decode(m: Omit<ToDecoder, 'id'>): Promise<FromDecoder> {
    const id = this.nextId++;
    const reply = new Promise<FromDecoder>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    reply.catch(() => undefined); // a range nobody waits for any more (the input failed earlier)
    this.workers[id % this.workers.length].postMessage({ ...m, id } satisfies ToDecoder, m.pieces.map((p) => p.buffer as ArrayBuffer));
    return reply;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * NDJSON decoded into Arrow batches by several threads at once: the input is cut at line
 * boundaries into ranges of about `rangeBytes`, each decoded on a thread of its own
 * (decode-worker.ts) and sent back as its batches' buffers, and the batches come out in input order. Rows
 * and lines keep the whole input's numbers: a range's first row and line are known once the
 * ranges before it are back. A range that fails is decoded again here from its bytes, knowing
 * where it starts, so its error (and which of several problems is reported) is exactly a single
 * decoder's: the rows before its bad line come out first, then the error. Ranges after it are
 * dropped. At most two ranges per thread are in flight, so memory holds about
 * 2 x threads x rangeBytes of input and their batches, whatever the input's size.
 */
export class ParallelNdjsonDecoder {
  private readonly rangeBytes: number;
  private readonly schemaString: string;
  /** What the threads' batches are put back together against (their parts carry no types). */
  private readonly arrowSchema: arrow.Schema;
  private readonly breakRows: number[] = [];
  private readonly breakDeltas: number[] = [];
  private rowCount = 0;
  private lineCount = 0;

  constructor(private readonly opts: ParallelDecodeOptions) {
    this.rangeBytes = opts.rangeBytes ?? DEFAULT_RANGE_BYTES;
    this.schemaString = schemaToString(opts.schema);
    this.arrowSchema = toArrowSchema(opts.schema);
  }

  /** Rows decoded so far. */
  get rows(): number {
    return this.rowCount;
  }

  /** The input line of a row handed out so far. */
  lineOf(row: number): number | undefined {
    if (!(row >= 0 && row < this.rowCount) || !this.breakRows.length) return undefined;
    let lo = 0;
    let hi = this.breakRows.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.breakRows[mid] <= row) lo = mid;
      else hi = mid - 1;
    }
    return row + this.breakDeltas[lo];
  }

  /**
   * The batches of the input read from `chunks`, in order. The threads end when it does. A range
   * is the chunks as they were read, the last one cut after its last newline (what follows, less
   * than a line, is copied to start the next range): the input is never copied into ranges, and
   * a chunk's buffer is transferred to its thread, not cloned.
   */
  async *decode(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<arrow.RecordBatch> {
    const own = typeof this.opts.threads === 'number';
    const threads = typeof this.opts.threads === 'number' ? new DecodeThreads(this.opts.threads) : this.opts.threads;
    const inFlight: Range[] = [];
    // With alsoHere, every (count + 1)th range stays on this thread.
    const turn = threads.count + (this.opts.alsoHere ? 1 : 0);
    let ranges = 0;
    const send = (pieces: Uint8Array[], atStart: boolean) => {
      if (this.opts.alsoHere && ranges++ % turn === threads.count) {
        inFlight.push({ atStart, pieces });
        return;
      }
      const reply = threads.decode({ pieces, atStart, schemaString: this.schemaString, ...this.request() });
      inFlight.push({ reply, atStart });
    };
    const max = 2 * turn;
    try {
      let atStart = true;
      let pieces: Uint8Array[] = [];
      let bytes = 0;
      for await (const chunk of chunks) {
        // Only a chunk with a buffer of its own can be transferred; any other is copied once.
        // (new Uint8Array(view) copies; a Buffer's slice() would be another view of the same memory.)
        const piece = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : new Uint8Array(chunk);
        pieces.push(piece);
        bytes += piece.length;
        if (bytes < this.rangeBytes) continue;
        // A full range: cut after the chunk's last newline (a line longer than a range waits for its end).
        const nl = piece.lastIndexOf(0x0a);
        if (nl < 0) continue;
        const rest = new Uint8Array(piece.subarray(nl + 1));
        pieces[pieces.length - 1] = piece.subarray(0, nl + 1);
        send(pieces, atStart);
        atStart = false;
        pieces = rest.length ? [rest] : [];
        bytes = rest.length;
        while (inFlight.length >= max) yield* this.take(inFlight);
      }
      if (bytes > 0 || atStart) send(pieces, atStart);
      while (inFlight.length) yield* this.take(inFlight);
    } finally {
      if (own) await threads.close();
    }
  }

  private request() {
    return { name: this.opts.name, invalidUtf8: this.opts.invalidUtf8 ?? 'error', chunkRows: this.opts.chunkRows ?? DEFAULT_CHUNK_ROWS } as const;
  }

  /** The oldest range's batches, numbered from where the ranges before it ended. */
  private async *take(inFlight: Range[]): AsyncGenerator<arrow.RecordBatch> {
    const head = inFlight[0];
    // While the oldest range is on a thread, the next range kept here is decoded meanwhile.
    if ('reply' in head) {
      const mine = inFlight.find((r): r is Range & { pieces: Uint8Array[]; decoded?: DecodedRange } => 'pieces' in r && !r.decoded);
      if (mine) mine.decoded = decodeRange(this.opts.schema, { pieces: mine.pieces, atStart: mine.atStart, ...this.request() });
    }
    inFlight.shift();
    let m: DecodedRange;
    let pieces: Uint8Array[];
    if ('reply' in head) {
      const r = await head.reply;
      pieces = r.ok ? [] : r.pieces;
      m = r.ok ? { ...r, batches: r.batches.map((p) => batchFromParts(this.arrowSchema, p)) } : { ok: false };
    } else {
      pieces = head.pieces;
      m = head.decoded ?? decodeRange(this.opts.schema, { pieces: head.pieces, atStart: head.atStart, ...this.request() });
    }
    if (!m.ok) {
      // Decoded again here, as a single decoder would have met it: the rows before the bad
      // line, then its error.
      const d = new NdjsonDecoder({ schema: this.opts.schema, name: this.opts.name, invalidUtf8: this.opts.invalidUtf8, chunkRows: this.opts.chunkRows, atStart: head.atStart, firstRow: this.rowCount, firstLine: this.lineCount + 1 });
      let seen = 0;
      // Each step hands out its rows (numbered, for lineOf) before the next may throw.
      const step = (out: arrow.RecordBatch[]) => {
        const { rows, deltas } = d.lineBreaks;
        this.addBreaks(rows.slice(seen), deltas.slice(seen), 0, 0);
        seen = rows.length;
        this.rowCount = d.rows;
        return out;
      };
      for (const piece of pieces) yield* step(d.push(piece)); // the rows before the bad line, when it ends with a newline
      yield* step(d.end()); // throws the line's error
      throw new TributaryError('INTERNAL', `${this.opts.name}: a decoding thread refused lines that decode here; please report this`);
    }
    this.addBreaks(m.breakRows, m.breakDeltas, this.rowCount, this.lineCount);
    this.rowCount += m.rows;
    this.lineCount += m.lines;
    yield* m.batches;
  }

  /** A range's lineOf table, moved by its first row and line. */
  private addBreaks(rows: readonly number[], deltas: readonly number[], row0: number, line0: number): void {
    for (let i = 0; i < rows.length; i++) {
      const delta = deltas[i] + line0 - row0;
      if (this.breakDeltas.length && this.breakDeltas[this.breakDeltas.length - 1] === delta) continue;
      this.breakRows.push(rows[i] + row0);
      this.breakDeltas.push(delta);
    }
  }
}
