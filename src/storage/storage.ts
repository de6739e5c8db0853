/**
 * Where a table's bytes live. Paths are relative to the table root and always use "/". The
 * contract the Delta log depends on is `putIfAbsent`: atomic, all-or-nothing visibility, and
 * failing (returning false) when the object already exists, so that two writers can never both
 * create version N. Local files implement it with link(2); object stores with conditional PUTs
 * (src/storage/s3.ts, gcs.ts, azure.ts), after a one-time probe that the store really honours
 * them (a store that silently overwrites is refused with CONDITIONAL_WRITE_UNSUPPORTED).
 * `src/storage/uri.ts` turns a location (path, file://, s3://, gs://, abfss://, az://) into a
 * Storage. `root` is always safe to print: no credential ever appears in it or in a message.
 */
export interface FileInfo {
  /** Path relative to the listed directory's table root, e.g. "_delta_log/00000000000000000003.json". */
  path: string;
  size: number;
  modificationTime: number;
}

export interface Storage {
  /** A description for messages (a directory or URL). */
  readonly root: string;
  read(path: string): Promise<Uint8Array>;
  readText(path: string): Promise<string>;
  /** Returns undefined when the object does not exist. */
  stat(path: string): Promise<FileInfo | undefined>;
  /** Writes or replaces an object; readers see the old or the new bytes, never a mix. */
  write(path: string, data: Uint8Array | string): Promise<void>;
  /** Atomically creates the object if absent; false if it already existed (nothing written). */
  putIfAbsent(path: string, data: Uint8Array | string): Promise<boolean>;
  /** Names of the files directly inside a directory, sorted. Empty if it does not exist. */
  list(dir: string): Promise<string[]>;
  /** Every file below a directory, recursively, sorted by path. */
  listRecursive(dir: string): Promise<FileInfo[]>;
  delete(path: string): Promise<void>;
  /**
   * Undoes writes that will never be committed (a failed append or OPTIMIZE): deletes the
   * objects, and any directory this store created for them that is now empty, so the failure
   * leaves the tree as it found it. Stores without directories leave it out; `discard()` then
   * deletes the objects one by one.
   */
  discard?(paths: readonly string[]): Promise<void>;
  /**
   * Whether a file name is one of this store's staging files (a write's temp file before it is
   * published). A process killed while staging leaves one behind; VACUUM removes those once they
   * are old enough that no live writer can still be using them. Stores that do not stage leave
   * it out.
   */
  isStagingName?(name: string): boolean;
  /**
   * The file's path on this machine's file system, when the storage is one: a worker thread can
   * then read the file itself. Object stores leave it out.
   */
  localPath?(path: string): string;
  /**
   * Every file below a directory (as `listRecursive`), delivered a page at a time in path order
   * so that a caller walking a big table (VACUUM, listing a long `_delta_log/`) holds one page,
   * not the whole listing. `startAfter` (a path relative to the root, like `FileInfo.path`)
   * skips every path up to and including it, which object stores do on the server (S3
   * StartAfter, GCS startOffset), so listing the log from version N does not read the older
   * entries. Pages may be empty. Object stores order by the UTF-8 bytes of the key.
   */
  listPages?(dir: string, startAfter?: string): AsyncIterable<FileInfo[]>;
  /**
   * Writes an object from a stream of chunks without holding it whole: object stores upload in
   * parts above their multipart threshold. Visibility is all-or-nothing as for `write`: if the
   * source fails midway, the upload is abandoned (S3 AbortMultipartUpload; GCS's resumable
   * session and Azure's uncommitted blocks are never finalized) and no object appears.
   */
  writeStream?(path: string, chunks: AsyncIterable<Uint8Array>): Promise<void>;
  /** Releases connections (sockets, agents) the store holds; the store is unusable afterwards. */
  close?(): Promise<void>;
}


/** Removes what a failed write left (see Storage.discard); never throws, the write's own error matters. */
export async function discard(storage: Storage, paths: readonly string[]): Promise<void> {
  if (storage.discard) return storage.discard(paths).catch(() => undefined);
  for (const p of paths) await storage.delete(p).catch(() => undefined);
}
