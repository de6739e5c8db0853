import { readCheckpoint } from '../checkpoint.js';
import { LOG_DIR, parseLogFileName } from '../filenames.js';
import type { Snapshot } from '../snapshot.js';

/**
 * Metadata cleanup (PROTOCOL.md "Metadata Cleanup"), run after a checkpoint: with cutoff =
 * midnight UTC of (now - delta.logRetentionDuration), find the newest commit not newer than the
 * cutoff and the newest checkpoint C at or before it; delete commits, checkpoints and .crc files
 * older than C. C must read back, so the table is always reconstructible from what is left.
 * Returns the deleted file names.
 */
export async function cleanupExpiredLogs(snapshot: Snapshot, newestCheckpoint: number, nowMs = Date.now()): Promise<string[]> {
  const storage = snapshot.storage;
  const cfg = snapshot.config;
  if (!cfg.enableExpiredLogCleanup) return [];
  const day = 86_400_000;
  const cutoff = Math.floor((nowMs - cfg.logRetentionMs) / day) * day;
  const names = await storage.list(LOG_DIR);
  const files = names.map((n) => ({ name: n, f: parseLogFileName(n) })).filter((x) => x.f !== undefined);
  const commits = files.filter((x) => x.f!.kind === 'commit');
  // Oldest first, stopping at the first commit that has not expired: like Spark's
  // BufferingLogDeletionIterator, a commit counts as no older than the one before it, so nothing
  // after an unexpired commit is expired either. One stat per expired commit plus one, instead of
  // one per commit in the log: run after every checkpoint of a long-lived stream, a stat of every
  // commit made each cleanup cost as much as the log is long.
  const candidates = commits.filter((c) => c.f!.version < newestCheckpoint).sort((a, b) => a.f!.version - b.f!.version);
  let newestExpired = -1;
  for (const c of candidates) {
    const st = await storage.stat(`${LOG_DIR}/${c.name}`);
    if (!st) continue;
    if (st.modificationTime > cutoff) break;
    newestExpired = c.f!.version;
  }
  if (newestExpired < 0) return [];
  const checkpoints = files.filter((x) => x.f!.kind === 'checkpoint' && x.f!.version <= newestExpired && (x.f as { parts?: number; uuid?: string }).parts === undefined && (x.f as { uuid?: string }).uuid === undefined);
  if (!checkpoints.length) return [];
  const c = checkpoints.reduce((a, b) => (b.f!.version > a.f!.version ? b : a));
  const keepFrom = c.f!.version;
  // Never clean behind a checkpoint that does not read back.
  const actions = await readCheckpoint(snapshot.engine, `${LOG_DIR}/${c.name}`).catch(() => undefined);
  if (!actions || !actions.some((a) => 'metaData' in a) || !actions.some((a) => 'protocol' in a)) return [];
  const deleted: string[] = [];
  for (const x of files) {
    const f = x.f!;
    const v = f.version;
    if (v < keepFrom && (f.kind === 'commit' || f.kind === 'checkpoint' || f.kind === 'crc' || f.kind === 'compacted')) {
      await storage.delete(`${LOG_DIR}/${x.name}`);
      deleted.push(x.name);
    }
  }
  return deleted;
}
