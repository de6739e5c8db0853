import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { crc32 } from 'node:zlib';

/**
 * An independent model of Delta's deletion vector formats, written from the specifications
 * (RoaringFormatSpec and PROTOCOL.md "Deletion Vector Format"), for tests: it *encodes* what
 * src/delta/roaring.ts, z85.ts and deletion-vector.ts decode, choosing among the encodings a
 * writer may use (array, bitmap or run containers; with or without the run cookie; portable or
 * native bucket layout), so the decoder is checked against every layout and not only those one
 * Java library happens to produce.
 */

export type ContainerChoice = 'plain' | 'run';

export interface EncodeChoices {
  /** Per container (in order), whether it is written as runs; containers beyond the list are plain. */
  runs?: readonly boolean[];
  /** Use the run cookie even when no container is a run container. */
  runCookie?: boolean;
  layout?: 'portable' | 'native';
}

const u16 = (v: number) => [v & 0xff, (v >>> 8) & 0xff];
const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

/** One standard 32-bit Roaring bitmap of `values` (ascending, < 2^32). */
export function encodeBitmap32(values: readonly number[], runs: readonly boolean[] = [], forceRunCookie = false): number[] {
  const containers: { key: number; lows: number[] }[] = [];
  for (const v of values) {
    const key = Math.floor(v / 65536);
    if (!containers.length || containers[containers.length - 1].key !== key) containers.push({ key, lows: [] });
    containers[containers.length - 1].lows.push(v % 65536);
  }
  const isRun = containers.map((_, i) => runs[i] === true);
  const runCookie = forceRunCookie || isRun.some(Boolean);
  const size = containers.length;
  const head: number[] = [];
  if (runCookie) {
    if (size === 0) throw new Error('the run cookie needs at least one container');
    head.push(...u32(12347 | ((size - 1) << 16)));
    const flags = new Array<number>((size + 7) >> 3).fill(0);
    isRun.forEach((r, i) => {
      if (r) flags[i >> 3] |= 1 << (i & 7);
    });
    head.push(...flags);
  } else head.push(...u32(12346), ...u32(size));
  for (const c of containers) head.push(...u16(c.key), ...u16(c.lows.length - 1));
  const bodies = containers.map((c, i) => {
    if (isRun[i]) {
      const rs: [number, number][] = [];
      for (const v of c.lows) {
        const last = rs[rs.length - 1];
        if (last && last[0] + last[1] === v) last[1]++;
        else rs.push([v, 1]);
      }
      return [...u16(rs.length), ...rs.flatMap(([s, n]) => [...u16(s), ...u16(n - 1)])];
    }
    if (c.lows.length <= 4096) return c.lows.flatMap(u16);
    const bits = new Array<number>(8192).fill(0);
    for (const v of c.lows) bits[v >> 3] |= 1 << (v & 7);
    return bits;
  });
  const out = [...head];
  if (!runCookie || size >= 4) {
    let offset = head.length + 4 * size;
    for (const b of bodies) {
      out.push(...u32(offset));
      offset += b.length;
    }
  }
  for (const b of bodies) out.push(...b);
  return out;
}

/** Delta's RoaringBitmapArray (magic + 64-bit bitmap) of `rows` (ascending, < 2^53). */
export function encodeRoaringBitmapArray(rows: readonly number[], choices: EncodeChoices = {}): Uint8Array {
  const buckets = new Map<number, number[]>();
  for (const r of rows) {
    const key = Math.floor(r / 2 ** 32);
    if (!buckets.has(key)) buckets.set(key, []);
    buckets.get(key)!.push(r % 2 ** 32);
  }
  const out: number[] = [];
  let container = 0;
  const bitmap = (vals: number[]) => {
    const n = new Set(vals.map((v) => Math.floor(v / 65536))).size;
    const runs = (choices.runs ?? []).slice(container, container + n);
    container += n;
    return encodeBitmap32(vals, runs, choices.runCookie && vals.length > 0);
  };
  if ((choices.layout ?? 'portable') === 'portable') {
    out.push(...u32(1681511377), ...u32(buckets.size), ...u32(0));
    for (const [key, vals] of buckets) out.push(...u32(key), ...bitmap(vals));
  } else {
    const max = buckets.size ? Math.max(...buckets.keys()) : -1;
    out.push(...u32(1681511376), ...u32(max + 1));
    for (let key = 0; key <= max; key++) {
      const b = bitmap(buckets.get(key) ?? []);
      out.push(...u32(b.length), ...b);
    }
  }
  return Uint8Array.from(out);
}

const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

/** Z85 text of `bytes`, zero-padded to whole 4-byte words as Delta pads inline DVs. */
export function z85(bytes: Uint8Array): string {
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  let s = '';
  for (let i = 0; i < padded.length; i += 4) {
    let word = BigInt(((padded[i] << 24) >>> 0) + (padded[i + 1] << 16) + (padded[i + 2] << 8) + padded[i + 3]);
    let chunk = '';
    for (let k = 0; k < 5; k++) {
      chunk = Z85[Number(word % 85n)] + chunk;
      word /= 85n;
    }
    s += chunk;
  }
  return s;
}

