import * as arrow from 'apache-arrow';
import { TributaryError } from '../errors.js';
import { makeColumnBuilder } from '../arrow/builders.js';
import { toArrowSchema, toArrowType } from '../arrow/types.js';
import type { AddFile } from './actions.js';
import { DeletionVectorLoader, dropDeletedRows } from './deletion-vector.js';
import { decodeAddPath, parsePartitionValue } from './partitions.js';
import { checkReadable } from './protocol-support.js';
import { type DataType, type StructField, type StructType, VARIANT_PHYSICAL } from '../schema/schema.js';
import type { Snapshot } from './snapshot.js';
import { type ColumnMappingMode, columnMappingMode, fileColumnIndex, physicalSchema } from './column-mapping.js';
import { ownField } from '../arrow/own-fields.js';

/**
 * Reads a snapshot's live files into one Arrow table with the table's schema: partition values
 * come from the log, columns missing from older files (schema evolution) read as null, files
 * written by other engines (INT96 or millisecond timestamps, other list/map names) are
 * normalised to our Arrow types, and rows deleted by deletion vectors are left out. A table
 * whose reader protocol asks for more than Tributary implements is refused before any file is read.
 */
export async function readTable(snapshot: Snapshot, columns?: string[]): Promise<arrow.Table> {
  checkReadable(snapshot.protocol, snapshot.storage.root);
  const schema: StructType = columns
    ? {
        kind: 'struct',
        fields: columns.map((c) => {
          const f = snapshot.schema.fields.find((x) => x.name === c);
          if (!f) throw new TributaryError('INVALID_ARGUMENT', `no column "${c}" in ${snapshot.storage.root}`);
          return f;
        }),
      }
    : snapshot.schema;
  const arrowSchema = toArrowSchema(schema);
  const batches: arrow.RecordBatch[] = [];
  const files = [...snapshot.files].sort((a, b) => (a.path < b.path ? -1 : 1));
  const dvs = new DeletionVectorLoader(snapshot.storage);
  for await (const { file, bytes } of prefetch(snapshot, files)) batches.push(...(await readFile(snapshot, file, schema, arrowSchema, bytes, dvs)));
  return batches.length ? new arrow.Table(batches) : new arrow.Table(arrowSchema);
}

/**
 * One logical file as batches of the table's schema: the data file's rows, without those its
 * deletion vector deletes (read through `dvs`, which keeps the DV files of one scan).
 */
export async function readFile(snapshot: Snapshot, file: AddFile, schema: StructType, arrowSchema: arrow.Schema, prefetched?: Uint8Array, dvs?: DeletionVectorLoader): Promise<arrow.RecordBatch[]> {
  const path = decodeAddPath(file.path, snapshot.storage.root);
  const bytes = prefetched ?? (await readDataFile(snapshot, file));
  // Fetched before decoding the file, so a missing or damaged DV fails without the decode.
  const deleted = file.deletionVector ? await (dvs ?? new DeletionVectorLoader(snapshot.storage)).deletedRows(file.deletionVector, path) : undefined;
  let t: arrow.Table;
  try {
    t = snapshot.engine.parquet.read(bytes);
  } catch (e) {
    if (e instanceof TributaryError) throw e;
    throw new TributaryError('IO', `cannot read data file ${path} of ${snapshot.storage.root} (damaged, or not Parquet): ${(e as Error).message}`, { file: path }, { cause: e });
  }
  const parts = new Set(snapshot.partitionColumns);
  // With column mapping, file columns and partition values go by physical name (or field id).
  const mode = columnMappingMode(snapshot.metadata.configuration);
  const physical = physicalSchema(schema, mode);
  const batches = deleted ? dropDeletedRows(t.batches, deleted, path) : t.batches;
  return batches.map((b) => {
    const n = b.numRows;
    const children = schema.fields.map((f, k) => {
      const p = physical.fields[k];
      if (parts.has(f.name)) return constant(f, parsePartitionValue(f.type, ownField(file.partitionValues, p.name) as string | null | undefined), n);
      const i = fileColumnIndex(b.schema.fields, p, mode);
      if (i < 0) return nulls(f, n);
      return conform(b.data.children[i], f.type, `${path}:${f.name}`, p.type, mode);
    });
    return new arrow.RecordBatch(arrowSchema, arrow.makeData({ type: new arrow.Struct(arrowSchema.fields), length: n, nullCount: 0, children }));
  });
}

