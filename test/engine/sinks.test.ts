import { rmSync } from 'node:fs';
import * as path from 'node:path';
import * as arrow from 'apache-arrow';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { DeltaTable } from '../../src/delta/table.js';
import { ConsoleSink } from '../../src/engine/sinks/console-sink.js';
import { DeltaSink } from '../../src/engine/sinks/delta-sink.js';
import { batchToArrow, deltaWriter, foreachBatchSink } from '../../src/engine/sinks/foreach-batch.js';
import { MemorySink } from '../../src/engine/sinks/memory-sink.js';
import { Tributary } from '../../src/session.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-sinks-');

function session() {
  const t = new Tributary();
  t.onWarning = () => undefined;
  return t;
}

/** rate rows (timestamp, value): with rowsPerBatch=N, timestamp = startTimestamp + floor(value/N) s. */
const rate = (t: Tributary, rowsPerBatch: number, startTimestamp = 0) =>
  t.readStream.format('rate').option('rowsPerBatch', rowsPerBatch).option('startTimestamp', startTimestamp).load();

const RULE = '-------------------------------------------';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('console sink', () => {
  it("format('console') prints each batch exactly like Spark's ConsoleWrite + Dataset.show()", async () => {
    const dir = tmp();
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    const q = rate(session(), 25).writeStream.format('console').option('checkpointLocation', `${dir}/cp`).trigger({ once: true }).start();
    await q.awaitTermination();
    vi.restoreAllMocks();
    const expected = [
      RULE,
      'Batch: 0',
      RULE,
      '+-------------------+-----+',
      '|          timestamp|value|',
      '+-------------------+-----+',
      ...Array.from({ length: 20 }, (_, v) => `|1970-01-01 00:00:00|${String(v).padStart(5)}|`),
      '+-------------------+-----+',
      'only showing top 20 rows',
      '',
      '',
    ].join('\n');
    expect(out.join('')).toBe(expected);
    expect(q.lastProgress?.sink).toMatchObject({ description: 'ConsoleWriter[numRows=20, truncate=true]', numOutputRows: 25 });
  });

  it('truncates cells at 20 characters and right-aligns, or leaves them whole and left-aligned', async () => {
    const dir = tmp();
    const text: string[] = [];
    const write = (s: string) => void text.push(s);
    // 2026-11-28T10:00:00.123Z: timestamps with a fraction, longer than 20 characters.
    const start = Date.UTC(2026, 10, 28, 10, 0, 0, 123);
    await rate(session(), 3, start).writeStream.sink(new ConsoleSink({ numRows: 2, write })).option('checkpointLocation', `${dir}/a`).trigger({ once: true }).start().awaitTermination();
    expect(text[0]).toBe(
      [
        '-------------------------------------------',
        'Batch: 0',
        '-------------------------------------------',
        '+--------------------+-----+',
        '|           timestamp|value|',
        '+--------------------+-----+',
        '|2026-11-28 10:00:...|    0|',
        '|2026-11-28 10:00:...|    1|',
        '+--------------------+-----+',
        'only showing top 2 rows',
        '',
        '',
      ].join('\n'),
    );

    // The same query again (batch 1, a second later), untruncated; numRows equal to the batch size: no footer.
    await rate(session(), 3, start)
      .writeStream.sink(new ConsoleSink({ numRows: 3, truncate: false, write }))
      .option('checkpointLocation', `${dir}/a`)
      .trigger({ once: true })
      .start()
      .awaitTermination();
    expect(text[1]).toBe(
      [
        '-------------------------------------------',
        'Batch: 1',
        '-------------------------------------------',
        '+-----------------------+-----+',
        '|timestamp              |value|',
        '+-----------------------+-----+',
        '|2026-11-28 10:00:01.123|3    |',
        '|2026-11-28 10:00:01.123|4    |',
        '|2026-11-28 10:00:01.123|5    |',
        '+-----------------------+-----+',
        '',
        '',
      ].join('\n'),
    );

    // One row shown of several: singular footer.
    await rate(session(), 3, start).writeStream.sink(new ConsoleSink({ numRows: 1, write })).option('checkpointLocation', `${dir}/b`).trigger({ once: true }).start().awaitTermination();
    expect(text[2].endsWith('+--------------------+-----+\nonly showing top 1 row\n\n')).toBe(true);
  });

  it("renders every type like Spark 4's show(): NULL, decimals, binary, arrays, maps, structs", async () => {
    const schema = parseDdl(
      'id INT, d DECIMAL(10,2), b BINARY, arr ARRAY<STRING>, m MAP<STRING, INT>, s STRUCT<a: INT, b: STRING>, dbl DOUBLE, f FLOAT, dt DATE, flag BOOLEAN, txt STRING, ts TIMESTAMP_NTZ',
    );
    const rows = [
      {
        id: 1,
        d: '1.5',
        b: new Uint8Array([1, 2, 0xab]),
        arr: ['a', null, 'b'],
        m: [['k', 1], ['z', null]],
        s: { a: 1, b: null },
        dbl: 1e7,
        f: 0.1,
        dt: '2024-01-02',
        flag: true,
        txt: 'tab\there',
        ts: 1704164645000006n,
      },
      { id: 2, d: null, b: null, arr: null, m: null, s: null, dbl: null, f: null, dt: null, flag: null, txt: '日本語', ts: null },
    ];
    const text: string[] = [];
    const sink = new ConsoleSink({ truncate: false, write: (s) => void text.push(s) });
    await sink.addBatch({ batchId: 7, schema, data: rows, numRows: 2 });
    // The same batch as Arrow prints the same.
    await sink.addBatch({ batchId: 7, schema, data: batchToArrow({ batchId: 7, schema, data: rows, numRows: 2 }), numRows: 2 });
    expect(text[0]).toBe(
      [
        RULE,
        'Batch: 7',
        RULE,
        '+---+----+----------+------------+-------------------+---------+-----+----+----------+----+---------+--------------------------+',
        '|id |d   |b         |arr         |m                  |s        |dbl  |f   |dt        |flag|txt      |ts                        |',
        '+---+----+----------+------------+-------------------+---------+-----+----+----------+----+---------+--------------------------+',
        '|1  |1.50|[01 02 AB]|[a, NULL, b]|{k -> 1, z -> NULL}|{1, NULL}|1.0E7|0.1 |2024-01-02|true|tab\\there|2024-01-02 03:04:05.000006|',
        '|2  |NULL|NULL      |NULL        |NULL               |NULL     |NULL |NULL|NULL      |NULL|日本語   |NULL                      |',
        '+---+----+----------+------------+-------------------+---------+-----+----+----------+----+---------+--------------------------+',
        '',
        '',
      ].join('\n'),
    );
    expect(text[1]).toBe(text[0]);
  });

  it('rejects bad options when the query starts', () => {
    const df = rate(session(), 1);
    expect(() => df.writeStream.format('console').option('numRows', 'many').option('checkpointLocation', tmp()).start()).toThrow(/numRows="many" must be a non-negative integer/);
    expect(() => df.writeStream.format('console').option('truncate', 'maybe').option('checkpointLocation', tmp()).start()).toThrow(/truncate="maybe" must be true or false/);
  });
});

