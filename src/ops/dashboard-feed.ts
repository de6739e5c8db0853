import { DeltaTable } from '../delta/table.js';
import type { CheckpointDir } from '../engine/checkpoint-dir.js';
import type { StreamingQueryProgress } from '../engine/progress.js';
import type { TableSummary } from '../engine/sinks/sink.js';
import type { Notice, QueryTracker } from './query-tracker.js';

/** One query as the dashboard shows it. */
export interface DashboardQuery {
  key: string;
  name: string | null;
  id: string;
  runId: string;
  active: boolean;
  status: string;
  progress: StreamingQueryProgress[];
  table: TableSummary | null;
}

export interface DashboardState {
  /** `live`: served by the running process; `checkpoint`: `tributary dashboard` from a checkpoint's kept progress. */
  mode: 'live' | 'checkpoint';
  queries: DashboardQuery[];
  notices: Notice[];
}

/** What the dashboard page is built from, and the updates it is sent (server-sent events). */
export interface DashboardFeed {
  state(): Promise<DashboardState>;
  /** `send(event, data)` for every update until the returned function is called. */
  subscribe(send: (event: string, data: unknown) => void): () => void;
}

/** The running process's queries, as the tracker follows them: every committed batch is an update. */
export function liveFeed(tracker: QueryTracker): DashboardFeed {
  const view = (r: (typeof tracker.queries)[number]): DashboardQuery => ({
    key: r.key,
    name: r.name,
    id: r.id,
    runId: r.runId,
    active: r.query?.isActive ?? false,
    status: r.failure ? `Failed: ${r.failure}` : (r.query?.status.message ?? 'Stopped'),
    progress: r.progress,
    table: r.query?.tableSummary() ?? null,
  });
  return {
    state: async () => ({ mode: 'live', queries: tracker.queries.map(view), notices: tracker.notices }),
    subscribe: (send) =>
      tracker.subscribe((e) => {
        if (e.kind === 'progress') send('progress', { key: e.record.key, progress: e.progress, table: e.record.query?.tableSummary() ?? null, status: e.record.query?.status.message ?? '' });
        else if (e.kind === 'notice') send('notice', e.notice);
        else send('query', view(e.record));
      }),
  };
}

/** `DeltaSink[<path>]`: the table a query wrote, from its progress, when none is given. */
function tableFromProgress(p: StreamingQueryProgress | undefined): string | undefined {
  const m = /^DeltaSink\[(.*)\]$/.exec(p?.sink.description ?? '');
  return m?.[1];
}

export interface CheckpointFeedOptions {
  checkpoint: CheckpointDir;
  /** The query's Delta table (default: the one its progress names). */
  table?: string;
  storageOptions?: Readonly<Record<string, string>>;
  /** Progress entries shown (the newest). */
  history: number;
  /** How often an open page's checkpoint is looked at again, for a query that is still running elsewhere (cron). */
  pollMs?: number;
}

/**
 * A stopped or cron-run query, from the progress its checkpoint keeps (progress/<batch>.json):
 * the same page, charted across runs. An open page is sent the state again when a newer batch
 * appears (the next cron run).
 */
export function checkpointFeed(o: CheckpointFeedOptions): DashboardFeed {
  const state = async (): Promise<DashboardState> => {
    const progress = await o.checkpoint.readProgress(o.history);
    const last = progress.at(-1);
    const location = o.table ?? tableFromProgress(last);
    let table: TableSummary | null = null;
    const notices: Notice[] = [];
    if (location) {
      try {
        const t = await DeltaTable.open(location, undefined, { storageOptions: o.storageOptions });
        const s = t.snapshot;
        table = { location, version: s.version, numFiles: s.state.numFiles, sizeInBytes: s.state.sizeInBytes, lastCheckpointVersion: t.lastCheckpointVersion ?? null };
      } catch (e) {
        notices.push({ at: Date.now(), level: 'error', message: `table ${location}: ${(e as Error).message}` });
      }
    }
    for (const p of progress) for (const w of p.warnings ?? []) notices.push({ at: Date.parse(p.timestamp), level: 'warning', message: w, query: p.name ?? p.id });
    const id = last?.id ?? (await o.checkpoint.storage.stat('metadata') ? await o.checkpoint.queryId().catch(() => '') : '');
    const key = last?.name ?? id;
    const queries: DashboardQuery[] = id || progress.length ? [{ key, name: last?.name ?? null, id, runId: last?.runId ?? '', active: false, status: last ? `Stopped (from the checkpoint ${o.checkpoint.dir}; last batch at ${last.timestamp})` : `No progress kept in ${o.checkpoint.dir}`, progress, table }] : [];
    return { mode: 'checkpoint', queries, notices: notices.slice(-50) };
  };
  return {
    state,
    subscribe: (send) => {
      let lastBatch: number | undefined;
      let busy = false;
      const timer = setInterval(() => {
        if (busy) return;
        busy = true;
        void state()
          .then((s) => {
            const b = s.queries[0]?.progress.at(-1)?.batchId;
            if (b !== lastBatch) {
              if (lastBatch !== undefined) send('state', s);
              lastBatch = b;
            }
          })
          .catch(() => undefined)
          .finally(() => (busy = false));
      }, o.pollMs ?? 5000);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
