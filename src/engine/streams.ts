import type { StreamingQueryListener } from './progress.js';
import type { StreamingQuery } from './streaming-query.js';

/** `tributary.streams`: the session's active queries and listeners (spark.streams). */
export class StreamingQueryManager {
  private readonly _active = new Set<StreamingQuery>();
  private readonly _listeners: StreamingQueryListener[] = [];
  private waiters: ((q: StreamingQuery) => void)[] = [];

  get active(): StreamingQuery[] {
    return [...this._active];
  }
  get listeners(): readonly StreamingQueryListener[] {
    return this._listeners;
  }
  addListener(l: StreamingQueryListener): void {
    this._listeners.push(l);
  }
  removeListener(l: StreamingQueryListener): void {
    const i = this._listeners.indexOf(l);
    if (i >= 0) this._listeners.splice(i, 1);
  }
  get(id: string): StreamingQuery | undefined {
    return this.active.find((q) => q.id === id);
  }
  started(q: StreamingQuery): void {
    this._active.add(q);
  }
  terminated(q: StreamingQuery): void {
    this._active.delete(q);
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f(q);
  }
  /** Resolves with the first query to end (rejects with its error if it failed). */
  async awaitAnyTermination(): Promise<StreamingQuery> {
    const q = await new Promise<StreamingQuery>((resolve) => this.waiters.push(resolve));
    const e = q.exception();
    if (e) throw e;
    return q;
  }
}
