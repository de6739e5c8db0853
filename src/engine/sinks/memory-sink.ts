import * as arrow from 'apache-arrow';
import { concatBatches } from '../../arrow/concat.js';
import { type Row, rowsToRecordBatch } from '../../arrow/record-batch.js';
import { arrowToRows } from '../../arrow/to-rows.js';
import { toArrowSchema } from '../../arrow/types.js';
import type { StructType } from '../../schema/schema.js';
import { TributaryError } from '../../errors.js';
import type { StreamingContext } from '../streaming-context.js';
import type { BatchData, Sink, SinkResult } from './sink.js';

/** Each session's memory sinks by query name (the only state kept outside a sink). */
const bySession = new WeakMap<StreamingContext, Map<string, MemorySink>>();

/**
 * Spark's memory sink (`format('memory').queryName(name)`): every batch stays in this process,
 * readable with `MemorySink.forQuery(session, name).rows()` or `.table()`. For tests and
 * debugging; nothing survives the process.
 *
 * Batches are kept by batch id, so a batch the engine re-runs after a failure replaces the copy
 * it already has instead of adding its rows twice. A restarted query (same checkpoint, same query
 * id, same name, same session) continues the previous run's rows; a different query under the
 * same name starts an empty table, as Spark's does.
 */
export class MemorySink implements Sink {
  readonly description: string;
  private batches = new Map<number, arrow.RecordBatch>();
  private _schema: StructType | undefined;
  private queryId: string | undefined;
  /** The sink this one replaced under its name; its rows carry over if it ran the same query. */
  private predecessor: MemorySink | undefined;

  constructor(
    readonly name: string,
    session?: StreamingContext,
  ) {
    this.description = `MemorySink[${name}]`;
    if (session) {
      let sinks = bySession.get(session);
      if (!sinks) bySession.set(session, (sinks = new Map()));
      this.predecessor = sinks.get(name);
      sinks.set(name, this);
    }
  }

  /** The memory sink of the query named `name` in this session (the latest one started). */
  static forQuery(session: StreamingContext, name: string): MemorySink | undefined {
    return bySession.get(session)?.get(name);
  }

  async open(queryId: string): Promise<void> {
    // Skip sinks that never opened (a start that failed before running).
    let prev = this.predecessor;
    while (prev && prev.queryId === undefined) prev = prev.predecessor;
    this.predecessor = undefined;
    if (prev && prev.queryId === queryId) {
      for (const [id, b] of prev.batches) if (!this.batches.has(id)) this.batches.set(id, b);
      this._schema ??= prev._schema;
    } else if (this.queryId !== undefined && this.queryId !== queryId) {
      // Reused by hand for another query: start over, like a new table.
      this.batches.clear();
    }
    this.queryId = queryId;
  }

  async isCommitted(batchId: number): Promise<boolean> {
    return this.batches.has(batchId);
  }

  async addBatch(batch: BatchData): Promise<SinkResult> {
    let rb: arrow.RecordBatch;
    if (batch.data instanceof arrow.Table) {
      // One record batch per micro-batch, as the engine hands it over (the stream schema's Arrow).
      rb = batch.data.batches.length === 1 ? batch.data.batches[0] : concatBatches(batch.data.batches, toArrowSchema(batch.schema));
    } else {
      rb = rowsToRecordBatch(batch.data, batch.schema);
    }
    this.batches.set(batch.batchId, rb);
    this._schema = batch.schema;
    return { numOutputRows: batch.numRows };
  }

  private get view(): MemorySink {
    // Until the new run opens, the name still shows what the previous run wrote.
    let v: MemorySink = this;
    while (v.queryId === undefined && v.predecessor) v = v.predecessor;
    return v;
  }

  private ordered(): arrow.RecordBatch[] {
    const v = this.view;
    return [...v.batches.keys()].sort((a, b) => a - b).map((id) => v.batches.get(id)!);
  }

  /** Ids of the batches held, ascending. */
  batchIds(): number[] {
    return [...this.view.batches.keys()].sort((a, b) => a - b);
  }

  /** The stream's schema (known once a batch arrived). */
  get schema(): StructType | undefined {
    return this.view._schema;
  }

  get numRows(): number {
    let n = 0;
    for (const b of this.view.batches.values()) n += b.numRows;
    return n;
  }

  /** All rows, batch by batch in batch id order, with arrowToRows' value conventions. */
  rows(): Row[] {
    const out: Row[] = [];
    for (const b of this.ordered()) out.push(...arrowToRows(b));
    return out;
  }

  /** All rows as one Arrow table (no columns before the first batch). */
  table(): arrow.Table {
    const schema = this.schema;
    if (!schema) return new arrow.Table();
    return new arrow.Table(toArrowSchema(schema), this.ordered());
  }

  /** Drops every row held (and any rows a restart would have carried over). */
  clear(): void {
    this.batches.clear();
    this.predecessor = undefined;
  }
}

/** `format('memory')`: needs `.queryName(name)`, the name the rows are found under. */
export function memorySinkFactory(args: { name?: string; context: StreamingContext }): MemorySink {
  if (!args.name) throw new TributaryError('INVALID_ARGUMENT', 'queryName must be specified for memory sink: .queryName(<name>)');
  return new MemorySink(args.name, args.context);
}
