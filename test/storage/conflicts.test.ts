import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { optimize } from '../../src/delta/operations/optimize.js';
import { decodeAddPath } from '../../src/delta/partitions.js';
import { DeltaTable } from '../../src/delta/table.js';
import { parseDdl } from '../../src/schema/ddl.js';
import type { Storage } from '../../src/storage/storage.js';
import { cli, type CliResult } from '../support/cli.js';
import { startFaultyProxy, type FaultyProxy } from '../support/faulty-proxy.js';
import { REMOTE, closeAll, ensureBuckets, locationOn, secretValues, servers, storageArgs, type Location } from '../support/object-stores.js';
import { tempDir } from '../support/tmp.js';

/**
 * A writer that truly conflicts loses cleanly on every object store: the real CLI's commit is
 * held in a proxy in front of the server, another writer commits meanwhile, then the CLI's
 * conditional create goes through, finds the version taken, and the winner's actions conflict
 * with its own. One line naming the code and the winning version, exit 1, and nothing of the
 * loser left in the table. (Blind appends racing each other are not conflicts: see
 * concurrency.test.ts.)
 */
const tmp = tempDir('tributary-conflicts-');
const opened: Storage[] = [];
beforeAll(() => ensureBuckets(REMOTE));
afterAll(() => closeAll(opened));

const SCHEMA = parseDdl('id BIGINT NOT NULL, p STRING');
const rows = (from: number, n: number) => Array.from({ length: n }, (_, k) => ({ id: from + k, p: (from + k) % 2 ? 'odd' : 'even' }));

const commitOf = (version: number) => `_delta_log/${String(version).padStart(20, '0')}.json`;

/** The store's upstream without the account path (Azure's endpoint URL carries the account). */
function upstream(backend: (typeof REMOTE)[number]): string {
  const s = servers();
  return backend === 'azure' ? s.azure.endpoint.replace(/\/[^/]+$/, '') : backend === 's3' ? s.s3.endpoint : s.gcs.endpoint;
}

/** The same location, reached through the proxy. */
function throughProxy(loc: Location, proxy: FaultyProxy): Location {
  const key = { s3: 'aws_endpoint_url', gcs: 'google_base_url', azure: 'azure_storage_endpoint' }[loc.backend as (typeof REMOTE)[number]];
  const endpoint = loc.backend === 'azure' ? `${proxy.endpoint}/${servers().azure.account}` : proxy.endpoint;
  return { ...loc, options: { ...loc.options, [key]: endpoint } };
}

function decoded(url: string): string {
  try {
    return decodeURIComponent(url);
  } catch {
    return url;
  }
}

/**
 * Holds the first create of `key` under the location's prefix; resolves `arrived` when it is
 * held. `release()` lets it go to the server.
 */
