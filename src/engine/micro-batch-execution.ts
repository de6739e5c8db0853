import type * as arrow from 'apache-arrow';
import { type ErrorCode, TributaryError } from '../errors.js';
import type { StructType } from '../schema/schema.js';
import { failpoint, setFailpointBatch } from '../failpoints.js';
import { canonicalOffset, offsetsEqual, type Offset } from '../source/offset.js';
import { type DataSource, OffsetRangeRefused, READ_ALL, type ReadLimit, type ReadResult } from '../source/source.js';
import type { CheckpointDir, OffsetEntry } from './checkpoint-dir.js';
import type { PhaseTimer, StreamingQueryProgress } from './progress.js';
import { ProgressReporter } from './progress-reporter.js';
import { collect, type Reader, toArrowTable } from './reader.js';
import type { BatchData, Sink, SinkResult } from './sinks/sink.js';
import { nextTick, type ResolvedTrigger } from './trigger.js';

export interface ExecutionOptions {
  source: DataSource;
  schema: StructType;
  sink: Sink;
  /** The checkpoint location as the user gave it (for messages). */
  checkpointLocation: string;
  trigger: ResolvedTrigger;
  readLimit: ReadLimit;
  /** Offsets/commits kept in the checkpoint (Spark's minBatchesToRetain). */
  minBatchesToRetain: number;
  /** How often the checkpoint lock's heartbeat is renewed (default 10 s). */
  lockRenewIntervalMs?: number;
  /** Store options for the checkpoint location (and the Delta sink's table). */
  storageOptions?: Readonly<Record<string, string>>;
  /** Progress entries kept in the checkpoint (progress/), for `tributary dashboard`; 0 keeps none. */
  progressHistory?: number;
}

export interface ExecutionHooks {
  queryId: string;
  runId: string;
  name: string | null;
  setStatus(message: string, active: boolean, dataAvailable: boolean): void;
  /** The batch committed; the loop waits for this (the progress is kept in the checkpoint). */
  progress(p: StreamingQueryProgress): Promise<void> | void;
  idle(): void;
  warn(msg: string): void;
  stopRequested(): boolean;
  /** Resolves early when stop() is called, to cut a trigger wait short. */
  sleep(ms: number): Promise<void>;
  /** Throws once the checkpoint lock names another query: nothing more may be written then. */
  assertLockHeld(): void;
}

/** The batch a trigger runs: its logged plan, and the rows a non-replayable source read for it. */
interface PlannedBatch {
  entry: OffsetEntry;
  /** Rows read while planning (non-replayable sources), to be written ahead. */
  aheadRows?: ReadResult;
  /** Re-run of a batch an earlier run logged but did not commit. */
  recovered: boolean;
}

/** Codes with which a sink refuses a batch's rows before writing anything (see discardRefusedBatch). */
const REFUSED_BY_SINK = new Set<ErrorCode>(['ROW_INVALID', 'CONSTRAINT_VIOLATION', 'SCHEMA_MISMATCH', 'SCHEMA_INVALID', 'PARTITION_INVALID']);

/**
 * The micro-batch loop, phase by phase as Spark's MicroBatchExecution names them:
 *   constructNextBatch  the source's latest offset within the read limit (or the pending batch)
 *   writeOffsetsAhead   write-ahead rows of a non-replayable source, then offsets/N; the source
 *                       learns the previous batch is durable
 *   getBatch            the batch's rows as Arrow: logged rows, or read(start, end)
 *   addBatch            the sink (Delta: one commit with txn(queryId, batchId))
 *   writeCommit         commits/N, and the state moves to the next batch
 * A restart re-enters at getBatch for a batch with offsets and no commit. Progress is built by a
 * separate reporter from what the phases did.
 */
export class MicroBatchExecution {
  private batchId = 0;
  private start: Offset | undefined;
  /** A batch whose offsets were logged but whose commit was not: it re-runs first. */
  private pending: OffsetEntry | undefined;
  private lastCommittedEnd: Offset | undefined;
  private lastIdleEvent = 0;
  private readonly reporter: ProgressReporter;
  /**
   * Counts the trigger loop's steps (every phase, every committed batch, every wait): a liveness probe sees the loop
   * is alive when this moves, judged on its own clock, so the engine keeps no clock for it.
   */
  loopTicks = 0;

