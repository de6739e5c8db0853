import { registerBuiltins } from './builtins.js';
import { TributaryError } from './errors.js';
import { DataStreamReader } from './engine/data-stream.js';
import type { OpsRequest, SinkFactory, StreamingContext } from './engine/streaming-context.js';
import { Operations, type OpsOptions } from './ops/operations.js';
import { StreamingQueryManager } from './engine/streams.js';
import type { Trigger } from './engine/trigger.js';
import { Secrets } from './redact.js';
import { DataSourceRegistry } from './source/registry.js';

export type { SinkFactory };

/**
 * A session, like SparkSession: its own source registry, sinks, queries and listeners. Nothing
 * is process-global; `tributary` (src/index.ts) is just a default session with the built-ins.
 */
export class Tributary implements StreamingContext {
  readonly dataSource = new DataSourceRegistry();
  readonly streams = new StreamingQueryManager();
  private readonly sinks = new Map<string, SinkFactory>();
  /** Set by `tributary run --trigger`: overrides the trigger a job file chose. */
  triggerOverride: Trigger | undefined;
  /**
   * Store options (delta-rs's `storage_options` names) for every query's checkpoint location and
   * table, under its own `storage.<key>` options: `tributary run --storage-option` sets them.
   */
  storageOptions: Record<string, string> = {};
  /**
   * The secrets of every source this session loaded (their registries are attached here), so
   * whatever prints for the session can redact all of them: warnings, query failures, the CLI's
   * lines.
   */
  readonly secrets = new Secrets();
  /** Where warnings go (the CLI prints them to stderr); they arrive redacted. */
  onWarning: (msg: string) => void = (m) => process.stderr.write(`tributary: warning: ${m}\n`);

  private ops: Promise<Operations> | undefined;

  constructor(opts: { builtins?: boolean } = {}) {
    if (opts.builtins !== false) registerBuiltins(this);
  }

  /**
   * Serves Prometheus metrics (/metrics), liveness and readiness (/healthz, /readyz) and, with
   * `dashboard`, the live dashboard (/) for this session's queries, on its own Registry. One
   * server per session: a second call with the same port gets it, another port is refused.
   */
  serveOps(opts: OpsOptions): Promise<Operations> {
    if (!this.ops) {
      this.ops = Operations.start(this.streams, opts);
      // A failed start (the port is taken) may be tried again.
      this.ops.catch(() => (this.ops = undefined));
      return this.ops;
    }
    return this.ops.then((o) => {
      if (opts.port !== 0 && o.options.port !== opts.port) throw new TributaryError('INVALID_ARGUMENT', `this session already serves metrics on port ${o.server.port}; one port per session`);
      return o;
    });
  }

  /** The session's operations server, if one was started. */
  get operations(): Promise<Operations> | undefined {
    return this.ops;
  }

  /** Stops the operations server (the queries go on). */
  async closeOps(): Promise<void> {
    const o = this.ops;
    this.ops = undefined;
    await (await o?.catch(() => undefined))?.close();
  }

  /** For writeStream's metricsPort option (StreamingContext). */
  async serveOpsFor(req: OpsRequest): Promise<void> {
    await this.serveOps(req);
  }

  get readStream(): DataStreamReader {
    return new DataStreamReader(this);
  }

  registerSink(format: string, factory: SinkFactory): this {
    this.sinks.set(format.toLowerCase(), factory);
    return this;
  }

  sinkFactory(format: string): SinkFactory {
    const f = this.sinks.get(format.toLowerCase());
    if (!f) throw new TributaryError('INVALID_ARGUMENT', `unknown sink format "${format}" (sinks: delta, ${[...this.sinks.keys()].sort().join(', ')})`);
    return f;
  }

  warn(msg: string): void {
    const m = this.secrets.redact(msg);
    this.onWarning(m);
    void this.ops?.then((o) => o.tracker.warning(m)).catch(() => undefined);
  }
}
