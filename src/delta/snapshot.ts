import { checkWholeNumber, TributaryError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import type { Engine } from './engine.js';
import { type Action, type AddFile, type CommitInfo, type Metadata, type Protocol, parseActions } from './actions.js';
import { readCheckpointActions } from './v2-checkpoint.js';
import { readLastCheckpoint } from './checkpoint.js';
import { commitPath, LOG_DIR, parseLogFileName } from './filenames.js';
import { TableState } from './replay.js';
import { parseSchemaString, type StructType } from '../schema/schema.js';
import { type TableConfig, tableConfig } from './table-config.js';
import { columnMappingMode, physicalPartitionColumns } from './column-mapping.js';
import { inCommitTimestampOf } from './in-commit-timestamp.js';

/**
 * The files that describe one version of a table: the newest usable checkpoint at or before it,
 * and every commit after that checkpoint up to the version (Spark's LogSegment).
 */
export interface LogSegment {
  version: number;
  checkpoint?: { version: number; files: string[] };
  commits: number[];
  /** Other checkpoints (at the same version, then older), in order, to fall back on if the chosen one cannot be read. */
  olderCheckpoints: { version: number; files: string[] }[];
  /**
   * Set when the log was listed from this version onward (the `_last_checkpoint` hint) rather
   * than whole: checkpoints and commits before it were not looked at.
   */
  listedFrom?: number;
}

interface Listing {
  commits: Set<number>;
  /** Per version, the complete checkpoints there, in the order to try them. */
  checkpoints: Map<number, string[][]>;
}

/**
 * The names directly in `_delta_log/`, all of them or, from a version on, only those of that
 * version and later (Spark's listFrom): object stores skip the older keys on the server, so a
 * long log's history is not listed on every load.
 */
async function logNames(storage: Storage, fromVersion?: number): Promise<string[]> {
  if (fromVersion === undefined || !storage.listPages) return storage.list(LOG_DIR);
  const prefix = `${LOG_DIR}/`;
  const names: string[] = [];
  // Every name of version v starts with its 20 digits, so all sort after the bare digits.
  for await (const page of storage.listPages(LOG_DIR, `${prefix}${String(fromVersion).padStart(20, '0')}`)) {
    for (const f of page) {
      const name = f.path.slice(prefix.length);
      if (!name.includes('/')) names.push(name);
    }
  }
  return names;
}

async function listLog(storage: Storage, fromVersion?: number): Promise<Listing> {
  const commits = new Set<number>();
  const multi = new Map<string, { version: number; parts: number; files: string[] }>();
  const v2 = new Map<number, string[]>();
  const classic = new Map<number, string>();
  for (const name of await logNames(storage, fromVersion)) {
    const f = parseLogFileName(name);
    if (!f) continue;
    if (f.kind === 'commit') commits.add(f.version);
    else if (f.kind === 'checkpoint') {
      const path = `${LOG_DIR}/${name}`;
      if (f.uuid !== undefined) v2.set(f.version, [...(v2.get(f.version) ?? []), path]);
      else if (f.parts === undefined) classic.set(f.version, path);
      else {
        const key = `${f.version}/${f.parts}`;
        const m = multi.get(key) ?? { version: f.version, parts: f.parts, files: [] };
        m.files.push(path);
        multi.set(key, m);
      }
    }
  }
  // Spark's preference at one version: UUID-named (V2), then multi-part, then classic. A
  // multi-part checkpoint counts only when every part is there.
  const checkpoints = new Map<number, string[][]>();
  const add = (v: number, files: string[]) => checkpoints.set(v, [...(checkpoints.get(v) ?? []), files]);
  for (const [v, names] of v2) for (const n of names.sort().reverse()) add(v, [n]);
  for (const m of multi.values()) if (m.files.length === m.parts) add(m.version, m.files.sort());
  for (const [v, path] of classic) add(v, [path]);
  return { commits, checkpoints };
}

/**
 * The log segment of a version (the latest by default). Like Spark, the log is listed from the
 * checkpoint `_last_checkpoint` names when there is one at or before the version; anything
 * unusual in that partial view (no usable checkpoint there, a version it does not hold) sends
 * the listing back to the whole log, which alone decides errors. `whole` forces that.
 */
export async function buildLogSegment(storage: Storage, version?: number, whole = false): Promise<LogSegment> {
  // A NaN or fractional version would otherwise read as "no protocol action" or a nearby version.
  if (version !== undefined) checkWholeNumber('version', version, 0);
  const hint = whole ? undefined : await readLastCheckpoint(storage);
  if (hint && Number.isSafeInteger(hint.version) && hint.version >= 0 && (version === undefined || version >= hint.version)) {
    const seg = segmentFrom(await listLog(storage, hint.version), version);
    if (seg?.checkpoint) return { ...seg, listedFrom: hint.version };
  }
  const seg = segmentFrom(await listLog(storage), version, storage.root);
  if (seg) return seg;
  throw new TributaryError('VERSION_NOT_FOUND', `${version === undefined ? 'the latest version' : `version ${version}`} of ${storage.root} cannot be reconstructed: its commits were cleaned up and no checkpoint covers it`);
}

/**
 * The segment a listing gives for a version, or undefined when it cannot reconstruct it. A whole
 * listing (`root` given, for messages) also names a missing table or version; a partial one
 * leaves that to the whole listing.
 */
function segmentFrom({ commits, checkpoints }: Listing, version: number | undefined, root?: string): LogSegment | undefined {
  if (commits.size === 0 && checkpoints.size === 0) {
    if (root === undefined) return undefined;
    throw new TributaryError('TABLE_NOT_FOUND', `no Delta table at ${root} (no ${LOG_DIR} commits)`);
  }
  const latest = Math.max(...commits, ...checkpoints.keys());
  const target = version ?? latest;
  if (target > latest || target < 0) {
    if (root === undefined) return undefined;
    throw new TributaryError('VERSION_NOT_FOUND', `table ${root} has no version ${target} (latest is ${latest})`);
  }
  const contiguous = (from: number) => {
    for (let v = from; v <= target; v++) if (!commits.has(v)) return false;
    return true;
  };
  const cps = [...checkpoints.keys()].filter((v) => v <= target).sort((a, b) => b - a);
  const usable = cps.filter((v) => contiguous(v + 1)).flatMap((v) => checkpoints.get(v)!.map((files) => ({ version: v, files })));
  const range = (from: number) => Array.from({ length: target - from + 1 }, (_, i) => from + i);
  if (usable.length) {
    const [cp, ...older] = usable;
    return { version: target, checkpoint: cp, commits: range(cp.version + 1), olderCheckpoints: older };
  }
  if (contiguous(0)) return { version: target, commits: range(0), olderCheckpoints: [] };
  return undefined;
}

async function readCommit(storage: Storage, v: number): Promise<Action[]> {
  const path = commitPath(v);
  return parseActions(await storage.readText(path), path);
}

/** Reads commits with bounded concurrency, in version order. */
export async function readCommits(storage: Storage, versions: readonly number[]): Promise<Action[][]> {
  const out: Action[][] = new Array(versions.length);
  let next = 0;
  const worker = async () => {
    while (next < versions.length) {
      const i = next++;
      out[i] = await readCommit(storage, versions[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, versions.length) }, worker));
  return out;
}

function commitInfoOf(actions: readonly Action[] | undefined): CommitInfo | undefined {
  const a = actions?.find((x) => 'commitInfo' in x);
  return a && 'commitInfo' in a ? a.commitInfo : undefined;
}

/** The state of a table at one version: protocol, metadata, live files and txn versions. */
export class Snapshot {
  private constructor(
    /** The I/O it was read through; later reads of this version (data files) use it too. */
    readonly engine: Engine,
    readonly version: number,
    readonly state: TableState,
    readonly checkpointVersion: number | undefined,
    /** The commitInfo of the commit at `version`, when it was read or written by this process. */
    private lastCommitInfo?: CommitInfo,
  ) {
    const root = engine.storage.root;
    if (!state.protocol) throw new TributaryError('LOG_CORRUPT', `table ${root} version ${version} has no protocol action`);
    if (!state.metadata) throw new TributaryError('LOG_CORRUPT', `table ${root} version ${version} has no metaData action`);
    // Required fields (PROTOCOL.md "Change Metadata"), checked here so a broken writer's log is
    // named as such instead of failing later in a JSON parser.
    if (typeof state.metadata.schemaString !== 'string') {
      throw new TributaryError('LOG_CORRUPT', `table ${root} version ${version}: its metaData action has no schemaString (the table's schema), which the protocol requires; the log was written by a broken writer or damaged`, { version });
    }
    this.schema = parseSchemaString(state.metadata.schemaString);
    this.config = tableConfig(state.metadata);
  }

  readonly schema: StructType;
  readonly config: TableConfig;

  get storage(): Storage {
    return this.engine.storage;
  }

  static async load(engine: Engine, version?: number): Promise<Snapshot> {
    const storage = engine.storage;
    let seg = await buildLogSegment(storage, version);
    // Listed from the hinted checkpoint: if no checkpoint there reads back, list the whole log.
    if (seg.listedFrom !== undefined) {
      const loaded = await Snapshot.fromCheckpoints(engine, seg);
      if (loaded) return loaded;
      seg = await buildLogSegment(storage, version, true);
    }
    return (await Snapshot.fromCheckpoints(engine, seg)) ?? (await Snapshot.fromCommits(engine, seg.version));
  }

  /** The snapshot from the segment's first checkpoint that reads back, then its commits; undefined if none does. */
  private static async fromCheckpoints(engine: Engine, seg: LogSegment): Promise<Snapshot | undefined> {
    const storage = engine.storage;
    const tries = seg.checkpoint ? [seg.checkpoint, ...seg.olderCheckpoints] : [];
    for (const cp of tries) {
      try {
        const state = new TableState();
        state.apply(await readCheckpointActions(engine, cp.files));
        const commits = Array.from({ length: seg.version - cp.version }, (_, i) => cp.version + 1 + i);
        const read = await readCommits(storage, commits);
        for (const actions of read) state.apply(actions);
        return new Snapshot(engine, seg.version, state, cp.version, commitInfoOf(read.at(-1)));
      } catch (e) {
        // Like Spark, fall back to an older checkpoint (or none) when one cannot be read.
        if (!(e instanceof TributaryError) || (e.code !== 'CHECKPOINT_INVALID' && e.code !== 'IO')) throw e;
      }
    }
    return undefined;
  }

  /** Every commit from version 0 replayed: a table without a readable checkpoint. */
  private static async fromCommits(engine: Engine, version: number): Promise<Snapshot> {
    const storage = engine.storage;
    const state = new TableState();
    const all = Array.from({ length: version + 1 }, (_, i) => i);
    const read = await readCommits(storage, all);
    for (const actions of read) state.apply(actions);
    return new Snapshot(engine, version, state, undefined, commitInfoOf(read.at(-1)));
  }

  /**
   * The snapshot after committing `actions` as `version`, without I/O. The state is moved
   * forward in place (copying every file entry per commit would make commit cost grow with the
   * table), so this snapshot object must not be used afterwards; DeltaTable replaces its own.
   */
  advance(version: number, actions: readonly Action[]): Snapshot {
    return new Snapshot(this.engine, version, this.state.apply(actions), this.checkpointVersion, commitInfoOf(actions));
  }

  /**
   * The inCommitTimestamp of the commit at this version, if it has one. A snapshot loaded from a
   * checkpoint alone has not read that commit yet: it is read once, here.
   */
  async inCommitTimestamp(): Promise<number | undefined> {
    if (!this.lastCommitInfo) {
      const path = commitPath(this.version);
      if (!(await this.storage.stat(path))) return undefined;
      this.lastCommitInfo = commitInfoOf(parseActions(await this.storage.readText(path), path)) ?? {};
    }
    return inCommitTimestampOf(this.lastCommitInfo);
  }

  /** An independent copy of this snapshot's state (no I/O): a second writer in the same process starts from it. */
  fork(): Snapshot {
    return new Snapshot(this.engine, this.version, this.state.clone(), this.checkpointVersion);
  }

  get protocol(): Protocol {
    return this.state.protocol!;
  }
  get metadata(): Metadata {
    return this.state.metadata!;
  }
  get partitionColumns(): string[] {
    return this.metadata.partitionColumns;
  }
  /** The keys of the files' `partitionValues`: the partition columns' physical names with column mapping. */
  get physicalPartitionColumns(): string[] {
    return physicalPartitionColumns(this.schema, this.partitionColumns, columnMappingMode(this.metadata.configuration));
  }
  get files(): AddFile[] {
    // A writer that let its checkpointed files go (DeltaTable.releaseCheckpointedFiles) holds
    // only those added since: a partial list would make a read or an OPTIMIZE silently wrong.
    if (this.state.filesAt) throw new TributaryError('INTERNAL', `the snapshot at version ${this.version} holds only the files added since checkpoint ${this.state.filesAt.version}; load the table again for its file list`);
    return [...this.state.files.values()];
  }
  /** The last batch version committed under `appId`, or undefined (Spark `txnVersion`). */
  txnVersion(appId: string): number | undefined {
    return this.state.txns.get(appId)?.version;
  }
}
