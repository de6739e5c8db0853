import { existsSync, mkdirSync, promises, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { LocalStorage } from '../../src/storage/local.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-storage-');

describe('LocalStorage.discard', () => {
  it('removes the files and the directories this store made for them, and nothing else', async () => {
    const parent = tmp();
    const root = path.join(parent, 'table');
    const s = new LocalStorage(root);
    await s.write('a=1/b=2/f1', 'x');
    await s.write('a=1/b=3/f2', 'x');
    await s.write('a=9/f3', 'x');
    await s.discard(['a=1/b=2/f1', 'a=1/b=3/f2', 'a=9/f3']);
    // The table directory itself was made by this store: a failed create leaves no trace.
    expect(existsSync(root)).toBe(false);
    expect(readdirSync(parent)).toEqual([]);

    // Directories that were there before, empty or not, stay; so do other writers' files.
    mkdirSync(path.join(root, 'empty-before'), { recursive: true });
    mkdirSync(path.join(root, 'p=old'));
    writeFileSync(path.join(root, 'p=old', 'kept'), 'k');
    const t = new LocalStorage(root);
    await t.write('empty-before/f', 'x');
    await t.write('p=old/f', 'x');
    await t.write('p=new/f', 'x');
    await t.write('p=shared/f', 'x');
    writeFileSync(path.join(root, 'p=shared', 'other-writer'), 'o');
    await t.discard(['empty-before/f', 'p=old/f', 'p=new/f', 'p=shared/f', 'never-written/f']);
    expect(readdirSync(root).sort()).toEqual(['empty-before', 'p=old', 'p=shared']);
    expect(readdirSync(path.join(root, 'p=old'))).toEqual(['kept']);
    expect(readdirSync(path.join(root, 'p=shared'))).toEqual(['other-writer']);
  });

  it('a writer whose directory another writer removed makes it again', async () => {
    const root = tmp();
    const a = new LocalStorage(root);
    const b = new LocalStorage(root);
    await a.write('p=x/from-a', 'a');
    await b.write('p=x/from-b', 'b'); // b now knows p=x exists
    await b.delete('p=x/from-b');
    await a.discard(['p=x/from-a']); // a made p=x, and it is empty: gone
    expect(existsSync(path.join(root, 'p=x'))).toBe(false);
    await b.write('p=x/again', 'b');
    expect(readFileSync(path.join(root, 'p=x', 'again'), 'utf8')).toBe('b');
    // A streamed write (a data file stored as it is encoded) makes it again too.
    await b.delete('p=x/again');
    rmdirSync(path.join(root, 'p=x')); // as another writer's discard would
    await b.writeStream('p=x/streamed', (async function* () {
      yield Buffer.from('s1');
      yield Buffer.from('s2');
    })());
    expect(readFileSync(path.join(root, 'p=x', 'streamed'), 'utf8')).toBe('s1s2');
  });

  it('a streamed write whose source fails leaves no directory it made (a refused create leaves no table directory)', async () => {
    const parent = tmp();
    const root = path.join(parent, 'table');
    const s = new LocalStorage(root);
    const failing = (async function* () {
      yield Buffer.from('row group 1');
      throw new Error('bad line');
    })();
    await expect(s.writeStream('p=new/part-0.parquet', failing)).rejects.toThrow('bad line');
    expect(readdirSync(parent)).toEqual([]);
    // Directories that were there stay; so does one another file is being written into.
    await s.write('p=old/kept', 'k');
    await expect(s.writeStream('p=old/part-1.parquet', (async function* () {
      throw new Error('bad line');
    })())).rejects.toThrow('bad line');
    await expect(s.writeStream('p=fresh/part-2.parquet', (async function* () {
      await s.write('p=fresh/other', 'o');
      throw new Error('bad line');
    })())).rejects.toThrow('bad line');
    expect(readdirSync(root).sort()).toEqual(['p=fresh', 'p=old']);
    expect(readdirSync(path.join(root, 'p=old'))).toEqual(['kept']);
    expect(readdirSync(path.join(root, 'p=fresh'))).toEqual(['other']);
  });

});

describe('LocalStorage.listPages', () => {
  it('stats only the files after startAfter (a snapshot loaded from its checkpoint lists the log from there)', async () => {
    const dir = tmp();
    mkdirSync(path.join(dir, '_delta_log', '_sidecars'), { recursive: true });
    const name = (v: number) => `${String(v).padStart(20, '0')}.json`;
    for (let v = 0; v < 50; v++) writeFileSync(path.join(dir, '_delta_log', name(v)), `{"v":${v}}\n`);
    writeFileSync(path.join(dir, '_delta_log', '_sidecars', 'a.parquet'), 'x');
    const storage = new LocalStorage(dir);
    const stat = vi.spyOn(promises, 'stat');
    try {
      const pages: string[] = [];
      for await (const page of storage.listPages('_delta_log', `_delta_log/${name(40)}`)) pages.push(...page.map((f) => f.path));
      expect(pages).toEqual([...Array.from({ length: 9 }, (_, i) => `_delta_log/${name(41 + i)}`), '_delta_log/_sidecars/a.parquet']);
      expect(stat).toHaveBeenCalledTimes(10);
      stat.mockClear();
      // Without startAfter: every file, as listRecursive.
      const all: string[] = [];
      for await (const page of storage.listPages('_delta_log')) all.push(...page.map((f) => f.path));
      expect(all).toEqual((await storage.listRecursive('_delta_log')).map((f) => f.path));
      expect(all).toHaveLength(51);
    } finally {
      stat.mockRestore();
    }
  });
});
