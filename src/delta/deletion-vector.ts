import { crc32 } from 'node:zlib';
import * as arrow from 'apache-arrow';
import { TributaryError } from '../errors.js';
import { takeBatch } from '../arrow/take.js';
import type { Storage } from '../storage/storage.js';
import type { DeletionVector } from './actions.js';
import { decodeAddPath } from './partitions.js';
import { decodeRoaringBitmapArray } from './roaring.js';
import { z85Decode } from './z85.js';

/**
 * Deletion vectors (PROTOCOL.md "Deletion Vectors", "Deletion Vector Format"): a logical file is
 * a data file minus the rows its DV names by their position in the file. A descriptor says where
 * the DV's bytes are: inline in the log (`i`, Z85 text), in a table-relative file named by a UUID
 * with an optional random-prefix directory (`u`, `<prefix><20 Z85 characters>`), at an absolute
 * path (`p`, a URI like `add.path`), or at an unencoded relative path (`r`, newer Delta writers).
 * DV files start with a format version byte and hold one or more DVs, each as a big-endian size,
 * the serialized RoaringBitmapArray, and a big-endian CRC-32 of it; Spark packs the DVs of many
 * data files into one file, so a read fetches each DV file once (DeletionVectorLoader).
 */

/** The Z85 text of a UUID is always 20 characters; what precedes it is the random prefix. */
const ENCODED_UUID_LENGTH = 20;
const DV_FILE_FORMAT_VERSION = 1;

/** The file Delta stores a `u` DV in: `[<prefix>/]deletion_vector_<uuid>.bin`. */
export function dvFileName(uuid: string, prefix = ''): string {
  return `${prefix ? `${prefix}/` : ''}deletion_vector_${uuid}.bin`;
}

