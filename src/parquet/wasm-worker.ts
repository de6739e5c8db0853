/**
 * The parquet-wasm encoder on its own thread. A file arrives as Arrow IPC chunks and leaves as
 * Parquet bytes; the arrow-rs writer encodes chunk k while the main thread builds chunk k+1.
 * Chunks are handed to the writer only when it asks for the next one (a pull stream), and each
 * is acknowledged then, so the main thread never runs more than a few chunks ahead and WASM
 * memory (which never shrinks) stays bounded by a few chunks plus the open row group.
 */
import { parentPort } from 'node:worker_threads';
import { pw, type PW } from './wasm.js';
import { enqueueAndFree } from './wasm-input.js';
import { writerProperties, type WasmWriterConfig } from './wasm-properties.js';
import { IpcJoiner, type Pieces } from './ipc-join.js';
import { POOLED_MIN_BYTES } from '../arrow/buffer-pool.js';
import { ColumnExtremes, type ColumnData, type ExtremesPlan, type ExtremesResult } from '../arrow/extremes.js';

export type ToWorker =
  /**
   * `streamed`: each part of the file is posted as the writer produces it (see FromWorker 'part').
   * `extremes`: the stats plan of the file, whose chunks come with their `columns` (arrow/extremes.ts).
   */
  | { op: 'open'; id: number; config: WasmWriterConfig; streamed?: boolean; extremes?: ExtremesPlan }
  | { op: 'write'; id: number; ipc: Uint8Array }
  /**
   * A chunk as the pieces of its IPC stream (arrow/ipc-pieces.ts), joined here when the writer
   * takes it; with `columns`, views of the same buffers whose extremes are gathered here.
   */
  | { op: 'writePieces'; id: number; pieces: Pieces; columns?: ColumnData }
  /** A whole Parquet file whose rows are appended (OPTIMIZE): decoded here, never in JavaScript. */
  | { op: 'writeParquet'; id: number; parquet: Uint8Array }
  | { op: 'finish'; id: number }
  | { op: 'abort'; id: number }
  /** Asks for the thread's WebAssembly memory size (FromWorker 'memory'). */
  | { op: 'memory'; id: 0 };

export type FromWorker =
  | { op: 'ready'; id: 0 }
  | { op: 'memory'; id: 0; bytes: number }
  | { op: 'consumed'; id: number }
  /** Buffers of handed-over chunks, given back once joined (see giveBack). */
  | { op: 'recycle'; id: 0; buffers: ArrayBuffer[] }
  /** A streamed file's next bytes (the header and first row groups, a row group, the footer), in order. */
  | { op: 'part'; id: number; bytes: Uint8Array }
  /** `bytes` is empty for a streamed file: its bytes went out as parts. `extremes`: of the chunks that came with columns. */
  | { op: 'done'; id: number; bytes: Uint8Array; rows: number; extremes?: ExtremesResult }
  /** `code` is a TributaryError code when the failure is one the caller acts on (SCHEMA_MISMATCH). */
  | { op: 'error'; id: number; message: string; code?: 'SCHEMA_MISMATCH' };

type Chunk = { bytes: Uint8Array; parquet: boolean } | { pieces: Pieces; columns?: ColumnData };

interface OpenFile {
  queue: Chunk[];
  /** The first chunk's Arrow schema (IPC bytes): every later chunk must match it exactly. */
  schema: Uint8Array | undefined;
  waiting: ((v: void) => void) | undefined;
  closed: boolean;
  /** Rows handed to the writer. */
  rows: number;
  /** The stats of the chunks that came with columns, when the file has a plan. */
  extremes: ColumnExtremes | undefined;
  /**
   * Why a chunk could not be taken. The writer treats a failing input stream as its end and
   * would finish a file without the remaining rows, so the failure is kept here and finish
   * reports it instead of the bytes.
   */
  failure: { message: string; code?: 'SCHEMA_MISMATCH' } | undefined;
  output: Promise<ReadableStream<Uint8Array>>;
  /**
   * The Parquet bytes, read from the writer as it produces them (a row group at a time). Read
   * from the start, not at finish: the output stream applies backpressure, so a file of more
   * than a couple of row groups would otherwise stop the writer pulling input, and the main
   * thread, waiting for its chunks to be consumed, would wait forever. A streamed file's are
   * posted at once instead of kept (empty here): keeping them, and joining them at the end,
   * held the whole file twice on this thread.
   */
  parts: Promise<Uint8Array[]>;
}

const port = parentPort!;
const files = new Map<number, OpenFile>();
/** One for the thread: a chunk is joined and taken into WebAssembly memory in one synchronous step. */
const joiner = new IpcJoiner();
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

