/**
 * Child of test/delta/checkpoint-heap.test.ts: builds the Arrow input of a growing table's
 * checkpoint again and again, as a long-lived stream does, and prints the resident size of
 * glibc's main heap (`[heap]` in /proc/self/smaps) after a full GC.
 *
 *   node --expose-gc --import tsx checkpoint-heap-child.ts heap|arena|encode <iterations> <dir>
 *
 * heap: the builders' buffers each their own allocation (what checkpoints did before arena.ts);
 * arena: one BufferArena per chunk; encode: encodeCheckpoint itself (through the Parquet writer).
 */
import { readFileSync } from 'node:fs';
import { BufferArena } from '../../src/arrow/arena.js';
import { rowsToRecordBatch } from '../../src/arrow/record-batch.js';
import type { Action } from '../../src/delta/actions.js';
import { CHECKPOINT_CHUNK_ACTIONS, CHECKPOINT_SCHEMA, checkpointRows, encodeCheckpoint } from '../../src/delta/checkpoint.js';
import { engineFor } from '../../src/delta/engine.js';
import { stateActions } from './checkpoint-actions.js';

const [mode, iterations, dir] = process.argv.slice(2);

function heapKiB(): number {
  const m = /\[heap\]\n(?:.*\n)*?Rss:\s+(\d+)/.exec(readFileSync('/proc/self/smaps', 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** The table after `n` commits of a stream with auto-compaction: a quarter live files, the rest tombstones. */
const actionsAt = (n: number): Action[] => stateActions(Math.ceil(n / 4), n - Math.ceil(n / 4));

const engine = await engineFor(dir);
const gc = (globalThis as { gc?: () => void }).gc!;
for (let it = 0; it < Number(iterations); it++) {
  // The table grows by 10 commits between checkpoints, so every build has new buffer sizes.
  const actions = actionsAt(5_500 + it * 10);
  if (mode === 'encode') await encodeCheckpoint(engine, actions, CHECKPOINT_SCHEMA);
  else {
    for (let i = 0; i < actions.length; i += CHECKPOINT_CHUNK_ACTIONS) {
      rowsToRecordBatch(checkpointRows(actions.slice(i, i + CHECKPOINT_CHUNK_ACTIONS)), CHECKPOINT_SCHEMA, mode === 'arena' ? { alloc: new BufferArena() } : {});
    }
  }
  // Garbage is collected when V8 decides, as in a running query, and measured after a full GC.
  if (it % 10 === 9) {
    gc();
    console.log(JSON.stringify({ it, heapKiB: heapKiB() }));
  }
}
