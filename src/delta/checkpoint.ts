import * as arrow from 'apache-arrow';
import { TributaryError } from '../errors.js';
import { BufferArena } from '../arrow/arena.js';
import { rowsToRecordBatch } from '../arrow/record-batch.js';
import { plainAt } from '../parquet/reader.js';
import type { Storage } from '../storage/storage.js';
import type { Engine } from './engine.js';
import type { Action } from './actions.js';
import { checkpointPath, LAST_CHECKPOINT } from './filenames.js';
import { parseDdl } from '../schema/ddl.js';
import type { DataType, StructType } from '../schema/schema.js';
import { failpoint } from '../failpoints.js';
import { withJsonChecksum } from './json-checksum.js';

/**
 * Classic single-file checkpoints (PROTOCOL.md "Checkpoints"). The Parquet schema is Spark's,
 * every field nullable (`Checkpoints.scala`: `schema.asNullable`), with the exact physical types
 * Spark expects (INT32 protocol versions, INT64 sizes and times). Only `stats` JSON is written,
 * no `stats_parsed`, which is what the protocol's defaults ask for.
 */
const DV = 'STRUCT<storageType: STRING, pathOrInlineDv: STRING, offset: INT, sizeInBytes: INT, cardinality: BIGINT, maxRowIndex: BIGINT>';
export const CHECKPOINT_SCHEMA: StructType = parseDdl(
  [
    'txn STRUCT<appId: STRING, version: BIGINT, lastUpdated: BIGINT>',
    `add STRUCT<path: STRING, partitionValues: MAP<STRING, STRING>, size: BIGINT, modificationTime: BIGINT, dataChange: BOOLEAN, tags: MAP<STRING, STRING>, deletionVector: ${DV}, baseRowId: BIGINT, defaultRowCommitVersion: BIGINT, clusteringProvider: STRING, stats: STRING>`,
    `remove STRUCT<path: STRING, deletionTimestamp: BIGINT, dataChange: BOOLEAN, extendedFileMetadata: BOOLEAN, partitionValues: MAP<STRING, STRING>, size: BIGINT, deletionVector: ${DV}, baseRowId: BIGINT, defaultRowCommitVersion: BIGINT>`,
    'metaData STRUCT<id: STRING, name: STRING, description: STRING, format: STRUCT<provider: STRING, options: MAP<STRING, STRING>>, schemaString: STRING, partitionColumns: ARRAY<STRING>, configuration: MAP<STRING, STRING>, createdTime: BIGINT>',
    'protocol STRUCT<minReaderVersion: INT, minWriterVersion: INT, readerFeatures: ARRAY<STRING>, writerFeatures: ARRAY<STRING>>',
    'domainMetadata STRUCT<domain: STRING, configuration: STRING, removed: BOOLEAN>',
  ].join(', '),
);

/** Keeps only the fields the checkpoint schema has (commit JSON may carry extra, unknown ones). */
function project(value: unknown, t: DataType): unknown {
  if (value === null || value === undefined) return null;
  if (t.kind !== 'struct') return value;
  const o = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of t.fields) out[f.name] = project(o[f.name], f.type);
  return out;
}

export function checkpointRows(actions: readonly Action[]): Record<string, unknown>[] {
  return actions.map((a) => {
    const kind = Object.keys(a)[0];
    const f = CHECKPOINT_SCHEMA.fields.find((x) => x.name === kind);
    if (!f) throw new TributaryError('CHECKPOINT_INVALID', `action ${kind} does not belong in a checkpoint`);
    return { [kind]: project((a as Record<string, unknown>)[kind], f.type) };
  });
}

export interface LastCheckpoint {
  version: number;
  size: number;
  sizeInBytes?: number;
  numOfAddFiles?: number;
  parts?: number;
  /** V2 checkpoints: the top-level file, and (when short) its non-file actions and sidecars. */
  v2Checkpoint?: { path: string; sizeInBytes: number; modificationTime: number; nonFileActions?: unknown[]; sidecarFiles?: unknown[] };
}

/**
 * Actions per row group of a checkpoint, and per piece handed to the encoder: what bounds the
 * encoder's memory however large the table's state is (a stream checkpointing every 10 commits
 * for months would otherwise raise WebAssembly memory, which never shrinks, with every one).
 * Measured in the soak (README, "Soak"): row groups of 5,000 took WebAssembly memory from 5 to
 * 10 MiB over 20,000 batches; a piece of 1,000 keeps it at what a small one needs.
 */
export const CHECKPOINT_ROW_GROUP_ACTIONS = 1_000;

