import { type LogFile, LOG_DIR, parseLogFileName, SIDECAR_DIR } from '../filenames.js';
import type { Snapshot } from '../snapshot.js';
import { readCheckpointActions, referencedSidecars } from '../v2-checkpoint.js';

/**
 * Metadata cleanup (PROTOCOL.md "Metadata Cleanup"), run after a checkpoint: with cutoff =
 * midnight UTC of (now - delta.logRetentionDuration), find the newest commit not newer than the
 * cutoff and the newest checkpoint C at or before it (classic, multi-part or UUID-named); delete
 * commits, checkpoints and .crc files older than C. C must read back (with its sidecars), so the
 * table is always reconstructible from what is left. Then the sidecars in `_delta_log/_sidecars/`
 * that no remaining checkpoint references and that are older than the cutoff are deleted, as
 * Spark does after it deleted checkpoints; if any remaining checkpoint cannot be read, no
 * sidecar is deleted. Returns the deleted file names (relative to `_delta_log/`).
 */
/**
 * What a writer keeps between its cleanups: when a cleanup found nothing expired, the oldest
 * commit it looked at (unexpired) cannot expire before `at` while the retention stays
 * `retentionMs` (commits only ever come newer, and only expired ones go), so a cleanup before
 * then would find nothing either. A long-lived stream checkpoints every 10 commits and its log
 * holds 30 days of them (43,200 at one batch a minute): without this, each checkpoint listed them
 * all (on an object store, a LIST of every key) to learn that nothing had expired yet.
 */
export interface CleanupHint {
  retentionMs: number;
  at: number;
}

export async function cleanupExpiredLogs(snapshot: Snapshot, newestCheckpoint: number, nowMs = Date.now(), memo?: { hint?: CleanupHint }): Promise<string[]> {
  const storage = snapshot.storage;
  const cfg = snapshot.config;
  if (!cfg.enableExpiredLogCleanup) return [];
  const day = 86_400_000;
  const cutoff = Math.floor((nowMs - cfg.logRetentionMs) / day) * day;
  const hint = memo?.hint;
  if (hint && hint.retentionMs === cfg.logRetentionMs && nowMs < hint.at) return [];
  if (memo) memo.hint = undefined;
  const names = await storage.list(LOG_DIR);
  const files = names.flatMap((name) => {
    const f = parseLogFileName(name);
    return f ? [{ name, f }] : [];
  });
  const commits = files.filter((x) => x.f.kind === 'commit');
  // Oldest first, stopping at the first commit that has not expired: like Spark's
  // BufferingLogDeletionIterator, a commit counts as no older than the one before it, so nothing
  // after an unexpired commit is expired either. One stat per expired commit plus one, instead of
  // one per commit in the log: run after every checkpoint of a long-lived stream, a stat of every
  // commit made each cleanup cost as much as the log is long.
  const candidates = commits.filter((c) => c.f.version < newestCheckpoint).sort((a, b) => a.f.version - b.f.version);
  let newestExpired = -1;
  for (const c of candidates) {
    const st = await storage.stat(`${LOG_DIR}/${c.name}`);
    if (!st) continue;
    if (st.modificationTime > cutoff) {
      // The cutoff (a midnight) reaches this commit at the first midnight at or after it.
      if (newestExpired < 0 && memo) memo.hint = { retentionMs: cfg.logRetentionMs, at: Math.ceil(st.modificationTime / day) * day + cfg.logRetentionMs };
      break;
    }
    newestExpired = c.f.version;
  }
  if (newestExpired < 0) return [];
  const keepFrom = await newestReadableCheckpoint(snapshot, files, newestExpired);
  if (keepFrom === undefined) return [];
  const deleted: string[] = [];
  let checkpointDeleted = false;
  for (const { name, f } of files) {
    if (f.version < keepFrom && (f.kind === 'commit' || f.kind === 'checkpoint' || f.kind === 'crc' || f.kind === 'compacted')) {
      await storage.delete(`${LOG_DIR}/${name}`);
      deleted.push(name);
      checkpointDeleted ||= f.kind === 'checkpoint';
    }
  }
  if (checkpointDeleted) deleted.push(...(await cleanupSidecars(snapshot, files.filter((x) => x.f.kind === 'checkpoint' && x.f.version >= keepFrom), cutoff)));
  return deleted;
}

/**
 * The version of the newest checkpoint at or before `maxVersion` that reads back whole (never
 * clean behind one that does not), or undefined.
 */
async function newestReadableCheckpoint(snapshot: Snapshot, files: { name: string; f: LogFile }[], maxVersion: number): Promise<number | undefined> {
  const checkpoints = files.filter((x) => x.f.kind === 'checkpoint' && x.f.version <= maxVersion);
  const versions = [...new Set(checkpoints.map((x) => x.f.version))].sort((a, b) => b - a);
  for (const v of versions) {
    const here = checkpoints.filter((x) => x.f.version === v);
    const candidates: string[][] = here.filter((x) => (x.f as { parts?: number }).parts === undefined).map((x) => [`${LOG_DIR}/${x.name}`]);
    const parts = here.filter((x) => (x.f as { parts?: number }).parts !== undefined);
    const want = (parts[0]?.f as { parts?: number } | undefined)?.parts;
    if (want !== undefined && parts.length === want) candidates.push(parts.map((x) => `${LOG_DIR}/${x.name}`).sort());
    for (const c of candidates) {
      const actions = await readCheckpointActions(snapshot.engine, c).catch(() => undefined);
      if (actions && actions.some((a) => 'metaData' in a) && actions.some((a) => 'protocol' in a)) return v;
    }
    // The newest checkpoint before the cutoff does not read: keep everything (as before).
    return undefined;
  }
  return undefined;
}

/** Deletes unreferenced sidecars older than `cutoff`; returns their names under `_delta_log/`. */
async function cleanupSidecars(snapshot: Snapshot, remaining: { name: string }[], cutoff: number): Promise<string[]> {
  const storage = snapshot.storage;
  const sidecars = (await storage.listRecursive(SIDECAR_DIR)).filter((s) => {
    const name = s.path.slice(s.path.lastIndexOf('/') + 1);
    // Hidden files (staging files of a write in progress, other tools' .crc files) are not sidecars.
    return name.endsWith('.parquet') && !name.startsWith('.');
  });
  if (!sidecars.length) return [];
  const referenced = new Set<string>();
  for (const { name } of remaining) {
    const refs = await referencedSidecars(snapshot.engine, [`${LOG_DIR}/${name}`]).catch(() => undefined);
    // A checkpoint that cannot be read might reference any sidecar: delete none.
    if (refs === undefined) return [];
    for (const r of refs) referenced.add(r);
  }
  const deleted: string[] = [];
  for (const s of sidecars) {
    if (referenced.has(s.path) || s.modificationTime >= cutoff) continue;
    await storage.delete(s.path);
    deleted.push(s.path.slice(LOG_DIR.length + 1));
  }
  return deleted;
}
