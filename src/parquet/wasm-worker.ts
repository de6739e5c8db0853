/**
 * The parquet-wasm encoder on its own thread. A file arrives as Arrow IPC chunks and leaves as
 * Parquet bytes; the arrow-rs writer encodes chunk k while the main thread builds chunk k+1.
 * Chunks are handed to the writer only when it asks for the next one (a pull stream), and each
 * is acknowledged then, so the main thread never runs more than a few chunks ahead and WASM
 * memory (which never shrinks) stays bounded by a few chunks plus the open row group.
 */
import { parentPort } from 'node:worker_threads';
import * as pw from 'parquet-wasm';
import { writerProperties, type WasmWriterConfig } from './wasm-properties.js';

export type ToWorker =
  | { op: 'open'; id: number; config: WasmWriterConfig }
  | { op: 'write'; id: number; ipc: Uint8Array }
  | { op: 'finish'; id: number }
  | { op: 'abort'; id: number };

export type FromWorker =
  | { op: 'ready'; id: 0 }
  | { op: 'consumed'; id: number }
  | { op: 'done'; id: number; bytes: Uint8Array }
  | { op: 'error'; id: number; message: string };

interface OpenFile {
  queue: Uint8Array[];
  waiting: ((v: void) => void) | undefined;
  closed: boolean;
  output: Promise<ReadableStream<Uint8Array>>;
}

const port = parentPort!;
const files = new Map<number, OpenFile>();
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

function open(id: number, config: WasmWriterConfig) {
  const file: OpenFile = { queue: [], waiting: undefined, closed: false, output: undefined as never };
  const input = new ReadableStream<pw.RecordBatch>(
    {
      // The writer pulls one chunk at a time; until one arrives, it waits here.
      async pull(controller) {
        while (!file.queue.length && !file.closed) await new Promise<void>((resolve) => (file.waiting = resolve));
        const ipc = file.queue.shift();
        if (!ipc) return controller.close();
        for (const rb of pw.Table.fromIPCStream(ipc).recordBatches()) controller.enqueue(rb);
        post({ op: 'consumed', id });
      },
    },
    { highWaterMark: 0 },
  );
  file.output = pw.transformParquetStream(input, writerProperties(config)) as Promise<ReadableStream<Uint8Array>>;
  file.output.catch(() => undefined);
  files.set(id, file);
}

function wake(file: OpenFile) {
  const w = file.waiting;
  file.waiting = undefined;
  w?.();
}

async function finish(id: number, file: OpenFile) {
  file.closed = true;
  wake(file);
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const p of await file.output) {
    parts.push(p);
    total += p.length;
  }
  const bytes = parts.length === 1 ? parts[0] : new Uint8Array(total);
  if (parts.length !== 1) {
    let pos = 0;
    for (const p of parts) {
      bytes.set(p, pos);
      pos += p.length;
    }
  }
  files.delete(id);
  post({ op: 'done', id, bytes }, [bytes.buffer as ArrayBuffer]);
}

port.on('message', (m: ToWorker) => {
  try {
    if (m.op === 'open') return open(m.id, m.config);
    const file = files.get(m.id);
    if (!file) return;
    if (m.op === 'write') {
      file.queue.push(m.ipc);
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

post({ op: 'ready', id: 0 });
