import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { rowsToRecordBatch } from '../../src/arrow/record-batch.js';
import { CHECKPOINT_CHUNK_ACTIONS, CHECKPOINT_ROW_GROUP_ACTIONS, CHECKPOINT_SCHEMA, checkpointRows, readCheckpoint, writeCheckpoint } from '../../src/delta/checkpoint.js';
import { engineFor } from '../../src/delta/engine.js';
import { readFooter } from '../../src/parquet/footer.js';
import { pw } from '../../src/parquet/wasm.js';
import type { Action } from '../../src/delta/actions.js';
import { stateActions } from '../support/checkpoint-actions.js';
import { tempDir } from '../support/tmp.js';

/**
 * A checkpoint holds every live file and every unexpired tombstone: for a stream that commits
 * every few seconds for months, tens of thousands of actions, written every 10 commits. Encoded
 * in one go, each larger checkpoint raised WebAssembly memory (which never shrinks) to its size:
 * the soak measured 5 -> 14 -> 25 -> 40 MiB. Written a row group of actions at a time, memory is
 * bounded by a row group whatever the table's size, plus what the footer keeps per row group.
 * Sizes of WebAssembly memory are the allocator's, not the clock's: counts, not timings.
 */
const tmp = tempDir('tributary-cpmem-');
const GROUP = CHECKPOINT_ROW_GROUP_ACTIONS;
/** What arrow-rs keeps per row group until the file closes (each column chunk's metadata: about 45 KiB measured). */
const FOOTER_PER_GROUP = 64 * 1024;

describe('checkpoints written a row group at a time', () => {
  it('a checkpoint of 200,000 actions raises WebAssembly memory by at most two row groups of actions and its footer; one of 20,000 by less than an Arrow chunk of 5,000 actions; both read back whole, in row groups of 1,000, a row group at a time', async () => {
    const dir = tmp();
    const engine = await engineFor(dir);
    // One row group of adds, as Arrow IPC: what crosses into WebAssembly memory per write (0.4 MiB).
    const ipcBytes = (actions: Action[], n: number) => arrow.tableToIPC(new arrow.Table([rowsToRecordBatch(checkpointRows(actions.slice(3, 3 + n)), CHECKPOINT_SCHEMA)]), 'stream').byteLength;
    // The writer's own start: a checkpoint of a few actions.
    await writeCheckpoint(engine, 5, stateActions(5, 5));
    const start = pw.wasmMemory().buffer.byteLength;

    // A long-lived stream's checkpoint (the soak's tables hold about this many actions) takes
    // less than an Arrow chunk's IPC (2 MiB): 1.3 MiB measured. Written in row groups of 5,000
    // (the chunk), the same checkpoint took 6.4 MiB.
    const soak = stateActions(10_000, 10_000);
    await writeCheckpoint(engine, 15, soak);
    expect(pw.wasmMemory().buffer.byteLength - start).toBeLessThan(ipcBytes(soak, 5_000));
    const warm = pw.wasmMemory().buffer.byteLength;
    const groupBytes = (actions: Action[]) => ipcBytes(actions, GROUP);

    const big = stateActions(100_000, 100_000);
    expect(big.length).toBeGreaterThan(200_000);
    const info = await writeCheckpoint(engine, 20, big);
    expect(info).toMatchObject({ version: 20, size: big.length, numOfAddFiles: 100_000 });
    // What may grow with the table is the footer the writer builds (each row group's metadata,
    // kept until the file closes: about 8 MiB here), never the actions themselves: encoded
    // whole, this checkpoint raised WebAssembly memory by 275 MiB.
    const groups = Math.ceil(big.length / GROUP);
    expect(pw.wasmMemory().buffer.byteLength - warm).toBeLessThan(2 * groupBytes(big) + groups * FOOTER_PER_GROUP);

    const file = path.join(dir, '_delta_log', '00000000000000000020.checkpoint.parquet');
    const footer = readFooter(new Uint8Array(readFileSync(file)));
    expect(footer.numRows).toBe(big.length);
    expect(footer.rowGroups.length).toBe(groups);
    expect(Math.max(...footer.rowGroups.map((g) => Number(g.numRows)))).toBe(GROUP);

    // The content is the actions, in order, whatever row group and chunk they landed in.
    const back = await readCheckpoint(engine, '_delta_log/00000000000000000020.checkpoint.parquet');
    expect(back.length).toBe(big.length);
    for (const i of [0, 1, 2, 3, GROUP - 1, GROUP, GROUP + 1, CHECKPOINT_CHUNK_ACTIONS - 1, CHECKPOINT_CHUNK_ACTIONS, CHECKPOINT_CHUNK_ACTIONS + 1, 100_002, 100_003, big.length - 1]) expect(back[i]).toEqual(big[i]);
    expect(back.filter((a) => 'remove' in a).length).toBe(100_000);
    expect(await readCheckpoint(engine, '_delta_log/00000000000000000015.checkpoint.parquet')).toEqual(soak);
    // Loading it (what every snapshot load does) decodes a row group at a time too.
    expect(pw.wasmMemory().buffer.byteLength - warm).toBeLessThan(2 * groupBytes(big) + groups * FOOTER_PER_GROUP);
  }, 180_000);
});