  constructor(
    private readonly opts: ExecutionOptions,
    private readonly reader: Reader,
    private readonly checkpoint: CheckpointDir,
    private readonly hooks: ExecutionHooks,
  ) {
    this.reporter = new ProgressReporter(hooks, () => opts.source.description(), opts.sink.description);
  }

  /** populateStartOffsets: find where this query left off. */
  async init(): Promise<void> {
    this.setStatus('Initializing sources', false, false);
    await this.opts.sink.open?.(this.hooks.queryId);
    const latest = await this.checkpoint.latestOffsets();
    const committed = await this.checkpoint.latestCommit();
    if (latest) await this.checkpoint.sweep(latest.batchId, this.opts.minBatchesToRetain);
    if (!latest) {
      this.batchId = 0;
      this.start = await this.reader.initialOffset();
      return;
    }
    if (committed !== undefined && committed >= latest.batchId) {
      this.batchId = latest.batchId + 1;
      this.start = latest.end;
      this.lastCommittedEnd = latest.end;
    } else {
      // Crashed between offsets/N and commits/N: re-run N with exactly the logged range.
      this.batchId = latest.batchId;
      this.start = latest.start;
      this.pending = latest;
    }
  }

  async stop(): Promise<void> {
    await this.reader.stop();
    await this.opts.sink.close?.();
  }

  /** Runs triggers until the trigger says to stop, or stop() is requested. */
  async run(): Promise<void> {
    const t = this.opts.trigger;
    if (t.kind === 'once') {
      await this.runTrigger(READ_ALL);
      return;
    }
    if (t.kind === 'availableNow') {
      if (this.pending) await this.runTrigger(this.opts.readLimit);
      if (this.reader.prepareForTriggerAvailableNow) {
        await this.reader.prepareForTriggerAvailableNow(this.start!);
        while (!this.hooks.stopRequested() && (await this.runTrigger(this.opts.readLimit))) {
          // keep draining up to the offset seen at start
        }
      } else {
        // A source that cannot pin its end gets one batch of everything (Spark's fallback).
        if (!this.hooks.stopRequested()) await this.runTrigger(READ_ALL);
      }
      return;
    }
    const interval = t.intervalMs;
    while (!this.hooks.stopRequested()) {
      this.loopTicks++;
      const triggerStart = Date.now();
      const ran = await this.runTrigger(this.opts.readLimit);
      if (this.hooks.stopRequested()) break;
      if (interval === 0) {
        // Back to back while there is data; poll gently while there is none.
        if (!ran) await this.hooks.sleep(10);
        continue;
      }
      const next = nextTick(triggerStart, interval);
      const now = Date.now();
      if (now >= next) {
        // Overran: start the next batch at once, without bursting through the missed ticks.
        this.hooks.warn(`Current batch is falling behind. The trigger interval is ${interval} milliseconds, but spent ${now - triggerStart} milliseconds`);
        continue;
      }
      this.setStatus('Waiting for next trigger', false, false);
      await this.hooks.sleep(next - now);
    }
  }

  /** One trigger, through the phases. Returns true when a batch ran. */
  async runTrigger(limit: ReadLimit): Promise<boolean> {
    this.loopTicks++;
    const timer = this.reporter.startTrigger();
    const planned = await this.constructNextBatch(limit, timer);
    if (!planned) return false;
    const { entry, recovered } = planned;
    setFailpointBatch(entry.batchId);
    this.setStatus('Processing new data', true, true);
    let logged: arrow.Table | undefined;
    if (!recovered) logged = await this.writeOffsetsAhead(planned, timer);
    let data: arrow.Table;
    try {
      data = logged ?? (await timer.time('getBatch', () => this.getBatch(entry)));
    } catch (e) {
      // Only a replayable source's plan may be replaced: a non-replayable one's rows were logged.
      if (recovered && this.reader.replayable && e instanceof OffsetRangeRefused) return this.recoverRefusedPlan(entry, e, limit);
      throw e;
    }
    const batch: BatchData = { batchId: entry.batchId, schema: this.opts.schema, data, numRows: data.numRows };
    let sinkResult: SinkResult;
    try {
      sinkResult = await timer.time('addBatch', () => this.addBatch(batch));
    } catch (e) {
      throw await this.discardRefusedBatch(entry, e);
    }
    failpoint('after-delta-commit');
    await timer.time('commitOffsets', () => this.writeCommit(entry));
    const warnings = this.reader.drainWarnings();
    for (const w of warnings) this.hooks.warn(w);
    await this.hooks.progress(
      this.reporter.finishTrigger({ batchId: entry.batchId, start: entry.start, end: entry.end, numRows: batch.numRows, sink: sinkResult, sourceMetrics: this.reader.metrics(), recovered, warnings }),
    );
    this.loopTicks++;
    return true;
  }

