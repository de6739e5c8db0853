import type { Compression, EngineName } from '../../parquet/encoder.js';
import { DeltaTable } from '../../delta/table.js';
import type { BatchData, Sink, SinkResult } from './sink.js';

export interface DeltaSinkOptions {
  path: string;
  partitionColumns: string[];
  mergeSchema?: boolean;
  engine?: EngineName;
  compression?: Compression;
  targetFileSize?: number;
  configuration?: Record<string, string>;
  onWarning?: (msg: string) => void;
}

/**
 * Spark's DeltaSink: each batch is one Delta commit carrying txn(appId = query id, version =
 * batch id). A batch the table already holds (the commit landed but the process died before
 * writing commits/<id>) is recognised by that txn and skipped.
 */
export class DeltaSink implements Sink {
  readonly description: string;
  private table: DeltaTable | undefined;
  private queryId = '';

  constructor(private readonly opts: DeltaSinkOptions) {
    this.description = `DeltaSink[${opts.path}]`;
  }

  async open(queryId: string): Promise<void> {
    this.queryId = queryId;
    this.table = await DeltaTable.forPath(this.opts.path);
  }

  async addBatch(batch: BatchData): Promise<SinkResult> {
    const table = this.table!;
    // No rows, no new table version (the commit log still records the batch).
    if (batch.numRows === 0) return { numOutputRows: 0, skipped: true };
    const r = await table.append(batch.data, {
      create: { schema: batch.schema, partitionColumns: this.opts.partitionColumns, configuration: this.opts.configuration },
      txn: { appId: this.queryId, version: batch.batchId },
      mergeSchema: this.opts.mergeSchema,
      engine: this.opts.engine,
      compression: this.opts.compression,
      targetFileSize: this.opts.targetFileSize,
      operation: 'STREAMING UPDATE',
      operationParameters: { outputMode: 'Append', queryId: this.queryId, epochId: String(batch.batchId) },
      onCheckpointError: (e) => this.opts.onWarning?.(`Delta checkpoint not written: ${(e as Error).message}`),
    });
    if (r.skipped === 'already-committed') return { numOutputRows: 0, skipped: true, deltaVersion: undefined };
    return { numOutputRows: r.numRecords, deltaVersion: r.version };
  }
}