/**
 * Actions per Arrow chunk built on the JS side (one arena each, see encodeCheckpoint), handed
 * to the encoder a row group at a time. Chunks of 1,000 made a 100,000-file checkpoint twice as
 * slow to write (an arena's blocks per chunk, collected five times as often); the chunk stays.
 */
export const CHECKPOINT_CHUNK_ACTIONS = 5 * CHECKPOINT_ROW_GROUP_ACTIONS;

/**
 * Writes the checkpoint for `version`, reads it back and checks it, and only then points
 * `_last_checkpoint` at it: a reader must never be sent to a checkpoint that is not whole. The
 * actions may come as they are read (a long-lived writer's older tombstones come from its
 * previous checkpoint, see TableState.tombstonesAt): they are counted on the way to the encoder.
 */
export async function writeCheckpoint(engine: Engine, version: number, actions: Iterable<Action> | AsyncIterable<Action>): Promise<LastCheckpoint> {
  const storage = engine.storage;
  const want: Record<string, number> = { rows: 0, txn: 0, add: 0, remove: 0 };
  const bytes = await encodeCheckpoint(engine, actions, CHECKPOINT_SCHEMA, (a) => {
    want.rows++;
    for (const k in a) want[k] = (want[k] ?? 0) + 1;
  });
  const path = checkpointPath(version);
  // Any writer may (re)write a checkpoint; the content for a version is always equivalent.
  await storage.write(path, bytes);
  // Read it back and count what came out per action column (no per-row conversion).
  const counts = await countCheckpoint(engine, path);
  const ok = counts.rows === want.rows && counts.protocol === 1 && counts.metaData === 1 && counts.add === want.add && counts.txn === want.txn && counts.remove === want.remove;
  if (!ok) {
    await storage.delete(path);
    throw new TributaryError('CHECKPOINT_INVALID', `checkpoint ${path} did not read back as written (${JSON.stringify(counts)} for ${want.rows} actions); it was removed`);
  }
  failpoint('during-delta-checkpoint');
  const info: LastCheckpoint = { version, size: want.rows, sizeInBytes: bytes.length, numOfAddFiles: want.add };
  await storage.write(LAST_CHECKPOINT, withJsonChecksum(info as unknown as Record<string, unknown>));
  return info;
}

/**
 * A checkpoint file's Parquet bytes (a classic checkpoint, or a V2 sidecar with its narrower
 * `schema`), CHECKPOINT_CHUNK_ACTIONS actions at a time: each chunk becomes Arrow, goes to
 * the encoder a row group at a time and is dropped, so neither the JS heap nor the encoder holds the whole state in
 * its Arrow form at once (a handler without bounded files gets the chunks via `open`).
 * `onAction` sees each action as it is taken.
 */
export async function encodeCheckpoint(engine: Engine, actions: Iterable<Action> | AsyncIterable<Action>, schema: StructType, onAction?: (a: Action) => void): Promise<Uint8Array> {
  const piece = CHECKPOINT_ROW_GROUP_ACTIONS;
  const opts = { compression: 'snappy', rowGroupRows: piece, chunkStatisticsOnly: true } as const;
  const hint = Array.isArray(actions) ? actions.length : CHECKPOINT_CHUNK_ACTIONS + 1;
  const writer = engine.parquet.openBounded?.(schema, opts) ?? engine.parquet.open(schema, opts, hint);
  // Each chunk's buffers from one arena: a long-lived query builds checkpoints of a growing
  // table again and again, and buffers of ever new sizes from the heap leave glibc's main
  // heap full of holes it never returns (the soak's RSS climb; see arena.ts).
  const flush = async (chunk: Action[]) => {
    const batch = rowsToRecordBatch(checkpointRows(chunk), schema, { alloc: new BufferArena() });
    for (let i = 0; i < batch.numRows; i += piece) await writer.write(batch.slice(i, i + piece));
  };
  try {
    let chunk: Action[] = [];
    for await (const a of actions) {
      onAction?.(a);
      chunk.push(a);
      if (chunk.length === CHECKPOINT_CHUNK_ACTIONS) {
        await flush(chunk);
        chunk = [];
      }
    }
    if (chunk.length) await flush(chunk);
    return await writer.finish();
  } catch (e) {
    writer.abort();
    throw e;
  }
}

/** Non-null values per action column, row group by row group when the handler can. */
async function countCheckpoint(engine: Engine, path: string): Promise<Record<string, number>> {
  const bytes = await engine.storage.read(path);
  const parts: AsyncIterable<arrow.Table> | arrow.Table[] = engine.parquet.readRowGroups?.(bytes) ?? [engine.parquet.read(bytes)];
  const out: Record<string, number> = { rows: 0 };
  for await (const t of parts) {
    out.rows += t.numRows;
    for (const f of t.schema.fields) out[f.name] = (out[f.name] ?? 0) + t.numRows - t.getChild(f.name)!.nullCount;
  }
  return out;
}

