import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { DeltaTable } from '../../src/delta/table.js';
import { parseDdl } from '../../src/schema/ddl.js';
import type { Storage } from '../../src/storage/storage.js';
import { storageFor } from '../../src/storage/uri.js';
import { ALL, closeAll, ensureBuckets, locationOn } from '../support/object-stores.js';
import { runWriters, writerIds } from '../support/writers.js';

/**
 * Many writer processes on one table, on every store: the log must stay a contiguous sequence
 * of whole commits and every appended row must be in the table exactly once, however the
 * conditional creates interleave. The writers are separate processes (their own clients and
 * connections), released together from a barrier once all of them have opened the table
 * (test/support/writers.ts). The interop suite has delta-rs read tables made the same way.
 */
const WRITERS = 8;
const APPENDS = 50;
const ROWS = 20;
const opened: Storage[] = [];
beforeAll(() => ensureBuckets(ALL));
afterAll(() => closeAll(opened));

describe.each(ALL)('concurrent writer processes on %s', (backend) => {
  it(`${WRITERS} processes x ${APPENDS} appends of ${ROWS} rows, started together: versions 0..${WRITERS * APPENDS} contiguous, one commitInfo each, every row exactly once`, async () => {
    const loc = locationOn(backend);
    const creator = await DeltaTable.forPath(loc.uri, { storageOptions: loc.options });
    opened.push(creator.storage);
    await creator.append([], { create: { schema: parseDdl('id BIGINT NOT NULL, worker INT') } });

    const writers = await runWriters(loc.uri, loc.options, WRITERS, APPENDS, ROWS);
    for (const [i, w] of writers.entries()) {
      expect(w.stderr, `writer ${i} stderr`).toBe('');
      expect(w.code, `writer ${i} exit code`).toBe(0);
    }
    // The writers really did race: some commits lost to another writer and were retried.
    const retries = writers.reduce((n, w) => n + w.retries, 0);
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
    expect(ids).toEqual(writerIds(WRITERS, APPENDS, ROWS));
    console.log(`${backend}: ${WRITERS} writers x ${APPENDS} appends, ${retries} lost races retried`);
  }, 900_000);
});
