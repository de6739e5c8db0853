import type { CommitInfo, Metadata } from './actions.js';

/**
 * In-commit timestamps (PROTOCOL.md "In-Commit Timestamps"; delta-spark's
 * InCommitTimestampUtils). While `delta.enableInCommitTimestamps` is true, a commit's time is the
 * `inCommitTimestamp` of its commitInfo (the first action), not the file's modification time,
 * and it must be strictly greater than the previous commit's: max(now, previous + 1), computed
 * again on every attempt of a commit, since the previous commit is then a winner's.
 */
export const ENABLE_IN_COMMIT_TIMESTAMPS = 'delta.enableInCommitTimestamps';
export const ENABLEMENT_VERSION = 'delta.inCommitTimestampEnablementVersion';
export const ENABLEMENT_TIMESTAMP = 'delta.inCommitTimestampEnablementTimestamp';

export function isInCommitTimestampEnabled(metadata: Pick<Metadata, 'configuration'> | undefined): boolean {
  return (metadata?.configuration?.[ENABLE_IN_COMMIT_TIMESTAMPS] ?? '').toLowerCase() === 'true';
}

/** The timestamp of the next commit; `previous` is undefined for a table's first commit. */
export function nextInCommitTimestamp(now: number, previous: number | undefined): number {
  return previous === undefined ? now : Math.max(now, previous + 1);
}

/** A commit's inCommitTimestamp, if it has one that is a whole number of milliseconds. */
export function inCommitTimestampOf(info: CommitInfo | undefined): number | undefined {
  const t = info?.inCommitTimestamp;
  return typeof t === 'number' && Number.isSafeInteger(t) ? t : undefined;
}

/**
 * A commit's time for history: the inCommitTimestamp when it has one (every commit from the
 * enablement version on, as DESCRIBE HISTORY shows them), else the writer's commitInfo time, else
 * the file's modification time.
 */
export function commitTimestamp(info: CommitInfo | undefined, fileModificationTime: number): number {
  return inCommitTimestampOf(info) ?? info?.timestamp ?? fileModificationTime;
}