describe('memory sink', () => {
  const values = (s: MemorySink) => s.rows().map((r) => Number(r.value));

  it('keeps every batch in order, reachable by query name, and a restart neither loses nor duplicates rows', async () => {
    const dir = tmp();
    const t = session();
    const start = () =>
      rate(t, 25).writeStream.format('memory').queryName('events').option('checkpointLocation', `${dir}/cp`).option('maxRowsPerBatch', 10).trigger({ availableNow: true }).start();
    await start().awaitTermination();
    const first = MemorySink.forQuery(t, 'events')!;
    expect(first).toBeInstanceOf(MemorySink);
    expect(first.batchIds()).toEqual([0, 1, 2]);
    expect(values(first)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(first.rows()[0]).toEqual({ timestamp: 0n, value: 0n });
    const table = first.table();
    expect(table.numRows).toBe(25);
    expect(table.schema.fields.map((f) => f.name)).toEqual(['timestamp', 'value']);
    expect(arrowToRows(table)).toEqual(first.rows());

    // A crash after the sink took batch 2 but before commits/2: the restart re-runs batch 2
    // (replacing its rows), then drains the next 25 rows as batches 3..5.
    rmSync(`${dir}/cp/commits/2`);
    await start().awaitTermination();
    const second = MemorySink.forQuery(t, 'events')!;
    expect(second).not.toBe(first);
    expect(second.batchIds()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(values(second)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(second.rows()[49]).toEqual({ timestamp: 1_000_000n, value: 49n });
    expect(values(first)).toHaveLength(25);

    // A clean restart continues after the earlier rows.
    await start().awaitTermination();
    const third = MemorySink.forQuery(t, 'events')!;
    expect(third.batchIds()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(values(third)).toEqual(Array.from({ length: 75 }, (_, i) => i));

    // Another query (new checkpoint) under the same name is a new table; the name is per session.
    await rate(t, 2).writeStream.format('memory').queryName('events').option('checkpointLocation', `${dir}/other`).trigger({ once: true }).start().awaitTermination();
    expect(values(MemorySink.forQuery(t, 'events')!)).toEqual([0, 1]);
    expect(values(third)).toHaveLength(75);
    expect(MemorySink.forQuery(session(), 'events')).toBeUndefined();
  }, 60_000);

  it('replaces a re-delivered batch id and needs a queryName', async () => {
    const schema = parseDdl('n BIGINT');
    const sink = new MemorySink('direct');
    await sink.open('q');
    await sink.addBatch({ batchId: 0, schema, data: [{ n: 1 }, { n: 2 }], numRows: 2 });
    await sink.addBatch({ batchId: 1, schema, data: [{ n: 3 }], numRows: 1 });
    await sink.addBatch({ batchId: 0, schema, data: [{ n: 1 }, { n: 2 }], numRows: 2 });
    expect(sink.rows()).toEqual([{ n: 1n }, { n: 2n }, { n: 3n }]);
    expect(() => rate(session(), 1).writeStream.format('memory').option('checkpointLocation', tmp()).start()).toThrow(/queryName must be specified for memory sink/);
  });
});

describe('foreachBatch', () => {
  it('hands every micro-batch to the function as Arrow, with its batch id', async () => {
    const dir = tmp();
    const seen: { id: number; isArrow: boolean; rows: unknown[] }[] = [];
    const q = rate(session(), 25)
      .writeStream.foreachBatch(async (batch, id) => {
        seen.push({ id, isArrow: batch instanceof arrow.Table, rows: arrowToRows(batch).map((r) => Number(r.value)) });
      })
      .option('checkpointLocation', `${dir}/cp`)
      .option('maxRowsPerBatch', 10)
      .trigger({ availableNow: true })
      .start();
    await q.awaitTermination();
    expect(seen.map((s) => s.id)).toEqual([0, 1, 2]);
    expect(seen.every((s) => s.isArrow)).toBe(true);
    expect(seen.flatMap((s) => s.rows)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(q.lastProgress?.sink).toMatchObject({ description: 'ForeachBatchSink', numOutputRows: 5 });
  });

  it('fails the query with the function error', async () => {
    const q = rate(session(), 3)
      .writeStream.foreachBatch(() => {
        throw new Error('downstream is down');
      })
      .option('checkpointLocation', `${tmp()}/cp`)
      .trigger({ once: true })
      .start();
    await expect(q.awaitTermination()).rejects.toThrow(/ForeachBatchSink failed on batch 0: downstream is down/);
  });

  it('deltaWriter appends each batch id once, creating the table from the batch schema', async () => {
    const dir = tmp();
    const target = `${dir}/out`;
    const write = deltaWriter(target);
    const batches: arrow.Table[] = [];
    await rate(session(), 25, 5000)
      .writeStream.foreachBatch(async (batch, id) => {
        batches.push(batch);
        await write(batch, id);
      })
      .option('checkpointLocation', `${dir}/cp`)
      .option('maxRowsPerBatch', 10)
      .trigger({ availableNow: true })
      .start()
      .awaitTermination();
    const t = await DeltaTable.open(target);
    expect(t.version).toBe(2);
    expect(t.snapshot.schema.fields.map((f) => [f.name, f.type])).toEqual([
      ['timestamp', { kind: 'primitive', name: 'timestamp' }],
      ['value', { kind: 'primitive', name: 'long' }],
    ]);
    expect(t.snapshot.txnVersion(`foreachBatch:${path.resolve(target)}`)).toBe(2);

    // The same batch delivered again, twice, is skipped: no new version, no duplicate rows.
    await write(batches[2], 2);
    await write(batches[2], 2);
    await write(batches[0], 0);
    const after = await DeltaTable.open(target);
    expect(after.version).toBe(2);
    const rows = arrowToRows(await after.read());
    expect(rows.map((r) => Number(r.value)).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(rows.find((r) => r.value === 0n)).toEqual({ timestamp: 5_000_000n, value: 0n });

    // A fresh table written by the function directly, twice with the same batch and id.
    const direct = deltaWriter(`${dir}/direct`, { appId: 'my-app' });
    await direct(batches[1], 7);
    await direct(batches[1], 7);
    const d = await DeltaTable.open(`${dir}/direct`);
    expect(d.version).toBe(0);
    expect(d.snapshot.txnVersion('my-app')).toBe(7);
    expect(arrowToRows(await d.read()).map((r) => Number(r.value))).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  }, 60_000);

  it('foreachBatchSink converts row batches to Arrow with the stream schema', async () => {
    const got: arrow.Table[] = [];
    const sink = foreachBatchSink((b) => void got.push(b));
    const schema = parseDdl('n BIGINT, s STRING');
    const r = await sink.addBatch({ batchId: 0, schema, data: [{ n: 1, s: 'x' }], numRows: 1 });
    expect(r.numOutputRows).toBe(1);
    expect(got[0].schema.fields.map((f) => String(f.type))).toEqual(['Int64', 'Utf8']);
    expect(arrowToRows(got[0])).toEqual([{ n: 1n, s: 'x' }]);
  });
});

describe('delta sink', () => {
  it('streams that both find the table missing both land: the later one appends to the table the other created', async () => {
    const dir = tmp();
    const schema = parseDdl('value BIGINT NOT NULL');
    const batch = (batchId: number, from: number) => ({ batchId, schema, data: [{ value: from }, { value: from + 1 }], numRows: 2 });
    const a = new DeltaSink({ path: `${dir}/t`, partitionColumns: [] });
    const b = new DeltaSink({ path: `${dir}/t`, partitionColumns: [] });
    const b2 = new DeltaSink({ path: `${dir}/t`, partitionColumns: [] });
    // All opened before the table existed.
    await a.open('query-a');
    await b.open('query-b');
    await b2.open('query-b');
    expect(await a.addBatch(batch(0, 0))).toMatchObject({ numOutputRows: 2, deltaVersion: 0 });
    expect(await b.addBatch(batch(0, 10))).toMatchObject({ numOutputRows: 2, deltaVersion: 1 });
    // A copy of query b's sink that also found no table sees its batch 0 there and skips it.
    expect(await b2.addBatch(batch(0, 10))).toMatchObject({ numOutputRows: 0, skipped: true });
    expect(await b2.isCommitted(0)).toBe(true);
    expect(await b2.isCommitted(1)).toBe(false);
    const t = await DeltaTable.open(`${dir}/t`);
    expect(arrowToRows(await t.read()).map((r) => Number(r.value)).sort((x, y) => x - y)).toEqual([0, 1, 10, 11]);
    expect(t.snapshot.txnVersion('query-a')).toBe(0);
    expect(t.snapshot.txnVersion('query-b')).toBe(0);
  });
});