  /**
   * constructNextBatch: the pending batch of an earlier run, or the next range the source has
   * within the read limit (undefined when it has nothing new).
   */
  private async constructNextBatch(limit: ReadLimit, timer: PhaseTimer): Promise<PlannedBatch | undefined> {
    if (this.pending) return { entry: this.pending, recovered: true };
    this.setStatus('Getting offsets from ' + this.opts.source.description(), true, false);
    const start = this.start!;
    const planned = await timer.time('latestOffset', () => this.reader.plan(start, limit));
    if (offsetsEqual(start, planned.end)) {
      for (const w of this.reader.drainWarnings()) this.hooks.warn(w);
      this.setStatus('Waiting for data to arrive', false, false);
      this.maybeIdle();
      return undefined;
    }
    return { entry: { batchId: this.batchId, start, end: planned.end, timestampMs: Date.now() }, aheadRows: planned.rows, recovered: false };
  }

  /**
   * writeOffsetsAhead: the rows a non-replayable source read for this batch first (Arrow IPC), so
   * a crash from here on replays exactly them and never fetches again; then offsets/N. Returns
   * the written-ahead rows, which are also the batch's data.
   */
  private async writeOffsetsAhead(planned: PlannedBatch, timer: PhaseTimer): Promise<arrow.Table | undefined> {
    const { entry } = planned;
    let rows: arrow.Table | undefined;
    if (!this.reader.replayable) {
      rows = toArrowTable((await collect(planned.aheadRows ?? [])).data, this.opts.schema);
      this.hooks.assertLockHeld();
      await timer.time('walCommit', () => this.checkpoint.writeRows(entry.batchId, rows!));
      failpoint('after-wal-rows');
    }
    this.setStatus('Writing offsets to log', true, true);
    this.hooks.assertLockHeld();
    await timer.time('walCommit', () => this.checkpoint.writeOffsets(entry));
    failpoint('after-offsets-log');
    // The source learns that the previous batch is durable one batch late, like Spark.
    if (this.lastCommittedEnd) await this.reader.commit(this.lastCommittedEnd);
    return rows;
  }

  /** getBatch: the batch's rows as Arrow, from the write-ahead log or the source's read(start, end). */
  private async getBatch(entry: OffsetEntry): Promise<arrow.Table> {
    if (!this.reader.replayable) {
      const logged = await this.checkpoint.readRows(entry.batchId);
      if (!logged) {
        throw new TributaryError('LOG_CORRUPT', `batch ${entry.batchId} of a non-replayable source has offsets but no write-ahead rows in ${this.opts.checkpointLocation}`);
      }
      return logged;
    }
    return toArrowTable((await collect(await this.reader.read(entry.start, entry.end))).data, this.opts.schema);
  }

  /** addBatch: the sink takes the batch (idempotently: a batch it already holds is skipped). */
  private async addBatch(batch: BatchData): Promise<SinkResult> {
    this.hooks.assertLockHeld();
    try {
      return await this.opts.sink.addBatch(batch);
    } catch (e) {
      if (e instanceof TributaryError) throw e;
      throw new TributaryError('SINK_ERROR', `${this.opts.sink.description} failed on batch ${batch.batchId}: ${(e as Error).message}`, {}, { cause: e });
    }
  }

