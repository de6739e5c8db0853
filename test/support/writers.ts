import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Concurrent writer processes (test/support/append-worker.ts) on one table, released together
 * from a barrier once every one of them has opened it. Used by the concurrency tests and by the
 * interop suite's generator (whose tables delta-rs then reads).
 */
const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'append-worker.ts');

export interface WriterOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Commits this writer lost to another one and retried. */
  retries: number;
}

interface Running {
  proc: ChildProcessWithoutNullStreams;
  stdout: string;
  stderr: string;
  exit: Promise<number | null>;
}

/**
 * Starts `writers` processes appending `appends` times `rows` rows each to the existing table at
 * `uri`; worker w writes ids w * 1,000,000 + 0 .. appends * rows - 1.
 */
export async function runWriters(uri: string, storageOptions: Record<string, string>, writers: number, appends: number, rows: number): Promise<WriterOutcome[]> {
  const running = Array.from({ length: writers }, (_, w) => start(uri, storageOptions, w, appends, rows));
  await Promise.all(running.map(ready));
  for (const r of running) r.proc.stdin.end('go\n');
  const codes = await Promise.all(running.map((r) => r.exit));
  return running.map((r, i) => ({ code: codes[i], stdout: r.stdout, stderr: r.stderr, retries: retriesOf(r.stdout) }));
}

/** The ids the writers' rows carry, sorted. */
export function writerIds(writers: number, appends: number, rows: number): number[] {
  return Array.from({ length: writers }, (_, w) => Array.from({ length: appends * rows }, (_, k) => w * 1_000_000 + k)).flat();
}

function start(uri: string, storageOptions: Record<string, string>, worker: number, appends: number, rows: number): Running {
  const proc = spawn(process.execPath, ['--import', 'tsx', WORKER, uri, String(worker), String(appends), String(rows)], {
    env: { ...process.env, APPEND_WORKER_STORAGE_OPTIONS: JSON.stringify(storageOptions), APPEND_WORKER_BARRIER: '1' },
  });
  const r: Running = { proc, stdout: '', stderr: '', exit: new Promise((resolve) => proc.on('close', resolve)) };
  proc.stdout.on('data', (d) => (r.stdout += d));
  proc.stderr.on('data', (d) => (r.stderr += d));
  return r;
}

/** Resolves once the worker printed "ready" (it has opened the table); rejects if it exited first. */
function ready(r: Running): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (r.stdout.includes('ready\n')) resolve();
    };
    r.proc.stdout.on('data', check);
    check();
    void r.exit.then((code) => reject(new Error(`writer exited ${code} before it was ready: ${r.stderr}`)));
  });
}

function retriesOf(stdout: string): number {
  try {
    return (JSON.parse(stdout.trim().split('\n').pop() ?? '') as { retries?: number }).retries ?? NaN;
  } catch {
    return NaN;
  }
}
