import { createHash } from 'node:crypto';
import { TributaryError } from '../errors.js';
import { currentProcess, type ProcessIdentity, processStatus } from '../storage/process-identity.js';
import type { Storage } from '../storage/storage.js';

/** What `<checkpoint>/lock` holds: who owns the checkpoint, and how often it says it is alive. */
export interface LockRecord extends ProcessIdentity {
  runId: string;
  startedAt: string;
  /** When the lock was written; later heartbeats go to `lock-heartbeats/<runId>`. */
  heartbeatAt: string;
  renewIntervalMs: number;
}

export interface LockOptions {
  /** How often the owner renews its heartbeat. */
  renewIntervalMs?: number;
  /** The clock heartbeats are written and judged with (epoch ms). */
  now?: () => number;
  /** Called once when a renewal finds that the lock no longer names this query. */
  onLost?: (e: TributaryError) => void;
  /** Called when a renewal fails for another reason (it is tried again at the next interval). */
  onWarning?: (msg: string) => void;
}

export const DEFAULT_RENEW_INTERVAL_MS = 10_000;
/** A lock whose owner cannot be checked directly (another host) expires after this many missed renewals. */
export const MISSED_RENEWALS = 6;

const LOCK = 'lock';
/**
 * The owner renews its heartbeat in a file of its own, never by rewriting `lock`: a renewal then
 * cannot overwrite the lock of a newcomer that took over meanwhile, so it always sees the change.
 */
const HEARTBEATS = 'lock-heartbeats';
/** One marker per (stale lock, attempt): of several newcomers, the one that creates it takes over. */
const TAKEOVERS = 'lock-takeovers';
const MAX_ATTEMPTS = 8;

interface Found {
  text: string;
  /** Undefined when the file is not a lock record (torn by hand, or foreign): nobody holds it. */
  record: LockRecord | undefined;
}

function parseRecord(text: string): LockRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<LockRecord>;
    if (typeof r.pid !== 'number' || typeof r.host !== 'string' || typeof r.runId !== 'string') return undefined;
    return r as LockRecord;
  } catch {
    return undefined;
  }
}

async function readText(storage: Storage, path: string): Promise<string | undefined> {
  try {
    return await storage.readText(path);
  } catch (e) {
    if (!(await storage.stat(path))) return undefined; // removed meanwhile
    throw e;
  }
}

async function readLock(storage: Storage, path: string): Promise<Found | undefined> {
  const text = await readText(storage, path);
  return text === undefined ? undefined : { text, record: parseRecord(text) };
}

const heartbeatPath = (runId: string) => `${HEARTBEATS}/${encodeURIComponent(runId)}`;

/** The owner's latest sign of life: its renewed heartbeat, or the lock's own time. */
async function lastHeartbeat(storage: Storage, r: LockRecord): Promise<number> {
  const renewed = Date.parse((await readText(storage, heartbeatPath(r.runId)))?.trim() ?? '');
  const written = Date.parse(r.heartbeatAt ?? r.startedAt);
  return Math.max(Number.isFinite(renewed) ? renewed : -Infinity, Number.isFinite(written) ? written : -Infinity);
}

function expiryMs(r: LockRecord): number {
  const interval = Number.isFinite(r.renewIntervalMs) && r.renewIntervalMs > 0 ? r.renewIntervalMs : DEFAULT_RENEW_INTERVAL_MS;
  return MISSED_RENEWALS * interval;
}

/**
 * Whether the process a record names still holds it. On this host the OS answers (pid, start time,
 * boot id): another running process holds it however late its heartbeat, a gone one never does,
 * even when its pid is alive again as another process (a restarted container's job is pid 1
 * again). Where the OS cannot answer (another host, no /proc), a heartbeat older than
 * MISSED_RENEWALS of the owner's renewal interval means it is gone.
 */
