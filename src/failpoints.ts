/**
 * Crash injection for the crash-safety tests: TRIBUTARY_FAILPOINTS="name" or "name@batch"
 * (comma-separated) makes the process SIGKILL itself when it reaches that point, so tests can
 * kill a real process in exactly the phase they mean to. Unset (always, outside tests), every
 * call is a cheap no-op.
 */
const spec = process.env.TRIBUTARY_FAILPOINTS;
const points = new Map<string, number | undefined>();
if (spec) {
  for (const p of spec.split(',')) {
    const [name, at] = p.trim().split('@');
    if (name) points.set(name, at === undefined ? undefined : Number(at));
  }
}

export type FailpointName =
  | 'after-wal-rows'
  | 'after-offsets-log'
  | 'during-parquet-write'
  /** While a data file is stored in parts as it is encoded, after a part is in its staging. */
  | 'during-parquet-stream'
  /** Inside the storage layer's staging of any write, after the temp file is written. */
  | 'during-staging'
  | 'after-delta-commit'
  | 'during-delta-checkpoint';

let currentBatch: number | undefined;

export function setFailpointBatch(batchId: number): void {
  currentBatch = batchId;
}

export function failpoint(name: FailpointName): void {
  if (points.size === 0 || !points.has(name)) return;
  const at = points.get(name);
  if (at !== undefined && at !== currentBatch) return;
  process.stderr.write(`tributary: failpoint ${name}${currentBatch !== undefined ? ` at batch ${currentBatch}` : ''}: killing process\n`);
  process.kill(process.pid, 'SIGKILL');
}
