import type { Offset } from '../source/offset.js';

/** Spark's StreamingQueryProgress fields, plus the Delta version a batch committed. */
export interface SourceProgress {
  description: string;
  startOffset: Offset | null;
  endOffset: Offset | null;
  latestOffset: Offset | null;
  numInputRows: number;
  inputRowsPerSecond: number;
  processedRowsPerSecond: number;
  metrics: Record<string, string>;
}

export interface StreamingQueryProgress {
  id: string;
  runId: string;
  name: string | null;
  timestamp: string;
  batchId: number;
  batchDuration: number;
  numInputRows: number;
  inputRowsPerSecond: number;
  processedRowsPerSecond: number;
  durationMs: Partial<Record<'latestOffset' | 'getBatch' | 'addBatch' | 'walCommit' | 'commitOffsets' | 'triggerExecution' | 'queryPlanning', number>>;
  sources: SourceProgress[];
  sink: { description: string; numOutputRows: number; metrics: Record<string, string> };
  /** The Delta table version this batch committed (null if it committed none). */
  deltaVersion: number | null;
  warnings?: string[];
}

export interface StreamingQueryStatus {
  message: string;
  isDataAvailable: boolean;
  isTriggerActive: boolean;
}

export interface QueryStartedEvent {
  id: string;
  runId: string;
  name: string | null;
  timestamp: string;
}
export interface QueryIdleEvent {
  id: string;
  runId: string;
  timestamp: string;
}
export interface QueryTerminatedEvent {
  id: string;
  runId: string;
  exception: string | null;
  errorClassOnException: string | null;
}

export interface StreamingQueryListener {
  onQueryStarted?(e: QueryStartedEvent): void;
  onQueryProgress?(e: { progress: StreamingQueryProgress }): void;
  onQueryIdle?(e: QueryIdleEvent): void;
  onQueryTerminated?(e: QueryTerminatedEvent): void;
}

/** Timing of the named phases of one trigger. */
export class PhaseTimer {
  readonly durations: StreamingQueryProgress['durationMs'] = {};
  async time<T>(phase: keyof StreamingQueryProgress['durationMs'], f: () => Promise<T> | T): Promise<T> {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      this.durations[phase] = (this.durations[phase] ?? 0) + Math.round(performance.now() - t0);
    }
  }
}
