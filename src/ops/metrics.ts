import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { StreamingQueryProgress } from '../engine/progress.js';
import type { QueryRecord, QueryTracker } from './query-tracker.js';

/** Seconds, for batch and phase durations: from a millisecond up to the five minutes of a slow API batch. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** The phases of progress.durationMs (Spark's names), as the `phase` label. */
const PHASES = ['latestOffset', 'walCommit', 'getBatch', 'addBatch', 'commitOffsets'] as const;

/**
 * Source metrics that count up (strings in progress, as Spark's) and the counter each feeds.
 * `httpStatus.<code>` feeds tributary_source_http_requests_total{status}.
 */
const SOURCE_COUNTERS = { httpRetries: 'retries', httpBytes: 'bytes' } as const;

const num = (s: string | undefined): number | undefined => {
  if (s === undefined) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
};

/**
 * The Prometheus metrics of a session's streaming queries, on a Registry handed in (never
 * prom-client's global one), named by Prometheus' conventions (`_total` counters, base units:
 * seconds and bytes) and labelled by `query_name`. Batch metrics are taken from each progress
 * event; source counters are read from the running reader at scrape time too, so retries of a
 * poll that has not committed yet show up; ages are computed at scrape time on the tracker's clock.
 */
export class StreamingMetrics {
  /** Last seen cumulative source counts per (query, run, metric): counters grow by the difference. */
  private readonly seen = new Map<string, number>();

