import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Who a process is, precisely enough to tell it from a later process that reuses its pid: a pid
 * alone is not an identity (a restarted container's job is pid 1 again, and Linux recycles pids),
 * but pid + start time is, within one boot. Read from /proc on Linux; where /proc is absent the
 * optional fields are left out and callers fall back to liveness of the pid alone.
 */
export interface ProcessIdentity {
  pid: number;
  host: string;
  /** /proc/sys/kernel/random/boot_id: start times count from this boot. */
  bootId?: string;
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat), as text. */
  startTime?: string;
}

/** What the OS says now about the process an identity was recorded for. */
export type ProcessStatus =
  /** That very process is still running on this machine. */
  | 'running'
  /** It is not: the pid is free, now belongs to another process, or the machine rebooted. */
  | 'gone'
  /** Cannot be told from here: another host, or no /proc to tell a reused pid from the owner. */
  | 'unknown';

async function readProc(path: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function bootId(): Promise<string | undefined> {
  return (await readProc('/proc/sys/kernel/random/boot_id'))?.trim() || undefined;
}

/** Field 22 of /proc/<pid>/stat; undefined when the process does not exist (or no /proc). */
async function startTime(pid: number): Promise<string | undefined> {
  const stat = await readProc(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so count from the last ")".
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const value = rest[22 - 3];
  return value && /^\d+$/.test(value) ? value : undefined;
}

/** Whether any process has this pid (EPERM: it exists but belongs to another user). */
function pidInUse(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** This process's identity. */
export async function currentProcess(): Promise<ProcessIdentity> {
  const [boot, start] = await Promise.all([bootId(), startTime(process.pid)]);
  return { pid: process.pid, host: hostname(), ...(boot ? { bootId: boot } : {}), ...(start ? { startTime: start } : {}) };
}

/** Checks a recorded identity against the processes of this machine. */
export async function processStatus(recorded: ProcessIdentity): Promise<ProcessStatus> {
  if (recorded.host !== hostname()) return 'unknown';
  if (!Number.isSafeInteger(recorded.pid) || recorded.pid <= 0) return 'gone';
  const boot = await bootId();
  if (recorded.bootId && boot && recorded.bootId !== boot) return 'gone'; // rebooted since
  if (!pidInUse(recorded.pid)) return 'gone';
  const now = await startTime(recorded.pid);
  if (recorded.startTime && now) return now === recorded.startTime ? 'running' : 'gone';
  return 'unknown';
}
