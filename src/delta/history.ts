import { checkWholeNumber } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import type { CommitInfo } from './actions.js';
import { commitPath } from './filenames.js';
import { parseActions } from './actions.js';
import { commitTimestamp } from './in-commit-timestamp.js';

export interface HistoryEntry extends CommitInfo {
  version: number;
}

/** DESCRIBE HISTORY: commitInfo of each commit still in the log, newest first. */
export async function readHistory(storage: Storage, latest: number, limit?: number): Promise<HistoryEntry[]> {
  // NaN would compare false and return nothing, as if the table had no history.
  if (limit !== undefined) checkWholeNumber('limit', limit, 0);
  const out: HistoryEntry[] = [];
  for (let v = latest; v >= 0 && (limit === undefined || out.length < limit); v--) {
    const path = commitPath(v);
    const st = await storage.stat(path);
    // Commits before the oldest kept checkpoint may have been cleaned up.
    if (!st) break;
    const info = parseActions(await storage.readText(path), path).find((a) => 'commitInfo' in a);
    const ci = info && 'commitInfo' in info ? info.commitInfo : {};
    // With in-commit timestamps a commit's time is its inCommitTimestamp, as DESCRIBE HISTORY shows.
    out.push({ ...ci, version: v, timestamp: commitTimestamp(ci, st.modificationTime) });
  }
  return out;
}
