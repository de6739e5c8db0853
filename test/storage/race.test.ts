import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../src/storage/local.js';
import type { Storage } from '../../src/storage/storage.js';
import { ALL, SMALL_PARTS, closeAll, remoteStore, type Backend } from '../support/object-stores.js';
import { tempDir } from '../support/tmp.js';

/**
 * The property the Delta log rests on: of many writers creating the same version at once,
 * exactly one wins and the object holds the winner's bytes. Each writer has its own store
 * instance (its own client and connections), as separate processes would.
 */
const WRITERS = 16;
const ROUNDS = 3;
const tmp = tempDir('tributary-race-');
const opened: Storage[] = [];
afterAll(() => closeAll(opened));

async function writers(backend: Backend, prefix: string, big: boolean): Promise<Storage[]> {
  const out: Storage[] = [];
  const localRoot = backend === 'local' ? path.join(tmp(), prefix) : '';
  for (let i = 0; i < WRITERS; i++) {
    const s = backend === 'local' ? new LocalStorage(localRoot) : remoteStore(backend, { prefix, ...(big ? SMALL_PARTS[backend] : {}) });
    if (i === 0 && 'ensureBucket' in s) await (s as { ensureBucket(): Promise<void> }).ensureBucket();
    out.push(s);
  }
  opened.push(...out);
  return out;
}

describe.each(ALL)('racing creates on %s', (backend) => {
  it(`${WRITERS} writers, one key, ${ROUNDS} rounds: exactly one wins each round`, async () => {
    const ws = await writers(backend, `race-${randomUUID()}`, false);
    for (let round = 0; round < ROUNDS; round++) {
      const key = `_delta_log/${String(round).padStart(20, '0')}.json`;
      const results = await Promise.all(ws.map((w, i) => w.putIfAbsent(key, `{"writer":${i},"round":${round}}`)));
      const winners = results.flatMap((r, i) => (r ? [i] : []));
      expect(winners).toHaveLength(1);
      expect(await ws[0].readText(key)).toBe(`{"writer":${winners[0]},"round":${round}}`);
    }
    expect(await ws[0].list('_delta_log')).toHaveLength(ROUNDS);
  });

  if (backend !== 'local') {
    it('racing creates of an object above the multipart threshold: exactly one wins, whole', async () => {
      const ws = (await writers(backend, `race-big-${randomUUID()}`, true)).slice(0, 4);
      const size = backend === 's3' ? 6 * 1024 * 1024 : 1536 * 1024; // two parts or more on each store
      const bodies = ws.map((_, i) => new Uint8Array(size).fill(i + 1));
      const results = await Promise.all(ws.map((w, i) => w.putIfAbsent('data/big.bin', bodies[i])));
      const winners = results.flatMap((r, i) => (r ? [i] : []));
      expect(winners).toHaveLength(1);
      const got = await ws[0].read('data/big.bin');
      expect(Buffer.from(got).equals(Buffer.from(bodies[winners[0]]))).toBe(true);
      expect(await ws[1].putIfAbsent('data/big.bin', bodies[1])).toBe(false);
    });
  }
});
