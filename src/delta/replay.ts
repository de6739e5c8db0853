import type { Action, AddFile, DeletionVector, DomainMetadata, Metadata, Protocol, RemoveFile, Txn } from './actions.js';

/**
 * Action reconciliation (PROTOCOL.md "Action Reconciliation"): the table state at a version is
 * the fold of every action up to it. Pure: no I/O, no clock except the one passed in for
 * tombstone expiry.
 */
export class TableState {
  protocol: Protocol | undefined;
  metadata: Metadata | undefined;
  /** Live files keyed by (decoded path, deletion vector id). */
  readonly files = new Map<string, AddFile>();
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

  apply(actions: Iterable<Action>): this {
    for (const a of actions) {
      if ('add' in a) {
        const k = fileKey(a.add.path, a.add.deletionVector);
        this.sizeInBytes += (a.add.size ?? 0) - (this.files.get(k)?.size ?? 0);
        this.files.set(k, a.add);
        this.tombstones.delete(k);
      } else if ('remove' in a) {
        const k = fileKey(a.remove.path, a.remove.deletionVector);
        this.sizeInBytes -= this.files.get(k)?.size ?? 0;
        this.files.delete(k);
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
    s.tombstonesAt = this.tombstonesAt;
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