/** A UUID from its 20 Z85 characters (the 16 bytes in order, as Java's UUID prints them). */
export function uuidFromZ85(text: string): string {
  const b = z85Decode(text);
  if (b.length !== 16) throw new RangeError(`a UUID is 20 Z85 characters, got ${text.length}`);
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Where a DV's serialized bitmap is: in the log itself, or in a file of the table. */
export type DvSource = { kind: 'inline'; bytes: Uint8Array } | { kind: 'file'; path: string; offset: number };

/**
 * The source of a DV's bytes, with file paths relative to the table root (`tableRoot` is only
 * used to relate an absolute `p` path to the table). Throws LOG_CORRUPT naming the descriptor
 * when its text cannot be decoded.
 */
export function dvSource(dv: DeletionVector, tableRoot: string): DvSource {
  const text = dv.pathOrInlineDv;
  const bad = (why: string) => new TributaryError('LOG_CORRUPT', `deletion vector ${dv.storageType}${JSON.stringify(text)}: ${why}`, { deletionVector: dv });
  // Spark writes an offset for every on-disk DV; the first DV of a file starts after the version byte.
  const offset = dv.offset ?? 1;
  switch (dv.storageType) {
    case 'i': {
      let bytes: Uint8Array;
      try {
        bytes = z85Decode(text);
      } catch (e) {
        throw bad((e as Error).message);
      }
      if (bytes.length < dv.sizeInBytes) throw bad(`it decodes to ${bytes.length} bytes, fewer than its sizeInBytes ${dv.sizeInBytes}`);
      // Delta pads the bytes to whole 4-byte words before encoding; sizeInBytes is the real length.
      return { kind: 'inline', bytes: bytes.subarray(0, dv.sizeInBytes) };
    }
    case 'u': {
      if (text.length < ENCODED_UUID_LENGTH) throw bad(`a UUID-named deletion vector needs at least ${ENCODED_UUID_LENGTH} characters`);
      const prefix = text.slice(0, text.length - ENCODED_UUID_LENGTH);
      try {
        return { kind: 'file', path: dvFileName(uuidFromZ85(text.slice(-ENCODED_UUID_LENGTH)), prefix), offset };
      } catch (e) {
        throw bad((e as Error).message);
      }
    }
    case 'p':
      return { kind: 'file', path: decodeAddPath(text, tableRoot), offset };
    case 'r':
      return { kind: 'file', path: text, offset };
    default:
      throw new TributaryError('UNSUPPORTED_FEATURE', `deletion vector storage type ${JSON.stringify(dv.storageType)} is not one Tributary reads (u, i, p, r)`, { deletionVector: dv });
  }
}

/** The table-relative path of the file holding a DV, or undefined for an inline DV. */
export function dvFilePath(dv: DeletionVector, tableRoot: string): string | undefined {
  const s = dvSource(dv, tableRoot);
  return s.kind === 'file' ? s.path : undefined;
}

/**
 * One DV's serialized bitmap inside a DV file: checks the file's format version, that the size
 * stored before the DV is the descriptor's `sizeInBytes`, and the CRC-32 stored after it.
 * Returns the bitmap bytes, or throws a RangeError naming the problem.
 */
export function dvBitmapInFile(file: Uint8Array, offset: number, sizeInBytes: number): Uint8Array {
  if (file.length === 0) throw new RangeError('the file is empty');
  if (file[0] !== DV_FILE_FORMAT_VERSION) throw new RangeError(`format version ${file[0]}, where Tributary reads version ${DV_FILE_FORMAT_VERSION}`);
  const end = offset + 4 + sizeInBytes + 4;
  if (offset < 1 || end > file.length) throw new RangeError(`the DV at offset ${offset} (${sizeInBytes} bytes) does not fit in the file's ${file.length} bytes`);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const size = view.getUint32(offset, false);
  if (size !== sizeInBytes) throw new RangeError(`the file says the DV at offset ${offset} is ${size} bytes, the log says ${sizeInBytes}`);
  const bitmap = file.subarray(offset + 4, offset + 4 + size);
  const stored = view.getUint32(offset + 4 + size, false);
  const actual = crc32(bitmap);
  if (stored !== actual) throw new RangeError(`checksum mismatch for the DV at offset ${offset} (stored ${stored}, computed ${actual})`);
  return bitmap;
}

/**
 * Reads the DVs of one scan, fetching each DV file once however many data files point into it.
 * Files are read through the table's Storage, like data files.
 */
export class DeletionVectorLoader {
  private readonly files = new Map<string, Promise<Uint8Array>>();

  constructor(private readonly storage: Storage) {}

  /**
   * The row indexes `dv` deletes from the data file `dataFile` (named in messages), ascending,
   * checked against the descriptor's cardinality.
   */
  async deletedRows(dv: DeletionVector, dataFile: string): Promise<number[]> {
    const src = dvSource(dv, this.storage.root);
    const where = src.kind === 'inline' ? `the inline deletion vector of ${dataFile}` : `deletion vector file ${src.path} (at offset ${src.offset}, for ${dataFile})`;
    let bitmap: Uint8Array;
    if (src.kind === 'inline') bitmap = src.bytes;
    else {
      const file = await this.file(src.path, dataFile);
      try {
        bitmap = dvBitmapInFile(file, src.offset, dv.sizeInBytes);
      } catch (e) {
        throw new TributaryError('LOG_CORRUPT', `${where} of ${this.storage.root} is damaged: ${(e as Error).message}`, { file: src.path });
      }
    }
    let rows: number[];
    try {
      rows = decodeRoaringBitmapArray(bitmap);
    } catch (e) {
      throw new TributaryError('LOG_CORRUPT', `${where} of ${this.storage.root} is not a valid RoaringBitmapArray: ${(e as Error).message}`);
    }
    if (rows.length !== dv.cardinality) {
      throw new TributaryError('LOG_CORRUPT', `${where} of ${this.storage.root} deletes ${rows.length} rows where the log says ${dv.cardinality} (cardinality)`);
    }
    return rows;
  }

  private file(path: string, dataFile: string): Promise<Uint8Array> {
    let p = this.files.get(path);
    if (!p) {
      p = this.storage.read(path).catch(async (e: unknown) => {
        const missing = await this.storage.stat(path).then((s) => s === undefined, () => false);
        if (!missing) throw e;
        throw new TributaryError(
          'DATA_FILE_MISSING',
          `deletion vector file ${path} of ${this.storage.root} (for data file ${dataFile}) is missing: it was deleted outside Delta, by hand or by a VACUUM with too short a retention; restore it, or read a version without it`,
          { file: path },
          { cause: e },
        );
      });
      this.files.set(path, p);
    }
    return p;
  }
}

/**
 * The batches of one data file (its rows in file order) without the rows at `deleted`
 * (ascending row indexes of the file). A row index past the file's end means the DV belongs to
 * another file: that is refused rather than ignored.
 */
export function dropDeletedRows(batches: readonly arrow.RecordBatch[], deleted: readonly number[], dataFile: string): arrow.RecordBatch[] {
  const total = batches.reduce((n, b) => n + b.numRows, 0);
  if (deleted.length && deleted[deleted.length - 1] >= total) {
    throw new TributaryError('LOG_CORRUPT', `the deletion vector of ${dataFile} deletes row ${deleted[deleted.length - 1]}, but the file has ${total} rows`, { file: dataFile });
  }
  const out: arrow.RecordBatch[] = [];
  let first = 0;
  let d = 0;
  for (const b of batches) {
    const end = first + b.numRows;
    const start = d;
    while (d < deleted.length && deleted[d] < end) d++;
    if (d === start) out.push(b);
    else if (d - start < b.numRows) {
      const keep = new Int32Array(b.numRows - (d - start));
      let k = 0;
      let next = start;
      for (let i = 0; i < b.numRows; i++) {
        if (next < d && deleted[next] === first + i) next++;
        else keep[k++] = i;
      }
      out.push(takeBatch(b, keep));
    }
    first = end;
  }
  return out;
}
