/**
 * The Parquet writer (arrow-rs.ts) on its own thread. A file arrives as Arrow IPC chunks and
 * leaves as Parquet bytes; the writer encodes chunk k while the main thread builds chunk k+1.
 * Each chunk is acknowledged ('consumed') when the writer takes it, so the main thread never runs
 * more than a few chunks ahead and WebAssembly memory (which never shrinks) stays bounded by a
 * chunk plus the open row group. The writer is synchronous: a chunk is taken, encoded and its
 * bytes handed on in one message's turn, and messages keep their order.
 */
import { parentPort } from 'node:worker_threads';
import { ArrowRsFile, ArrowRsWriteError, arrowRsMemoryBytes, concatBytes } from './arrow-rs.js';
import type { WasmWriterConfig } from './wasm-properties.js';
import { joinedSize, joinInto, type Pieces } from './ipc-join.js';
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

interface OpenFile {
  writer: ArrowRsFile;
  /** Whether each part goes to the main thread as the writer produces it (else kept to finish). */
  streamed: boolean;
  parts: Uint8Array[];
  /** The stats of the chunks that came with columns, when the file has a plan. */
  extremes: ColumnExtremes | undefined;
  /** Why a chunk could not be taken: finish reports it instead of the bytes. */
  failure: { message: string; code?: 'SCHEMA_MISMATCH' } | undefined;
}

const port = parentPort!;
const files = new Map<number, OpenFile>();
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

function open(id: number, config: WasmWriterConfig, streamed: boolean, plan: ExtremesPlan | undefined) {
  files.set(id, { writer: new ArrowRsFile(config), streamed, parts: [], extremes: plan && new ColumnExtremes(plan), failure: undefined });
}

/**
 * Takes one chunk into the file, and acknowledges it (once, whatever happens: the main thread
 * waits for it). After a failure, chunks are acknowledged and dropped; finish reports it.
 */
function write(id: number, file: OpenFile, m: Extract<ToWorker, { op: 'write' | 'writePieces' | 'writeParquet' }>) {
  let acknowledged = false;
  const acknowledge = () => {
    if (!acknowledged) post({ op: 'consumed', id });
    acknowledged = true;
  };
  try {
    if (file.failure) return;
    if (m.op === 'writePieces') {
      const pieces = m.pieces;
      // Before the buffers go back: the columns view them.
      if (m.columns) {
        if (!file.extremes) throw new Error('a chunk came with columns for stats to a file opened without a stats plan');
        file.extremes.add(m.columns);
      }
      // Joined straight into the writer's memory; the buffers go back, and the chunk is taken, before it is encoded.
      file.writer.writeIpcFrom(joinedSize(pieces), (dst) => {
        joinInto(pieces, dst);
        giveBack(pieces);
        acknowledge();
      });
    } else {
      acknowledge();
      if (m.op === 'write') file.writer.writeIpc(m.ipc);
      else file.writer.writeParquet(m.parquet);
    }
    handOn(id, file);
  } catch (e) {
    file.failure = { message: (e as Error)?.message ?? String(e), code: e instanceof ArrowRsWriteError ? e.code : undefined };
  } finally {
    acknowledge();
  }
}

/** The bytes the writer produced: posted at once for a streamed file, else kept to finish. */
function handOn(id: number, file: OpenFile) {
  const p = file.writer.take();
  if (!p) return;
  if (file.streamed) post({ op: 'part', id, bytes: p }, [p.buffer as ArrayBuffer]);
  else file.parts.push(p);
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

function finish(id: number, file: OpenFile) {
  files.delete(id);
  if (file.failure) {
    file.writer.close();
    return post({ op: 'error', id, ...file.failure });
  }
  const rows = file.writer.rows;
  const rest = file.writer.finish();
  let bytes: Uint8Array;
  if (file.streamed) {
    if (rest.length) post({ op: 'part', id, bytes: rest }, [rest.buffer as ArrayBuffer]);
    bytes = new Uint8Array(0);
  } else bytes = concatBytes([...file.parts, rest]);
  post({ op: 'done', id, bytes, rows, extremes: file.extremes?.result() }, [bytes.buffer as ArrayBuffer]);
}

port.on('message', (m: ToWorker) => {
  try {
    if (m.op === 'open') return open(m.id, m.config, m.streamed ?? false, m.extremes);
    if (m.op === 'memory') return post({ op: 'memory', id: 0, bytes: arrowRsMemoryBytes() });
    const file = files.get(m.id);
    if (!file) return;
    if (m.op === 'write' || m.op === 'writeParquet' || m.op === 'writePieces') write(m.id, file, m);
    else if (m.op === 'finish') finish(m.id, file);
    else {
      files.delete(m.id);
      file.writer.close();
    }
  } catch (e) {
    files.get(m.id)?.writer.close();
    files.delete(m.id);
    post({ op: 'error', id: m.id, message: (e as Error)?.message ?? String(e) });
  }
});

post({ op: 'ready', id: 0 });
