import type { Compression, EngineName } from '../../parquet/handler.js';
import { DeltaTable } from '../../delta/table.js';
import { optimize } from '../../delta/operations/optimize.js';
import { ParquetWasmHandler } from '../../parquet/parquet-wasm.js';
import type { BatchData, Sink, SinkResult, TableSummary } from './sink.js';
import type { AddFile } from '../../delta/actions.js';
import { ownField } from '../../arrow/own-fields.js';
import { TributaryError } from '../../errors.js';

/** The tag auto-compaction puts on the files it writes: their level (the stream's own files are 0). */
const LEVEL_TAG = 'tributary.autoCompactLevel';
/** Files of one level (above 0) that make a compaction into the next level due. */
const FILES_PER_LEVEL = 10;
const levelOf = (f: AddFile) => Number(f.tags?.[LEVEL_TAG] ?? 0) || 0;

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

  constructor(private readonly opts: DeltaSinkOptions) {
    this.description = `DeltaSink[${opts.path}]`;
  }

  async open(queryId: string): Promise<void> {
    this.queryId = queryId;
    this.table = await this.openTable();
    // partitionBy names how a table the sink creates is partitioned; for an existing table, as
    // in Spark (and `tributary append --partition-by`), other columns are refused, not ignored.
    const want = this.opts.partitionColumns;
    if (this.table.exists && want.length && want.join('\u0000') !== this.table.snapshot.partitionColumns.join('\u0000')) {
      throw new TributaryError('INVALID_ARGUMENT', `table ${this.opts.path} is partitioned by [${this.table.snapshot.partitionColumns.join(', ')}], not [${want.join(', ')}] (partitionBy applies when the stream creates the table)`);
    }
  }

  /**
   * The table's handle. Without auto-compaction (the only reader of its file list) the stream
   * only appends: its live files leave memory at each checkpoint, or they would grow it by a
   * file per batch for as long as the stream runs (the soak without autoCompact).
   */
  private async openTable(): Promise<DeltaTable> {
    const t = await DeltaTable.forPath(this.opts.path, { storageOptions: this.opts.storageOptions });
    t.releaseCheckpointedFiles = !this.opts.autoCompact;
    return t;
  }

  async isCommitted(batchId: number): Promise<boolean> {
    // Look at the table as it is now, not as it was when the sink opened.
    this.table = await this.openTable();
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
    return { numOutputRows: r.numRecords, deltaVersion: r.version, metrics: { numFiles: String(r.files.length), numBytes: String(r.numBytes), commitRetries: String(r.retries) } };
  }

  /**
   * Auto-compaction runs in the background, one at a time, on its own table handle: the stream
   * keeps committing (blind appends never conflict with OPTIMIZE) and only waits for it on close.
   *
   * It compacts in levels (size-tiered, as an LSM tree does): the stream's own small files are
   * level 0; what a compaction of level k writes is tagged level k+1 (`add.tags`), and level k+1
   * is compacted only once it has FILES_PER_LEVEL files. Compacting every small file each time
   * would rewrite the one growing output again and again until it reached the target size (with
   * 1,000-row batches, millions of rows rewritten per compaction, each compaction slower than the
   * last); with levels every row is rewritten once per level, and the levels are few.
   */
  private maybeCompact(touched: Record<string, string | null>[]): void {
    const ac = this.opts.autoCompact;
    if (!ac || this.compacting) return;
    this.commitsSinceCompaction++;
    const target = ac.targetFileSize ?? 128 * 1024 * 1024;
    let due = ac.everyCommits !== undefined && this.commitsSinceCompaction >= ac.everyCommits;
    if (!due && ac.maxSmallFiles !== undefined) {
      const snap = this.table!.snapshot;
      const parts = snap.physicalPartitionColumns;
      const keys = new Set(touched.map((v) => JSON.stringify(parts.map((c) => v[c] ?? null))));
      const counts = new Map<string, number>();
      for (const f of snap.state.files.values()) {
        if (f.size >= target * 0.75 || levelOf(f) > 0) continue;
        const k = JSON.stringify(parts.map((c) => ownField(f.partitionValues, c) ?? null));
        if (keys.has(k)) counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      due = [...counts.values()].some((n) => n > ac.maxSmallFiles!);
    }
    if (!due) return;
    this.commitsSinceCompaction = 0;
    this.compacting = (async () => {
      try {
        // The stream's own state, copied: re-reading the log would decode the whole checkpoint
        // (every live file and tombstone) at every compaction of a long-lived stream.
        const t = this.table!.fork();
        // Level 0 (a few thousand rows) on this thread: the encoder thread is a second V8 isolate
        // with its own WebAssembly instance that a stream would keep for good, to save little.
        // Higher levels merge up to millions of rows, and the writer holds a row group of up to
        // 1 M rows in WebAssembly memory, which never shrinks: on this thread that stepped RSS up
        // for good at the first such compaction, so they run on a thread of their own, ended after.
        const wasm = (this.opts.engine ?? 'parquet-wasm') === 'parquet-wasm';
        const here = wasm ? new ParquetWasmHandler({ thread: 'never' }) : undefined;
        const own = wasm ? new ParquetWasmHandler({ thread: 'own' }) : undefined;
        try {
          for (let level = 0; ; level++) {
            const small = (f: AddFile) => f.size < target * 0.75 && levelOf(f) === level;
            let n = 0;
            for (const f of t.snapshot.state.files.values()) if (small(f)) n++;
            const minFiles = level === 0 ? 2 : FILES_PER_LEVEL;
            if (n < minFiles) break;
            await optimize(t, { targetFileSize: target, auto: true, engine: level === 0 ? here : own, include: small, minFiles, tags: { [LEVEL_TAG]: String(level + 1) } });
          }
        } finally {
          await own?.close();
        }
      } catch (e) {
        this.opts.onWarning?.(`auto-compaction skipped: ${(e as Error).message}`);
      } finally {
        this.compacting = undefined;
      }
    })();
  }

  tableSummary(): TableSummary | undefined {
    const t = this.table;
    if (!t?.exists) return undefined;
    const snap = t.snapshot;
    return { location: this.opts.path, version: snap.version, numFiles: snap.state.numFiles, sizeInBytes: snap.state.sizeInBytes, lastCheckpointVersion: t.lastCheckpointVersion ?? null };
  }

  async close(): Promise<void> {
    await this.compacting;
  }
}
