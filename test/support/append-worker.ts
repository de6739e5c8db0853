// A separate process appending to one table, for the concurrent-writer tests:
//   append-worker.ts <table> <worker> <appends> [rowsPerAppend=1]
// Row ids are worker * 1,000,000 + a running number, so every row of every worker is distinct.
// APPEND_WORKER_STORAGE_OPTIONS (JSON) reaches an object store; with APPEND_WORKER_BARRIER=1 the
// worker opens the table, prints "ready" and waits for a line on stdin, so that a test can start
// all of them at the same moment. Prints {"retries": n} (commits other writers won first) at the end.
import { createInterface } from 'node:readline';
import { DeltaTable } from '../../src/delta/table.js';

const [tablePath, worker, count, perAppend = '1'] = process.argv.slice(2);
const storageOptions = JSON.parse(process.env.APPEND_WORKER_STORAGE_OPTIONS ?? '{}') as Record<string, string>;
const table = await DeltaTable.open(tablePath, undefined, { storageOptions });
if (process.env.APPEND_WORKER_BARRIER === '1') {
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => lines.once('line', () => resolve()));
  lines.close();
}
const rows = Number(perAppend);
let retries = 0;
for (let i = 0; i < Number(count); i++) {
  const batch = Array.from({ length: rows }, (_, k) => ({ id: Number(worker) * 1_000_000 + i * rows + k, worker: Number(worker) }));
  retries += (await table.append(batch)).retries;
}
process.stdout.write(`${JSON.stringify({ retries })}\n`);
await table.storage.close?.();