async function holds(storage: Storage, record: LockRecord | undefined, now: number): Promise<boolean> {
  if (!record) return false;
  const status = await processStatus(record);
  if (status === 'gone') return false;
  // Another process here that is running holds it. A query of this very process holds it while it
  // renews: this event loop is running, so one that stopped renewing has ended without releasing.
  if (status === 'running' && record.pid !== process.pid) return true;
  return now - (await lastHeartbeat(storage, record)) <= expiryMs(record);
}

async function lockedError(storage: Storage, r: LockRecord, what = 'is in use by another query'): Promise<TributaryError> {
  const beat = await lastHeartbeat(storage, r).catch(() => NaN);
  const last = Number.isFinite(beat) ? new Date(beat).toISOString() : 'never';
  return new TributaryError(
    'CHECKPOINT_LOCKED',
    `checkpoint ${storage.root} ${what} (pid ${r.pid} on ${r.host}, running since ${r.startedAt}, last heartbeat ${last}); two queries cannot share a checkpoint. A lock from another host is taken over once its heartbeat is ${expiryMs(r) / 1000} s old`,
    { pid: r.pid, host: r.host, runId: r.runId },
  );
}

/**
 * One query per checkpoint: `<checkpoint>/lock` names its owner (pid, process start time, boot
 * id, host, run id) and a heartbeat the owner renews. It is created with put-if-absent and works
 * through the checkpoint's Storage only, so it holds on object stores as on local disks.
 *
 * The owner renews its heartbeat in `lock-heartbeats/<runId>`; finding `lock` naming another query
 * when it renews, it stops (fencing). A newcomer takes over a lock whose owner is gone (see
 * `holds`). Replacing the file is a plain write, so to keep two newcomers from both taking over
 * the same stale lock, each first creates a takeover marker named after that lock's exact bytes:
 * put-if-absent lets one win, and the winner re-reads the lock before replacing it, so a slow
 * loser that saw the same stale lock later finds the new owner instead. A winner that died
 * mid-takeover leaves its marker; the next newcomer sees it is gone and uses the next attempt's.
 */
export class CheckpointLock {
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private lost: TributaryError | undefined;
  private released = false;
  /** When this owner last wrote its heartbeat (the lock itself at first), on the lock's clock. */
  private lastBeat: number;

  private constructor(
    private readonly storage: Storage,
    private readonly record: LockRecord,
    private readonly opts: Required<Pick<LockOptions, 'now'>> & LockOptions,
  ) {
    this.lastBeat = Date.parse(record.heartbeatAt);
  }

  /** For metrics: whether this query still holds the checkpoint, and its latest heartbeat (epoch ms). */
  get state(): { held: boolean; lastHeartbeatMs: number; renewIntervalMs: number } {
    return { held: !this.lost && !this.released, lastHeartbeatMs: this.lastBeat, renewIntervalMs: this.record.renewIntervalMs };
  }