/**
 * File bytes in order, with up to `depth` reads in flight: small-file tables are bound by I/O
 * latency, not decoding, so reads overlap while earlier files decode.
 */
export async function* prefetch(snapshot: Snapshot, files: readonly AddFile[], depth = 32): AsyncGenerator<{ file: AddFile; bytes: Uint8Array }> {
  const read = (f: AddFile) => {
    const p = readDataFile(snapshot, f);
    // Reads ahead of a failed one are never awaited: their own failures must not crash the process.
    p.catch(() => undefined);
    return p;
  };
  const inflight: Promise<Uint8Array>[] = [];
  let next = 0;
  while (next < files.length && inflight.length < depth) inflight.push(read(files[next++]));
  for (let i = 0; i < files.length; i++) {
    const bytes = await inflight.shift()!;
    if (next < files.length) inflight.push(read(files[next++]));
    yield { file: files[i], bytes };
  }
}

/**
 * The bytes of a data file the log references. A file that is not there was deleted outside
 * Delta (by hand, or by a VACUUM with too short a retention): that gets its own code, since no
 * retry helps.
 */
export async function readDataFile(snapshot: Snapshot, file: AddFile): Promise<Uint8Array> {
  const path = decodeAddPath(file.path, snapshot.storage.root);
  try {
    return await snapshot.storage.read(path);
  } catch (e) {
    const missing = await snapshot.storage.stat(path).then((s) => s === undefined, () => false);
    throw dataFileError(snapshot, path, e, missing);
  }
}

/** The error for a data file that could not be read; `missing` when it does not exist. */
export function dataFileError(snapshot: Snapshot, path: string, cause: unknown, missing: boolean): TributaryError {
  if (missing) {
    return new TributaryError(
      'DATA_FILE_MISSING',
      `data file ${path} of ${snapshot.storage.root} (version ${snapshot.version}) is missing: it was deleted outside Delta, by hand or by a VACUUM with too short a retention; restore it, or read a version without it`,
      { file: path, version: snapshot.version },
      { cause },
    );
  }
  if (cause instanceof TributaryError) return cause;
  return new TributaryError('IO', `cannot read data file ${path} of ${snapshot.storage.root}: ${(cause as Error)?.message ?? String(cause)}`, { file: path }, { cause });
}

/** A batch read from one of our data files, relabelled with the table's Arrow types. */
export function conformBatch(b: arrow.RecordBatch, schema: StructType, arrowSchema: arrow.Schema): arrow.RecordBatch {
  const children = schema.fields.map((f) => {
    const i = b.schema.fields.findIndex((x) => x.name === f.name);
    return i >= 0 ? conform(b.data.children[i], f.type, f.name) : nulls(f, b.numRows);
  });
  return new arrow.RecordBatch(arrowSchema, arrow.makeData({ type: new arrow.Struct(arrowSchema.fields), length: b.numRows, nullCount: 0, children }));
}

function constant(f: StructField, value: unknown, n: number): arrow.Data {
  const b = makeColumnBuilder(f.type, true);
  for (let i = 0; i < n; i++) b.append(value, i);
  return b.finish();
}

function nulls(f: StructField, n: number): arrow.Data {
  const b = makeColumnBuilder(f.type, true);
  for (let i = 0; i < n; i++) b.appendNull();
  return b.finish();
}

/**
 * Re-labels file data with the table's Arrow type, converting where the layout differs. `phys` is
 * `t` as the physical schema has it (struct fields under their physical names and field ids),
 * which is how struct fields are found in the file.
 */
