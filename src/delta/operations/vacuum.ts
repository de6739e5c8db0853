import { TributaryError } from '../../errors.js';
import { commitInfoOnly } from '../commit.js';
import type { DeletionVector } from '../actions.js';
import { dvFilePath } from '../deletion-vector.js';
import { decodeAddPath } from '../partitions.js';
import { checkWritable } from '../protocol-support.js';
import type { FileInfo, Storage } from '../../storage/storage.js';
import { LOG_DIR } from '../filenames.js';
import type { DeltaTable } from '../table.js';

export interface VacuumOptions {
  /** Files unreferenced for at least this long are deleted. Default: delta.deletedFileRetentionDuration (7 days). */
  retentionMs?: number;
  dryRun?: boolean;
  /** Allow a retention below 168 hours (Spark: retentionDurationCheck.enabled=false). */
  force?: boolean;
  now?: number;
  /** Called when listing starts and ends, and after each file deleted, for progress displays. */
  onProgress?: (p: VacuumProgress) => void;
}

/** Where VACUUM is: listing the table's files, or deleting those it found unreferenced. */
export interface VacuumProgress {
  phase: 'list' | 'delete';
  /** Files listed (known once listing is over). */
  filesListed: number;
  /** Files to delete: unreferenced data files and staging leftovers (0 in a dry run). */
  filesToDelete: number;
  filesDeleted: number;
}

export interface VacuumResult {
  dryRun: boolean;
  retentionMs: number;
  /** Data files no version in the retention window references. */
  deleted: string[];
  bytes: number;
  /** Staging files of writes that were interrupted (a killed process), in data directories and _delta_log/. */
  leftovers: string[];
}

const MIN_RETENTION_MS = 168 * 3_600_000;

/**
 * How old a staging file must be to count as left behind. A live writer stages a file for the
 * seconds it takes to write and fsync it, so one an hour old belongs to a process that died; a
 * shorter retention (forced) shortens this too, at the risk of failing (never corrupting) a
 * write in flight: its publish then finds no temp file and the write fails cleanly.
 */
export const STAGING_LEFTOVER_AGE_MS = 3_600_000;

/**
 * VACUUM: deletes data files that no snapshot within the retention window references and that
 * are older than the retention. "Referenced" means live in the latest version, or removed by a
 * tombstone newer than the cutoff (so every version still in the window keeps its files).
 * Never touches _delta_log or hidden (`_`/`.`) paths other than partition directories, except
 * the storage's own staging leftovers in data directories and directly in _delta_log/.
 */
export async function vacuum(table: DeltaTable, opts: VacuumOptions = {}): Promise<VacuumResult> {
  const snap = await table.refresh();
  // Deleting files is a write: a table with features we do not honour could lose files they need
  // (the reason for the vacuumProtocolCheck feature).
  checkWritable(snap.protocol, snap.metadata, table.storage.root);
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
  // A logical file is its data file and its deletion vector's file (Spark's VACUUM keeps both).
  const keepFile = (f: { path: string; deletionVector?: DeletionVector | null }) => {
    keep.add(decodeAddPath(f.path, root));
    const dv = f.deletionVector ? dvFilePathInTable(f.deletionVector, root) : undefined;
    if (dv !== undefined) keep.add(dv);
  };
  for (const f of snap.files) keepFile(f);
  for (const t of snap.state.tombstones.values()) if ((t.deletionTimestamp ?? now) > cutoff) keepFile(t);
  const parts = new Set(snap.physicalPartitionColumns);
  const hidden = (component: string) => (component.startsWith('_') || component.startsWith('.')) && !(component.includes('=') && parts.has(component.split('=')[0]));
  opts.onProgress?.({ phase: 'list', filesListed: 0, filesToDelete: 0, filesDeleted: 0 });
  // The table is walked a page at a time (object stores list 1,000 keys per request): only the
  // files to delete are kept, not the whole listing of a big table.
  let listed = 0;
  const doomed: FileInfo[] = [];
  const leftovers: string[] = [];
  const leftoverCutoff = now - Math.min(retentionMs, STAGING_LEFTOVER_AGE_MS);
  for await (const page of listPages(table.storage)) {
    listed += page.length;
    for (const f of page) {
      if (f.path.split('/').some(hidden) || keep.has(f.path)) continue;
      if (f.modificationTime < cutoff) doomed.push(f);
    }
    leftovers.push(...stagingLeftovers(table.storage, page, hidden, leftoverCutoff));
    opts.onProgress?.({ phase: 'list', filesListed: listed, filesToDelete: 0, filesDeleted: 0 });
  }
  const result: VacuumResult = { dryRun: !!opts.dryRun, retentionMs, deleted: doomed.map((f) => f.path), bytes: doomed.reduce((n, f) => n + f.size, 0), leftovers };
  const progress = (filesDeleted: number) => opts.onProgress?.({ phase: 'delete', filesListed: listed, filesToDelete: opts.dryRun ? 0 : doomed.length + leftovers.length, filesDeleted });
  progress(0);
  if (opts.dryRun) return result;
  // Spark records VACUUM START / VACUUM END in the history.
  await commitInfoOnly(table, 'VACUUM START', { retentionCheckEnabled: String(!opts.force), defaultRetentionMillis: String(snap.config.deletedFileRetentionMs), specifiedRetentionMillis: String(retentionMs) }, { numFilesToDelete: String(doomed.length), sizeOfDataToDelete: String(result.bytes) });
  let deleted = 0;
  for (const f of doomed) {
    await table.storage.delete(f.path);
    progress(++deleted);
  }
  for (const f of leftovers) {
    await table.storage.delete(f);
    progress(++deleted);
  }
  await commitInfoOnly(table, 'VACUUM END', { status: 'COMPLETED' }, { numDeletedFiles: String(doomed.length), numVacuumedDirectories: '0' });
  return result;
}

/** Every file of the table, a page at a time where the store pages (one page otherwise). */
async function* listPages(storage: Storage): AsyncGenerator<FileInfo[]> {
  if (storage.listPages) yield* storage.listPages('');
  else yield await storage.listRecursive('');
}

/**
 * The table-relative path of a deletion vector's file; undefined for inline DVs and for absolute
 * paths outside the table (VACUUM never lists, so never deletes, those).
 */
function dvFilePathInTable(dv: DeletionVector, root: string): string | undefined {
  try {
    return dvFilePath(dv, root);
  } catch (e) {
    if (e instanceof TributaryError && e.code === 'UNSUPPORTED_FEATURE' && dv.storageType === 'p') return undefined;
    throw e;
  }
}

/**
 * Temp files a killed writer left, by the storage's own naming (only it knows what its staging
 * files look like), older than `cutoff`: in data directories, and directly in _delta_log/ where
 * commits and checkpoints are staged. Other hidden files (.crc checksums, other tools' temp
 * files, anything under another `_` directory) are not ours and stay.
 */
function stagingLeftovers(storage: Storage, files: readonly FileInfo[], hidden: (component: string) => boolean, cutoff: number): string[] {
  if (!storage.isStagingName) return [];
  return files
    .filter((f) => {
      const dirs = f.path.split('/');
      const name = dirs.pop()!;
      if (!storage.isStagingName!(name) || f.modificationTime >= cutoff) return false;
      return (dirs.length === 1 && dirs[0] === LOG_DIR) || !dirs.some(hidden);
    })
    .map((f) => f.path);
}