function open(id: number, config: WasmWriterConfig, streamed: boolean, plan: ExtremesPlan | undefined) {
  const file: OpenFile = { queue: [], schema: undefined, waiting: undefined, closed: false, rows: 0, extremes: plan && new ColumnExtremes(plan), failure: undefined, output: undefined as never, parts: undefined as never };
  const input = new ReadableStream<PW.RecordBatch>(
    {
      // The writer pulls one chunk at a time; until one arrives, it waits here.
      async pull(controller) {
        while (!file.queue.length && !file.closed) await new Promise<void>((resolve) => (file.waiting = resolve));
        const chunk = file.queue.shift();
        if (!chunk || file.failure) return controller.close();
        try {
          // The joined pieces are copied into WebAssembly memory here, before the joiner's buffer is reused.
          const table = 'pieces' in chunk ? pw.Table.fromIPCStream(joiner.join(chunk.pieces)) : chunk.parquet ? pw.readParquet(chunk.bytes) : pw.Table.fromIPCStream(chunk.bytes);
          if ('pieces' in chunk) {
            // Before the buffers go back: the columns view them.
            if (chunk.columns) {
              if (!file.extremes) throw new Error('a chunk came with columns for stats to a file opened without a stats plan');
              file.extremes.add(chunk.columns);
            }
            giveBack(chunk.pieces);
          }
          const schema = table.schema.intoIPCStream();
          if (!file.schema) file.schema = schema;
          else if (Buffer.compare(file.schema, schema) !== 0) {
            table.free();
            file.failure = { message: 'a chunk has a different Arrow schema from the first', code: 'SCHEMA_MISMATCH' };
            file.queue.length = 0;
            controller.close();
            post({ op: 'consumed', id });
            return;
          }
          file.rows += enqueueAndFree(table, controller);
        } catch (e) {
          file.failure = { message: (e as Error)?.message ?? String(e) };
          file.queue.length = 0;
          controller.close();
        }
        post({ op: 'consumed', id });
      },
    },
    { highWaterMark: 0 },
  );
  file.output = pw.transformParquetStream(input, writerProperties(config)) as Promise<ReadableStream<Uint8Array>>;
  file.output.catch(() => undefined);
  file.parts = file.output.then(async (output) => {
    const parts: Uint8Array[] = [];
    for await (const p of output) {
      if (!streamed) parts.push(p);
      else if (files.has(id)) {
        const own = transferable(p);
        post({ op: 'part', id, bytes: own }, [own.buffer as ArrayBuffer]);
      }
    }
    return parts;
  });
  file.parts.catch(() => undefined); // reported by finish; an aborted file's is not awaited
  files.set(id, file);
}

/**
 * A joined chunk's large buffers go back to the main thread (moved again), where its decoder
 * builds later chunks in them (arrow/buffer-pool.ts). Nothing here views them any more: the
 * joined copy is in WebAssembly memory.
 */
function giveBack(pieces: Pieces) {
  const buffers = [...new Set(pieces.body.map((v) => v.buffer as ArrayBuffer))].filter((b) => b.byteLength >= POOLED_MIN_BYTES);
  if (buffers.length) post({ op: 'recycle', id: 0, buffers }, buffers);
}

function wake(file: OpenFile) {
  const w = file.waiting;
  file.waiting = undefined;
  w?.();
}

async function finish(id: number, file: OpenFile) {
  file.closed = true;
  wake(file);
  const parts = await file.parts;
  let total = 0;
  for (const p of parts) total += p.length;
  const bytes = parts.length === 1 ? parts[0] : new Uint8Array(total);
  if (parts.length !== 1) {
    let pos = 0;
    for (const p of parts) {
      bytes.set(p, pos);
      pos += p.length;
    }
  }
  files.delete(id);
  if (file.failure) return post({ op: 'error', id, ...file.failure });
  post({ op: 'done', id, bytes, rows: file.rows, extremes: file.extremes?.result() }, [bytes.buffer as ArrayBuffer]);
}

port.on('message', (m: ToWorker) => {
  try {
    if (m.op === 'open') return open(m.id, m.config, m.streamed ?? false, m.extremes);
    if (m.op === 'memory') return post({ op: 'memory', id: 0, bytes: pw.wasmMemory().buffer.byteLength });
    const file = files.get(m.id);
    if (!file) return;
    if (m.op === 'write' || m.op === 'writeParquet' || m.op === 'writePieces') {
      file.queue.push(m.op === 'write' ? { bytes: m.ipc, parquet: false } : m.op === 'writePieces' ? { pieces: m.pieces, columns: m.columns } : { bytes: m.parquet, parquet: true });
      wake(file);
    } else if (m.op === 'finish') {
      finish(m.id, file).catch((e: unknown) => {
        files.delete(m.id);
        post({ op: 'error', id: m.id, message: (e as Error)?.message ?? String(e) });
      });
    } else {
      file.queue.length = 0;
      file.closed = true;
      wake(file);
      files.delete(m.id);
    }
  } catch (e) {
    files.delete(m.id);
    post({ op: 'error', id: m.id, message: (e as Error)?.message ?? String(e) });
  }
});

/** Transfer needs a buffer of its own; a view into a larger one is copied first. */
function transferable(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

post({ op: 'ready', id: 0 });