function conform(d: arrow.Data | undefined, t: DataType, where: string, phys: DataType = t, mode: ColumnMappingMode = 'none'): arrow.Data {
  // The element data of a list (or map) column of a file with no rows: apache-arrow's IPC reader
  // leaves it out (Spark writes such files: an empty task's output).
  if (d === undefined) return makeColumnBuilder(t, true).finish();
  // A variant is read as the group it is stored in: its value and metadata fields matched by
  // name, as Spark does (they carry no physical names or field ids, even under column mapping).
  if (t.kind === 'variant') return conform(d, VARIANT_PHYSICAL, where);
  const want = toArrowType(t);
  const have = d.type;
  if (arrow.DataType.isTimestamp(want) && arrow.DataType.isTimestamp(have) && have.unit !== arrow.TimeUnit.MICROSECOND) {
    const src = d.values as BigInt64Array;
    const out = new BigInt64Array(d.length);
    for (let i = 0; i < d.length; i++) {
      const v = src[i];
      out[i] = have.unit === arrow.TimeUnit.NANOSECOND ? v / 1000n : have.unit === arrow.TimeUnit.MILLISECOND ? v * 1000n : v * 1_000_000n;
    }
    return arrow.makeData({ type: want as arrow.Timestamp, length: d.length, nullCount: d.nullCount, nullBitmap: sliceBitmap(d), data: out });
  }
  if (want.typeId !== have.typeId) {
    throw new TributaryError('SCHEMA_MISMATCH', `${where}: file has ${have} where the table has ${want}`);
  }
  if (t.kind === 'struct') {
    const hs = have as arrow.Struct;
    const ps = phys as typeof t;
    const children = t.fields.map((f, k) => {
      const i = mode === 'none' ? hs.children.findIndex((c) => c.name === f.name) : fileColumnIndex(hs.children, ps.fields[k], mode);
      return i >= 0 ? conform(d.children[i], f.type, `${where}.${f.name}`, ps.fields[k].type, mode) : nulls(f, d.length + d.offset).slice(0, 0 + d.length + d.offset);
    });
    return arrow.makeData({ type: want as arrow.Struct, offset: d.offset, length: d.length, nullCount: d.nullCount, nullBitmap: d.nullBitmap, children });
  }
  if (t.kind === 'array') {
    return arrow.makeData({ type: want as arrow.List, offset: d.offset, length: d.length, nullCount: d.nullCount, nullBitmap: d.nullBitmap, valueOffsets: d.valueOffsets, child: conform(d.children[0], t.elementType, `${where}[]`, (phys as typeof t).elementType, mode) });
  }
  if (t.kind === 'map') {
    const entries = d.children[0];
    const wantEntries = (want as arrow.Map_).children[0].type as arrow.Struct;
    const e = arrow.makeData({
      type: wantEntries,
      offset: entries.offset,
      length: entries.length,
      nullCount: 0,
      children: [conform(entries.children[0], t.keyType, `${where}.key`, (phys as typeof t).keyType, mode), conform(entries.children[1], t.valueType, `${where}.value`, (phys as typeof t).valueType, mode)],
    });
    return arrow.makeData({ type: want as arrow.Map_, offset: d.offset, length: d.length, nullCount: d.nullCount, nullBitmap: d.nullBitmap, valueOffsets: d.valueOffsets, child: e });
  }
  // Same buffers, the table's type (names and metadata may differ in files of other writers).
  return d.clone(want as never);
}

function sliceBitmap(d: arrow.Data): Uint8Array | undefined {
  if (!d.nullBitmap || d.nullCount === 0) return undefined;
  if (d.offset === 0) return d.nullBitmap;
  const out = new Uint8Array((d.length + 7) >> 3);
  for (let i = 0; i < d.length; i++) {
    const j = d.offset + i;
    if (d.nullBitmap[j >> 3] & (1 << (j & 7))) out[i >> 3] |= 1 << (i & 7);
  }
  return out;
}

