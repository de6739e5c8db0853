import { randomUUID } from 'node:crypto';
import { TributaryError } from '../errors.js';
import type { Engine } from './engine.js';
import { type Action, type AddFile, parseActions, type RemoveFile, serializeActions } from './actions.js';
import { CHECKPOINT_SCHEMA, type CheckpointOnlyRow, encodeCheckpoint, type LastCheckpoint, readCheckpoint, readCheckpointParts } from './checkpoint.js';
import { decodeAddPath } from './partitions.js';
import { LAST_CHECKPOINT, LOG_DIR, parseLogFileName, SIDECAR_DIR, sidecarName, v2CheckpointPath } from './filenames.js';
import { withJsonChecksum } from './json-checksum.js';
import type { StructType } from '../schema/schema.js';
import { failpoint } from '../failpoints.js';

/**
 * V2 checkpoints (PROTOCOL.md "V2 Spec", "UUID-named checkpoint", "Sidecar Files"): a top-level
 * file, `<v>.checkpoint.<uuid>.json|parquet` (or a classic name holding V2 content), with exactly
 * one `checkpointMetadata` row, every non-file action (protocol, metaData, txn, domainMetadata),
 * and either all add/remove actions or `sidecar` rows naming Parquet files in
 * `_delta_log/_sidecars/` that hold them. Tables whose `delta.checkpointPolicy` is `v2` get them
 * from Tributary the way Spark writes them by default: a JSON top-level file and one sidecar
 * (Spark writes one sidecar per 50,000 file actions; one file is as valid and reads faster
 * here), and a `_last_checkpoint` carrying the `v2Checkpoint` summary and the checksum Spark
 * validates.
 */

export interface SidecarFile {
  path: string;
  sizeInBytes: number;
  modificationTime: number;
  tags?: Record<string, string> | null;
}

/** Sidecar files hold file actions only (Spark writes exactly these two columns). */
const SIDECAR_SCHEMA: StructType = { kind: 'struct', fields: CHECKPOINT_SCHEMA.fields.filter((f) => f.name === 'add' || f.name === 'remove') };

/** Spark leaves `nonFileActions`/`sidecarFiles` out of `_last_checkpoint` above 30 entries. */
const LAST_CHECKPOINT_LIST_LIMIT = 30;

/** A sidecar's path from its `sidecar.path`: a bare name in `_delta_log/_sidecars/`, or a URI inside the table. */
export function sidecarPath(path: string, tableRoot: string): string {
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(path) || path.includes('/')) return decodeAddPath(path, tableRoot);
  try {
    return `${SIDECAR_DIR}/${decodeURIComponent(path)}`;
  } catch {
    throw new TributaryError('CHECKPOINT_INVALID', `sidecar path ${JSON.stringify(path)} is not a valid URI path`);
  }
}

/** The top-level rows of one checkpoint file (JSON or Parquet), V2 rows apart. */
async function readTopLevel(engine: Engine, file: string, v2Rows: CheckpointOnlyRow[]): Promise<Action[]> {
  if (!file.endsWith('.json')) return readCheckpoint(engine, file, v2Rows);
  let text: string;
  try {
    text = await engine.storage.readText(file);
  } catch (e) {
    if (e instanceof TributaryError) throw e;
    throw new TributaryError('CHECKPOINT_INVALID', `cannot read checkpoint ${file}: ${(e as Error).message}`, {}, { cause: e });
  }
  try {
    return parseActions(text, file, (kind, value) => {
      if (kind === 'checkpointMetadata' || kind === 'sidecar') v2Rows.push({ [kind]: value } as CheckpointOnlyRow);
    });
  } catch (e) {
    // A torn JSON checkpoint is a bad checkpoint (the snapshot falls back), not a bad log.
    throw new TributaryError('CHECKPOINT_INVALID', (e as Error).message, { file }, { cause: e });
  }
}

/**
 * Every action a checkpoint holds: its files (one classic or V2 file, or the parts of a
 * multi-part one) and, for V2 content, the add/remove actions of its sidecars. A UUID-named file
 * without its `checkpointMetadata`, or for another version, is CHECKPOINT_INVALID (the snapshot
 * then falls back to an older checkpoint), as is a missing sidecar.
 */