  constructor(
    readonly registry: Registry,
    private readonly tracker: QueryTracker,
    opts: { processMetrics?: boolean } = {},
  ) {
    // prom-client's process and Node.js metrics (memory, CPU, event loop, GC), on our registry.
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry });
    const registers = [registry];
    const q = ['query_name'] as const;
    this.batches = new Counter({ name: 'tributary_batches_committed_total', help: 'Micro-batches committed (offsets, sink and commit log written).', labelNames: q, registers });
    this.inputRows = new Counter({ name: 'tributary_input_rows_total', help: 'Rows read from the source in committed batches.', labelNames: q, registers });
    this.outputRows = new Counter({ name: 'tributary_rows_committed_total', help: 'Rows the sink committed (0 for a batch the table already held).', labelNames: q, registers });
    this.batchDuration = new Histogram({ name: 'tributary_batch_duration_seconds', help: 'Time per committed batch, from planning to the commit log (triggerExecution).', labelNames: q, buckets: DURATION_BUCKETS, registers });
    this.phaseDuration = new Histogram({ name: 'tributary_batch_phase_duration_seconds', help: 'Time per phase of a committed batch (latestOffset, walCommit, getBatch, addBatch, commitOffsets).', labelNames: ['query_name', 'phase'], buckets: DURATION_BUCKETS, registers });
    this.inputRate = new Gauge({ name: 'tributary_input_rows_per_second', help: 'Input rate of the last batch: its rows over the time since the previous batch ended.', labelNames: q, registers });
    this.processedRate = new Gauge({ name: 'tributary_processed_rows_per_second', help: 'Processing rate of the last batch: its rows over its own duration.', labelNames: q, registers });
    this.deltaVersion = new Gauge({ name: 'tributary_last_committed_delta_version', help: 'Delta table version the last batch committed.', labelNames: q, registers });
    this.batchId = new Gauge({ name: 'tributary_last_committed_batch_id', help: 'Id of the last committed batch.', labelNames: q, registers });
    this.lastCommitTime = new Gauge({ name: 'tributary_last_commit_timestamp_seconds', help: 'Unix time of the last committed batch.', labelNames: q, registers });
    // Values computed at scrape time, one series per query (none where `value` gives undefined).
    const perQuery = (name: string, help: string, value: (r: QueryRecord, now: number) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: q,
        registers,
        collect() {
          this.reset();
          const now = tracker.now();
          for (const r of tracker.queries) {
            const v = value(r, now);
            if (v !== undefined) this.set({ query_name: r.key }, v);
          }
        },
      });
    perQuery('tributary_seconds_since_last_commit', 'Seconds since the last committed batch (since the query started, before its first).', (r, now) => Math.max(0, (now - (r.lastCommitAt ?? r.startedAt)) / 1000));
    perQuery('tributary_query_active', '1 while the query runs, 0 once it stopped.', (r) => (r.query?.isActive ? 1 : 0));
    this.failures = new Counter({ name: 'tributary_query_failures_total', help: 'Runs of the query that ended with an error.', labelNames: q, registers });
    this.warnings = new Counter({ name: 'tributary_warnings_total', help: 'Warnings reported (source retries given up under onError, falling-behind triggers, option typos...).', registers });

    const sync = () => this.syncSources();
    this.httpRequests = new Counter({ name: 'tributary_source_http_requests_total', help: 'HTTP requests of the source by response status ("error": no response).', labelNames: ['query_name', 'status'], registers, collect: sync });
    this.httpRetries = new Counter({ name: 'tributary_source_http_retries_total', help: 'HTTP requests of the source that were retried.', labelNames: q, registers, collect: sync });
    this.rateLimited = new Counter({ name: 'tributary_source_http_rate_limited_total', help: 'HTTP 429 answers the source got.', labelNames: q, registers, collect: sync });
    this.httpBytes = new Counter({ name: 'tributary_source_http_response_bytes_total', help: 'Bytes of HTTP response bodies the source read.', labelNames: q, registers, collect: sync });
    this.retryBudget = new Gauge({ name: 'tributary_source_retry_budget_remaining', help: 'Retries the last poll left of its retry budget.', labelNames: q, registers, collect: sync });

    this.filesWritten = new Counter({ name: 'tributary_sink_files_written_total', help: 'Data files the sink wrote.', labelNames: q, registers });
    this.bytesWritten = new Counter({ name: 'tributary_sink_bytes_written_total', help: 'Bytes of data files the sink wrote.', labelNames: q, registers });
    this.commitRetries = new Counter({ name: 'tributary_sink_commit_conflicts_retried_total', help: 'Delta commits that lost a race to another writer and were retried on top of it.', labelNames: q, registers });
    perQuery('tributary_table_files', "Live data files of the sink's Delta table.", (r) => r.query?.tableSummary()?.numFiles);
    perQuery('tributary_table_size_bytes', "Bytes of the live data files of the sink's Delta table.", (r) => r.query?.tableSummary()?.sizeInBytes);
    perQuery('tributary_checkpoint_lock_held', "1 while the query holds its checkpoint's lock, 0 once it released or lost it.", (r) => {
      const l = r.query?.lockState;
      return l ? (l.held ? 1 : 0) : undefined;
    });
    perQuery(
      'tributary_checkpoint_lock_heartbeat_age_seconds',
      "Seconds since the query last renewed its checkpoint lock's heartbeat (renewed every checkpointLock.renewInterval).",
      (r, now) => {
        const l = r.query?.lockState;
        return l?.held ? Math.max(0, (now - l.lastHeartbeatMs) / 1000) : undefined;
      },
    );

    tracker.subscribe((e) => {
      if (e.kind === 'progress') this.recordProgress(e.record, e.progress);
      else if (e.kind === 'terminated') {
        this.syncSource(e.record);
        if (e.failure) this.failures.inc({ query_name: e.record.key });
      } else if (e.kind === 'notice' && e.notice.level === 'warning') this.warnings.inc();
      else if (e.kind === 'started') {
        // Series exist from the start (at 0), so rate() and absent() work before the first batch.
        for (const c of [this.batches, this.inputRows, this.outputRows, this.failures, this.httpRetries, this.rateLimited, this.httpBytes, this.filesWritten, this.bytesWritten, this.commitRetries]) c.inc({ query_name: e.record.key }, 0);
      }
    });
  }

  private readonly batches: Counter<'query_name'>;
  private readonly inputRows: Counter<'query_name'>;
  private readonly outputRows: Counter<'query_name'>;
  private readonly batchDuration: Histogram<'query_name'>;
  private readonly phaseDuration: Histogram<'query_name' | 'phase'>;
  private readonly inputRate: Gauge<'query_name'>;
  private readonly processedRate: Gauge<'query_name'>;
  private readonly deltaVersion: Gauge<'query_name'>;
  private readonly batchId: Gauge<'query_name'>;
  private readonly lastCommitTime: Gauge<'query_name'>;
  private readonly failures: Counter<'query_name'>;
  private readonly warnings: Counter;
  private readonly httpRequests: Counter<'query_name' | 'status'>;
  private readonly httpRetries: Counter<'query_name'>;
  private readonly rateLimited: Counter<'query_name'>;
  private readonly httpBytes: Counter<'query_name'>;
  private readonly retryBudget: Gauge<'query_name'>;
  private readonly filesWritten: Counter<'query_name'>;
  private readonly bytesWritten: Counter<'query_name'>;
  private readonly commitRetries: Counter<'query_name'>;

  private recordProgress(r: QueryRecord, p: StreamingQueryProgress): void {
    const l = { query_name: r.key };
    this.batches.inc(l);
    this.inputRows.inc(l, p.numInputRows);
    this.outputRows.inc(l, p.sink.numOutputRows);
    this.batchDuration.observe(l, (p.durationMs.triggerExecution ?? p.batchDuration) / 1000);
    for (const phase of PHASES) {
      const ms = p.durationMs[phase];
      if (ms !== undefined) this.phaseDuration.observe({ query_name: r.key, phase }, ms / 1000);
    }
    this.inputRate.set(l, p.inputRowsPerSecond);
    this.processedRate.set(l, p.processedRowsPerSecond);
    if (p.deltaVersion !== null) this.deltaVersion.set(l, p.deltaVersion);
    this.batchId.set(l, p.batchId);
    this.lastCommitTime.set(l, (r.lastCommitAt ?? this.tracker.now()) / 1000);
    const m = p.sink.metrics;
    this.filesWritten.inc(l, num(m.numFiles) ?? 0);
    this.bytesWritten.inc(l, num(m.numBytes) ?? 0);
    this.commitRetries.inc(l, num(m.commitRetries) ?? 0);
    this.syncSource(r);
  }

  private syncSources(): void {
    for (const r of this.tracker.queries) this.syncSource(r);
  }

  /** Moves the source counters up to the reader's cumulative counts (a new run's reader starts at 0). */
  private syncSource(r: QueryRecord): void {
    const m = r.query?.sourceMetrics() ?? r.progress.at(-1)?.sources[0]?.metrics ?? {};
    const grow = (metric: string, value: number | undefined, inc: (delta: number) => void) => {
      if (value === undefined) return;
      const k = `${r.key}\u0000${r.runId}\u0000${metric}`;
      const delta = value - (this.seen.get(k) ?? 0);
      this.seen.set(k, value);
      if (delta > 0) inc(delta);
    };
    const l = { query_name: r.key };
    for (const [key, value] of Object.entries(m)) {
      if (key.startsWith('httpStatus.')) {
        const status = key.slice('httpStatus.'.length);
        grow(key, num(value), (d) => this.httpRequests.inc({ query_name: r.key, status }, d));
        if (status === '429') grow('rateLimited', num(value), (d) => this.rateLimited.inc(l, d));
      }
    }
    grow(SOURCE_COUNTERS.httpRetries, num(m.httpRetries), (d) => this.httpRetries.inc(l, d));
    grow(SOURCE_COUNTERS.httpBytes, num(m.httpBytes), (d) => this.httpBytes.inc(l, d));
    const budget = num(m.retryBudgetLeft);
    if (budget !== undefined) this.retryBudget.set(l, budget);
    // Keys of earlier runs are no longer needed: keep the map as small as the live runs.
    if (this.seen.size > 64 * Math.max(1, this.tracker.queries.length)) {
      const live = new Set(this.tracker.queries.map((q) => `${q.key}\u0000${q.runId}\u0000`));
      for (const k of this.seen.keys()) if (![...live].some((p) => k.startsWith(p))) this.seen.delete(k);
    }
  }
}
