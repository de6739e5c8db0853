import type { Compression, EngineName } from '../../parquet/handler.js';
import { DeltaTable } from '../../delta/table.js';
import { optimize } from '../../delta/operations/optimize.js';
import type { BatchData, Sink, SinkResult } from './sink.js';

export interface DeltaSinkOptions {
  path: string;
  partitionColumns: string[];
  /** Liquid clustering columns of a table the sink creates. */
  clusterBy?: string[];
  mergeSchema?: boolean;
  engine?: EngineName;
  compression?: Compression;
  targetFileSize?: number;
  configuration?: Record<string, string>;
  /** Store options for the table's location (`storage.<key>` writeStream options). */
  storageOptions?: Readonly<Record<string, string>>;
  onWarning?: (msg: string) => void;
  /** Compact between batches: after every N commits, or when a touched partition has more than M small files. */
  autoCompact?: { everyCommits?: number; maxSmallFiles?: number; targetFileSize?: number };
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
  private compacting: Promise<void> | undefined;
  private commitsSinceCompaction = 0;
  /** Compactions run so far (for progress and tests). */
  compactions = 0;

  constructor(private readonly opts: DeltaSinkOptions) {
    this.description = `DeltaSink[${opts.path}]`;
  }

  async open(queryId: string): Promise<void> {
    this.queryId = queryId;
    this.table = await DeltaTable.forPath(this.opts.path, { storageOptions: this.opts.storageOptions });
  }

  async isCommitted(batchId: number): Promise<boolean> {
    // Look at the table as it is now, not as it was when the sink opened.
    this.table = await DeltaTable.forPath(this.opts.path, { storageOptions: this.opts.storageOptions });
    return this.table.exists && (this.table.snapshot.txnVersion(this.queryId) ?? -1) >= batchId;
  }

  async addBatch(batch: BatchData): Promise<SinkResult> {
    const table = this.table!;
    // No rows, no new table version (the commit log still records the batch).
    if (batch.numRows === 0) return { numOutputRows: 0, skipped: true };
    const r = await table.append(batch.data, {
      create: { schema: batch.schema, partitionColumns: this.opts.partitionColumns, configuration: this.opts.configuration, clusterBy: this.opts.clusterBy },
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
    this.maybeCompact(r.files.map((f) => f.partitionValues));
    return { numOutputRows: r.numRecords, deltaVersion: r.version };
  }

  /**
   * Auto-compaction runs in the background, one at a time, on its own table handle: the stream
   * keeps committing (blind appends never conflict with OPTIMIZE) and only waits for it on close.
   */
  private maybeCompact(touched: Record<string, string | null>[]): void {
    const ac = this.opts.autoCompact;
    if (!ac || this.compacting) return;
    this.commitsSinceCompaction++;
    const target = ac.targetFileSize ?? 128 * 1024 * 1024;
    let due = ac.everyCommits !== undefined && this.commitsSinceCompaction >= ac.everyCommits;
    if (!due && ac.maxSmallFiles !== undefined) {
      const snap = this.table!.snapshot;
      const keys = new Set(touched.map((v) => JSON.stringify(snap.partitionColumns.map((c) => v[c] ?? null))));
      const counts = new Map<string, number>();
      for (const f of snap.files) {
        if (f.size >= target * 0.75) continue;
        const k = JSON.stringify(snap.partitionColumns.map((c) => f.partitionValues[c] ?? null));
        if (keys.has(k)) counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      due = [...counts.values()].some((n) => n > ac.maxSmallFiles!);
    }
    if (!due) return;
    this.commitsSinceCompaction = 0;
    this.compacting = (async () => {
      try {
        const t = await DeltaTable.open(this.opts.path, undefined, { storageOptions: this.opts.storageOptions });
        await optimize(t, { targetFileSize: target, auto: true });
        this.compactions++;
      } catch (e) {
        this.opts.onWarning?.(`auto-compaction skipped: ${(e as Error).message}`);
      } finally {
        this.compacting = undefined;
      }
    })();
  }

  async close(): Promise<void> {
    await this.compacting;
  }
}
