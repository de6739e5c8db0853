import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { rowsToRecordBatch } from '../../src/arrow/record-batch.js';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { DeltaTable } from '../../src/delta/table.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { tempDir } from '../support/tmp.js';

/**
 * A data file with no rows (Spark writes one for an empty task) whose columns hold lists, maps
 * or structs of lists: the reader crashed on it ([INTERNAL], exit 70) because apache-arrow's IPC
 * reader leaves out a zero-length list's element data. Found by reading Spark-written tables.
 */
const tmp = tempDir('tributary-empty-file-');
const SCHEMA = parseDdl('id BIGINT, a ARRAY<STRING>, m MAP<STRING, INT>, s STRUCT<x: ARRAY<INT>, y: MAP<STRING, ARRAY<BIGINT>>>');

describe('a data file with no rows', () => {
  it('reads as no rows beside the other files, whatever nested columns it has', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    const row = { id: 1n, a: [null, 'x'], m: { k: 2 }, s: { x: [3], y: { z: [4n, null] } } };
    await t.append([row], { create: { schema: SCHEMA, partitionColumns: [] } });
    const before = arrowToRows(await t.read());
    expect(before).toHaveLength(1);
    const empty = await t.engine.parquet.encode(new arrow.Table([rowsToRecordBatch([], SCHEMA)]), SCHEMA, { compression: 'snappy', rowGroupRows: 1000 });
    const name = 'part-00001-empty-c000.snappy.parquet';
    writeFileSync(path.join(dir, name), empty);
    const add = { path: name, partitionValues: {}, size: empty.length, modificationTime: Date.now(), dataChange: true, stats: '{"numRecords":0}' };
    writeFileSync(path.join(dir, '_delta_log', '00000000000000000001.json'), JSON.stringify({ commitInfo: { timestamp: Date.now(), operation: 'WRITE' } }) + '\n' + JSON.stringify({ add }) + '\n');
    const fresh = await DeltaTable.open(dir);
    expect(fresh.snapshot.files).toHaveLength(2);
    expect(arrowToRows(await fresh.read())).toEqual(before);
  });
});
