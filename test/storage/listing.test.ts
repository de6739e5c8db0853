import type * as arrow from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFor } from '../../src/delta/engine.js';
import { vacuum } from '../../src/delta/operations/vacuum.js';
import { Snapshot } from '../../src/delta/snapshot.js';
import { DeltaTable } from '../../src/delta/table.js';
import { parseDdl } from '../../src/schema/ddl.js';
import type { FileInfo, Storage } from '../../src/storage/storage.js';
import { ALL, closeAll, ensureBuckets, makeStore, type Backend } from '../support/object-stores.js';

/**
 * Listing on every store (local files, moto, fake-gcs-server, Azurite): a snapshot lists
 * `_delta_log/` from the checkpoint `_last_checkpoint` names, as Spark does (object stores skip
 * the older keys on the server), and falls back to the whole log when that checkpoint does not
 * read back or an older version is asked for; VACUUM walks the table a page at a time. Stores
 * list 5 keys per page here, so paging is exercised with small tables.
 */
const opened: Storage[] = [];
beforeAll(() => ensureBuckets(ALL));
afterAll(() => closeAll(opened));

const SCHEMA = parseDdl('id BIGINT');
const pad = (v: number) => String(v).padStart(20, '0');

interface Calls {
  list: string[];
  listRecursive: string[];
  /** Each listPages call: its directory, startAfter, and every path it yielded. */
  pages: { dir: string; startAfter?: string; paths: string[]; pageCount: number }[];
}

/** The store, with every listing call it answers recorded. */
function recording(store: Storage): { storage: Storage; calls: Calls } {
  const calls: Calls = { list: [], listRecursive: [], pages: [] };
  const storage = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'list') return (dir: string) => (calls.list.push(dir), target.list(dir));
      if (prop === 'listRecursive') return (dir: string) => (calls.listRecursive.push(dir), target.listRecursive(dir));
      if (prop === 'listPages' && target.listPages) {
        return async function* (dir: string, startAfter?: string): AsyncGenerator<FileInfo[]> {
          const call = { dir, startAfter, paths: [] as string[], pageCount: 0 };
          calls.pages.push(call);
          for await (const page of target.listPages!(dir, startAfter)) {
            call.pageCount++;
            call.paths.push(...page.map((f) => f.path));
            yield page;
          }
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { storage, calls };
}

const ids = (t: arrow.Table) => [...t.getChild('id')!].map(Number).sort((a, b) => a - b);

async function tableWithCommits(backend: Backend, n: number): Promise<Storage> {
  const store = await makeStore(backend, { pageSize: 5 });
  opened.push(store);
  const t = await DeltaTable.forPath(store);
  for (let v = 0; v < n; v++) await t.append([{ id: v }], v === 0 ? { create: { schema: SCHEMA } } : {});
  return store;
}

describe.each(ALL)('listing on %s', (backend) => {
  it('lists the log from the last checkpoint, falls back to the whole log when it must', async () => {
    const store = await tableWithCommits(backend, 25); // versions 0..24, checkpoints at 10 and 20
    const { storage, calls } = recording(store);
    const engine = await engineFor(storage);

    const snap = await Snapshot.load(engine);
    expect([snap.version, snap.checkpointVersion]).toEqual([24, 20]);
    expect(ids(await (await DeltaTable.open(engine)).read())).toEqual([...Array(25).keys()]);
    // Only from version 20 on: no whole listing of the log, and no older key came back.
    expect(calls.list).not.toContain('_delta_log');
    const logListings = calls.pages.filter((c) => c.dir === '_delta_log');
    expect(logListings.length).toBeGreaterThan(0);
    for (const c of logListings) {
      expect(c.startAfter).toBe(`_delta_log/${pad(20)}`);
      const versions = c.paths.map((p) => p.slice('_delta_log/'.length)).filter((n) => /^\d{20}\./.test(n)).map((n) => Number(n.slice(0, 20)));
      expect(Math.min(...versions)).toBe(20);
    }
    // Object stores page: 5 versions of commits and a checkpoint are more than one page of 5.
    if (backend !== 'local') expect(logListings[0].pageCount).toBeGreaterThan(1);

    // Time travel before the hinted checkpoint lists the whole log.
    calls.list.length = 0;
    calls.pages.length = 0;
    const old = await Snapshot.load(engine, 15);
    expect([old.version, old.checkpointVersion]).toEqual([15, 10]);
    expect(calls.list).toContain('_delta_log');

    // The hinted checkpoint damaged: the whole log is listed and the older checkpoint used.
    await store.write(`_delta_log/${pad(20)}.checkpoint.parquet`, 'not parquet');
    calls.list.length = 0;
    const fallback = await Snapshot.load(engine);
    expect([fallback.version, fallback.checkpointVersion]).toEqual([24, 10]);
    expect(calls.list).toContain('_delta_log');
    expect(ids(await (await DeltaTable.open(engine)).read())).toEqual([...Array(25).keys()]);
  });

  it('VACUUM walks the table a page at a time and deletes exactly the unreferenced files', async () => {
    const store = await tableWithCommits(backend, 4);
    const orphans = ['orphan-1.parquet', 'orphan-2.parquet', 'orphan-3.parquet', 'sub/orphan-4.parquet'];
    for (const o of orphans) await store.write(o, 'x');
    const { storage, calls } = recording(store);
    const t = await DeltaTable.open(await engineFor(storage));
    const r = await vacuum(t, { retentionMs: 0, force: true, now: Date.now() + 60_000 });
    expect([...r.deleted].sort()).toEqual([...orphans].sort());
    expect(calls.listRecursive).toEqual([]);
    const walk = calls.pages.filter((c) => c.dir === '');
    expect(walk).toHaveLength(1);
    if (backend !== 'local') expect(walk[0].pageCount).toBeGreaterThan(1);
    for (const o of orphans) expect(await store.stat(o)).toBeUndefined();
    expect(ids(await t.read())).toEqual([0, 1, 2, 3]);
  });
});
