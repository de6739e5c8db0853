import { checkWholeNumber, TributaryError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import type { Engine } from './engine.js';
import { type Action, type AddFile, type Metadata, type Protocol, parseActions } from './actions.js';
import { readCheckpoint } from './checkpoint.js';
import { commitPath, LOG_DIR, parseLogFileName } from './filenames.js';
import { TableState } from './replay.js';
import { parseSchemaString, type StructType } from '../schema/schema.js';
import { type TableConfig, tableConfig } from './table-config.js';

/**
 * The files that describe one version of a table: the newest usable checkpoint at or before it,
 * and every commit after that checkpoint up to the version (Spark's LogSegment).
 */
export interface LogSegment {
  version: number;
  checkpoint?: { version: number; files: string[] };
  commits: number[];
  /** Older checkpoints, newest first, to fall back on if the chosen one cannot be read. */
  olderCheckpoints: { version: number; files: string[] }[];
}

interface Listing {
  commits: Set<number>;
  checkpoints: Map<number, string[]>;
}

async function listLog(storage: Storage): Promise<Listing> {
  const commits = new Set<number>();
  const multi = new Map<number, { parts: number; files: string[] }>();
  const checkpoints = new Map<number, string[]>();
  for (const name of await storage.list(LOG_DIR)) {
    const f = parseLogFileName(name);
    if (!f) continue;
    if (f.kind === 'commit') commits.add(f.version);
    else if (f.kind === 'checkpoint' && f.uuid === undefined) {
      if (f.parts === undefined) checkpoints.set(f.version, [`${LOG_DIR}/${name}`]);
      else {
        const m = multi.get(f.version) ?? { parts: f.parts, files: [] };
        m.files.push(`${LOG_DIR}/${name}`);
        multi.set(f.version, m);
      }
    }
  }
  // A multi-part checkpoint counts only when every part is there.
  for (const [v, m] of multi) if (m.files.length === m.parts && !checkpoints.has(v)) checkpoints.set(v, m.files.sort());
  return { commits, checkpoints };
}

export async function buildLogSegment(storage: Storage, version?: number): Promise<LogSegment> {
  // A NaN or fractional version would otherwise read as "no protocol action" or a nearby version.
  if (version !== undefined) checkWholeNumber('version', version, 0);
  const { commits, checkpoints } = await listLog(storage);
  if (commits.size === 0 && checkpoints.size === 0) {
    throw new TributaryError('TABLE_NOT_FOUND', `no Delta table at ${storage.root} (no ${LOG_DIR} commits)`);
  }
  const latest = Math.max(...commits, ...checkpoints.keys());
  const target = version ?? latest;
  if (target > latest || target < 0) {
    throw new TributaryError('VERSION_NOT_FOUND', `table ${storage.root} has no version ${target} (latest is ${latest})`);
  }
  const contiguous = (from: number) => {
    for (let v = from; v <= target; v++) if (!commits.has(v)) return false;
    return true;
  };
  const cps = [...checkpoints.keys()].filter((v) => v <= target).sort((a, b) => b - a);
  const usable = cps.filter((v) => contiguous(v + 1)).map((v) => ({ version: v, files: checkpoints.get(v)! }));
  const range = (from: number) => Array.from({ length: target - from + 1 }, (_, i) => from + i);
  if (usable.length) {
    const [cp, ...older] = usable;
    return { version: target, checkpoint: cp, commits: range(cp.version + 1), olderCheckpoints: older };
  }
  if (contiguous(0)) return { version: target, commits: range(0), olderCheckpoints: [] };
  throw new TributaryError('VERSION_NOT_FOUND', `version ${target} of ${storage.root} cannot be reconstructed: its commits were cleaned up and no checkpoint covers it`);
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

/** The state of a table at one version: protocol, metadata, live files and txn versions. */
export class Snapshot {
  private constructor(
    /** The I/O it was read through; later reads of this version (data files) use it too. */
    readonly engine: Engine,
    readonly version: number,
    readonly state: TableState,
    readonly checkpointVersion: number | undefined,
  ) {
    const root = engine.storage.root;
    if (!state.protocol) throw new TributaryError('LOG_CORRUPT', `table ${root} version ${version} has no protocol action`);
    if (!state.metadata) throw new TributaryError('LOG_CORRUPT', `table ${root} version ${version} has no metaData action`);
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
    const seg = await buildLogSegment(storage, version);
    const tries = seg.checkpoint ? [seg.checkpoint, ...seg.olderCheckpoints] : [];
    for (const cp of tries) {
      try {
        const state = new TableState();
        for (const f of cp.files) state.apply(await readCheckpoint(engine, f));
        const commits = Array.from({ length: seg.version - cp.version }, (_, i) => cp.version + 1 + i);
        for (const actions of await readCommits(storage, commits)) state.apply(actions);
        return new Snapshot(engine, seg.version, state, cp.version);
      } catch (e) {
        // Like Spark, fall back to an older checkpoint (or none) when one cannot be read.
        if (!(e instanceof TributaryError) || (e.code !== 'CHECKPOINT_INVALID' && e.code !== 'IO')) throw e;
      }
    }
    const state = new TableState();
    const all = Array.from({ length: seg.version + 1 }, (_, i) => i);
    for (const actions of await readCommits(storage, all)) state.apply(actions);
    return new Snapshot(engine, seg.version, state, undefined);
  }

  /**
   * The snapshot after committing `actions` as `version`, without I/O. The state is moved
   * forward in place (copying every file entry per commit would make commit cost grow with the
   * table), so this snapshot object must not be used afterwards; DeltaTable replaces its own.
   */
  advance(version: number, actions: readonly Action[]): Snapshot {
    return new Snapshot(this.engine, version, this.state.apply(actions), this.checkpointVersion);
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
  get files(): AddFile[] {
    return [...this.state.files.values()];
  }
  /** The last batch version committed under `appId`, or undefined (Spark `txnVersion`). */
  txnVersion(appId: string): number | undefined {
    return this.state.txns.get(appId)?.version;
  }
}
