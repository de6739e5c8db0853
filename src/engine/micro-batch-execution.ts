import * as arrow from 'apache-arrow';
import { TributaryError } from '../errors.js';
import { type Row, rowsToRecordBatch } from '../arrow/record-batch.js';
import { arrowToRows } from '../arrow/to-rows.js';
import type { StructType } from '../schema/schema.js';
import { failpoint, setFailpointBatch } from '../failpoints.js';
import { checkOffset, offsetsEqual, type Offset } from '../source/offset.js';
import { canonicalOffset } from '../source/offset.js';
import { type DataSource, type DataSourceStreamReader, OffsetRangeRefused, READ_ALL, type ReadLimit, type ReadResult, type SimpleDataSourceStreamReader } from '../source/source.js';
import { CheckpointDir, type OffsetEntry } from './checkpoint-dir.js';
import { PhaseTimer, type StreamingQueryProgress } from './progress.js';
import type { BatchData, Sink } from './sinks/sink.js';
import { nextTick, type ResolvedTrigger } from './trigger.js';

export interface ExecutionOptions {
  source: DataSource;
  schema: StructType;
  sink: Sink;
  checkpointLocation: string;
  trigger: ResolvedTrigger;
  readLimit: ReadLimit;
  /** Offsets/commits kept in the checkpoint (Spark's minBatchesToRetain). */
  minBatchesToRetain: number;
  /** How often the checkpoint lock's heartbeat is renewed (default 10 s). */
  lockRenewIntervalMs?: number;
}

export interface ExecutionHooks {
  queryId: string;
  runId: string;
  name: string | null;
  setStatus(message: string, active: boolean, dataAvailable: boolean): void;
  progress(p: StreamingQueryProgress): void;
  idle(): void;
  warn(msg: string): void;
  stopRequested(): boolean;
  /** Resolves early when stop() is called, to cut a trigger wait short. */
  sleep(ms: number): Promise<void>;
  /** Throws once the checkpoint lock names another query: nothing more may be written then. */
  assertLockHeld(): void;
}

/** A source's reader behind one interface, whichever of the two reader forms it implements. */
export interface Reader {
  initialOffset(): Promise<Offset>;
  /** Plans the next batch; for non-replayable sources also returns its rows (read once). */
  plan(start: Offset, limit: ReadLimit): Promise<{ end: Offset; rows?: ReadResult }>;
  read(start: Offset, end: Offset): Promise<ReadResult>;
  replayable: boolean;
  commit(end: Offset): Promise<void>;
  stop(): Promise<void>;
  prepareForTriggerAvailableNow?(start: Offset): Promise<void>;
  drainWarnings(): string[];
  metrics(): Record<string, string>;
}

/**
 * Creates the source's reader, which reads (and validates) the source's options: done before the
 * query takes its checkpoint, so a bad option fails the start with the checkpoint untouched.
 */
export function openReader(source: DataSource, schema: StructType): Reader {
  const sr: DataSourceStreamReader | undefined = source.streamReader?.(schema);
  if (sr) {
    const replayable = source.replayable;
    return {
      replayable,
      initialOffset: async () => checkOffset(await sr.initialOffset(), `${source.description()}.initialOffset()`),
      plan: async (start, limit) => {
        const end = checkOffset(await sr.latestOffset(start, limit), `${source.description()}.latestOffset()`);
        // A source that cannot replay is read while planning, so the rows can be logged first.
        if (!replayable && !offsetsEqual(start, end)) return { end, rows: await sr.read(start, end) };
        return { end };
      },
      read: async (start, end) => sr.read(start, end),
      commit: async (end) => void (await sr.commit?.(end)),
      stop: async () => void (await sr.stop?.()),
      prepareForTriggerAvailableNow: sr.prepareForTriggerAvailableNow ? async (start) => void (await sr.prepareForTriggerAvailableNow!(start)) : undefined,
      drainWarnings: () => sr.drainWarnings?.() ?? [],
      metrics: () => sr.metrics?.() ?? {},
    };
  }
  const simple: SimpleDataSourceStreamReader | undefined = source.simpleStreamReader?.(schema);
  if (!simple) throw new TributaryError('INVALID_ARGUMENT', `source ${source.description()} implements neither streamReader() nor simpleStreamReader()`);
  return {
    // The simple form reads while planning; its rows are always logged ahead.
    replayable: false,
    initialOffset: async () => checkOffset(await simple.initialOffset(), `${source.description()}.initialOffset()`),
    plan: async (start) => {
      const { rows, end } = await simple.read(start);
      checkOffset(end, `${source.description()}.read()`);
      const collected = await collect(rows);
      if (offsetsEqual(start, end) && collected.numRows > 0) {
        throw new TributaryError('SOURCE_ERROR', `${source.description()}.read() returned ${collected.numRows} rows but did not advance the offset`);
      }
      return { end, rows: collected.data };
    },
    read: async (start, end) => {
      if (!simple.readBetweenOffsets) throw new TributaryError('SOURCE_ERROR', `${source.description()} cannot re-read ${JSON.stringify(start)}..${JSON.stringify(end)}`);
      return simple.readBetweenOffsets(start, end);
    },
    commit: async (end) => void (await simple.commit?.(end)),
    stop: async () => void (await simple.stop?.()),
    drainWarnings: () => [],
    metrics: () => ({}),
  };
}

