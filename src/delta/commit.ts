import { randomUUID } from 'node:crypto';
import { TributaryError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { type Action, type CommitInfo, serializeActions } from './actions.js';
import { commitPath } from './filenames.js';
import { fileKey } from './replay.js';
import { readCommits, type Snapshot } from './snapshot.js';
import { assignRowTracking } from './row-tracking.js';
import { isInCommitTimestampEnabled, nextInCommitTimestamp } from './in-commit-timestamp.js';
import { VERSION } from '../version.js';

export const ENGINE_INFO = `tributary/${VERSION}`;

export interface CommitRequest {
  /** Actions other than commitInfo (protocol, metaData, txn, add, remove...). */
  actions: Action[];
  commitInfo: CommitInfo;
  /** Only adds (and txns): concurrent appends never invalidate it. */
  isBlindAppend: boolean;
  /** Attempts after the first before giving up (default COMMIT_RETRIES.maxRetries). */
  maxRetries?: number;
  /** The wait after a lost race; tests pass their own to count the waits. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Retries are bounded and back off with jitter. A writer that lost the race for a version
 * waits a random time, growing with each loss up to a cap, before it reads the winners and
 * tries again: without it, writers that keep racing for the same next version lose in
 * lockstep (8 processes on one S3 table gave up after 15 immediate retries). The wait comes
 * before the catch-up read, so the retry goes out on a fresh view of the log.
 */
export const COMMIT_RETRIES = { maxRetries: 100, baseDelayMs: 10, maxDelayMs: 1000 };

/** Full jitter: uniform in [0, min(maxDelayMs, baseDelayMs * 2^attempt)). */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(COMMIT_RETRIES.maxDelayMs, COMMIT_RETRIES.baseDelayMs * 2 ** attempt));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface CommitResult {
  version: number;
  snapshot: Snapshot;
  /** Commits by other writers that this one had to move past. */
  retries: number;
}

/** The batch this commit carries was already committed by an earlier attempt (txn check). */
export class AlreadyCommitted extends TributaryError {
  constructor(
    readonly appId: string,
    readonly txnVersion: number,
    readonly tableVersion: number,
  ) {
    super('COMMIT_CONFLICT', `batch ${txnVersion} of ${appId} is already in the table (version ${tableVersion})`, { appId, txnVersion });
  }
}

/**
 * A concurrent commit changed the table's protocol or metadata (or this commit changes them and
 * lost the race): this commit was planned on a state that is gone, so its caller must plan it
 * again or give up.
 */
export class MetadataChanged extends TributaryError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('COMMIT_CONFLICT', message, details);
  }
}

/**
 * Optimistic commit (PROTOCOL.md "Creation of New Log Entries"): try to create version r+1 with
 * put-if-absent; when another writer won, check the winning commits for conflicts, move past
 * them and try again. A blind append conflicts only with protocol or metadata changes and with a
 * txn for the same appId; an operation that removes files also conflicts with a concurrent
 * removal of any of them.
 */
export async function commit(storage: Storage, snapshot: Snapshot, req: CommitRequest): Promise<CommitResult> {
  const maxRetries = req.maxRetries ?? COMMIT_RETRIES.maxRetries;
  const wait = req.sleep ?? sleep;
  const ourTxns = req.actions.flatMap((a) => ('txn' in a ? [a.txn] : []));
  const ourRemoves = new Set(req.actions.flatMap((a) => ('remove' in a ? [fileKey(a.remove.path, a.remove.deletionVector)] : [])));
  const changesMetadata = req.actions.some((a) => 'metaData' in a || 'protocol' in a);
  const txnId = randomUUID();
  let current = snapshot;
  const clock = snapshot.engine.clock ?? Date.now;
  for (let attempt = 0; attempt <= maxRetries; attempt++) {
    const version = current.version + 1;
    // Table features' obligations are met against the state this attempt lands on, so a retry
    // re-assigns row ids past the winners' and takes a timestamp after theirs.
    const body = assignRowTracking(current.state, version, req.actions);
    const now = clock();
    const metadata = body.reduce((m, a) => ('metaData' in a ? a.metaData : m), current.metadata);
    const info: CommitInfo = {
      // Spark writes it first, with the wall-clock timestamp after it.
      ...(isInCommitTimestampEnabled(metadata) ? { inCommitTimestamp: nextInCommitTimestamp(now, await current.inCommitTimestamp()) } : {}),
      timestamp: now,
      ...req.commitInfo,
      readVersion: current.version,
      isolationLevel: 'Serializable',
      isBlindAppend: req.isBlindAppend,
      engineInfo: ENGINE_INFO,
      txnId,
    };
    const actions: Action[] = [{ commitInfo: info }, ...body];
    if (await storage.putIfAbsent(commitPath(version), serializeActions(actions))) {
      return { version, snapshot: current.advance(version, actions), retries: attempt };
    }
    if (attempt === maxRetries) break;
    // A metadata change fails on any winner: nothing to wait for.
    if (!changesMetadata) await wait(retryDelayMs(attempt));
    // Lost the race for `version`: read what won, up to the current end of the log.
    const winners: number[] = [];
    for (let v = version; ; v++) {
      if (!(await storage.stat(commitPath(v)))) break;
      winners.push(v);
    }
    const winnerActions = await readCommits(storage, winners);
    winnerActions.forEach((actions, i) => {
      const v = winners[i];
      for (const a of actions) {
        if ('protocol' in a || 'metaData' in a) {
          throw new MetadataChanged(`version ${v} changed the table's ${'protocol' in a ? 'protocol' : 'metadata'} while this commit was being prepared; retry the operation`, { version: v });
        }
        if ('txn' in a) {
          const ours = ourTxns.find((t) => t.appId === a.txn.appId);
          if (ours && a.txn.version >= ours.version) throw new AlreadyCommitted(ours.appId, ours.version, v);
          if (ours) throw new TributaryError('COMMIT_CONFLICT', `version ${v} committed txn ${a.txn.version} for ${a.txn.appId} concurrently`, { version: v });
        }
        if ('remove' in a && ourRemoves.has(fileKey(a.remove.path, a.remove.deletionVector))) {
          throw new TributaryError('COMMIT_CONFLICT', `version ${v} removed ${a.remove.path}, which this commit also removes (concurrent delete)`, { version: v });
        }
      }
      current = current.advance(v, actions);
    });
    if (changesMetadata && winners.length) {
      throw new MetadataChanged(`this commit changes the table's metadata but versions ${winners.join(', ')} were committed first; retry the operation`, { version: winners[0] });
    }
  }
  const lost = current.version + 1;
  throw new TributaryError('COMMIT_CONFLICT', `gave up after ${maxRetries} retries: other writers kept committing first (version ${lost} was the last one this commit lost); the table is unchanged by it, retry the operation`, {
    version: lost,
  });
}

/** A commit holding only commitInfo (VACUUM START/END), as Spark writes. */
export async function commitInfoOnly(table: { storage: Storage; snapshot: Snapshot; adoptSnapshot(s: Snapshot): void }, operation: string, params: Record<string, string>, metrics: Record<string, string>): Promise<number> {
  const r = await commit(table.storage, table.snapshot, { actions: [], isBlindAppend: false, commitInfo: { operation, operationParameters: params, operationMetrics: metrics } });
  table.adoptSnapshot(r.snapshot);
  return r.version;
}
