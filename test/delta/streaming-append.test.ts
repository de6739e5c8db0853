import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import type * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { rowsToRecordBatch } from '../../src/arrow/record-batch.js';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { DeltaTable } from '../../src/delta/table.js';
import { CHUNK_ROWS } from '../../src/delta/write-files.js';
import { countingHandler } from '../../src/parquet/counting-handler.js';
import { ParquetWasmHandler } from '../../src/parquet/parquet-wasm.js';
import type { ParquetHandler } from '../../src/parquet/handler.js';
import { TributaryError } from '../../src/errors.js';
import { BATCH, BATCHES, batchAt, rowAt, SCHEMA } from '../support/stream-batches.js';
import { tempDir } from '../support/tmp.js';

/**
 * DeltaTable.append of a stream of Arrow batches (AsyncIterable<RecordBatch>): pulled one batch at
 * a time as the encoder takes them, files stored as they fill, one commit at the end, and nothing
 * left behind when the stream fails. Memory is asserted by counts: how far the stream is read
 * ahead of the encoder, and how many files are stored before it ends.
 */
const tmp = tempDir('tributary-stream-');
const dataFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.parquet'));

describe('append of a stream of batches', () => {
  it('reads the stream at most two chunks ahead of the encoder, stores files before it ends, commits once', async () => {
    const dir = tmp();
    let encoded = 0;
    const engine = countingHandler(new ParquetWasmHandler({ thread: 'never' }), (n) => (encoded += n));
    const lag: number[] = [];
    const filesWhilePulling: number[] = [];
    async function* stream(): AsyncGenerator<arrow.RecordBatch> {
      for (let k = 0; k < BATCHES; k++) {
        // Rows handed out so far but not yet taken by the encoder.
        lag.push(k * BATCH - encoded);
        filesWhilePulling.push(dataFiles(dir).length);
        yield batchAt(k);
      }
    }
    const table = await DeltaTable.forPath(dir);
    const r = await table.append(stream(), { create: { schema: SCHEMA }, engine, maxRecordsPerFile: 50_000 });
    expect(r.version).toBe(0);
    expect(r.numRecords).toBe(BATCH * BATCHES);
    expect(r.files).toHaveLength((BATCH * BATCHES) / 50_000);
    // The look-ahead (a chunk and the batch that passes it) plus the batch being written: never more.
    expect(Math.max(...lag)).toBeLessThanOrEqual(CHUNK_ROWS + 2 * BATCH);
    // Files were stored while the stream was still being read, not after it ended.
    expect(filesWhilePulling[BATCHES - 1]).toBeGreaterThanOrEqual(6);
    const rows = arrowToRows(await (await DeltaTable.open(dir)).read()).sort((a, b) => Number(a.id) - Number(b.id));
    expect(rows).toHaveLength(BATCH * BATCHES);
    expect(rows[BATCH * BATCHES - 1]).toEqual(rowAt(BATCH * BATCHES - 1));
    expect(readdirSync(path.join(dir, '_delta_log')).filter((f) => f.endsWith('.json'))).toEqual(['00000000000000000000.json']);
  });

  it('largeStream: the first file starts with the first batch; without it, after the look-ahead of a chunk and a batch', async () => {
    const opened: Record<string, number> = {};
    for (const largeStream of [false, true]) {
      const dir = tmp();
      const inner = new ParquetWasmHandler({ thread: 'never' });
      let pulled = 0;
      // The real encoder, watched: how many batches the append had pulled when it opened the file.
      const engine: ParquetHandler = { ...countingHandler(inner, () => undefined), open: (schema, opts, rowsHint) => ((opened[String(largeStream)] ??= pulled), inner.open(schema, opts, rowsHint)) };
      async function* stream(): AsyncGenerator<arrow.RecordBatch> {
        for (let k = 0; k < 10; k++) {
          pulled++;
          yield batchAt(k);
        }
      }
      const table = await DeltaTable.forPath(dir);
      const r = await table.append(stream(), { create: { schema: SCHEMA }, engine, largeStream });
      expect(r.numRecords).toBe(10 * BATCH);
      const rows = arrowToRows(await (await DeltaTable.open(dir)).read()).sort((a, b) => Number(a.id) - Number(b.id));
      expect(rows[10 * BATCH - 1]).toEqual(rowAt(10 * BATCH - 1));
    }
    // Without the hint, batches of 10,000 rows until more than CHUNK_ROWS (65,536) were read: 7.
    expect(opened).toEqual({ false: Math.floor(CHUNK_ROWS / BATCH) + 1, true: 1 });
  });

  it('writes a file of many row groups on the encoder thread (its output is read as it is made, so the writer keeps taking chunks)', async () => {
    // 40 chunks, a row group each, in one file: the writer's output stream used to be read only
    // at finish, its backpressure stopped the writer after a few row groups, and the append
    // waited forever for the thread to take the next chunk (a 50M-line stdin append hung so).
    const dir = tmp();
    const engine = new ParquetWasmHandler({ thread: 'auto' });
    async function* stream(): AsyncGenerator<arrow.RecordBatch> {
      for (let k = 0; k < BATCHES; k++) yield batchAt(k);
    }
    const table = await DeltaTable.forPath(dir);
    const r = await table.append(stream(), { create: { schema: SCHEMA }, engine, rowGroupRows: BATCH });
    expect(r.files).toHaveLength(1);
    expect(r.numRecords).toBe(BATCH * BATCHES);
    expect(engine.filesOnThread).toBe(1);
    const rows = arrowToRows(await (await DeltaTable.open(dir)).read());
    expect(rows).toHaveLength(BATCH * BATCHES);
    expect(rows[BATCH * BATCHES - 1]).toEqual(rowAt(BATCH * BATCHES - 1));
  }, 300_000); // a deadlock fails it at the timeout; on a shared 2-core machine it takes seconds

  it('a stream that fails after files were stored leaves the table exactly as it was', async () => {
    const dir = tmp();
    const table = await DeltaTable.forPath(dir);
    await table.append([{ id: -1, coin: 'x', price: 0 }], { create: { schema: SCHEMA } });
    const before = readdirSync(dir).sort();
    let storedBeforeFailure = 0;
    async function* stream(): AsyncGenerator<arrow.RecordBatch> {
      for (let k = 0; k < 30; k++) yield batchAt(k);
      storedBeforeFailure = dataFiles(dir).length - 1;
      throw new TributaryError('ROW_INVALID', 'row 300000: a bad value late in the input');
    }
    await expect(table.append(stream(), { maxRecordsPerFile: 50_000 })).rejects.toThrow('row 300000: a bad value late in the input');
    expect(storedBeforeFailure).toBeGreaterThanOrEqual(4);
    expect(readdirSync(dir).sort()).toEqual(before);
    expect((await DeltaTable.open(dir)).version).toBe(0);
  });

  it('a bad value in a late batch is refused naming its row, and nothing is left', async () => {
    const dir = tmp();
    async function* stream(): AsyncGenerator<arrow.RecordBatch> {
      for (let k = 0; k < 12; k++) yield batchAt(k);
      // Arrow input with a null in a NOT NULL column: conformed (and refused) as it arrives.
      yield rowsToRecordBatch([{ id: 1, coin: 'a', price: 1 }, { id: null, coin: 'b', price: 2 }], parseDdl('id BIGINT, coin STRING, price DOUBLE'));
    }
    const e = await (await DeltaTable.forPath(dir)).append(stream(), { create: { schema: SCHEMA }, maxRecordsPerFile: 50_000 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TributaryError);
    expect((e as TributaryError).details.row).toBe(12 * BATCH + 1);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an empty stream appends nothing; a stream with mergeSchema adds the columns of its first batch', async () => {
    const dir = tmp();
    const table = await DeltaTable.forPath(dir);
    await table.append([{ id: 1, coin: 'a', price: 1 }], { create: { schema: SCHEMA } });
    const empty = (async function* (): AsyncGenerator<arrow.RecordBatch> {})();
    expect((await table.append(empty)).skipped).toBe('no-rows');
    const wider = parseDdl('id BIGINT NOT NULL, coin STRING, price DOUBLE, venue STRING');
    const more = (async function* () {
      yield rowsToRecordBatch([{ id: 2, coin: 'b', price: 2, venue: 'NY4' }], wider);
    })();
    const r = await table.append(more, { mergeSchema: true });
    expect(r.version).toBe(1);
    expect(table.snapshot.schema.fields.map((f) => f.name)).toEqual(['id', 'coin', 'price', 'venue']);
  });
});
