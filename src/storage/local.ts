import { randomUUID } from 'node:crypto';
import { promises as fs, readFile as readFileCb } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as nodePath from 'node:path';
import { TributaryError } from '../errors.js';
import { failpoint } from '../failpoints.js';
import type { FileInfo, Storage } from './storage.js';

/**
 * Storage on the local file system. Durability matters here as much as atomicity: a commit that
 * returned must survive a power cut, so every publish fsyncs the file and its directory.
 */
export class LocalStorage implements Storage {
  readonly root: string;
  /** Directories known to exist: mkdir on every write showed up as a top cost per batch. */
  private readonly dirs = new Set<string>();
  /** Directories under the root this store made, the only ones `discard` may remove again. */
  private readonly created = new Set<string>();

  constructor(root: string) {
    this.root = nodePath.resolve(root);
  }

  localPath(path: string): string {
    return this.abs(path);
  }

  private abs(path: string): string {
    return nodePath.join(this.root, ...path.split('/'));
  }

  read(path: string): Promise<Uint8Array> {
    // The callback API costs a fraction of fs/promises' FileHandle machinery per call, which
    // matters when OPTIMIZE reads ten thousand small files.
    return new Promise((resolve, reject) => {
      readFileCb(this.abs(path), (e, data) => (e ? reject(ioError(e, `cannot read ${this.abs(path)}`)) : resolve(data)));
    });
  }