  static async acquire(storage: Storage, runId: string, options: LockOptions = {}): Promise<CheckpointLock> {
    const opts = { ...options, now: options.now ?? Date.now };
    const now = new Date(opts.now()).toISOString();
    const me: LockRecord = { ...(await currentProcess()), runId, startedAt: now, heartbeatAt: now, renewIntervalMs: opts.renewIntervalMs ?? DEFAULT_RENEW_INTERVAL_MS };
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (await storage.putIfAbsent(LOCK, JSON.stringify(me))) return new CheckpointLock(storage, me, opts).startHeartbeat();
      const found = await readLock(storage, LOCK);
      if (!found) continue;
      if (await holds(storage, found.record, opts.now())) throw await lockedError(storage, found.record!);
      if (await takeOver(storage, found, me, opts.now)) return new CheckpointLock(storage, me, opts).startHeartbeat();
    }
    throw new TributaryError('CHECKPOINT_LOCKED', `could not take the lock of checkpoint ${storage.root}: it changed hands ${MAX_ATTEMPTS} times while trying; is another query starting on it?`);
  }

  private startHeartbeat(): this {
    this.timer = setInterval(() => void this.renew(), this.record.renewIntervalMs);
    // The heartbeat alone must not keep a finished process alive.
    this.timer.unref();
    return this;
  }

  /** Throws CHECKPOINT_LOCKED once the lock was found to name another query (fencing). */
  assertHeld(): void {
    if (this.lost) throw this.lost;
  }

  /** Renews the heartbeat, unless the lock now names someone else: then the query must stop. */
  renew(): Promise<void> {
    this.renewing ??= this.renewOnce().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  private async renewOnce(): Promise<void> {
    if (this.lost || this.released) return;
    try {
      const found = await readLock(this.storage, LOCK);
      if (found?.record?.runId !== this.record.runId) {
        this.lost = found?.record
          ? await lockedError(this.storage, found.record, 'was taken over by another query while this one held it; this query stops without writing more')
          : new TributaryError('CHECKPOINT_LOCKED', `the lock of checkpoint ${this.storage.root} was removed while this query held it; this query stops without writing more`);
        this.stopHeartbeat();
        this.opts.onLost?.(this.lost);
        return;
      }
      const beat = this.opts.now();
      await this.storage.write(heartbeatPath(this.record.runId), new Date(beat).toISOString());
      this.lastBeat = beat;
    } catch (e) {
      this.opts.onWarning?.(`could not renew the lock of checkpoint ${this.storage.root} (tried again in ${this.record.renewIntervalMs} ms): ${(e as Error).message}`);
    }
  }

  private stopHeartbeat(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops renewing and removes the lock if it still names this query. */
  async release(): Promise<void> {
    this.stopHeartbeat();
    this.released = true;
    // A renewal still writing must not bring the lock back after it was removed.
    await this.renewing;
    try {
      if (!this.lost) {
        const found = await readLock(this.storage, LOCK);
        if (found?.record?.runId === this.record.runId) await this.storage.delete(LOCK);
      }
      await this.storage.delete(heartbeatPath(this.record.runId));
    } catch {
      // Left behind: the next run finds its owner gone and takes it over.
    }
  }
}

/**
 * Replaces the stale lock `stale` with `me`, unless another newcomer does first. True when `me`
 * now holds the checkpoint; false when the lock changed meanwhile (the caller looks again).
 */
async function takeOver(storage: Storage, stale: Found, me: LockRecord, now: () => number): Promise<boolean> {
  const key = createHash('sha256').update(stale.text).digest('hex').slice(0, 32);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const marker = `${TAKEOVERS}/${key}.${attempt}`;
    if (await storage.putIfAbsent(marker, JSON.stringify({ ...me, heartbeatAt: new Date(now()).toISOString() }))) {
      const current = await readLock(storage, LOCK);
      const won = current?.text === stale.text;
      if (won) {
        await storage.write(LOCK, JSON.stringify(me));
        if (stale.record) await storage.delete(heartbeatPath(stale.record.runId));
      }
      // Markers of finished takeovers go: anyone who saw this stale lock finds the new owner now.
      // So do those of older stale locks (a newcomer killed mid-takeover), which no re-read can match.
      for (let a = 0; a <= attempt; a++) await storage.delete(`${TAKEOVERS}/${key}.${a}`);
      // (Not another newcomer's staging file: its marker is being written, and deleting the
      // file under it made that newcomer fail with IO instead of finding the lock taken.)
      if (won) for (const name of await storage.list(TAKEOVERS)) if (!storage.isStagingName?.(name)) await storage.delete(`${TAKEOVERS}/${name}`);
      return won;
    }
    const claim = await readLock(storage, marker);
    if (!claim) return false; // that takeover just finished
    if (await holds(storage, claim.record, now())) throw await lockedError(storage, claim.record!, 'is being taken over by another query');
    // Its claimant died mid-takeover: the next attempt's marker decides.
  }
  return false;
}
