import * as nodePath from 'node:path';
import * as arrow from 'apache-arrow';
import { rowsToRecordBatch } from '../../arrow/record-batch.js';
import { DeltaTable } from '../../delta/table.js';
import { array, type DataType, decimal, field, map, primitive, struct, type StructType } from '../../schema/schema.js';
import { TributaryError } from '../../errors.js';
import type { Compression, EngineName } from '../../parquet/handler.js';
import type { BatchData, Sink, SinkResult } from './sink.js';

export type ForeachBatchFunction = (batch: arrow.Table, batchId: number) => void | Promise<void>;

/**
 * PySpark's `foreachBatch`: hands every micro-batch to `fn` as an Arrow table, with its batch id.
 * Like Spark's, it is at-least-once: after a crash the engine re-runs the last uncommitted batch
 * with the same id and rows, so `fn` should write idempotently (see `deltaWriter`).
 */
export function foreachBatchSink(fn: ForeachBatchFunction): Sink {
  return {
    description: 'ForeachBatchSink',
    async addBatch(batch: BatchData): Promise<SinkResult> {
      await fn(batchToArrow(batch), batch.batchId);
      return { numOutputRows: batch.numRows };
    },
  };
}

/** A batch's data as an Arrow table (rows from direct callers are coerced to the stream schema). */
export function batchToArrow(batch: BatchData): arrow.Table {
  if (batch.data instanceof arrow.Table) return batch.data;
  return new arrow.Table([rowsToRecordBatch(batch.data, batch.schema)]);
}

export interface DeltaWriterOptions {
  /**
   * The txn appId recorded with each commit; default `foreachBatch:<absolute path>`. A batch id the
   * table already holds for this appId is skipped. Two streams writing the same table, or a
   * stream restarted from a new checkpoint (its batch ids start at 0 again), need distinct appIds.
   */
  appId?: string;
  /** Partition columns, used only when the first write creates the table. */
  partitionColumns?: string[];
  /** The table's schema when the first write creates it; default: derived from the batch's Arrow schema. */
  schema?: StructType;
  mergeSchema?: boolean;
  engine?: EngineName;
  compression?: Compression;
  targetFileSize?: number;
}

/**
 * A foreachBatch function appending each batch to the Delta table at `path`, exactly once per batch
 * id: every commit carries txn(appId, batchId), and a batch the table already holds is skipped.
 * The first write creates the table from the batch's schema.
 */
export function deltaWriter(path: string, opts: DeltaWriterOptions = {}): (batch: arrow.Table, batchId: number) => Promise<void> {
  const appId = opts.appId ?? `foreachBatch:${nodePath.resolve(path)}`;
  return async (batch, batchId) => {
    if (batch.numRows === 0) return;
    // A fresh snapshot each time: the txn check must see what any earlier call committed.
    const table = await DeltaTable.forPath(path);
    await table.append(batch, {
      create: table.exists ? undefined : { schema: opts.schema ?? deltaSchemaFromArrow(batch.schema), partitionColumns: opts.partitionColumns ?? [] },
      txn: { appId, version: batchId },
      mergeSchema: opts.mergeSchema,
      schema: opts.mergeSchema ? deltaSchemaFromArrow(batch.schema) : undefined,
      engine: opts.engine ?? 'parquet-wasm',
      compression: opts.compression,
      targetFileSize: opts.targetFileSize,
    });
  };
}

/** Arrow schema -> Delta schema (the inverse of toArrowSchema, plus the Arrow types Delta can hold). */
export function deltaSchemaFromArrow(schema: arrow.Schema): StructType {
  return struct(schema.fields.map((f) => field(f.name, deltaTypeFromArrow(f.type, f.name), f.nullable)));
}

function deltaTypeFromArrow(t: arrow.DataType, path: string): DataType {
  if (arrow.DataType.isUtf8(t) || arrow.DataType.isLargeUtf8(t)) return primitive('string');
  if (arrow.DataType.isBool(t)) return primitive('boolean');
  if (arrow.DataType.isInt(t)) {
    const bits = t.bitWidth;
    if (t.isSigned) return primitive(bits === 64 ? 'long' : bits === 32 ? 'integer' : bits === 16 ? 'short' : 'byte');
    // Unsigned: the next wider signed type.
    if (bits === 8) return primitive('short');
    if (bits === 16) return primitive('integer');
    if (bits === 32) return primitive('long');
    return unsupported(path, 'uint64');
  }
  if (arrow.DataType.isFloat(t)) return primitive(t.precision === arrow.Precision.DOUBLE ? 'double' : 'float');
  if (arrow.DataType.isDecimal(t)) return decimal(t.precision, t.scale);
  if (arrow.DataType.isBinary(t) || arrow.DataType.isLargeBinary(t) || arrow.DataType.isFixedSizeBinary(t)) return primitive('binary');
  if (arrow.DataType.isDate(t)) return primitive('date');
  if (arrow.DataType.isTimestamp(t)) return primitive(t.timezone ? 'timestamp' : 'timestamp_ntz');
  if (arrow.DataType.isList(t) || arrow.DataType.isFixedSizeList(t)) {
    const child = t.children[0];
    return array(deltaTypeFromArrow(child.type, `${path}.element`), child.nullable);
  }
  if (arrow.DataType.isMap(t)) {
    const [k, v] = (t.children[0].type as arrow.Struct).children;
    return map(deltaTypeFromArrow(k.type, `${path}.key`), deltaTypeFromArrow(v.type, `${path}.value`), v.nullable);
  }
  if (arrow.DataType.isStruct(t)) return struct(t.children.map((c) => field(c.name, deltaTypeFromArrow(c.type, `${path}.${c.name}`), c.nullable)));
  if (arrow.DataType.isDictionary(t)) return deltaTypeFromArrow(t.dictionary, path);
  return unsupported(path, String(t));
}

function unsupported(path: string, type: string): never {
  throw new TributaryError('UNSUPPORTED_FEATURE', `column "${path}": Arrow type ${type} has no Delta equivalent`);
}
