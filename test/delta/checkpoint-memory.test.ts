import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { rowsToRecordBatch } from '../../src/arrow/record-batch.js';
import { CHECKPOINT_ROW_GROUP_ACTIONS, CHECKPOINT_SCHEMA, checkpointRows, readCheckpoint, writeCheckpoint } from '../../src/delta/checkpoint.js';
import { engineFor } from '../../src/delta/engine.js';
import { readFooter } from '../../src/parquet/footer.js';
import { pw } from '../../src/parquet/wasm.js';
import { stateActions } from '../support/checkpoint-actions.js';
import { tempDir } from '../support/tmp.js';

/**
 * A checkpoint holds every live file and every unexpired tombstone: for a stream that commits
 * every few seconds for months, tens of thousands of actions, written every 10 commits. Encoded
 * in one go, each larger checkpoint raised WebAssembly memory (which never shrinks) to its size:
 * the soak measured 5 -> 14 -> 25 -> 40 MiB. Written a row group of actions at a time, memory is
 * bounded by a chunk whatever the table's size. Sizes of WebAssembly memory are the allocator's,
 * not the clock's: counts, not timings.
 */
const tmp = tempDir('tributary-cpmem-');
const CHUNK = CHECKPOINT_ROW_GROUP_ACTIONS;

describe('checkpoints written a row group at a time', () => {
  it('a checkpoint of 200,000 actions raises WebAssembly memory by less than two chunks of actions (a chunk and the footer), and reads back whole, in row groups of at most a chunk, a row group at a time', async () => {
    const dir = tmp();
    const engine = await engineFor(dir);
    // Warm-up: a checkpoint of a few chunks brings WebAssembly memory to what one chunk needs.
    await writeCheckpoint(engine, 10, stateActions(4 * CHUNK, 4 * CHUNK));
    const warm = pw.wasmMemory().buffer.byteLength;

    const big = stateActions(100_000, 100_000);
    expect(big.length).toBeGreaterThan(200_000);
    const info = await writeCheckpoint(engine, 20, big);
    expect(info).toMatchObject({ version: 20, size: big.length, numOfAddFiles: 100_000 });
    // One chunk of adds, as Arrow IPC: what crosses into WebAssembly memory per chunk (2 MiB).
    // What may grow with the table is the footer the writer builds (each row group's metadata,
    // kept until the file closes: about 2 MiB here), never the actions themselves: encoded
    // whole, this checkpoint raised WebAssembly memory by 275 MiB, over 100 chunks.
    const chunkBytes = arrow.tableToIPC(new arrow.Table([rowsToRecordBatch(checkpointRows(big.slice(3, 3 + CHUNK)), CHECKPOINT_SCHEMA)]), 'stream').byteLength;
    expect(pw.wasmMemory().buffer.byteLength - warm).toBeLessThan(2 * chunkBytes);

    const file = path.join(dir, '_delta_log', '00000000000000000020.checkpoint.parquet');
    const footer = readFooter(new Uint8Array(readFileSync(file)));
    expect(footer.numRows).toBe(big.length);
    expect(footer.rowGroups.length).toBe(Math.ceil(big.length / CHUNK));
    expect(Math.max(...footer.rowGroups.map((g) => Number(g.numRows)))).toBe(CHUNK);

    // The content is the actions, in order, whatever row group they landed in.
    const back = await readCheckpoint(engine, '_delta_log/00000000000000000020.checkpoint.parquet');
    expect(back.length).toBe(big.length);
    for (const i of [0, 1, 2, 3, CHUNK - 1, CHUNK, CHUNK + 1, 100_002, 100_003, big.length - 1]) expect(back[i]).toEqual(big[i]);
    expect(back.filter((a) => 'remove' in a).length).toBe(100_000);
    // Loading it (what every snapshot load does) decodes a row group at a time too.
    expect(pw.wasmMemory().buffer.byteLength - warm).toBeLessThan(2 * chunkBytes);
  }, 180_000);
});
