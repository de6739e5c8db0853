import { execFileSync } from 'node:child_process';
import type * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { NdjsonDecoder } from '../../src/json/ndjson-decoder.js';
import { NdjsonAccelerator } from '../../src/json/ndjson-wasm.js';
import { parseDdl } from '../../src/schema/ddl.js';

/**
 * The NDJSON accelerator (native/ndjson-decode, src/json/ndjson-wasm.ts) inside NdjsonDecoder:
 * it decodes the lines it takes, the JavaScript path every other one, into the same batches the
 * JavaScript path alone builds; its module is the crate's build. The values it decodes are
 * compared with the JavaScript path's on random lines in ndjson-wasm.property.test.ts.
 */

function decode(ddl: string, text: string, opts: { accelerate: boolean; chunkRows?: number; reads?: number }) {
  const d = new NdjsonDecoder({ schema: parseDdl(ddl), name: 'in.ndjson', accelerate: opts.accelerate, chunkRows: opts.chunkRows });
  const bytes = Buffer.from(text);
  const batches: arrow.RecordBatch[] = [];
  let error: unknown;
  try {
    // The input in `reads` pieces cut anywhere, as a file's reads cut lines.
    const step = Math.ceil(bytes.length / (opts.reads ?? 1));
    for (let at = 0; at < bytes.length; at += step) batches.push(...d.push(bytes.subarray(at, at + step)));
    batches.push(...d.end());
  } catch (e) {
    error = e;
  }
  const rows = batches.flatMap((b) => b.toArray().map((r) => JSON.stringify(r.toJSON(), (_, v) => (typeof v === 'bigint' ? `${v}n` : Object.is(v, -0) ? '-0' : v))));
  return { sizes: batches.map((b) => b.numRows), rows, error: error === undefined ? undefined : String(error), accelerated: d.accelerated, lineOf: (r: number) => d.lineOf(r) };
}

const DDL = 'id BIGINT, coin STRING, price DOUBLE, ts TIMESTAMP, day DATE, amount DECIMAL(12,2), ok BOOLEAN, n INT, venue STRUCT<id: BIGINT, name: STRING>, tags ARRAY<STRING>';
const line = (i: number) =>
  JSON.stringify({ id: i, coin: `coin-${i % 7}`, price: i / 7, ts: `2024-05-01T00:00:${String(i % 60).padStart(2, '0')}.123456Z`, day: '2024-05-01', amount: i % 1000 / 4, ok: i % 2 === 0, n: i % 100, venue: { id: i % 3, name: 'v' }, tags: ['a', `t${i % 5}`] });

