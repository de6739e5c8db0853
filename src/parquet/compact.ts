import * as arrow from 'apache-arrow';
import { isTributaryError, TributaryError } from '../errors.js';
import { FlatParquetReader } from './flat-reader.js';
import { type CompactInput, defaultKeyValueMetadata, type ParquetCompactor } from './handler.js';
import { concatParquetFiles } from './ipc-concat.js';
import { pw } from './wasm.js';
import { plainColumns } from './plain-columns.js';
import type { EncoderThread, ThreadFile } from './wasm-thread.js';
import { LocalParquetStream } from './wasm-stream-file.js';

/** Rows per chunk sent to the encoder thread: the write path's chunk size. */
const CHUNK_ROWS = 65_536;
const ENCODE_OPTS = { compression: 'snappy' as const, rowGroupRows: 1024 * 1024 };

/**
 * OPTIMIZE's fast path with the arrow-rs writer on the encoder thread. Flat tables (top-level
 * primitive columns, the usual ingestion shape) have their files read in JavaScript by the flat
 * reader, 64K rows at a time, while the thread writes the previous chunk: a 100-row file costs a
 * footer parse and a few copies instead of a reader set-up in WebAssembly. Other tables go Parquet
 * to Parquet in WebAssembly. Anything unusual declines (undefined) and the caller takes its general
 * path, which reads every file through its own reader.
 */
export class WasmCompactor implements ParquetCompactor {
  /**
   * `thread` gives the encoder thread, or undefined: then the flat path writes on this thread
   * with `local` (a streaming writer, so a big bin never sits whole in WebAssembly memory), or
   * declines without it.
   */
  constructor(
    private readonly thread: () => EncoderThread | undefined,
    private readonly local = false,
  ) {}

  async compact(inputs: AsyncIterable<CompactInput>, schema: arrow.Schema, general: (input: CompactInput) => Promise<arrow.RecordBatch[]>): Promise<{ bytes: Uint8Array; rows?: number } | undefined> {
    const reader = FlatParquetReader.for(schema, CHUNK_ROWS);
    return reader ? this.flat(inputs, reader, general) : this.nested(inputs, schema);
  }

  /**
   * The files' rows are read here by the flat Parquet reader into Arrow chunks of the table's
   * types. A file the reader refuses (another writer's encoding or types, or a damaged file) is
   * read by the caller's general reader, which conforms it or names the file in its error, and
   * joins the same stream.
   */
  private async flat(inputs: AsyncIterable<CompactInput>, reader: FlatParquetReader, general: (input: CompactInput) => Promise<arrow.RecordBatch[]>): Promise<{ bytes: Uint8Array; rows: number } | undefined> {
    const thread = this.thread();
    if (!thread && !this.local) return undefined;
    let out: ThreadFile | LocalParquetStream | undefined;
    let sent = 0;
    const send = async (batch: arrow.RecordBatch) => {
      const config = { ...ENCODE_OPTS, keyValueMetadata: defaultKeyValueMetadata(), plainColumns: plainColumns(batch) };
      out ??= thread ? thread.open(config) : new LocalParquetStream(config);
      sent += batch.numRows;
      await out.write(arrow.tableToIPC(new arrow.Table([batch]), 'stream'));
    };
    try {
      for await (const input of inputs) {
        if (reader.append(input.bytes)) {
          if (reader.rows >= CHUNK_ROWS) await send(reader.flush());
          continue;
        }
        if (reader.rows) await send(reader.flush());
        for (const rb of await general(input)) if (rb.numRows) await send(rb);
      }
      if (reader.rows) await send(reader.flush());
      if (!out) return undefined;
      const bytes = await out.finish();
      if (out.rows !== sent) throw new TributaryError('INTERNAL', `OPTIMIZE: the encoder thread wrote ${out.rows} of ${sent} rows; nothing was committed`);
      return { bytes, rows: out.rows };
    } catch (e) {
      out?.abort();
      // The thread could not start (or died): the caller's general path encodes on its thread.
      if (thread && !thread.usable) return undefined;
      throw e;
    }
  }

  /**
   * Concatenates the rows of Parquet files in WebAssembly on the encoder thread, which decodes the
   * files and writes the rows as they come; when it falls behind, this thread decodes files too and
   * hands over their Arrow data, so both cores work. Declines when the files do not all have
   * exactly the table's Arrow types (other writers' files, older schemas) or WebAssembly cannot read
   * one (damaged): the caller's general path conforms every file and names a bad one.
   */
  private async nested(inputs: AsyncIterable<CompactInput>, schema: arrow.Schema): Promise<{ bytes: Uint8Array; rows?: number } | undefined> {
    const encodeOpts = { ...ENCODE_OPTS, keyValueMetadata: defaultKeyValueMetadata() };
    const thread = this.thread();
    if (!thread) {
      try {
        const bytes = await concatParquetFiles((async function* () { for await (const i of inputs) yield i.bytes; })(), encodeOpts);
        return bytes && { bytes };
      } catch (e) {
        if (isTributaryError(e)) throw e;
        return undefined;
      }
    }
    let out: ThreadFile | undefined;
    try {
      for await (const input of inputs) {
        if (!out) {
          const first = pw.readParquet(input.bytes);
          const t = arrow.tableFromIPC(first.intoIPCStream());
          if (!sameTypes(t.schema, schema) || !t.batches.length) return undefined;
          out = thread.open({ ...encodeOpts, plainColumns: plainColumns(t.batches[0]) }, 64);
          await out.writeParquet(input.bytes);
          continue;
        }
        // Acknowledgements arrive as messages: let them in before judging the backlog.
        if (out.backlog >= LOCAL_DECODE_BACKLOG) await new Promise((r) => setImmediate(r));
        if (out.backlog >= LOCAL_DECODE_BACKLOG) await out.write(pw.readParquet(input.bytes).intoIPCStream());
        else await out.writeParquet(input.bytes);
      }
      if (!out) return undefined;
      return { bytes: await out.finish(), rows: out.rows };
    } catch (e) {
      out?.abort();
      // A file whose types differ from the first one's, a damaged file, or a thread that died.
      if (isTributaryError(e, 'SCHEMA_MISMATCH') || !thread.usable || !isTributaryError(e)) return undefined;
      throw e;
    }
  }
}

/** Files whose rows this thread decodes itself once this many wait for the encoder thread. */
const LOCAL_DECODE_BACKLOG = 16;

/** Same field names and Arrow types (nullability and metadata aside), recursively. */
function sameTypes(a: arrow.Schema, b: arrow.Schema): boolean {
  const sig = (s: arrow.Schema) => JSON.stringify(s.fields.map((f) => [f.name, String(f.type)]));
  return sig(a) === sig(b);
}
