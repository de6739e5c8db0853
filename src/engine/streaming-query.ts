import { randomUUID } from 'node:crypto';
import { TributaryError } from '../errors.js';
import type { Secrets } from '../redact.js';
import { CheckpointDir } from './checkpoint-dir.js';
import { CheckpointLock } from './lock.js';
import { type ExecutionOptions, MicroBatchExecution } from './micro-batch-execution.js';
import { openReader, type Reader } from './reader.js';
import type { StreamingQueryListener, StreamingQueryProgress, StreamingQueryStatus } from './progress.js';
import type { TableSummary } from './sinks/sink.js';

export interface QueryContext {
  listeners: () => readonly StreamingQueryListener[];
  onTerminated: (q: StreamingQuery) => void;
  warn: (msg: string) => void;
  /** The session's secrets: redacted from the query's failure, its progress warnings and events. */
  secrets?: Secrets;
  /**
   * Settles before the query touches its checkpoint: the session's metrics server listening. A
   * rejection (the port is taken) fails the query before anything is written.
   */
  ready?: Promise<void>;
}

/** Spark's spark.sql.streaming.numRecentProgressUpdates: progress entries kept (in memory and in the checkpoint). */
export const DEFAULT_PROGRESS_HISTORY = 100;

const RECENT_PROGRESS = DEFAULT_PROGRESS_HISTORY;

/**
 * A running query (PySpark's StreamingQuery). `start()` returns at once; the query runs in the
 * background until its trigger finishes (once, availableNow), stop() is called, or it fails.
 */
export class StreamingQuery {
  id = '';
  readonly runId = randomUUID();
  readonly name: string | null;
  private _status: StreamingQueryStatus = { message: 'Initializing sources', isDataAvailable: false, isTriggerActive: false };
  private readonly _recent: StreamingQueryProgress[] = [];
  private _exception: Error | null = null;
  private _active = true;
  private stopping = false;
  private wake: (() => void) | undefined;
  private readonly done: Promise<void>;
  /** Resolves when the query has its id and holds the checkpoint lock (or has failed). */
  readonly started: Promise<void>;

  constructor(
    private readonly opts: ExecutionOptions & { name?: string },
    private readonly ctx: QueryContext,
  ) {
    this.name = opts.name ?? null;
    let markStarted!: () => void;
    this.started = new Promise((r) => (markStarted = r));
    this.done = this.run(markStarted);
    // Failures are reported through exception()/awaitTermination(), never as unhandled rejections.
    this.done.catch(() => undefined);
  }

