import type { QueryRecord, QueryTracker } from './query-tracker.js';

export interface HealthOptions {
  /**
   * Ready while every query committed a batch within this many trigger intervals (counted from
   * its start before its first batch). Default 3.
   */
  readyAfterIntervals?: number;
  /** Alive while every running query's trigger loop moved within this long (or two trigger intervals, if longer). Default 5 minutes. */
  livenessTimeoutMs?: number;
  /**
   * The interval readiness is counted in, when it is not the trigger's: a `--schedule` process's
   * period between cron ticks.
   */
  intervalMs?: number;
}

export interface ProbeResult {
  ok: boolean;
  queries: { query: string; ok: boolean; reason: string }[];
  reason?: string;
}

/** Readiness needs some unit even for triggers without an interval (back to back, availableNow). */
const MIN_INTERVAL_MS = 1000;
export const DEFAULT_READY_AFTER_INTERVALS = 3;
export const DEFAULT_LIVENESS_TIMEOUT_MS = 5 * 60_000;

/**
 * Liveness (/healthz) and readiness (/readyz), judged on the tracker's clock only, so a probe's
 * answer follows from counts and an injected clock and never from how busy the machine is.
 *   liveness: every running query's trigger loop has moved (StreamingQuery.loopTicks changed)
 *             within the liveness timeout. The engine only counts; this class notes, on its own
 *             clock, when it saw the count change.
 *   readiness: every query committed a batch within readyAfterIntervals trigger intervals, and
 *             its latest run did not fail. A query whose source has had no new data for that
 *             long is not ready either: readiness says the data is fresh, so choose the number
 *             of intervals to fit how often the source has news.
 */
export class Health {
  private readonly ticks = new Map<string, { runId: string; ticks: number; at: number }>();
  readonly readyAfterIntervals: number;
  readonly livenessTimeoutMs: number;

  constructor(
    private readonly tracker: QueryTracker,
    private readonly opts: HealthOptions = {},
  ) {
    this.readyAfterIntervals = opts.readyAfterIntervals ?? DEFAULT_READY_AFTER_INTERVALS;
    this.livenessTimeoutMs = opts.livenessTimeoutMs ?? DEFAULT_LIVENESS_TIMEOUT_MS;
  }

  private intervalOf(r: QueryRecord): number {
    const t = r.query?.trigger;
    const trigger = t?.kind === 'processingTime' ? t.intervalMs : 0;
    return Math.max(this.opts.intervalMs ?? trigger, MIN_INTERVAL_MS);
  }

  liveness(): ProbeResult {
    const now = this.tracker.now();
    const queries = this.tracker.queries.map((r) => {
      const q = r.query;
      if (!q?.isActive) return { query: r.key, ok: true, reason: 'not running' };
      const seen = this.ticks.get(r.key);
      const ticks = q.loopTicks;
      if (!seen || seen.runId !== r.runId || seen.ticks !== ticks) this.ticks.set(r.key, { runId: r.runId, ticks, at: now });
      const since = now - this.ticks.get(r.key)!.at;
      const limit = Math.max(this.livenessTimeoutMs, 2 * this.intervalOf(r));
      return since <= limit
        ? { query: r.key, ok: true, reason: `trigger loop moved ${Math.round(since / 1000)} s ago` }
        : { query: r.key, ok: false, reason: `trigger loop has not moved for ${Math.round(since / 1000)} s (limit ${Math.round(limit / 1000)} s; status: ${q.status.message})` };
    });
    return { ok: queries.every((q) => q.ok), queries };
  }

  readiness(): ProbeResult {
    const now = this.tracker.now();
    const records = this.tracker.queries;
    if (!records.length) return { ok: false, queries: [], reason: 'no query has started yet' };
    const queries = records.map((r) => {
      if (r.failure !== undefined) return { query: r.key, ok: false, reason: `the query failed: ${r.failure}` };
      const window = this.readyAfterIntervals * this.intervalOf(r);
      const since = now - (r.lastCommitAt ?? r.startedAt);
      const what = r.lastCommitAt === undefined ? 'started' : 'last committed a batch';
      return since <= window
        ? { query: r.key, ok: true, reason: `${what} ${Math.round(since / 1000)} s ago` }
        : { query: r.key, ok: false, reason: `${what} ${Math.round(since / 1000)} s ago, more than ${this.readyAfterIntervals} trigger intervals (${Math.round(window / 1000)} s)` };
    });
    return { ok: queries.every((q) => q.ok), queries };
  }
}
