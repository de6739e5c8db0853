import type { Offset } from '../source/offset.js';
import { PhaseTimer, type StreamingQueryProgress } from './progress.js';
import type { SinkResult } from './sinks/sink.js';

/** What one trigger's progress is built from, as the execution saw it. */
export interface BatchOutcome {
  batchId: number;
  start: Offset;
  end: Offset;
  numRows: number;
  sink: SinkResult;
  sourceMetrics: Record<string, string>;
  /** The batch was re-run from the checkpoint after a crash or stop. */
  recovered: boolean;
  warnings: string[];
}

/**
 * Builds Spark's StreamingQueryProgress for each batch, apart from the execution that runs it:
 * the rates (input rows per second since the previous trigger ended, processed rows per second
 * of this trigger) and the duration of each named phase.
 */
export class ProgressReporter {
  private lastTriggerEnd = performance.now();
  private timer = new PhaseTimer();
  private triggerStart = performance.now();
  private timestamp = new Date().toISOString();

  constructor(
    private readonly ids: { queryId: string; runId: string; name: string | null },
    private readonly sourceDescription: () => string,
    private readonly sinkDescription: string,
  ) {}

  /** A trigger begins: its phases are timed from here. */
  startTrigger(): PhaseTimer {
    this.timer = new PhaseTimer();
    this.triggerStart = performance.now();
    this.timestamp = new Date().toISOString();
    return this.timer;
  }

  /** The batch committed: its progress. */
  finishTrigger(o: BatchOutcome): StreamingQueryProgress {
    const now = performance.now();
    const total = now - this.triggerStart;
    this.timer.durations.triggerExecution = Math.round(total);
    const sinceLast = Math.max(1e-3, (this.triggerStart - this.lastTriggerEnd) / 1000 + total / 1000);
    this.lastTriggerEnd = now;
    const inputRate = round(o.numRows / sinceLast);
    const processedRate = round(o.numRows / Math.max(1e-3, total / 1000));
    return {
      id: this.ids.queryId,
      runId: this.ids.runId,
      name: this.ids.name,
      timestamp: this.timestamp,
      batchId: o.batchId,
      batchDuration: Math.round(total),
      numInputRows: o.numRows,
      inputRowsPerSecond: inputRate,
      processedRowsPerSecond: processedRate,
      durationMs: this.timer.durations,
      sources: [
        {
          description: this.sourceDescription(),
          startOffset: o.start,
          endOffset: o.end,
          latestOffset: o.end,
          numInputRows: o.numRows,
          inputRowsPerSecond: inputRate,
          processedRowsPerSecond: processedRate,
          metrics: { ...o.sourceMetrics, ...(o.recovered ? { recovered: 'true' } : {}) },
        },
      ],
      sink: { description: this.sinkDescription, numOutputRows: o.sink.numOutputRows, metrics: { ...o.sink.metrics, ...(o.sink.skipped ? { skipped: 'true' } : {}) } },
      deltaVersion: o.sink.deltaVersion ?? null,
      ...(o.warnings.length ? { warnings: o.warnings } : {}),
    };
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;
