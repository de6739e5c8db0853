import { Registry } from 'prom-client';
import type { StreamingQueryManager } from '../engine/streams.js';
import { DEFAULT_PROGRESS_HISTORY } from '../engine/streaming-query.js';
import { liveFeed } from './dashboard-feed.js';
import { Health, type HealthOptions } from './health.js';
import { StreamingMetrics } from './metrics.js';
import { QueryTracker } from './query-tracker.js';
import { OpsServer } from './server.js';

export interface OpsOptions extends HealthOptions {
  /** Port for /metrics, /healthz, /readyz (and the dashboard); 0 picks a free one. */
  port: number;
  /** Interface to bind: 127.0.0.1 by default; 0.0.0.0 for Kubernetes probes and a Prometheus in another pod. */
  host?: string;
  /** Serve the live dashboard at / (off unless asked). */
  dashboard?: boolean;
  /** The registry to register on (default: a new one for this session; never prom-client's global). */
  registry?: Registry;
  /** Epoch milliseconds, for readiness, liveness and ages (tests inject a manual clock). */
  clock?: () => number;
  /** Progress entries per query the dashboard charts (default 100). */
  history?: number;
  /** prom-client's process metrics (memory, CPU, event loop, GC); default on. */
  processMetrics?: boolean;
}

/**
 * Operating a session's queries: a tracker of their events, the Prometheus metrics built from it,
 * liveness and readiness, and the HTTP server that serves them (and the dashboard). One per
 * session, started by `session.serveOps()`, `run --metrics-port`, or a query's metricsPort option.
 */
export class Operations {
  private constructor(
    readonly options: OpsOptions,
    readonly tracker: QueryTracker,
    readonly metrics: StreamingMetrics,
    readonly health: Health,
    readonly server: OpsServer,
  ) {}

  static async start(streams: StreamingQueryManager, opts: OpsOptions): Promise<Operations> {
    const tracker = new QueryTracker(streams, { clock: opts.clock ?? Date.now, history: opts.history ?? DEFAULT_PROGRESS_HISTORY });
    const registry = opts.registry ?? new Registry();
    const metrics = new StreamingMetrics(registry, tracker, { processMetrics: opts.processMetrics });
    const health = new Health(tracker, opts);
    const server = await OpsServer.start({ port: opts.port, host: opts.host, registry, health, dashboard: opts.dashboard ? liveFeed(tracker) : undefined });
    return new Operations(opts, tracker, metrics, health, server);
  }

  get registry(): Registry {
    return this.metrics.registry;
  }

  get url(): string {
    return this.server.url;
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