/** Materialises a read into rows or one Arrow table. */
async function collect(r: ReadResult): Promise<{ data: Row[] | arrow.Table; numRows: number }> {
  if (r instanceof arrow.RecordBatch) return { data: new arrow.Table([r]), numRows: r.numRows };
  if (Array.isArray(r)) return { data: r as Row[], numRows: r.length };
  const items: (Row | arrow.RecordBatch)[] = [];
  if (Symbol.asyncIterator in (r as object)) for await (const x of r as AsyncIterable<Row | arrow.RecordBatch>) items.push(x);
  else for (const x of r as Iterable<Row | arrow.RecordBatch>) items.push(x);
  if (items.length && items.every((x) => x instanceof arrow.RecordBatch)) {
    const t = new arrow.Table(items as arrow.RecordBatch[]);
    return { data: t, numRows: t.numRows };
  }
  const rows: Row[] = [];
  for (const x of items) if (x instanceof arrow.RecordBatch) rows.push(...arrowToRows(x));
  else rows.push(x);
  return { data: rows, numRows: rows.length };
}

/**
 * The micro-batch loop, phase by phase like Spark's MicroBatchExecution:
 *   latestOffset -> [read ahead + log rows] -> walCommit (offsets/N) -> source.commit(prev)
 *   -> getBatch -> addBatch (sink) -> commitOffsets (commits/N) -> progress
 */
export class MicroBatchExecution {
  private readonly checkpoint: CheckpointDir;
  private batchId = 0;
  private start: Offset | undefined;
  /** A batch whose offsets were logged but whose commit was not: it re-runs first. */
  private pending: OffsetEntry | undefined;
  private lastCommittedEnd: Offset | undefined;
  private lastTriggerEnd = performance.now();
  private lastIdleEvent = 0;

  constructor(
    private readonly opts: ExecutionOptions,
    private readonly reader: Reader,
    private readonly hooks: ExecutionHooks,
  ) {
    this.checkpoint = new CheckpointDir(opts.checkpointLocation);
  }