function holdCreate(proxy: FaultyProxy, loc: Location, key: string): { arrived: Promise<void>; release: () => void } {
  const prefix = loc.uri.replace(/^[a-z0-9]+:\/\/[^/]+\//, '');
  let arrive!: () => void;
  let release!: () => void;
  const arrived = new Promise<void>((r) => (arrive = r));
  const released = new Promise<void>((r) => (release = r));
  proxy.faults.push({
    match: (method, url) => (method === 'PUT' || method === 'POST') && decoded(url).includes(`${prefix}/${key}`),
    times: 1,
    fault: {
      hold: () => {
        arrive();
        return released;
      },
    },
  });
  return { arrived, release };
}

/** Every data object under the table is one the latest snapshot references: the loser left nothing. */
async function expectNoStrayFiles(t: DeltaTable): Promise<void> {
  await t.refresh();
  const objects = (await t.storage.listRecursive('')).map((f) => f.path).filter((p) => !p.startsWith('_delta_log/') && !p.startsWith('.'));
  expect(objects.sort()).toEqual(t.snapshot.files.map((f) => decodeAddPath(f.path, t.storage.root)).sort());
}

function expectOneErrorLine(r: CliResult, re: RegExp): void {
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(re);
  for (const s of secretValues()) expect(r.stderr).not.toContain(s);
}

describe.each(REMOTE)('a writer that truly conflicts, on %s', (backend) => {
  let proxy: FaultyProxy;
  beforeAll(async () => {
    proxy = await startFaultyProxy(upstream(backend));
  });
  afterAll(() => proxy.close());

  it('tributary append --merge-schema loses to a concurrent append: one COMMIT_CONFLICT line naming the version, table unchanged by it', async () => {
    const loc = locationOn(backend);
    const t = await DeltaTable.forPath(loc.uri, { storageOptions: loc.options });
    opened.push(t.storage);
    await t.append(rows(0, 4), { create: { schema: SCHEMA, partitionColumns: ['p'] } });

    const held = holdCreate(proxy, loc, commitOf(1));
    const input = path.join(tmp(), 'wider.ndjson');
    writeFileSync(input, rows(100, 4).map((r) => JSON.stringify({ ...r, extra: `x${r.id}` })).join('\n') + '\n');
    const via = throughProxy(loc, proxy);
    const loser = cli(['append', via.uri, '--merge-schema', '--input', input, ...storageArgs(via.options)]);
    await held.arrived;
    // The CLI has written its data files and is creating version 1: another writer takes it.
    expect((await t.append(rows(4, 4))).version).toBe(1);
    held.release();
    const r = await loser;
    expectOneErrorLine(r, /^tributary: error \[COMMIT_CONFLICT\]: this commit changes the table's metadata but versions 1 were committed first; retry the operation$/m);

    const after = await DeltaTable.open(loc.uri, undefined, { storageOptions: loc.options });
    opened.push(after.storage);
    expect(after.version).toBe(1);
    expect(after.snapshot.schema.fields.map((f) => f.name)).toEqual(['id', 'p']);
    expect(arrowToRows(await after.read()).map((x) => Number(x.id)).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await expectNoStrayFiles(after);
  }, 120_000);

  it('tributary optimize loses to a concurrent OPTIMIZE of the same files: one COMMIT_CONFLICT line naming the version, table unchanged by it', async () => {
    const loc = locationOn(backend);
    const t = await DeltaTable.forPath(loc.uri, { storageOptions: loc.options });
    opened.push(t.storage);
    for (let k = 0; k < 4; k++) await t.append(rows(k * 4, 4), { create: { schema: SCHEMA, partitionColumns: ['p'] } });
    expect(t.version).toBe(3);

    const held = holdCreate(proxy, loc, commitOf(4));
    const via = throughProxy(loc, proxy);
    const loser = cli(['optimize', via.uri, ...storageArgs(via.options)]);
    await held.arrived;
    const winner = await optimize(await DeltaTable.open(loc.uri, undefined, { storageOptions: loc.options }), {});
    expect(winner.version).toBe(4);
    held.release();
    const r = await loser;
    expectOneErrorLine(r, /^tributary: error \[COMMIT_CONFLICT\]: OPTIMIZE gave up: version 4 removed p=(even|odd)\/part-[^ ]+\.parquet, which this commit also removes \(concurrent delete\); the table is unchanged, run it again$/m);

    const after = await DeltaTable.open(loc.uri, undefined, { storageOptions: loc.options });
    opened.push(after.storage);
    expect(after.version).toBe(4);
    expect(after.snapshot.files).toHaveLength(2);
    expect(arrowToRows(await after.read()).map((x) => Number(x.id)).sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    // The files the winner compacted away are tombstoned, not gone: those are the table's too.
    await t.refresh();
    const tombstoned = [...t.snapshot.state.tombstones.values()].map((x) => decodeAddPath(x.path, t.storage.root));
    const objects = (await t.storage.listRecursive('')).map((f) => f.path).filter((p) => !p.startsWith('_delta_log/') && !p.startsWith('.'));
    expect(objects.sort()).toEqual([...t.snapshot.files.map((f) => decodeAddPath(f.path, t.storage.root)), ...tombstoned].sort());
  }, 120_000);
});