describe('the NDJSON accelerator', () => {
  it('decodes the lines it takes into the batches the JavaScript path builds, and leaves every other line to that path (escapes, blank lines, coercions, other shapes)', () => {
    const lines: string[] = [];
    for (let i = 0; i < 3_000; i++) {
      if (i % 97 === 5) lines.push(JSON.stringify({ id: i, coin: 'quote " and é', price: '1.5' })); // an escape, a quoted number, missing columns
      else if (i % 89 === 7) lines.push('');
      else if (i % 83 === 3) lines.push(`  {"id" : ${i} , "price": -0, "ts": 1714521600, "day": "2024-05-01", "amount": "12.50"}\r`);
      else lines.push(line(i));
    }
    const text = `${lines.join('\n')}\n`;
    for (const reads of [1, 7, 61]) {
      const js = decode(DDL, text, { accelerate: false, chunkRows: 1000, reads });
      const wasm = decode(DDL, text, { accelerate: true, chunkRows: 1000, reads });
      expect(js.error).toBeUndefined();
      expect(wasm.sizes).toEqual(js.sizes);
      expect(wasm.rows).toEqual(js.rows);
      // Most lines went through the module; the others did not.
      expect(wasm.accelerated).toBeGreaterThan(2_500);
      expect(wasm.accelerated).toBeLessThan(js.rows.length);
      expect(js.accelerated).toBe(0);
      // Line numbers past blank lines, as the JavaScript path counts them.
      for (const r of [0, 5, 6, 7, 500, 1_234, js.rows.length - 1]) expect(wasm.lineOf(r)).toBe(js.lineOf(r));
    }
  });

  it('grows its buffers with the run, from a small start: an instance costs little memory, and runs of every size past each doubling decode as the JavaScript path does', () => {
    // 30 columns, as the bench's wide file: sized for 65,536 rows up front, this took 24 MB.
    const wide = parseDdl(Array.from({ length: 10 }, (_, i) => `s${i} STRING, d${i} DECIMAL(18,4), t${i} TIMESTAMP`).join(', '));
    const fresh = NdjsonAccelerator.for(wide, 65_536)!;
    expect(fresh.memoryBytes).toBeLessThan(2 * 1024 * 1024);
    // Runs past 1,024 rows (the first size) and lists past 1,024 elements in one run.
    const ddl = `${DDL}, many ARRAY<STRUCT<k: STRING, v: BIGINT>>`;
    const lines = Array.from({ length: 9_000 }, (_, i) => {
      const o = JSON.parse(line(i)) as Record<string, unknown>;
      o.many = Array.from({ length: i % 400 === 0 ? 1_500 : i % 3 }, (_, j) => ({ k: `k${j}`, v: i * j }));
      return JSON.stringify(o);
    });
    const text = `${lines.join('\n')}\n`;
    for (const reads of [1, 13]) {
      const js = decode(ddl, text, { accelerate: false, reads });
      const wasm = decode(ddl, text, { accelerate: true, reads });
      expect(js.error).toBeUndefined();
      expect(wasm.sizes).toEqual(js.sizes);
      expect(wasm.rows).toEqual(js.rows);
      expect(wasm.accelerated).toBe(9_000);
    }
  });

  it('refuses what the JavaScript path refuses, in its words, with the rows before it', () => {
    const must = `${DDL}, must STRING NOT NULL`;
    const nested = 'id BIGINT, s STRUCT<a: INT NOT NULL>';
    const good = (ddl: string) =>
      Array.from({ length: 50 }, (_, i) => (ddl === nested ? JSON.stringify({ id: i, s: { a: i } }) : ddl === must ? `${line(i).slice(0, -1)},"must":"m"}` : line(i)));
    for (const [ddl, bad] of [
      [DDL, '{"id": 1e400}'],
      [DDL, '{"id": 1, "price": 1e309}'],
      [DDL, '{"id": 1, "amount": 10000000000}'],
      [DDL, '{"id": 1, "day": "2023-02-29"}'],
      [DDL, '{"id": 1, "ts": "2024-05-01T24:00:00Z"}'],
      [DDL, '{"id": 1, "unknown": 2}'],
      [DDL, '{"id": 1,'],
      [must, '{"id": 1}'],
      [must, '{"id": 1, "must": null}'],
      [nested, '{"id": 1, "s": {}}'],
      [nested, '{"id": 1, "s": {"a": null}}'],
    ] as const) {
      const text = `${[...good(ddl), bad, ...good(ddl)].join('\n')}\n`;
      const js = decode(ddl, text, { accelerate: false });
      const wasm = decode(ddl, text, { accelerate: true });
      expect(js.error, bad).toBeDefined();
      expect(wasm.error, bad).toBe(js.error);
      expect(wasm.rows, bad).toEqual(js.rows);
      expect(wasm.accelerated, bad).toBe(50);
    }
  });

  it('is left out where a column needs the JavaScript path, or TRIBUTARY_NDJSON_WASM=0 says so', () => {
    const text = `${Array.from({ length: 20 }, (_, i) => `{"id": ${i}, "f": 1.5}`).join('\n')}\n`;
    expect(decode('id BIGINT, f DOUBLE', text, { accelerate: true }).accelerated).toBe(20);
    for (const other of ['FLOAT', 'SMALLINT', 'TINYINT', 'BINARY', 'TIMESTAMP_NTZ', 'MAP<STRING, INT>', 'STRUCT<x: FLOAT>', 'ARRAY<BINARY>']) {
      expect(decode(`id BIGINT, f DOUBLE, x ${other}`, text, { accelerate: true }).accelerated, other).toBe(0);
    }
    const before = process.env.TRIBUTARY_NDJSON_WASM;
    process.env.TRIBUTARY_NDJSON_WASM = '0';
    try {
      expect(new NdjsonDecoder({ schema: parseDdl('id BIGINT'), name: 'x' }).push(Buffer.from('{"id": 1}\n')).length).toBe(0);
      const d = new NdjsonDecoder({ schema: parseDdl('id BIGINT'), name: 'x' });
      d.push(Buffer.from('{"id": 1}\n'));
      d.end();
      expect(d.accelerated).toBe(0);
    } finally {
      if (before === undefined) delete process.env.TRIBUTARY_NDJSON_WASM;
      else process.env.TRIBUTARY_NDJSON_WASM = before;
    }
  });

  it('its committed module is what native/ndjson-decode builds (scripts/build-wasm.mjs ndjson-decode --check; needs cargo and the wasm32-unknown-unknown target)', () => {
    const out = execFileSync(process.execPath, ['scripts/build-wasm.mjs', 'ndjson-decode', '--check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toMatch(/is the crate's build/);
  }, 300_000);
});
