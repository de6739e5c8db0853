import type { PW } from './wasm.js';

/**
 * Hands every batch of `table` (one decoded chunk) to the arrow-rs writer's input stream and frees
 * the table; returns the rows handed on. The batches share the table's buffers, but the table
 * itself would stay in WebAssembly memory until a finalizer ran after some later GC (rare on the
 * encoder thread, whose JavaScript heap stays small): a file's every chunk was then live at once,
 * about 300 MiB of a 50M-line append's peak, and WebAssembly memory never shrinks after.
 */
export function enqueueAndFree(table: PW.Table, controller: ReadableStreamDefaultController<PW.RecordBatch>): number {
  try {
    let rows = 0;
    for (const rb of table.recordBatches()) {
      rows += rb.numRows;
      controller.enqueue(rb);
    }
    return rows;
  } finally {
    table.free();
  }
}
