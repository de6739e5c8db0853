import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { TributaryError } from '../errors.js';

interface LockInfo {
  pid: number;
  host: string;
  runId: string;
  startedAt: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One query per checkpoint: `<checkpoint>/lock` is created exclusively and names its owner. A
 * lock whose process is gone (killed, crashed) is stale and taken over; a live owner makes the
 * newcomer fail with a message naming it. Locks from another host are never taken over.
 */
export class CheckpointLock {
  private constructor(private readonly file: string) {}

  static async acquire(dir: string, runId: string): Promise<CheckpointLock> {
    const file = path.join(dir, 'lock');
    const me: LockInfo = { pid: process.pid, host: hostname(), runId, startedAt: new Date().toISOString() };
    await fs.mkdir(dir, { recursive: true });
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await fs.writeFile(file, JSON.stringify(me), { flag: 'wx' });
        return new CheckpointLock(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let owner: LockInfo | undefined;
      try {
        owner = JSON.parse(await fs.readFile(file, 'utf8')) as LockInfo;
      } catch {
        owner = undefined; // torn by a crash mid-write: nobody holds it
      }
      if (owner && (owner.host !== me.host || alive(owner.pid))) {
        throw new TributaryError(
          'CHECKPOINT_LOCKED',
          `checkpoint ${dir} is in use by another query (pid ${owner.pid} on ${owner.host}, running since ${owner.startedAt}); two queries cannot share a checkpoint`,
          { pid: owner.pid, host: owner.host },
        );
      }
      // Stale: rename it away atomically so that of two racing newcomers only one removes it.
      const stale = `${file}.stale-${process.pid}-${attempt}`;
      try {
        await fs.rename(file, stale);
        await fs.rm(stale, { force: true });
      } catch {
        // Someone else took it over first; try again.
      }
    }
    throw new TributaryError('CHECKPOINT_LOCKED', `could not take the lock of checkpoint ${dir}`);
  }

  async release(): Promise<void> {
    try {
      const owner = JSON.parse(await fs.readFile(this.file, 'utf8')) as LockInfo;
      if (owner.pid === process.pid) await fs.rm(this.file, { force: true });
    } catch {
      // Already gone.
    }
  }
}