export async function readCheckpointActions(engine: Engine, files: readonly string[]): Promise<Action[]> {
  const out: Action[] = [];
  for (const file of files) {
    const v2Rows: CheckpointOnlyRow[] = [];
    for (const a of await readTopLevel(engine, file, v2Rows)) out.push(a);
    const name = parseLogFileName(file.slice(file.lastIndexOf('/') + 1));
    const metas = v2Rows.flatMap((r) => ('checkpointMetadata' in r ? [r.checkpointMetadata] : []));
    if (name?.kind === 'checkpoint' && name.uuid !== undefined) {
      if (metas.length !== 1) throw new TributaryError('CHECKPOINT_INVALID', `V2 checkpoint ${file} has ${metas.length} checkpointMetadata actions, where it must have exactly one`, { file });
      if (Number(metas[0].version) !== name.version) throw new TributaryError('CHECKPOINT_INVALID', `V2 checkpoint ${file} says it is of version ${String(metas[0].version)}`, { file });
    }
    for (const r of v2Rows) {
      if (!('sidecar' in r)) continue;
      const s = r.sidecar as unknown as SidecarFile;
      if (typeof s.path !== 'string') throw new TributaryError('CHECKPOINT_INVALID', `checkpoint ${file} has a sidecar action without a path`, { file });
      const path = sidecarPath(s.path, engine.storage.root);
      // Sidecars hold file actions only; anything else in one is ignored, as Spark reads only those columns.
      for (const a of await readCheckpoint(engine, path)) if ('add' in a || 'remove' in a) out.push(a);
    }
  }
  return out;
}

/** The storage paths of the sidecars a top-level file's rows name. */
function sidecarsOf(v2Rows: readonly CheckpointOnlyRow[], engine: Engine): string[] {
  return v2Rows.flatMap((r) => ('sidecar' in r ? [sidecarPath(String((r.sidecar as { path: unknown }).path), engine.storage.root)] : []));
}

/**
 * The file actions a checkpoint holds, of the kinds asked for (`remove`: its tombstones; `add`:
 * its live files), a row group at a time, reading only those columns (and `sidecar`) of its
 * Parquet files, and the sidecars they name; a JSON top-level file is read whole. For a
 * long-lived writer's next checkpoint, which takes the older tombstones (and, if it let them go,
 * live files) from its previous one (TableState.tombstonesAt, filesAt) instead of keeping them in
 * memory.
 */
export async function* checkpointFileActions(engine: Engine, files: readonly string[], kinds: ReadonlyArray<'add' | 'remove'>): AsyncGenerator<Action & ({ add: AddFile } | { remove: RemoveFile })> {
  const wanted = (a: Action): a is Action & ({ add: AddFile } | { remove: RemoveFile }) => (kinds.includes('add') && 'add' in a) || (kinds.includes('remove') && 'remove' in a);
  const read = async function* (file: string, v2Rows?: CheckpointOnlyRow[]) {
    for await (const part of readCheckpointParts(engine, file, [...kinds, 'sidecar'], v2Rows)) for (const a of part) if (wanted(a)) yield a;
  };
  for (const file of files) {
    const v2Rows: CheckpointOnlyRow[] = [];
    if (file.endsWith('.json')) {
      for (const a of await readTopLevel(engine, file, v2Rows)) if (wanted(a)) yield a;
    } else yield* read(file, v2Rows);
    for (const path of sidecarsOf(v2Rows, engine)) yield* read(path);
  }
}

/** The sidecar names a checkpoint's top-level files point to (for log cleanup), without reading sidecars. */
export async function referencedSidecars(engine: Engine, files: readonly string[]): Promise<string[]> {
  const names: string[] = [];
  for (const file of files) {
    const v2Rows: CheckpointOnlyRow[] = [];
    await readTopLevel(engine, file, v2Rows);
    names.push(...sidecarsOf(v2Rows, engine));
  }
  return names;
}

