import type { Row } from '../../arrow/record-batch.js';
import type * as arrow from 'apache-arrow';
import type { StructType } from '../../schema/schema.js';

/** One micro-batch as the sink receives it. */
export interface BatchData {
  batchId: number;
  schema: StructType;
  /**
   * The batch's rows. The engine always hands over Arrow of the stream's schema (validated where
   * the rows entered); sinks also take rows from direct callers.
   */
  data: readonly Row[] | arrow.Table;
  numRows: number;
}

export interface SinkResult {
  numOutputRows: number;
  /** Delta version committed by this batch, if the sink is a Delta table. */
  deltaVersion?: number;
  skipped?: boolean;
  /** What the sink reports in progress (`sink.metrics`), e.g. the Delta sink's files and bytes. */
  metrics?: Record<string, string>;
}

/** A table sink's state for the dashboard: its version, live files and their size, last checkpoint. */
export interface TableSummary {
  location: string;
  version: number;
  numFiles: number;
  sizeInBytes: number;
  lastCheckpointVersion: number | null;
}

/**
 * Where batches go. `addBatch` must be idempotent per batchId: after a crash the engine re-runs
 * the last batch it did not mark committed, with the same id and rows.
 */
export interface Sink {
  readonly description: string;
  open?(queryId: string): Promise<void>;
  addBatch(batch: BatchData): Promise<SinkResult>;
  /**
   * Whether the sink holds batch `batchId` of the query it was opened for (Delta: the table's
   * txn version for the query id is at least `batchId`). Lets the engine replace the plan of a
   * pending batch the source can no longer read; sinks that cannot tell leave it out.
   */
  isCommitted?(batchId: number): Promise<boolean>;
  /** The table the sink writes, as it stands (sinks without one leave it out). */
  tableSummary?(): TableSummary | undefined;
  close?(): Promise<void>;
}
