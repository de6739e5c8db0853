import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { DeltaTable } from '../../src/delta/table.js';
import { parseDdl } from '../../src/schema/ddl.js';
import type { Storage } from '../../src/storage/storage.js';
import { storageFor } from '../../src/storage/uri.js';
import { ALL, closeAll, ensureBuckets, locationOn, type Location } from '../support/object-stores.js';

/**
 * Many writer processes on one table, on every store: the log must stay a contiguous sequence
 * of whole commits and every appended row must be in the table exactly once, however the
 * conditional creates interleave. The writers are separate processes (their own clients and
 * connections), released together from a barrier once all of them have opened the table.
 */
const WRITERS = 8;
const APPENDS = 50;
const ROWS = 20;
const opened: Storage[] = [];
beforeAll(() => ensureBuckets(ALL));
afterAll(() => closeAll(opened));

interface Worker {
  proc: ChildProcessWithoutNullStreams;
  stdout: string;
  stderr: string;
  exit: Promise<number | null>;
}

function startWorker(loc: Location, worker: number): Worker {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.resolve('test/support/append-worker.ts'), loc.uri, String(worker), String(APPENDS), String(ROWS)], {
    env: { ...process.env, APPEND_WORKER_STORAGE_OPTIONS: JSON.stringify(loc.options), APPEND_WORKER_BARRIER: '1' },
  });
  const w: Worker = { proc, stdout: '', stderr: '', exit: new Promise((resolve) => proc.on('close', resolve)) };
  proc.stdout.on('data', (d) => (w.stdout += d));
  proc.stderr.on('data', (d) => (w.stderr += d));
  return w;
}

/** Resolves once the worker printed "ready" (it has opened the table), or rejects if it exited first. */
function ready(w: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (w.stdout.includes('ready\n')) resolve();
    };
    w.proc.stdout.on('data', check);
    check();
    void w.exit.then((code) => reject(new Error(`worker exited ${code} before it was ready: ${w.stderr}`)));
  });
}

describe.each(ALL)('concurrent writer processes on %s', (backend) => {
  it(`${WRITERS} processes x ${APPENDS} appends of ${ROWS} rows, started together: versions 0..${WRITERS * APPENDS} contiguous, one commitInfo each, every row exactly once`, async () => {
    const loc = locationOn(backend);
    const creator = await DeltaTable.forPath(loc.uri, { storageOptions: loc.options });
    opened.push(creator.storage);
    await creator.append([], { create: { schema: parseDdl('id BIGINT NOT NULL, worker INT') } });

    const workers = Array.from({ length: WRITERS }, (_, i) => startWorker(loc, i));
    await Promise.all(workers.map(ready));
    for (const w of workers) w.proc.stdin.end('go\n');
    const codes = await Promise.all(workers.map((w) => w.exit));
    for (const [i, w] of workers.entries()) {
      expect(w.stderr, `worker ${i} stderr`).toBe('');
      expect(codes[i], `worker ${i} exit code`).toBe(0);
    }
    // The writers really did race: some commits lost to another writer and were retried.
    const retries = workers.reduce((n, w) => n + (JSON.parse(w.stdout.trim().split('\n').pop()!) as { retries: number }).retries, 0);
    expect(retries).toBeGreaterThan(0);

    const last = WRITERS * APPENDS;
    const storage = await storageFor(loc.uri, loc.options);
    opened.push(storage);
    const commits = (await storage.list('_delta_log')).filter((n) => /^\d{20}\.json$/.test(n));
    expect(commits.map((n) => Number(n.slice(0, 20)))).toEqual(Array.from({ length: last + 1 }, (_, v) => v));
    for (const name of commits) {
      const lines = (await storage.readText(`_delta_log/${name}`)).split('\n').filter((l) => l !== '');
      const actions = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(actions.filter((a) => 'commitInfo' in a), `commitInfo in ${name}`).toHaveLength(1);
      if (name !== commits[0]) expect(actions.filter((a) => 'add' in a).length, `adds in ${name}`).toBeGreaterThan(0);
    }

    const table = await DeltaTable.open(loc.uri, undefined, { storageOptions: loc.options });
    opened.push(table.storage);
    expect(table.version).toBe(last);
    const ids = arrowToRows(await table.read()).map((r) => Number(r.id)).sort((a, b) => a - b);
    const want = Array.from({ length: WRITERS }, (_, w) => Array.from({ length: APPENDS * ROWS }, (_, k) => w * 1_000_000 + k)).flat();
    expect(ids).toEqual(want);
    console.log(`${backend}: ${WRITERS} writers x ${APPENDS} appends, ${retries} lost races retried`);
  }, 900_000);
});
