import type { Action, AddFile, DeletionVector, DomainMetadata, Metadata, Protocol, RemoveFile, Txn } from './actions.js';

/**
 * Action reconciliation (PROTOCOL.md "Action Reconciliation"): the table state at a version is
 * the fold of every action up to it. Pure: no I/O, no clock except the one passed in for
 * tombstone expiry.
 */
export class TableState {
  protocol: Protocol | undefined;
  metadata: Metadata | undefined;
  /**
   * Live files keyed by (decoded path, deletion vector id): all of them, unless a long-lived
   * writer let those of its last checkpoint go (`filesAt`); then only those added since.
   */
  readonly files = new Map<string, AddFile>();
  /**
   * The checkpoint (its version and files) that holds the live files older than those kept here,
   * once a writer that never reads its file list let them go (filesCheckpointed): a stream
   * without auto-compaction adds a file per batch for good, and holding every one of them made
   * its memory grow with the table. Its next checkpoint reads them from there again
   * (checkpointedFileLive); the file list (Snapshot.files) is not available meanwhile. Set only
   * together with `tombstonesAt`, to the same checkpoint: the tombstones kept here are then the
   * removes since it, which is what tells which of its files are still live.
   */
  filesAt: { version: number; files: string[] } | undefined;
  /**
   * Tombstones (remove actions within the retention) kept here. A long-lived writer keeps only
   * those since its last checkpoint: the older ones are in that checkpoint (`tombstonesAt`),
   * where its next checkpoint reads them again (checkpointedTombstoneKept), so its memory does
   * not grow with every file it ever compacted.
   */
  readonly tombstones = new Map<string, RemoveFile>();
  /** The checkpoint (its version and files) that holds the tombstones older than those kept here, if they were let go. */
  tombstonesAt: { version: number; files: string[] } | undefined;
  readonly txns = new Map<string, Txn>();
  readonly domains = new Map<string, DomainMetadata>();
  /** Bytes of the live files, kept as actions apply so a summary never walks every file. */
  sizeInBytes = 0;
  /**
   * How many files are live. Exact while every file is held; once files were let go, exact at
   * each checkpoint (counted as it is written) and moved by the actions since, a remove of a
   * file not held counting as the removal of a live one (Delta's conflict rules let only one
   * commit remove a file) with the size it names, and an add of a path not held as a new file
   * (another writer re-adding a checkpointed file's path, rare, is counted twice until the
   * next checkpoint). Only summaries read it; checkpoints are built from the files themselves.
   */
  numFiles = 0;

  apply(actions: Iterable<Action>): this {
    for (const a of actions) {
      if ('add' in a) {
        const k = fileKey(a.add.path, a.add.deletionVector);
        const held = this.files.get(k);
        this.sizeInBytes += (a.add.size ?? 0) - (held?.size ?? 0);
        if (!held) this.numFiles++;
        this.files.set(k, a.add);
        this.tombstones.delete(k);
      } else if ('remove' in a) {
        const k = fileKey(a.remove.path, a.remove.deletionVector);
        const held = this.files.get(k);
        if (held) {
          this.sizeInBytes -= held.size ?? 0;
          this.numFiles--;
          this.files.delete(k);
        } else if (this.filesAt && !this.tombstones.has(k)) {
          this.sizeInBytes -= a.remove.size ?? 0;
          this.numFiles--;
        }
        this.tombstones.set(k, tombstoneOf(a.remove));
      } else if ('metaData' in a) this.metadata = a.metaData;
      else if ('protocol' in a) this.protocol = a.protocol;
      else if ('txn' in a) this.txns.set(a.txn.appId, a.txn);
      else if ('domainMetadata' in a) {
        if (a.domainMetadata.removed) this.domains.delete(a.domainMetadata.domain);
        else this.domains.set(a.domainMetadata.domain, a.domainMetadata);
      }
    }
    return this;
  }

  clone(): TableState {
    const s = new TableState();
    s.protocol = this.protocol;
    s.metadata = this.metadata;
    s.sizeInBytes = this.sizeInBytes;
    s.numFiles = this.numFiles;
    s.tombstonesAt = this.tombstonesAt;
    s.filesAt = this.filesAt;
    for (const [k, v] of this.files) s.files.set(k, v);
    for (const [k, v] of this.tombstones) s.tombstones.set(k, v);
    for (const [k, v] of this.txns) s.txns.set(k, v);
    for (const [k, v] of this.domains) s.domains.set(k, v);
    return s;
  }

