import { randomUUID } from 'node:crypto';
import * as arrow from 'apache-arrow';
import { TributaryError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { storageFor } from '../storage/uri.js';
import { canonicalOffset, type Offset, parseOffset } from '../source/offset.js';
import type { StreamingQueryProgress } from './progress.js';

/**
 * The streaming checkpoint, laid out like Spark's:
 *   metadata             {"id": "<query id>"}  created once, stable across restarts
 *   offsets/<batchId>    written before the batch runs (the write-ahead log of offsets)
 *   commits/<batchId>    written after the sink committed the batch
 *   sources/0/rows/<id>  the rows of a non-replayable source's batch, written before offsets/<id>
 *   progress/<id>.json   the StreamingQueryProgress of batch <id>, the newest few kept (a ring),
 *                        so `tributary dashboard` can chart a stopped or cron-run query across runs
 * Log entries are created with put-if-absent: a batch's plan is never rewritten (only discarded,
 * uncommitted, when its source refuses it and the sink confirms it never received it).
 */
export interface OffsetEntry {
  batchId: number;
  start: Offset;
  end: Offset;
  timestampMs: number;
}

export class CheckpointDir {
  /** Where it is, for messages (a directory or a URL, never with credentials). */
  readonly dir: string;
  constructor(readonly storage: Storage) {
    this.dir = storage.root;
  }

  /** The checkpoint at a location: a directory, or an object-store URI with its options. */
  static async at(location: string, storageOptions?: Readonly<Record<string, string>>): Promise<CheckpointDir> {
    return new CheckpointDir(await storageFor(location, storageOptions));
  }

  /** The query id: read, or created atomically on first start. */
  async queryId(): Promise<string> {
    const existing = await this.storage.stat('metadata');
    if (!existing) {
      await this.storage.putIfAbsent('metadata', JSON.stringify({ id: randomUUID() }) + '\n');
    }
    const meta = JSON.parse(await this.storage.readText('metadata')) as { id?: string };
    if (typeof meta.id !== 'string') throw new TributaryError('LOG_CORRUPT', `${this.dir}/metadata has no query id`);
    return meta.id;
  }

  private async ids(sub: string): Promise<number[]> {
    return (await this.storage.list(sub))
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .sort((a, b) => a - b);
  }

  async latestOffsets(): Promise<OffsetEntry | undefined> {
    const ids = await this.ids('offsets');
    if (!ids.length) return undefined;
    return this.readOffsets(ids[ids.length - 1]);
  }

  async latestCommit(): Promise<number | undefined> {
    const ids = await this.ids('commits');
    return ids.length ? ids[ids.length - 1] : undefined;
  }

  async readOffsets(batchId: number): Promise<OffsetEntry> {
    const where = `${this.dir}/offsets/${batchId}`;
    const lines = (await this.storage.readText(`offsets/${batchId}`)).split('\n');
    if (lines[0] !== 'v1' || lines.length < 3) throw new TributaryError('LOG_CORRUPT', `${where} is not an offset log entry`);
    const meta = JSON.parse(lines[1]) as { batchTimestampMs: number; tributary?: { start: Offset } };
    if (!meta.tributary?.start) throw new TributaryError('LOG_CORRUPT', `${where} has no start offset`);
    return { batchId, start: meta.tributary.start, end: parseOffset(lines[2], where), timestampMs: meta.batchTimestampMs };
  }

  async writeOffsets(e: OffsetEntry): Promise<void> {
    // Spark's v1 format (version, batch metadata, one offset line per source); the start offset
    // rides in the metadata so a re-run never depends on an older entry that retention removed.
    const meta = { batchWatermarkMs: 0, batchTimestampMs: e.timestampMs, conf: {}, tributary: { start: JSON.parse(canonicalOffset(e.start)) } };
    const body = `v1\n${JSON.stringify(meta)}\n${canonicalOffset(e.end)}`;
    if (!(await this.storage.putIfAbsent(`offsets/${e.batchId}`, body))) {
      throw new TributaryError('CHECKPOINT_LOCKED', `offsets/${e.batchId} already exists in ${this.dir}: another query is writing to this checkpoint`);
    }
  }

  /**
   * Removes the plan of a batch that never committed, so that it can be planned again: only for a
   * batch that the sink confirmed it does not hold (see MicroBatchExecution).
   */
  async discardOffsets(batchId: number): Promise<void> {
    if (await this.storage.stat(`commits/${batchId}`)) throw new TributaryError('INTERNAL', `batch ${batchId} is committed in ${this.dir}; its offsets cannot be discarded`);
    await this.storage.delete(`offsets/${batchId}`);
  }

  async writeCommit(batchId: number): Promise<void> {
    if (!(await this.storage.putIfAbsent(`commits/${batchId}`, 'v1\n{"nextBatchWatermarkMs":0}'))) {
      throw new TributaryError('CHECKPOINT_LOCKED', `commits/${batchId} already exists in ${this.dir}: another query is writing to this checkpoint`);
    }
  }

  private rowsPath(batchId: number): string {
    return `sources/0/rows/${batchId}.arrow`;
  }

  /** Write-ahead rows of a non-replayable source (Arrow IPC: exact types, fast to reload). */
  async writeRows(batchId: number, table: arrow.Table): Promise<void> {
    await this.storage.write(this.rowsPath(batchId), arrow.tableToIPC(table, 'stream'));
  }

  /** Removes a discarded batch's write-ahead rows (after its offsets: rows without offsets are never read). */
  async discardRows(batchId: number): Promise<void> {
    await this.storage.delete(this.rowsPath(batchId));
  }

  async readRows(batchId: number): Promise<arrow.Table | undefined> {
    if (!(await this.storage.stat(this.rowsPath(batchId)))) return undefined;
    return arrow.tableFromIPC(await this.storage.read(this.rowsPath(batchId)));
  }

  /**
   * Keeps one batch's progress (already redacted: nothing persisted may hold a secret) and drops
   * the entry that falls out of the newest `retain`. One small file per batch, like the offset
   * log, rather than one file of every entry rewritten per batch: the cost stays that of one
   * entry however long the history.
   */
  async writeProgress(batchId: number, json: string, retain: number): Promise<void> {
    await this.storage.write(`progress/${batchId}.json`, json);
    if (batchId - retain >= 0) await this.storage.delete(`progress/${batchId - retain}.json`);
  }

  /** The kept progress, oldest first (at most `limit` newest entries); unreadable entries are skipped. */
  async readProgress(limit = Number.MAX_SAFE_INTEGER): Promise<StreamingQueryProgress[]> {
    const ids = (await this.storage.list('progress'))
      .map((n) => /^(\d+)\.json$/.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b)
      .slice(-limit);
    const out: StreamingQueryProgress[] = [];
    for (const id of ids) {
      try {
        out.push(JSON.parse(await this.storage.readText(`progress/${id}.json`)) as StreamingQueryProgress);
      } catch {
        // Removed meanwhile by the running query's ring, or torn by hand: the chart does without it.
      }
    }
    return out;
  }

  /**
   * Drops the log entries that fall out of the newest `retain` batches (Spark's
   * minBatchesToRetain). Called once per batch, it removes exactly one generation, so it costs
   * no directory listing; `sweep` catches up on anything older (after a restart).
   */
  async cleanup(latestBatch: number, retain: number): Promise<void> {
    const old = latestBatch - retain;
    if (old < 0) return;
    await Promise.all([this.storage.delete(`offsets/${old}`), this.storage.delete(`commits/${old}`), this.storage.delete(this.rowsPath(old))]);
  }

  async sweep(latestBatch: number, retain: number): Promise<void> {
    const cutoff = latestBatch - retain;
    if (cutoff < 0) return;
    for (const sub of ['offsets', 'commits']) {
      for (const id of await this.ids(sub)) if (id < cutoff) await this.storage.delete(`${sub}/${id}`);
    }
    for (const name of await this.storage.list('sources/0/rows')) {
      const id = Number(name.split('.')[0]);
      if (Number.isInteger(id) && id < cutoff) await this.storage.delete(`sources/0/rows/${name}`);
    }
  }
}
