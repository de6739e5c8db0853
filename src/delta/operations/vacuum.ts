import { TributaryError } from '../../errors.js';
import { commitInfoOnly } from '../commit.js';
import { decodeAddPath } from '../partitions.js';
import type { DeltaTable } from '../table.js';

export interface VacuumOptions {
  /** Files unreferenced for at least this long are deleted. Default: delta.deletedFileRetentionDuration (7 days). */
  retentionMs?: number;
  dryRun?: boolean;
  /** Allow a retention below 168 hours (Spark: retentionDurationCheck.enabled=false). */
  force?: boolean;
  now?: number;
}

export interface VacuumResult {
  dryRun: boolean;
  retentionMs: number;
  deleted: string[];
  bytes: number;
}

const MIN_RETENTION_MS = 168 * 3_600_000;

/**
 * VACUUM: deletes data files that no snapshot within the retention window references and that
 * are older than the retention. "Referenced" means live in the latest version, or removed by a
 * tombstone newer than the cutoff (so every version still in the window keeps its files).
 * Never touches _delta_log or hidden (`_`/`.`) paths other than partition directories.
 */
export async function vacuum(table: DeltaTable, opts: VacuumOptions = {}): Promise<VacuumResult> {
  const snap = await table.refresh();
  const retentionMs = opts.retentionMs ?? snap.config.deletedFileRetentionMs;
  if (retentionMs < MIN_RETENTION_MS && !opts.force) {
    throw new TributaryError(
      'INVALID_ARGUMENT',
      `a retention of ${Math.round(retentionMs / 3_600_000)} hours is below the safe minimum of 168 hours: files that concurrent readers or writers still need could be deleted; pass --force (Spark: retentionDurationCheck.enabled=false) to do it anyway`,
    );
  }
  const now = opts.now ?? Date.now();
  const cutoff = now - retentionMs;
  const keep = new Set<string>();
  // Compare storage paths: add.path decoded once (a directory may literally contain "%25").
  const root = table.storage.root;
  for (const f of snap.files) keep.add(decodeAddPath(f.path, root));
  for (const t of snap.state.tombstones.values()) if ((t.deletionTimestamp ?? now) > cutoff) keep.add(decodeAddPath(t.path, root));
  const parts = new Set(snap.partitionColumns);
  const hidden = (component: string) => (component.startsWith('_') || component.startsWith('.')) && !(component.includes('=') && parts.has(component.split('=')[0]));
  const all = await table.storage.listRecursive('');
  const doomed = all.filter((f) => {
    const comps = f.path.split('/');
    if (comps.some(hidden)) return false;
    if (keep.has(f.path)) return false;
    return f.modificationTime < cutoff;
  });
  const result: VacuumResult = { dryRun: !!opts.dryRun, retentionMs, deleted: doomed.map((f) => f.path), bytes: doomed.reduce((n, f) => n + f.size, 0) };
  if (opts.dryRun) return result;
  // Spark records VACUUM START / VACUUM END in the history.
  await commitInfoOnly(table, 'VACUUM START', { retentionCheckEnabled: String(!opts.force), defaultRetentionMillis: String(snap.config.deletedFileRetentionMs), specifiedRetentionMillis: String(retentionMs) }, { numFilesToDelete: String(doomed.length), sizeOfDataToDelete: String(result.bytes) });
  for (const f of doomed) await table.storage.delete(f.path);
  await commitInfoOnly(table, 'VACUUM END', { status: 'COMPLETED' }, { numDeletedFiles: String(doomed.length), numVacuumedDirectories: '0' });
  return result;
}