/** Rows of a checkpoint that are not actions of a snapshot: `checkpointMetadata` and `sidecar` (V2 spec). */
export type CheckpointOnlyRow = { checkpointMetadata: Record<string, unknown> } | { sidecar: Record<string, unknown> };

/**
 * Reads a Parquet checkpoint (ours, Spark's or delta-rs'; classic, multi-part part, V2 top level
 * or sidecar) into actions. V2 spec rows (`checkpointMetadata`, `sidecar`) go to `v2Rows` when
 * given; see v2-checkpoint.ts, which follows the sidecars.
 */
export async function readCheckpoint(engine: Engine, path: string, v2Rows?: CheckpointOnlyRow[]): Promise<Action[]> {
  const out: Action[] = [];
  for await (const part of readCheckpointParts(engine, path, undefined, v2Rows)) for (const a of part) out.push(a);
  return out;
}

/**
 * A Parquet checkpoint's actions a row group at a time (only the action columns `kinds`, when
 * given, and present in the file): decoded whole, a large checkpoint would raise WebAssembly
 * memory (which never shrinks) to its size at every snapshot load, and its actions would all be
 * on the heap at once.
 */
export async function* readCheckpointParts(engine: Engine, path: string, kinds?: readonly string[], v2Rows?: CheckpointOnlyRow[]): AsyncGenerator<Action[]> {
  const all = ['txn', 'add', 'remove', 'metaData', 'protocol', 'domainMetadata', ...(v2Rows ? ['checkpointMetadata', 'sidecar'] : [])].filter((k) => !kinds || kinds.includes(k));
  try {
    const bytes = await engine.storage.read(path);
    // (A handler without row groups reads every column: `read` refuses a column the file lacks.)
    for await (let table of engine.parquet.readRowGroups?.(bytes, kinds ? all : undefined) ?? [engine.parquet.read(bytes)]) {
      const have = table.schema.fields.map((f) => f.name);
      const cols = all.filter((c) => have.includes(c));
      if (cols.length !== have.length) table = table.select(cols);
      const out: Action[] = [];
      appendActions(table, out, v2Rows);
      yield out;
    }
  } catch (e) {
    if (e instanceof TributaryError) throw e;
    throw new TributaryError('CHECKPOINT_INVALID', `cannot read checkpoint ${path}: ${(e as Error).message}`, {}, { cause: e });
  }
}

/** One part of a checkpoint's rows as actions (and V2 spec rows), in row order. */
function appendActions(table: arrow.Table, out: Action[], v2Rows?: CheckpointOnlyRow[]): void {
  const names = table.schema.fields.map((f) => f.name);
  for (const batch of table.batches) {
    const columns = names.map((n) => batch.getChild(n)!.data[0]);
    for (let i = 0; i < batch.numRows; i++) appendRow(names, columns, i, out, v2Rows);
  }
}

/** Row `i` of a checkpoint's columns: its one action (or V2 spec row). */
function appendRow(names: readonly string[], columns: readonly arrow.Data[], i: number, out: Action[], v2Rows?: CheckpointOnlyRow[]): void {
  for (let c = 0; c < names.length; c++) {
    const plain = plainAt(columns[c], i) as Record<string, unknown> | null;
    if (plain === null || plain === undefined) continue;
    if (names[c] === 'add' || names[c] === 'remove') {
      // Checkpoints of older writers sometimes leave partitionValues null for unpartitioned files.
      plain.partitionValues ??= {};
      delete plain.stats_parsed;
      delete plain.partitionValues_parsed;
    }
    if (names[c] === 'metaData') {
      plain.partitionColumns ??= [];
      plain.configuration ??= {};
    }
    if (names[c] === 'checkpointMetadata' || names[c] === 'sidecar') v2Rows!.push({ [names[c]]: plain } as CheckpointOnlyRow);
    else out.push({ [names[c]]: plain } as Action);
  }
}

export async function readLastCheckpoint(storage: Storage): Promise<LastCheckpoint | undefined> {
  try {
    const text = await storage.readText(LAST_CHECKPOINT);
    const j = JSON.parse(text) as LastCheckpoint;
    return typeof j.version === 'number' ? j : undefined;
  } catch {
    // A missing or torn hint is not an error: the log listing is the truth.
    return undefined;
  }
}
