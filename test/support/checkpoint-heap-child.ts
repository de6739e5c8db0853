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
import { CHECKPOINT_ROW_GROUP_ACTIONS, CHECKPOINT_SCHEMA, checkpointRows, encodeCheckpoint } from '../../src/delta/checkpoint.js';
import { engineFor } from '../../src/delta/engine.js';

const [mode, iterations, dir] = process.argv.slice(2);

function heapKiB(): number {
  const m = /\[heap\]\n(?:.*\n)*?Rss:\s+(\d+)/.exec(readFileSync('/proc/self/smaps', 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** The table after `n` commits of a stream with auto-compaction: live files and tombstones. */
function actionsAt(n: number): Action[] {
  const out: Action[] = [{ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }];
  for (let i = 0; i < n; i++) {
    const stats = JSON.stringify({ numRecords: 1000, minValues: { id: i * 1000, ts: '2026-12-02T10:00:00.000Z' }, maxValues: { id: i * 1000 + 999, ts: '2026-12-02T10:00:09.999Z' }, nullCount: { id: 0, ts: 0 } });
    const name = `part-${String(i).padStart(5, '0')}-1b2c3d4e-5f60-7182-93a4-b5c6d7e8f900-c000.snappy.parquet`;
    if (i % 4 === 0) out.push({ add: { path: name, partitionValues: {}, size: 8000 + (i % 97), modificationTime: 1_764_633_600_000 + i, dataChange: true, stats } });
    else out.push({ remove: { path: name, deletionTimestamp: 1_764_633_600_000 + i, dataChange: false, extendedFileMetadata: true, partitionValues: {}, size: 8000 + (i % 89) } });
  }
  return out;
}

const engine = await engineFor(dir);
const gc = (globalThis as { gc?: () => void }).gc!;
for (let it = 0; it < Number(iterations); it++) {
  // The table grows by 10 commits between checkpoints, so every build has new buffer sizes.
  const actions = actionsAt(5_500 + it * 10);
  if (mode === 'encode') await encodeCheckpoint(engine, actions, CHECKPOINT_SCHEMA);
  else {
    for (let i = 0; i < actions.length; i += CHECKPOINT_ROW_GROUP_ACTIONS) {
      rowsToRecordBatch(checkpointRows(actions.slice(i, i + CHECKPOINT_ROW_GROUP_ACTIONS)), CHECKPOINT_SCHEMA, mode === 'arena' ? { alloc: new BufferArena() } : {});
    }
  }
  // Garbage is collected when V8 decides, as in a running query, and measured after a full GC.
  if (it % 10 === 9) {
    gc();
    console.log(JSON.stringify({ it, heapKiB: heapKiB() }));
  }
}
