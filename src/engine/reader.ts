import * as arrow from 'apache-arrow';
import { TributaryError } from '../errors.js';
import { conformBatch } from '../arrow/conform.js';
import { type Row, rowsToRecordBatch } from '../arrow/record-batch.js';
import type { StructType } from '../schema/schema.js';
import { arrowToRows } from '../arrow/to-rows.js';
import { checkOffset, offsetsEqual, type Offset } from '../source/offset.js';
import type { DataSource, DataSourceStreamReader, ReadLimit, ReadResult, SimpleDataSourceStreamReader } from '../source/source.js';

/** A source's reader behind one interface, whichever of the two reader forms it implements. */
export interface Reader {
  initialOffset(): Promise<Offset>;
  /** Plans the next batch; for non-replayable sources also returns its rows (read once). */
  plan(start: Offset, limit: ReadLimit): Promise<{ end: Offset; rows?: ReadResult }>;
  read(start: Offset, end: Offset): Promise<ReadResult>;
  replayable: boolean;
  commit(end: Offset): Promise<void>;
  stop(): Promise<void>;
  prepareForTriggerAvailableNow?(start: Offset): Promise<void>;
  drainWarnings(): string[];
  metrics(): Record<string, string>;
}

/**
 * Creates the source's reader, which reads (and validates) the source's options: done before the
 * query takes its checkpoint, so a bad option fails the start with the checkpoint untouched.
 */
export function openReader(source: DataSource, schema: StructType): Reader {
  const sr: DataSourceStreamReader | undefined = source.streamReader?.(schema);
  if (sr) {
    const replayable = source.replayable;
    return {
      replayable,
      initialOffset: async () => checkOffset(await sr.initialOffset(), `${source.description()}.initialOffset()`),
      plan: async (start, limit) => {
        const end = checkOffset(await sr.latestOffset(start, limit), `${source.description()}.latestOffset()`);
        // A source that cannot replay is read while planning, so the rows can be logged first.
        if (!replayable && !offsetsEqual(start, end)) return { end, rows: await sr.read(start, end) };
        return { end };
      },
      read: async (start, end) => sr.read(start, end),
      commit: async (end) => void (await sr.commit?.(end)),
      stop: async () => void (await sr.stop?.()),
      prepareForTriggerAvailableNow: sr.prepareForTriggerAvailableNow ? async (start) => void (await sr.prepareForTriggerAvailableNow!(start)) : undefined,
      drainWarnings: () => sr.drainWarnings?.() ?? [],
      metrics: () => sr.metrics?.() ?? {},
    };
  }
  const simple: SimpleDataSourceStreamReader | undefined = source.simpleStreamReader?.(schema);
  if (!simple) throw new TributaryError('INVALID_ARGUMENT', `source ${source.description()} implements neither streamReader() nor simpleStreamReader()`);
  return {
    // The simple form reads while planning; its rows are always logged ahead.
    replayable: false,
    initialOffset: async () => checkOffset(await simple.initialOffset(), `${source.description()}.initialOffset()`),
    plan: async (start) => {
      const { rows, end } = await simple.read(start);
      checkOffset(end, `${source.description()}.read()`);
      const collected = await collect(rows);
      if (offsetsEqual(start, end) && collected.numRows > 0) {
        throw new TributaryError('SOURCE_ERROR', `${source.description()}.read() returned ${collected.numRows} rows but did not advance the offset`);
      }
      return { end, rows: collected.data };
    },
    read: async (start, end) => {
      if (!simple.readBetweenOffsets) throw new TributaryError('SOURCE_ERROR', `${source.description()} cannot re-read ${JSON.stringify(start)}..${JSON.stringify(end)}`);
      return simple.readBetweenOffsets(start, end);
    },
    commit: async (end) => void (await simple.commit?.(end)),
    stop: async () => void (await simple.stop?.()),
    drainWarnings: () => [],
    metrics: () => ({}),
  };
}

/** Materialises a read into rows or one Arrow table (whichever the source gave). */
export async function collect(r: ReadResult): Promise<{ data: Row[] | arrow.Table; numRows: number }> {
  if (r instanceof arrow.RecordBatch) return { data: new arrow.Table([r]), numRows: r.numRows };
  // An array is rows, unless it holds record batches (an Iterable like any other, see below).
  if (Array.isArray(r) && !r.some((x) => x instanceof arrow.RecordBatch)) return { data: r as Row[], numRows: r.length };
  const items: (Row | arrow.RecordBatch)[] = [];
  if (Symbol.asyncIterator in (r as object)) for await (const x of r as AsyncIterable<Row | arrow.RecordBatch>) items.push(x);
  else for (const x of r as Iterable<Row | arrow.RecordBatch>) items.push(x);
  if (items.length && items.every((x) => x instanceof arrow.RecordBatch)) {
    const t = new arrow.Table(items as arrow.RecordBatch[]);
    return { data: t, numRows: t.numRows };
  }
  const rows: Row[] = [];
  for (const x of items) if (x instanceof arrow.RecordBatch) rows.push(...arrowToRows(x));
  else rows.push(x);
  return { data: rows, numRows: rows.length };
}

/**
 * A batch's rows as one Arrow table of the stream's schema: where a source's values enter the
 * engine, they become Arrow once (rows through the column builders, Arrow checked against the
 * schema); the write-ahead log, the sink and the encoder then share these batches.
 */
export function toArrowTable(data: Row[] | arrow.Table, schema: StructType): arrow.Table {
  if (data instanceof arrow.Table) {
    let first = 0;
    const batches = data.batches.map((b) => {
      const c = conformBatch(b, schema, first);
      first += b.numRows;
      return c;
    });
    return new arrow.Table(batches.length ? batches : [rowsToRecordBatch([], schema)]);
  }
  const batches: arrow.RecordBatch[] = [];
  for (let from = 0; from < data.length || from === 0; from += CHUNK_ROWS) {
    batches.push(rowsToRecordBatch(data, schema, { from, to: Math.min(data.length, from + CHUNK_ROWS) }));
    if (data.length === 0) break;
  }
  return new arrow.Table(batches);
}

const CHUNK_ROWS = 65_536;
