import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.js';

/**
 * The decoder's numbers reach the builders without a heap object each: a double, or an integer
 * beyond 2^30, passed to or returned from a call V8 does not inline is boxed, and the decoder
 * boxed five a CoinGecko line so (80 MB per million lines, a scavenge every 3.5 MB). They go
 * through a Float64Array instead (ndjson-decoder.ts's f64, byte-scalars.ts's io). Measured in a
 * fresh process on the built dist/ with V8's sampling heap profiler, counting the objects the
 * collector has already freed too, over lines decoded after the decoder is optimised.
 */
const dist = (p: string) => JSON.stringify(new URL(`../../dist/${p}`, import.meta.url).href);

const tmp = tempDir('tributary-decoder-alloc-');

describe('NDJSON decoder allocation', () => {
  it('allocates no heap object per number: under 2 MB of JavaScript heap for 200,000 lines of doubles, longs and timestamps', () => {
    const script = `
      import { Session } from 'node:inspector';
      const { NdjsonDecoder } = await import(${dist('json/ndjson-decoder.js')});
      const { parseDdl } = await import(${dist('schema/ddl.js')});
      const schema = parseDdl('coin STRING, price DOUBLE, market_cap DOUBLE, last_updated_at BIGINT, ts_ingest TIMESTAMP, amount DECIMAL(18,4)');
      const lines = (from, n) => {
        const out = [];
        for (let i = from; i < from + n; i++) {
          const us = String(100000 + (i % 900000)).padStart(6, '0');
          out.push('{"coin":"c' + (i % 40) + '","price":' + (1234.5678901234567 + i / 3).toPrecision(17) + ',"market_cap":' + (98765432101.23456 + i).toPrecision(17) + ',"last_updated_at":' + (1714521600 + i) + ',"ts_ingest":"2024-05-01T00:00:0' + (i % 10) + '.' + us + 'Z","amount":' + (1000000000 + i) + '.1234}');
        }
        return Buffer.from(out.join('\\n') + '\\n');
      };
      const warm = lines(0, 200000);
      const input = lines(200000, 200000);
      const d = new NdjsonDecoder({ schema, name: 'in.ndjson' });
      let rows = 0;
      for (const b of d.push(warm)) rows += b.numRows;
      const s = new Session();
      s.connect();
      const post = (m, p) => new Promise((res, rej) => s.post(m, p, (e, r) => (e ? rej(e) : res(r))));
      await post('HeapProfiler.enable');
      await post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
      for (const b of d.push(input)) rows += b.numRows;
      const { profile } = await post('HeapProfiler.stopSampling');
      for (const b of d.end()) rows += b.numRows;
      // Everything sampled while those lines were decoded (the builders' buffers are not on the JavaScript heap).
      let bytes = 0;
      const walk = (n) => { bytes += n.selfSize; n.children.forEach(walk); };
      walk(profile.head);
      console.log(JSON.stringify({ rows, bytes }));
    `;
    const file = path.join(tmp(), 'script.mjs');
    writeFileSync(file, script);
    // Optimised on this thread as soon as V8 decides to, not by a compiler thread that a busy machine may delay.
    const r = JSON.parse(execFileSync(process.execPath, ['--no-concurrent-recompilation', file], { encoding: 'utf8' })) as { rows: number; bytes: number };
    expect(r.rows).toBe(400_000);
    // Boxed, the five numbers a line would be 200,000 x 5 x 16 bytes = 16 MB.
    expect(r.bytes).toBeLessThan(2 * 1024 * 1024);
  });
});