/**
 * Writes a UUID-named V2 checkpoint of `actions` (a snapshot's checkpoint actions) for
 * `version`: the sidecar first, read back and checked, then the top-level JSON file, read back
 * and checked, and only then `_last_checkpoint`. A failed check removes what was written.
 */
export async function writeV2Checkpoint(engine: Engine, version: number, given: Iterable<Action> | AsyncIterable<Action>): Promise<LastCheckpoint> {
  const storage = engine.storage;
  // Split into the sidecar's actions and the top-level file's: taken whole (V2 tables are few).
  const actions: Action[] = [];
  for await (const a of given) actions.push(a);
  const fileActions = actions.filter((a) => 'add' in a || 'remove' in a);
  const nonFileActions = actions.filter((a) => !('add' in a || 'remove' in a));
  const numAdds = fileActions.filter((a) => 'add' in a).length;
  const sidecars: SidecarFile[] = [];
  const written: string[] = [];
  const fail = async (message: string) => {
    for (const p of written) await storage.delete(p).catch(() => undefined);
    return new TributaryError('CHECKPOINT_INVALID', `${message}; it was removed`);
  };
  let sidecarBytes = 0;
  if (fileActions.length) {
    // Row group by row group, as classic checkpoints are: the encoder never holds every file action.
    const bytes = await encodeCheckpoint(engine, fileActions, SIDECAR_SCHEMA);
    const name = sidecarName(version, 1, 1, randomUUID());
    const path = `${SIDECAR_DIR}/${name}`;
    await storage.write(path, bytes);
    written.push(path);
    const back = await readCheckpoint(engine, path).catch(() => [] as Action[]);
    const adds = back.filter((a) => 'add' in a).length;
    if (back.length !== fileActions.length || adds !== numAdds) throw await fail(`checkpoint sidecar ${path} did not read back as written (${back.length} actions, ${adds} adds, for ${fileActions.length} and ${numAdds})`);
    const st = await storage.stat(path);
    sidecars.push({ path: name, sizeInBytes: bytes.length, modificationTime: st?.modificationTime ?? Date.now() });
    sidecarBytes = bytes.length;
  }
  const checkpointMetadata = { checkpointMetadata: { version } };
  const body = serializeActions([checkpointMetadata, ...sidecars.map((s) => ({ sidecar: s })), ...nonFileActions] as Action[]);
  const path = v2CheckpointPath(version, randomUUID(), 'json');
  await storage.write(path, body);
  written.push(path);
  const back = await readCheckpointActions(engine, [path]).catch((e: unknown) => e as Error);
  if (back instanceof Error || back.length !== actions.length || !back.some((a) => 'protocol' in a) || !back.some((a) => 'metaData' in a)) {
    throw await fail(`checkpoint ${path} did not read back as written (${back instanceof Error ? back.message : `${back.length} actions for ${actions.length}`})`);
  }
  failpoint('during-delta-checkpoint');
  const st = await storage.stat(path);
  const topLevelBytes = Buffer.byteLength(body);
  const info: LastCheckpoint = {
    version,
    // As Spark counts: the sidecars' rows plus every row of the top-level file.
    size: fileActions.length + 1 + sidecars.length + nonFileActions.length,
    sizeInBytes: sidecarBytes + topLevelBytes,
    numOfAddFiles: numAdds,
    v2Checkpoint: {
      path: path.slice(LOG_DIR.length + 1),
      sizeInBytes: topLevelBytes,
      modificationTime: st?.modificationTime ?? Date.now(),
      // Spark reads these instead of the top-level file when present; it leaves long lists out.
      ...(nonFileActions.length + 1 <= LAST_CHECKPOINT_LIST_LIMIT ? { nonFileActions: [...nonFileActions, checkpointMetadata] } : {}),
      ...(sidecars.length <= LAST_CHECKPOINT_LIST_LIMIT ? { sidecarFiles: sidecars } : {}),
    },
  };
  await storage.write(LAST_CHECKPOINT, withJsonChecksum(info as unknown as Record<string, unknown>));
  return info;
}