/** The 20 Z85 characters of a UUID. */
export function z85Uuid(uuid: string): string {
  return z85(Uint8Array.from(Buffer.from(uuid.replace(/-/g, ''), 'hex')));
}

/**
 * A DV file holding `bitmaps` one after another: version byte 1, then per DV its big-endian
 * size, the bytes and a big-endian CRC-32. Returns the file and each DV's offset.
 */
export function dvFile(bitmaps: readonly Uint8Array[]): { bytes: Uint8Array; offsets: number[] } {
  const out: number[] = [1];
  const offsets: number[] = [];
  const be32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  for (const b of bitmaps) {
    offsets.push(out.length);
    out.push(...be32(b.length), ...b, ...be32(crc32(b)));
  }
  return { bytes: Uint8Array.from(out), offsets };
}

/** How a test deletes rows with a DV: where the DV's bytes go. */
export interface DeleteRowsOptions {
  storage?: 'u' | 'i' | 'p';
  /** A random-prefix directory for `u` DVs (Delta's delta.randomizeFilePrefixes). */
  prefix?: string;
}

/**
 * Deletes rows of one data file the way Spark's DELETE does with deletion vectors: a commit that
 * re-adds the logical file with a DV holding the union of the old and new deleted rows, and
 * removes the logical file with its previous DV. The DV file is written next to the data
 * (`u`, `p`) or the DV is inlined in the log (`i`). Returns the new version.
 */
export function deleteRowsWithDv(dir: string, filePath: string, rowIndexes: readonly number[], opts: DeleteRowsOptions = {}): number {
  const log = path.join(dir, '_delta_log');
  const versions = readdirSync(log).filter((n) => /^\d{20}\.json$/.test(n)).map((n) => Number(n.slice(0, 20)));
  const version = Math.max(...versions) + 1;
  // The file's current logical entry: the last add of this path.
  let add: Record<string, unknown> | undefined;
  for (const v of versions.sort((a, b) => a - b)) {
    for (const line of readFileSync(path.join(log, `${String(v).padStart(20, '0')}.json`), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const a = JSON.parse(line) as { add?: Record<string, unknown> };
      if (a.add && a.add.path === filePath) add = a.add;
    }
  }
  if (!add) throw new Error(`no add for ${filePath}`);
  const old = add.deletionVector as { storageType: string; pathOrInlineDv: string; offset?: number; sizeInBytes: number; cardinality: number } | undefined;
  const rows = [...new Set([...(old ? deletedRows(dir, filePath) : []), ...rowIndexes])].sort((a, b) => a - b);
  const bitmap = encodeRoaringBitmapArray(rows);
  let dv: Record<string, unknown>;
  if (opts.storage === 'i') dv = { storageType: 'i', pathOrInlineDv: z85(bitmap), sizeInBytes: bitmap.length, cardinality: rows.length };
  else {
    const uuid = randomUUID();
    const { bytes, offsets } = dvFile([bitmap]);
    const rel = `${opts.prefix ? `${opts.prefix}/` : ''}deletion_vector_${uuid}.bin`;
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), bytes);
    dv =
      opts.storage === 'p'
        ? { storageType: 'p', pathOrInlineDv: pathToFileURL(path.join(dir, rel)).href, offset: offsets[0], sizeInBytes: bitmap.length, cardinality: rows.length }
        : { storageType: 'u', pathOrInlineDv: (opts.prefix ?? '') + z85Uuid(uuid), offset: offsets[0], sizeInBytes: bitmap.length, cardinality: rows.length };
  }
  const stats = add.stats ? { ...(JSON.parse(add.stats as string) as Record<string, unknown>), tightBounds: false } : undefined;
  const newAdd = { ...add, dataChange: true, ...(stats ? { stats: JSON.stringify(stats) } : {}), deletionVector: dv };
  const remove = { path: filePath, deletionTimestamp: Date.now(), dataChange: true, extendedFileMetadata: true, partitionValues: add.partitionValues, size: add.size, ...(old ? { deletionVector: old } : {}) };
  const info = { timestamp: Date.now(), operation: 'DELETE', operationParameters: { predicate: '[]' }, readVersion: version - 1, isolationLevel: 'Serializable', isBlindAppend: false };
  writeFileSync(path.join(log, `${String(version).padStart(20, '0')}.json`), [{ commitInfo: info }, { add: newAdd }, { remove }].map((a) => JSON.stringify(a)).join('\n') + '\n');
  // Remember the rows for the next delete of this file.
  deletedByFile.set(`${dir}\u0000${filePath}`, rows);
  return version;
}

const deletedByFile = new Map<string, number[]>();

/** The rows deleteRowsWithDv has deleted so far from a file. */
export function deletedRows(dir: string, filePath: string): number[] {
  return deletedByFile.get(`${dir}\u0000${filePath}`) ?? [];
}