  private async run(markStarted: () => void): Promise<void> {
    let reader: Reader | undefined;
    let lock: CheckpointLock | undefined;
    let exec: MicroBatchExecution | undefined;
    try {
      await this.ctx.ready;
      // The reader validates the source's options: a bad one fails here, before the lock, the
      // query id or any offset is written to the checkpoint.
      reader = openReader(this.opts.source, this.opts.schema);
      const checkpoint = await CheckpointDir.at(this.opts.checkpointLocation, this.opts.storageOptions);
      lock = await CheckpointLock.acquire(checkpoint.storage, this.runId, {
        renewIntervalMs: this.opts.lockRenewIntervalMs,
        // Fenced: another query took the checkpoint over. Stop at once; the batch loop refuses to
        // write anything more (assertLockHeld), and the query ends with that error.
        onLost: () => {
          this.stopping = true;
          this.wake?.();
        },
        onWarning: (m) => this.ctx.warn(m),
      });
      this.id = await checkpoint.queryId();
      this.lock = lock;
      markStarted();
      for (const l of this.ctx.listeners()) l.onQueryStarted?.({ id: this.id, runId: this.runId, name: this.name, timestamp: new Date().toISOString() });
      const held = lock;
      const keep = this.opts.progressHistory ?? DEFAULT_PROGRESS_HISTORY;
      const liveReader = reader;
      this.liveSourceMetrics = () => liveReader.metrics();
      exec = new MicroBatchExecution(this.opts, reader, checkpoint, {
        queryId: this.id,
        runId: this.runId,
        name: this.name,
        setStatus: (message, active, avail) => (this._status = { message, isTriggerActive: active, isDataAvailable: avail }),
        progress: async (p) => {
          if (p.warnings && this.ctx.secrets) p.warnings = p.warnings.map((w) => this.ctx.secrets!.redact(w));
          this._recent.push(p);
          if (this._recent.length > RECENT_PROGRESS) this._recent.shift();
          for (const l of this.ctx.listeners()) l.onQueryProgress?.({ progress: p });
          if (keep > 0) {
            const json = JSON.stringify(p);
            await checkpoint.writeProgress(p.batchId, this.ctx.secrets ? this.ctx.secrets.redact(json) : json, keep);
          }
        },
        idle: () => {
          for (const l of this.ctx.listeners()) l.onQueryIdle?.({ id: this.id, runId: this.runId, timestamp: new Date().toISOString() });
        },
        warn: (m) => this.ctx.warn(m),
        stopRequested: () => this.stopping,
        assertLockHeld: () => held.assertHeld(),
        sleep: (ms) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(done, ms);
            function done() {
              clearTimeout(t);
              resolve();
            }
            this.wake = done;
          }),
      });
      this.exec = exec;
      await exec.init();
      await exec.run();
      // A stop forced by losing the lock is a failure, not a clean end.
      lock.assertHeld();
    } catch (e) {
      this._exception = e instanceof Error ? e : new Error(String(e));
      markStarted();
    } finally {
      try {
        if (exec) await exec.stop();
        else await reader?.stop();
      } catch (e) {
        this._exception ??= e as Error;
      }
      await lock?.release();
      this._active = false;
      this._status = { message: 'Stopped', isDataAvailable: false, isTriggerActive: false };
      const ex = this._exception;
      // Whatever wrote the message (a source, a user's code), it is redacted before anyone sees it.
      if (ex) this.ctx.secrets?.scrub(ex);
      for (const l of this.ctx.listeners()) {
        l.onQueryTerminated?.({ id: this.id, runId: this.runId, exception: ex ? ex.message : null, errorClassOnException: ex instanceof TributaryError ? ex.code : ex ? ex.name : null });
      }
      this.ctx.onTerminated(this);
    }
  }

  private exec: MicroBatchExecution | undefined;
  private lock: CheckpointLock | undefined;
  private liveSourceMetrics: (() => Record<string, string>) | undefined;

  /** Steps of the trigger loop so far: a liveness probe watches it move. */
  get loopTicks(): number {
    return this.exec?.loopTicks ?? 0;
  }
  /** The trigger the query runs with. */
  get trigger(): ExecutionOptions['trigger'] {
    return this.opts.trigger;
  }
  get checkpointLocation(): string {
    return this.opts.checkpointLocation;
  }
  /** The source's metrics now (between batches too: retries of a poll that has not committed yet). */
  sourceMetrics(): Record<string, string> {
    try {
      return this.liveSourceMetrics?.() ?? {};
    } catch {
      return this.lastProgress?.sources[0]?.metrics ?? {};
    }
  }
  /** The checkpoint lock as this query holds it (undefined before it was taken). */
  get lockState(): CheckpointLock['state'] | undefined {
    return this.lock?.state;
  }
  /** The sink's table as it stands now (Delta), for the dashboard. */
  tableSummary(): TableSummary | undefined {
    return this.opts.sink.tableSummary?.();
  }

  get isActive(): boolean {
    return this._active;
  }
  get status(): StreamingQueryStatus {
    return { ...this._status };
  }
  get lastProgress(): StreamingQueryProgress | null {
    return this._recent[this._recent.length - 1] ?? null;
  }
  get recentProgress(): StreamingQueryProgress[] {
    return [...this._recent];
  }
  exception(): Error | null {
    return this._exception;
  }

  /**
   * Waits for the query to end; with a timeout (ms) resolves false if it is still running.
   * Rejects with the query's error if it failed.
   */
  async awaitTermination(timeoutMs?: number): Promise<boolean> {
    if (timeoutMs === undefined) {
      await this.done;
    } else {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([this.done.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs)))]);
      clearTimeout(timer);
      if (timedOut) return false;
    }
    if (this._exception) throw this._exception;
    return true;
  }

  /** Graceful stop: a batch in flight finishes and commits; then the query ends. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.done;
  }
}