  /**
   * The actions a checkpoint of this state holds: protocol, metadata, txns, domains, live files
   * and unexpired tombstones (without stats and tags, as Spark writes them).
   */
  checkpointActions(nowMs: number, tombstoneRetentionMs: number, txnRetentionMs?: number): Action[] {
    const out: Action[] = [];
    if (this.protocol) out.push({ protocol: this.protocol });
    if (this.metadata) out.push({ metaData: this.metadata });
    for (const t of this.txns.values()) {
      if (txnRetentionMs !== undefined && t.lastUpdated != null && t.lastUpdated < nowMs - txnRetentionMs) continue;
      out.push({ txn: t });
    }
    for (const d of this.domains.values()) out.push({ domainMetadata: d });
    for (const f of this.files.values()) out.push({ add: f });
    for (const r of this.tombstones.values()) {
      if ((r.deletionTimestamp ?? 0) <= nowMs - tombstoneRetentionMs) continue;
      out.push({ remove: r });
    }
    return out;
  }

  /**
   * Whether a tombstone read back from `tombstonesAt` belongs in a checkpoint of this state too
   * (beside checkpointActions): not expired, its file not added again since, and not superseded
   * by a newer tombstone of the same file kept here.
   */
  checkpointedTombstoneKept(r: RemoveFile, nowMs: number, tombstoneRetentionMs: number): boolean {
    if ((r.deletionTimestamp ?? 0) <= nowMs - tombstoneRetentionMs) return false;
    const k = fileKey(r.path, r.deletionVector);
    return !this.files.has(k) && !this.tombstones.has(k);
  }

  /**
   * Whether a live file read back from `filesAt` belongs in a checkpoint of this state too
   * (beside checkpointActions): not removed since (a tombstone kept here) and not added again
   * since (then the file kept here, the newer action, is the one written).
   */
  checkpointedFileLive(f: AddFile): boolean {
    const k = fileKey(f.path, f.deletionVector);
    return !this.files.has(k) && !this.tombstones.has(k);
  }

  /**
   * After a checkpoint of this state was written (and read back) with the live files kept here
   * (`written`, as the map held them then) and `counted` (all its live files: how many, their
   * bytes): those files are let go, and read from it when the next checkpoint is built. Call
   * with tombstonesCheckpointed, for the same checkpoint.
   */
  filesCheckpointed(at: { version: number; files: string[] }, written: ReadonlyArray<readonly [string, AddFile]>, counted: { numFiles: number; sizeInBytes: number }): void {
    for (const [k, f] of written) if (this.files.get(k) === f) this.files.delete(k);
    this.filesAt = at;
    this.numFiles = counted.numFiles;
    this.sizeInBytes = counted.sizeInBytes;
  }

  /**
   * After a checkpoint of this state was written (and read back): the tombstones it was built
   * from (`written`, as the map held them then) are let go, and read from it when the next
   * checkpoint is built. A tombstone that replaced one of them since stays.
   */
  tombstonesCheckpointed(at: { version: number; files: string[] }, written: ReadonlyArray<readonly [string, RemoveFile]>): void {
    for (const [k, r] of written) if (this.tombstones.get(k) === r) this.tombstones.delete(k);
    this.tombstonesAt = at;
  }
}

/**
 * A remove action as the state keeps it: without `stats` and `tags`, which a checkpoint leaves out
 * of its tombstones (as Spark writes them) and nothing else reads. A long-lived stream with
 * auto-compaction holds a tombstone for every file it compacted until the retention (a week by
 * default, tens of thousands of them), and the stats JSON was most of each one's memory.
 */
export function tombstoneOf(r: RemoveFile): RemoveFile {
  if (r.stats === undefined && r.tags === undefined) return r;
  const { stats: _s, tags: _t, ...rest } = r;
  return rest;
}

export function fileKey(path: string, dv?: DeletionVector | null): string {
  let p = path;
  // Without escapes the path is its own key: decoding would make a second copy of the string,
  // kept for every live file and tombstone of the state.
  if (path.includes('%')) {
    try {
      p = decodeURIComponent(path);
    } catch {
      // Keep the raw text: a path that does not decode is still a stable key.
    }
  }
  return dv ? `${p}\u0000${dv.storageType}${dv.pathOrInlineDv}@${dv.offset ?? ''}` : p;
}
