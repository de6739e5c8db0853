import type { Secrets } from '../redact.js';
import type { DataSourceClass } from '../source/source.js';
import type { Sink } from './sinks/sink.js';
import type { StreamingQueryManager } from './streams.js';
import type { Trigger } from './trigger.js';

/**
 * What the streaming engine needs from the session that runs it: where sources and sinks are
 * looked up, where queries and warnings go, the secrets to keep out of output, and the CLI's
 * trigger override. The engine depends on this narrow interface, not on the session class (which
 * sits above it and composes the built-ins).
 */
export interface StreamingContext {
  readonly dataSource: { lookup(format: string): DataSourceClass };
  readonly streams: StreamingQueryManager;
  readonly secrets: Secrets;
  readonly triggerOverride: Trigger | undefined;
  /** Store options every query of the session starts from (`run --storage-option`). */
  readonly storageOptions?: Readonly<Record<string, string>>;
  sinkFactory(format: string): SinkFactory;
  warn(msg: string): void;
  /**
   * Serves metrics, health and the dashboard for the session's queries on a port (the writeStream
   * options metricsPort, metricsHost, dashboard, readyAfterIntervals). Settles once it listens.
   */
  serveOpsFor?(opts: OpsRequest): Promise<void>;
}

/** What a query's writeStream options ask of the session's operations server. */
export interface OpsRequest {
  port: number;
  host?: string;
  dashboard?: boolean;
  readyAfterIntervals?: number;
}

/** Makes the sink for `writeStream.format(<name>)`. `context` is the session starting the query. */
export type SinkFactory = (args: { options: Record<string, string>; path?: string; name?: string; context: StreamingContext }) => Sink;
