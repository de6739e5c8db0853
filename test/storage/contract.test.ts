import { afterAll, describe, expect, it } from 'vitest';
import { isTributaryError } from '../../src/errors.js';
import type { FileInfo, Storage } from '../../src/storage/storage.js';
import { pattern, unevenChunks } from '../support/bytes.js';
import { ALL, SMALL_PARTS, closeAll, makeStore, type Backend } from '../support/object-stores.js';

/**
 * The Storage contract, the same assertions on local files and on the three real servers
 * (moto, fake-gcs-server, Azurite): whatever the Delta log and the engine rely on must hold
 * identically everywhere.
 */
const opened: Storage[] = [];
afterAll(() => closeAll(opened));

async function store(backend: Backend, options: Parameters<typeof makeStore>[1] = {}): Promise<Storage> {
  const s = await makeStore(backend, options);
  opened.push(s);
  return s;
}

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
const paths = (files: FileInfo[]) => files.map((f) => f.path);

describe.each(ALL)('Storage contract on %s', (backend) => {
  it('writes, reads, stats, overwrites and deletes', async () => {
    const s = await store(backend);
    expect(await s.stat('a/b.txt')).toBeUndefined();
    await s.write('a/b.txt', 'hello');
    expect(await s.readText('a/b.txt')).toBe('hello');
    expect(text(await s.read('a/b.txt'))).toBe('hello');
    const st = await s.stat('a/b.txt');
    expect(st).toMatchObject({ path: 'a/b.txt', size: 5 });
    expect(st!.modificationTime).toBeGreaterThan(0);
    await s.write('a/b.txt', new Uint8Array([1, 2, 3]));
    expect([...(await s.read('a/b.txt'))]).toEqual([1, 2, 3]);
    await s.delete('a/b.txt');
    expect(await s.stat('a/b.txt')).toBeUndefined();
    await s.delete('a/b.txt'); // idempotent
    await s.delete('never/was.txt');
  });

  it('reading a missing object fails with IO naming the object', async () => {
    const s = await store(backend);
    const e = await s.read('_delta_log/missing.json').catch((x: unknown) => x);
    expect(isTributaryError(e, 'IO')).toBe(true);
    expect((e as Error).message).toContain('missing.json');
    expect((e as Error).message).toContain(s.root);
  });

  it('an empty object round-trips', async () => {
    const s = await store(backend);
    await s.write('empty', new Uint8Array(0));
    expect((await s.read('empty')).length).toBe(0);
    expect((await s.stat('empty'))!.size).toBe(0);
    expect(await s.list('')).toEqual(['empty']);
  });

  it('putIfAbsent creates once; a second create reports false and changes nothing', async () => {
    const s = await store(backend);
    expect(await s.putIfAbsent('_delta_log/00000000000000000000.json', 'first')).toBe(true);
    expect(await s.putIfAbsent('_delta_log/00000000000000000000.json', 'second')).toBe(false);
    // Same bytes from another call is still "exists": only this very call's write counts as its own.
    expect(await s.putIfAbsent('_delta_log/00000000000000000000.json', 'first')).toBe(false);
    expect(await s.readText('_delta_log/00000000000000000000.json')).toBe('first');
    // The probe (object stores) left nothing behind.
    expect(paths(await s.listRecursive(''))).toEqual(['_delta_log/00000000000000000000.json']);
  });

  it('list gives the names directly inside, sorted; listRecursive every file with sizes, sorted', async () => {
    const s = await store(backend);
    for (const p of ['d/b', 'd/a', 'd/sub/c', 'd/sub/deeper/e', 'other/x', 'top']) await s.write(p, p);
    expect(await s.list('d')).toEqual(['a', 'b']);
    expect(await s.list('d/')).toEqual(['a', 'b']);
    expect(await s.list('d/sub')).toEqual(['c']);
    expect(await s.list('')).toEqual(['top']);
    expect(await s.list('nothing-here')).toEqual([]);
    const all = await s.listRecursive('d');
    expect(paths(all)).toEqual(['d/a', 'd/b', 'd/sub/c', 'd/sub/deeper/e']);
    expect(all.map((f) => f.size)).toEqual([3, 3, 7, 14]);
    expect(paths(await s.listRecursive(''))).toEqual(['d/a', 'd/b', 'd/sub/c', 'd/sub/deeper/e', 'other/x', 'top']);
    expect(await s.listRecursive('nothing-here')).toEqual([]);
  });

  it('pages through listings longer than one page', async () => {
    // 3 keys a page: 11 log entries and a nested directory take several pages.
    const s = await store(backend, { pageSize: 3 });
    const names = Array.from({ length: 11 }, (_, i) => `${String(i).padStart(20, '0')}.json`);
    await Promise.all(names.map((n) => s.write(`_delta_log/${n}`, n)));
    await s.write('_delta_log/_commits/x.json', 'x');
    expect(await s.list('_delta_log')).toEqual(names);
    expect(paths(await s.listRecursive('_delta_log'))).toEqual([...names.map((n) => `_delta_log/${n}`), '_delta_log/_commits/x.json'].sort());
    expect(s.listPages).toBeDefined();
    {
      const pages: FileInfo[][] = [];
      for await (const p of s.listPages!('_delta_log')) pages.push(p);
      if (backend !== 'local') expect(pages.length).toBeGreaterThanOrEqual(4);
      expect(pages.flat().length).toBe(12);
      // From version 7 on: the older entries are skipped.
      const after: FileInfo[] = [];
      for await (const p of s.listPages!('_delta_log', `_delta_log/${names[7]}`)) after.push(...p);
      expect(paths(after).filter((p) => !p.includes('_commits'))).toEqual(names.slice(8).map((n) => `_delta_log/${n}`));
    }
  });

  it('names with spaces, =, %, + and unicode round-trip and list as written', async () => {
    const s = await store(backend);
    const names = ['p=a b/x y.parquet', 'p=100%25/f%2F.txt', 'p=ünï cødé/ß 😀.txt', 'p=a+b/k=v=w.txt'];
    for (const n of names) await s.write(n, n);
    for (const n of names) expect(await s.readText(n)).toBe(n);
    expect(paths(await s.listRecursive(''))).toEqual([...names].sort());
    expect(await s.list('p=ünï cødé')).toEqual(['ß 😀.txt']);
    expect(await s.list('p=100%25')).toEqual(['f%2F.txt']);
    expect(await s.putIfAbsent('p=a b/x y.parquet', 'again')).toBe(false);
    for (const n of names) await s.delete(n);
    expect(await s.listRecursive('')).toEqual([]);
  });

  it('writeStream: a streamed object round-trips; one whose source fails leaves nothing', async () => {
    const s = await store(backend, backend === 'local' ? {} : SMALL_PARTS[backend]);
    expect(s.writeStream).toBeDefined();
    // 7 MiB in uneven chunks: above the test threshold (1 MiB), in several parts everywhere; one
    // chunk of 3 MiB and a few bytes, which the local store writes in 512 KiB slices.
    const big = pattern(7 * 1024 * 1024 + 12345);
    await s.writeStream!('data/big.bin', unevenChunks(big, [1, 70_000, 3 * (1 << 20) + 5, 333_333, 1 << 20]));
    expect(Buffer.from(await s.read('data/big.bin')).equals(Buffer.from(big))).toBe(true);
    expect((await s.stat('data/big.bin'))!.size).toBe(big.length);
    // Below the threshold: one request.
    await s.writeStream!('data/small.bin', unevenChunks(big.subarray(0, 1000), [7]));
    expect(Buffer.from(await s.read('data/small.bin')).equals(Buffer.from(big.subarray(0, 1000)))).toBe(true);

    const boom = new Error('source broke at 6 MiB');
    const failing = async function* () {
      yield* unevenChunks(big.subarray(0, 6 * 1024 * 1024), [512 * 1024]);
      throw boom;
    };
    await expect(s.writeStream!('data/failed.bin', failing())).rejects.toBe(boom);
    expect(await s.stat('data/failed.bin')).toBeUndefined();
    expect(await s.list('data')).toEqual(['big.bin', 'small.bin']);
  });
});