  /** populateStartOffsets: find where this query left off. */
  async init(): Promise<void> {
    this.hooks.setStatus('Initializing sources', false, false);
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
      this.hooks.setStatus('Waiting for next trigger', false, false);
      await this.hooks.sleep(next - now);
    }
  }

  /** One trigger. Returns true when a batch ran. */
  async runTrigger(limit: ReadLimit): Promise<boolean> {
    const reader = this.reader;
    const timer = new PhaseTimer();
    const triggerStart = performance.now();
    const timestamp = new Date().toISOString();
    this.hooks.setStatus('Getting offsets from ' + this.opts.source.description(), true, false);

    let entry: OffsetEntry;
    let aheadRows: ReadResult | undefined;
    let rerun = false;
    if (this.pending) {
      entry = this.pending;
      rerun = true;
    } else {
      const start = this.start!;
      const planned = await timer.time('latestOffset', () => reader.plan(start, limit));
      if (offsetsEqual(start, planned.end)) {
        for (const w of reader.drainWarnings()) this.hooks.warn(w);
        this.hooks.setStatus('Waiting for data to arrive', false, false);
        this.maybeIdle();
        return false;
      }
      entry = { batchId: this.batchId, start, end: planned.end, timestampMs: Date.now() };
      aheadRows = planned.rows;
    }
    setFailpointBatch(entry.batchId);
    this.hooks.setStatus('Processing new data', true, true);

    let batchData: { data: Row[] | arrow.Table; numRows: number };
    if (!rerun) {
      if (!reader.replayable) {
        // Write ahead the rows this batch read, before its offsets: a crash from here on
        // replays exactly these rows and never fetches again.
        batchData = await collect(aheadRows ?? []);
        const table = batchData.data instanceof arrow.Table ? batchData.data : new arrow.Table([rowsToRecordBatch(batchData.data, this.opts.schema)]);
        batchData = { data: table, numRows: table.numRows };
        this.hooks.assertLockHeld();
        await timer.time('walCommit', () => this.checkpoint.writeRows(entry.batchId, table));
        failpoint('after-wal-rows');
      }
      this.hooks.setStatus('Writing offsets to log', true, true);
      this.hooks.assertLockHeld();
      await timer.time('walCommit', () => this.checkpoint.writeOffsets(entry));
      failpoint('after-offsets-log');
      // The source learns that the previous batch is durable one batch late, like Spark.
      if (this.lastCommittedEnd) await reader.commit(this.lastCommittedEnd);
    }

    try {
      batchData ??= await timer.time('getBatch', async () => {
        if (!reader.replayable) {
          const logged = await this.checkpoint.readRows(entry.batchId);
          if (!logged) {
            throw new TributaryError('LOG_CORRUPT', `batch ${entry.batchId} of a non-replayable source has offsets but no write-ahead rows in ${this.opts.checkpointLocation}`);
          }
          return { data: logged, numRows: logged.numRows };
        }
        return collect(await reader.read(entry.start, entry.end));
      });
    } catch (e) {
      // Only a replayable source's plan may be replaced: a non-replayable one's rows were logged.
      if (rerun && reader.replayable && e instanceof OffsetRangeRefused) return this.recoverRefusedPlan(entry, e, limit);
      throw e;
    }

    const batch: BatchData = { batchId: entry.batchId, schema: this.opts.schema, data: batchData.data, numRows: batchData.numRows };
    this.hooks.assertLockHeld();
    const sinkResult = await timer.time('addBatch', async () => {
      try {
        return await this.opts.sink.addBatch(batch);
      } catch (e) {
        if (e instanceof TributaryError) throw e;
        throw new TributaryError('SINK_ERROR', `${this.opts.sink.description} failed on batch ${entry.batchId}: ${(e as Error).message}`, {}, { cause: e });
      }
    });
    failpoint('after-delta-commit');
    this.hooks.assertLockHeld();
    await timer.time('commitOffsets', () => this.checkpoint.writeCommit(entry.batchId));
    this.pending = undefined;
    this.lastCommittedEnd = entry.end;
    this.start = entry.end;
    this.batchId = entry.batchId + 1;
    await this.checkpoint.cleanup(entry.batchId, this.opts.minBatchesToRetain);

    const warnings = reader.drainWarnings();
    for (const w of warnings) this.hooks.warn(w);
    const now = performance.now();
    const total = now - triggerStart;
    timer.durations.triggerExecution = Math.round(total);
    const sinceLast = Math.max(1e-3, (triggerStart - this.lastTriggerEnd) / 1000 + total / 1000);
    this.lastTriggerEnd = now;
    const inputRate = batch.numRows / sinceLast;
    const processedRate = batch.numRows / Math.max(1e-3, total / 1000);
    this.hooks.progress({
      id: this.hooks.queryId,
      runId: this.hooks.runId,
      name: this.hooks.name,
      timestamp,
      batchId: entry.batchId,
      batchDuration: Math.round(total),
      numInputRows: batch.numRows,
      inputRowsPerSecond: round(inputRate),
      processedRowsPerSecond: round(processedRate),
      durationMs: timer.durations,
      sources: [
        {
          description: this.opts.source.description(),
          startOffset: entry.start,
          endOffset: entry.end,
          latestOffset: entry.end,
          numInputRows: batch.numRows,
          inputRowsPerSecond: round(inputRate),
          processedRowsPerSecond: round(processedRate),
          metrics: { ...reader.metrics(), ...(rerun ? { recovered: 'true' } : {}) },
        },
      ],
      sink: { description: this.opts.sink.description, numOutputRows: sinkResult.numOutputRows, metrics: sinkResult.skipped ? { skipped: 'true' } : {} },
      deltaVersion: sinkResult.deltaVersion ?? null,
      ...(warnings.length ? { warnings } : {}),
    });
    return true;
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

  private maybeIdle() {
    const now = Date.now();
    // Spark reports idleness at most every noDataProgressEventInterval (10 s).
    if (now - this.lastIdleEvent >= 10_000) {
      this.lastIdleEvent = now;
      this.hooks.idle();
    }
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;
