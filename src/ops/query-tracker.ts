import type { StreamingQueryProgress } from '../engine/progress.js';
import type { StreamingQuery } from '../engine/streaming-query.js';
import type { StreamingQueryManager } from '../engine/streams.js';

/** A message shown on the dashboard: a warning, or the error a query ended with. */
export interface Notice {
  /** Epoch milliseconds on the tracker's clock. */
  at: number;
  level: 'warning' | 'error';
  message: string;
  /** The query it belongs to, when known (session warnings belong to none). */
  query?: string;
}

/**
 * What the operations server knows of one query across its runs (a `--schedule` process starts a
 * new StreamingQuery per run; they share the checkpoint, so the query id, and the name).
 */
export interface QueryRecord {
  /** The query's name, or its id when it has none: the `query_name` label. */
  key: string;
  name: string | null;
  id: string;
  runId: string;
  /** The latest run. */
  query: StreamingQuery | undefined;
  /** The newest progress entries, oldest first (at most `history`). */
  progress: StreamingQueryProgress[];
  /** When the tracker first saw the current run start, on its clock. */
  startedAt: number;
  /** When the last batch committed, on the tracker's clock. */
  lastCommitAt: number | undefined;
  /** The latest run ended with this error (cleared when a later run starts). */
  failure: string | undefined;
}

export type TrackerEvent =
  | { kind: 'started'; record: QueryRecord }
  | { kind: 'progress'; record: QueryRecord; progress: StreamingQueryProgress }
  | { kind: 'terminated'; record: QueryRecord; failure: string | undefined }
  | { kind: 'notice'; notice: Notice };

export interface TrackerOptions {
  /** Epoch milliseconds; tests inject their own, so readiness and ages never depend on wall time. */
  clock: () => number;
  /** Progress entries kept per query for the dashboard. */
  history: number;
  /** Warnings and errors kept. */
  notices?: number;
}

/**
 * Follows a session's queries through its listener events (Spark's StreamingQueryListener) and
 * keeps, per query, what metrics, health and the dashboard are computed from. It holds only
 * bounded state: the newest `history` progress entries and the newest notices.
 */
export class QueryTracker {
  private readonly records = new Map<string, QueryRecord>();
  private readonly _notices: Notice[] = [];
  private readonly subscribers = new Set<(e: TrackerEvent) => void>();

  constructor(
    private readonly streams: StreamingQueryManager,
    private readonly opts: TrackerOptions,
  ) {
    // Queries that started before the tracker did.
    for (const q of streams.active) {
      if (!q.id) continue;
      const key = q.name ?? q.id;
      this.records.set(key, { key, name: q.name, id: q.id, runId: q.runId, query: q, progress: q.recentProgress.slice(-opts.history), startedAt: opts.clock(), lastCommitAt: undefined, failure: undefined });
    }
    streams.addListener({
      onQueryStarted: (e) => {
        const query = streams.get(e.id);
        const key = e.name ?? e.id;
        const prev = this.records.get(key);
        const record: QueryRecord = { key, name: e.name, id: e.id, runId: e.runId, query, progress: prev?.progress ?? [], startedAt: this.opts.clock(), lastCommitAt: prev?.lastCommitAt, failure: undefined };
        this.records.set(key, record);
        this.emit({ kind: 'started', record });
      },
      onQueryProgress: ({ progress }) => {
        const record = this.recordOf(progress.name, progress.id);
        if (!record) return;
        record.progress.push(progress);
        if (record.progress.length > this.opts.history) record.progress.splice(0, record.progress.length - this.opts.history);
        record.lastCommitAt = this.opts.clock();
        // Its warnings (progress.warnings) reached the session's warn() already: see warning().
        this.emit({ kind: 'progress', record, progress });
      },
      onQueryTerminated: (e) => {
        const record = [...this.records.values()].find((r) => r.runId === e.runId);
        if (!record) return;
        record.failure = e.exception ?? undefined;
        if (e.exception) this.notice({ level: 'error', message: `${e.errorClassOnException ?? 'Error'}: ${e.exception}`, query: record.key });
        this.emit({ kind: 'terminated', record, failure: record.failure });
      },
    });
  }

  private recordOf(name: string | null, id: string): QueryRecord | undefined {
    return this.records.get(name ?? id);
  }

  get queries(): QueryRecord[] {
    return [...this.records.values()];
  }

  get notices(): Notice[] {
    return [...this._notices];
  }

  now(): number {
    return this.opts.clock();
  }

  /** A session warning (already redacted by the session). */
  warning(message: string): void {
    this.notice({ level: 'warning', message });
  }

  private notice(n: Omit<Notice, 'at'>): void {
    const notice = { at: this.opts.clock(), ...n };
    this._notices.push(notice);
    const max = this.opts.notices ?? 50;
    if (this._notices.length > max) this._notices.splice(0, this._notices.length - max);
    this.emit({ kind: 'notice', notice });
  }

  subscribe(f: (e: TrackerEvent) => void): () => void {
    this.subscribers.add(f);
    return () => this.subscribers.delete(f);
  }

  private emit(e: TrackerEvent): void {
    for (const f of this.subscribers) {
      try {
        f(e);
      } catch {
        // An observer's failure (a closed SSE socket) must never reach the query.
      }
    }
  }
}