  /** writeCommit: commits/N, then the query moves on to batch N+1. */
  private async writeCommit(entry: OffsetEntry): Promise<void> {
    this.hooks.assertLockHeld();
    await this.checkpoint.writeCommit(entry.batchId);
    this.pending = undefined;
    this.lastCommittedEnd = entry.end;
    this.start = entry.end;
    this.batchId = entry.batchId + 1;
    await this.checkpoint.cleanup(entry.batchId, this.opts.minBatchesToRetain);
  }

  /**
   * The pending batch (offsets/N without commits/N, left by an earlier run) has a range the source
   * refuses under the current options, e.g. one planned with rowsPerBatch=1e22 that no process can
   * hold. Re-running it as logged would fail the same way forever. If the sink already holds batch
   * N, its rows were read once and only the commit log is missing: it is marked committed. If the
   * sink confirms it does not hold N, nothing of the plan reached it, and N is planned again with
   * the current options. A sink that cannot tell keeps the plan (and the error).
   */
  private async recoverRefusedPlan(entry: OffsetEntry, e: OffsetRangeRefused, limit: ReadLimit): Promise<boolean> {
    const n = entry.batchId;
    const sink = this.opts.sink;
    const range = `${canonicalOffset(entry.start)}..${canonicalOffset(entry.end)}`;
    const held = await sink.isCommitted?.(n);
    if (held === undefined) {
      throw new TributaryError(
        e.code,
        `${e.message}. Batch ${n} was planned with that range by an earlier run (offsets/${n} in ${this.opts.checkpointLocation}), and ${sink.description} cannot tell whether it already holds it, so the plan is kept: run with the options it was planned with`,
        e.details,
        { cause: e },
      );
    }
    this.hooks.assertLockHeld();
    this.pending = undefined;
    if (held) {
      this.hooks.warn(`batch ${n} (${range}) cannot be read under the current options (${e.message}), but ${sink.description} already holds it: marked committed`);
      await this.checkpoint.writeCommit(n);
      this.lastCommittedEnd = entry.end;
      this.start = entry.end;
      this.batchId = n + 1;
      await this.checkpoint.cleanup(n, this.opts.minBatchesToRetain);
      return true;
    }
    this.hooks.warn(`batch ${n} was planned by an earlier run as ${range}, which the source refuses under the current options (${e.message}); ${sink.description} does not hold batch ${n}, so that plan is discarded and the batch is planned again`);
    await this.checkpoint.discardOffsets(n);
    this.start = entry.start;
    this.batchId = n;
    return this.runTrigger(limit);
  }

  /**
   * The sink refused the batch's rows (a constraint, a NOT NULL column, a schema the table does
   * not have): bad input, which leaves the checkpoint as it was, like the table. Kept, the plan
   * would be run again by every restart and refused again, whatever was fixed at the source or in
   * the options: the query could never move on. So once the sink confirms it does not hold the
   * batch, its offsets (and a non-replayable source's write-ahead rows) are discarded and the next
   * run plans the batch again, from the last committed offsets. A sink that cannot tell, or any
   * other failure (I/O, a conflict), keeps the plan for the restart to run as logged.
   */
  private async discardRefusedBatch(entry: OffsetEntry, e: unknown): Promise<unknown> {
    if (!(e instanceof TributaryError) || !REFUSED_BY_SINK.has(e.code)) return e;
    const n = entry.batchId;
    if ((await this.opts.sink.isCommitted?.(n).catch(() => undefined)) !== false) return e;
    this.hooks.assertLockHeld();
    await this.checkpoint.discardOffsets(n);
    if (!this.reader.replayable) await this.checkpoint.discardRows(n);
    this.pending = undefined;
    return e;
  }

  /** Every step of the loop says what it is doing, and moves the tick count a liveness probe watches. */
  private setStatus(message: string, active: boolean, dataAvailable: boolean): void {
    this.loopTicks++;
    this.hooks.setStatus(message, active, dataAvailable);
  }

  private maybeIdle() {
    const now = Date.now();
    // Spark reports idleness at most every noDataProgressEventInterval (10 s).
    if (now - this.lastIdleEvent >= 10_000) {
      this.lastIdleEvent = now;
      this.hooks.idle();
    }
  }
}