  async readText(path: string): Promise<string> {
    return Buffer.from(await this.read(path)).toString('utf8');
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    try {
      const s = await fs.stat(this.abs(path));
      return { path, size: s.size, modificationTime: Math.floor(s.mtimeMs) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw ioError(e, `cannot stat ${this.abs(path)}`);
    }
  }

  /** Makes a file's directory (and its parents) unless known to exist; remembers what it made. */
  private async ensureDir(dir: string): Promise<void> {
    if (this.dirs.has(dir)) return;
    let first: string | undefined;
    try {
      first = await fs.mkdir(dir, { recursive: true });
    } catch (e) {
      throw ioError(e, `cannot create directory ${dir}`);
    }
    // mkdir -p returns the first directory it made: that one and those below it are ours.
    if (first !== undefined) {
      for (let d = dir; this.within(d); d = nodePath.dirname(d)) {
        this.created.add(d);
        if (d === first) break;
      }
    }
    this.dirs.add(dir);
  }

  /** The root or a directory below it. */
  private within(dir: string): boolean {
    return dir === this.root || dir.startsWith(this.root + nodePath.sep);
  }

  /**
   * Creates a hidden temp file next to `target` (an absolute path), exclusively, making its
   * directory first; returns the temp file's path and its open handle.
   */
  private async openStaging(target: string): Promise<{ tmp: string; fh: FileHandle }> {
    const dir = nodePath.dirname(target);
    await this.ensureDir(dir);
    const tmp = nodePath.join(dir, stagingName(nodePath.basename(target)));
    try {
      return { tmp, fh: await fs.open(tmp, 'wx') };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(e, `cannot write ${target}`);
      // The directory went after we saw it (another writer's failed write removed it empty).
      this.dirs.delete(dir);
      await this.ensureDir(dir);
      try {
        return { tmp, fh: await fs.open(tmp, 'wx') };
      } catch (e2) {
        throw ioError(e2, `cannot write ${target}`);
      }
    }
  }

  /** Writes a hidden temp file next to the target and fsyncs it; returns its absolute path. */
  private async stage(path: string, data: Uint8Array | string): Promise<string> {
    const target = this.abs(path);
    const { tmp, fh } = await this.openStaging(target);
    try {
      await fh.writeFile(data);
      await fh.sync();
      failpoint('during-staging');
    } catch (e) {
      // A half-written temp file is nobody's: remove it rather than leave it for VACUUM.
      await fh.close().catch(() => undefined);
      await fs.rm(tmp, { force: true });
      throw ioError(e, `cannot write ${target}`);
    }
    await fh.close();
    return tmp;
  }

  async write(path: string, data: Uint8Array | string): Promise<void> {
    const tmp = await this.stage(path, data);
    try {
      await fs.rename(tmp, this.abs(path));
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw ioError(e, `cannot write ${this.abs(path)}`);
    }
    await syncDir(nodePath.dirname(this.abs(path)));
  }

  /** As `write`, from a stream: the temp file is filled chunk by chunk, so the object is never whole in memory. */
  async writeStream(path: string, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const target = this.abs(path);
    const { tmp, fh } = await this.openStaging(target);
    try {
      for await (const chunk of chunks) {
        // The caller's stream failing is its own error; only the file system's are wrapped.
        // writeFile, not write: it writes from the file's position in 512 KiB slices. One write(2)
        // of a whole row group (35 MB, the wide bench file's) took 155-265 ms on the bench VM, the
        // same bytes in 1 MiB writes 10 ms (strace -T: the time is inside that one call).
        await fh.writeFile(chunk).catch((e: unknown) => Promise.reject(ioError(e, `cannot write ${target}`)));
      }
      await fh.sync();
      await fh.close();
    } catch (e) {
      await fh.close().catch(() => undefined);
      await fs.rm(tmp, { force: true });
      // An abandoned stream leaves no object to discard later: its directories go now.
      await this.pruneCreated([nodePath.dirname(target)]);
      throw e;
    }
    try {
      await fs.rename(tmp, target);
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw ioError(e, `cannot write ${target}`);
    }
    await syncDir(nodePath.dirname(target));
  }

  async putIfAbsent(path: string, data: Uint8Array | string): Promise<boolean> {
    const tmp = await this.stage(path, data);
    try {
      // link(2) fails with EEXIST instead of replacing (rename would silently overwrite), and
      // the target appears with its full contents at once (open O_EXCL + write would not).
      await fs.link(tmp, this.abs(path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw ioError(e, `cannot create ${this.abs(path)}`);
    } finally {
      await fs.rm(tmp, { force: true });
    }
    await syncDir(nodePath.dirname(this.abs(path)));
    return true;
  }

  async list(dir: string): Promise<string[]> {
    const base = this.abs(dir);
    try {
      const entries = await fs.readdir(base, { withFileTypes: true });
      return entries.filter((e) => e.isFile()).map((e) => e.name).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw ioError(e, `cannot list ${base}`);
    }
  }

  async listRecursive(dir: string): Promise<FileInfo[]> {
    return this.walk(dir);
  }

  /**
   * Files below `dir` in path order, those at or before `startAfter` left out before they are
   * statted: a snapshot loaded from its last checkpoint lists the log from there, and the stat
   * of every older commit (30 days of them in a stream's log) was most of a load's cost.
   */
  private async walk(dir: string, startAfter?: string): Promise<FileInfo[]> {
    const out: FileInfo[] = [];
    const walk = async (rel: string) => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await fs.readdir(this.abs(rel), { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw ioError(e, `cannot list ${this.abs(rel)}`);
      }
      for (const ent of entries) {
        const p = rel === '' ? ent.name : `${rel}/${ent.name}`;
        if (ent.isDirectory()) await walk(p);
        else if (ent.isFile() && (startAfter === undefined || p > startAfter)) {
          const s = await fs.stat(this.abs(p)).catch(() => undefined);
          if (s) out.push({ path: p, size: s.size, modificationTime: Math.floor(s.mtimeMs) });
        }
      }
    };
    await walk(dir);
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** One page: a directory listing is already in memory locally; `startAfter` as for object stores. */
  async *listPages(dir: string, startAfter?: string): AsyncGenerator<FileInfo[]> {
    yield await this.walk(dir, startAfter);
  }

  async delete(path: string): Promise<void> {
    await fs.rm(this.abs(path), { force: true });
  }

  isStagingName(name: string): boolean {
    return STAGING_NAME.test(name);
  }

  async discard(paths: readonly string[]): Promise<void> {
    for (const p of paths) {
      // One path that cannot go (ENOTDIR: a file where its directory should be) must not keep the others.
      await this.delete(p).catch(() => undefined);
    }
    await this.pruneCreated(paths.map((p) => nodePath.dirname(this.abs(p))));
  }

  /** Removes the directories (absolute) this store made, and their parents it made, that are empty. */
  private async pruneCreated(leaves: readonly string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const leaf of leaves) for (let d = leaf; this.created.has(d); d = nodePath.dirname(d)) dirs.add(d);
    // Deepest first, so a partition directory goes before its parent. rmdir(2) refuses a
    // directory that is not empty: one another writer has put files in meanwhile stays.
    for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
      try {
        await fs.rmdir(d);
      } catch {
        continue;
      }
      this.created.delete(d);
      this.dirs.delete(d);
    }
  }
}

/** A staged write's temp file: hidden (no Delta log pattern matches it, Spark's VACUUM skips it), unique. */
function stagingName(target: string): string {
  return `.${target}.${randomUUID()}.tmp`;
}

const STAGING_NAME = /^\..+\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;

async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await fs.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some file systems refuse fsync on directories; the data itself is already synced.
  }
}

function ioError(e: unknown, msg: string): TributaryError {
  const code = (e as NodeJS.ErrnoException).code;
  return new TributaryError('IO', `${msg}: ${code ?? (e as Error).message}`, { errno: code }, { cause: e });
}
