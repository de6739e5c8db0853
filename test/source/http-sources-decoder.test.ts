import { existsSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { DeltaTable } from '../../src/delta/table.js';
import { TributaryError } from '../../src/errors.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { CoinGeckoSource } from '../../src/source/builtins/coingecko.js';
import { HttpJsonSource } from '../../src/source/builtins/http-json.js';
import { READ_ALL } from '../../src/source/source.js';
import { cli } from '../support/cli.js';
import { numberToken } from '../support/edge-cases.js';
import { INT64_MAX, INT64_MIN, exponentOf, isInteger, rationalOf, unscaledAt } from '../support/exact.js';
import { expectRefusal, type Landed, params } from '../support/input-edge-properties.js';
import { tempDir } from '../support/tmp.js';

/**
 * The HTTP sources (http-json, coingecko) decode a response's records into Arrow themselves,
 * through the NDJSON decoder (src/json/json-records.ts): numbers in a body land exactly or are
 * refused, as on every other way in, and what a source hands the engine is Arrow record
 * batches, not rows.
 */

const tmp = tempDir('tributary-http-json-decoder-');

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

/** A loopback server answering every GET with `body()` as it is now. */
async function serve(body: (path: string) => string): Promise<string> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body(req.url!));
  });
  servers.push(server);
  server.keepAliveTimeout = 100;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** One poll of an http-json reader over `url` with the columns `ddl`: what read() hands the engine. */
async function pollOnce(url: string, ddl: string, options: Record<string, string> = {}) {
  const source = new HttpJsonSource({ url, callsPerMinute: '0', maxRetries: '0', ...options });
  const reader = source.streamReader!(parseDdl(ddl));
  try {
    const start = await reader.initialOffset();
    const end = await reader.latestOffset(start, READ_ALL);
    return await reader.read(start, end);
  } finally {
    await reader.stop?.();
  }
}

/** Skip the few tokens whose exact value would need astronomically large integers to check. */
const checkable = (t: string) => {
  const e = exponentOf(t);
  return e > -2000n && e < 2000n;
};

describe('http-json: numbers in a body land exactly or are refused (through the source)', () => {
  // The number is the body's only value, served as written (the path carries it, URL-encoded).
  let base = '';
  const land = async (token: string, type: string): Promise<Landed> => {
    if (!base) base = await serve((path) => `{"data":[{"id":1,"v":${decodeURIComponent(path.slice(1))},"extra":{"x":[1,2]}}]}`);
    try {
      const read = await pollOnce(`${base}/${encodeURIComponent(token)}`, `v ${type}`, { recordsPath: '/data' });
      const batches = read as arrow.RecordBatch[];
      expect(batches.every((b) => b instanceof arrow.RecordBatch)).toBe(true);
      return { ok: true, value: arrowToRows(batches[0])[0].v };
    } catch (e) {
      if (e instanceof TributaryError && e.code === 'ROW_INVALID') return { ok: false, error: e };
      throw e;
    }
  };

  it('into BIGINT: exactly the integer written, within the long range, or refused', async () => {
    await fc.assert(
      fc.asyncProperty(numberToken, async (token) => {
        const l = await land(token, 'BIGINT');
        if (!checkable(token)) {
          if (l.ok) expect(rationalOf(token.replace(/[eE].*$/, '')).n).toBe(0n);
          return;
        }
        const r = rationalOf(token);
        const exact = isInteger(r) ? r.n / r.d : undefined;
        if (exact !== undefined && exact >= INT64_MIN && exact <= INT64_MAX) {
          expect(l.ok, `${token} should land`).toBe(true);
          expect(l.ok && l.value).toBe(exact);
        } else expectRefusal(l, token);
      }),
      params(300),
    );
  });

  it('into DECIMAL(38,18): the exact value or a refusal', async () => {
    await fc.assert(
      fc.asyncProperty(numberToken, async (token) => {
        const l = await land(token, 'DECIMAL(38,18)');
        if (!checkable(token)) {
          if (l.ok) expect(rationalOf(token.replace(/[eE].*$/, '')).n).toBe(0n);
          return;
        }
        const u = unscaledAt(rationalOf(token), 18);
        if (u !== undefined && (u < 0n ? -u : u) < 10n ** 38n) {
          expect(l.ok, `${token} into decimal(38,18) should land`).toBe(true);
          const neg = u < 0n;
          const digits = (neg ? -u : u).toString().padStart(19, '0');
          expect(l.ok && l.value).toBe(`${neg ? '-' : ''}${digits.slice(0, -18)}.${digits.slice(-18)}`);
        } else expectRefusal(l, token);
      }),
      params(300),
    );
  });
});

describe('http-json: the source hands the engine Arrow', () => {
  it('read() returns record batches of the stream schema, the values decoded from the body (fields pointers, recordsPath, absent values)', async () => {
    const body = JSON.stringify({
      result: {
        rows: [
          { id: 1, attrs: { name: 'alpha', p: 1.5 }, ts: '2024-05-01T10:00:00.123456Z', tags: ['a', 'b'], ignored: { deep: [1] } },
          { id: 2, attrs: { name: 'beta' }, ts: null },
        ],
      },
    }).replace('1.5', '12345678901234567890.123456789012345678');
    const base = await serve(() => body);
    const read = await pollOnce(`${base}/x`, 'id BIGINT, name STRING, p DECIMAL(38,18), ts TIMESTAMP, tags ARRAY<STRING>', {
      recordsPath: '/result/rows',
      fields: 'name=/attrs/name, p=/attrs/p',
    });
    expect(Array.isArray(read)).toBe(true);
    const batches = read as unknown[];
    expect(batches.length).toBe(1);
    expect(batches[0]).toBeInstanceOf(arrow.RecordBatch);
    const batch = batches[0] as arrow.RecordBatch;
    expect(batch.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(['id:Int64', 'name:Utf8', 'p:Decimal[38e+18]', 'ts:Timestamp<MICROSECOND, UTC>', 'tags:List<Utf8>']);
    expect(arrowToRows(batch)).toEqual([
      { id: 1n, name: 'alpha', p: '12345678901234567890.123456789012345678', ts: 1714557600123456n, tags: ['a', 'b'] },
      { id: 2n, name: 'beta', p: null, ts: null, tags: null },
    ]);
  });

  it('a value that would round fails the poll with the row/column/value error (not a source failure: onError does not hide it)', async () => {
    const base = await serve(() => '[{"id":1,"price":"0.5"},{"id":2,"price":0.125}]');
    const e = await pollOnce(`${base}/x`, 'id BIGINT, price DECIMAL(5,2)', { onError: 'skip-batch' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TributaryError);
    expect((e as TributaryError).code).toBe('ROW_INVALID');
    expect((e as TributaryError).message).toBe('row 1, column "price": value 0.125 has 3 digits after the point, more than the column\'s scale 2 (rounding would change it) (column type decimal(5,2))');
  });
});

describe('coingecko: the source hands the engine Arrow', () => {
  it('read() returns record batches of its schema with the response\'s doubles and times as they were', async () => {
    const body = '{"bitcoin":{"usd":67187.33864957123,"usd_market_cap":1322520926173.4504,"usd_24h_vol":null,"usd_24h_change":-0.1234567890123456,"last_updated_at":1714557600}}';
    const base = await serve(() => body);
    const source = new CoinGeckoSource({ baseUrl: base, coins: 'bitcoin', vsCurrencies: 'usd', plan: 'none', callsPerMinute: '6000', maxRetries: '0' });
    const reader = source.streamReader(parseDdl(source.schema()));
    let read: unknown;
    try {
      const start = await reader.initialOffset();
      const end = await reader.latestOffset(start, READ_ALL);
      read = await reader.read(start, end);
    } finally {
      await reader.stop?.();
    }
    expect(Array.isArray(read)).toBe(true);
    const batches = read as unknown[];
    expect(batches.length).toBe(1);
    expect(batches[0]).toBeInstanceOf(arrow.RecordBatch);
    const [row] = arrowToRows(batches[0] as arrow.RecordBatch);
    expect(row).toMatchObject({ coin: 'bitcoin', vs_currency: 'usd', price: 67187.33864957123, market_cap: 1322520926173.4504, vol_24h: null, change_24h: -0.1234567890123456, last_updated_at: 1714557600n * 1_000_000n });
    expect(typeof row.ts_ingest).toBe('bigint');
  });
});

describe('http-json: a bad body through the CLI', () => {
  it('is one line `tributary: error [ROW_INVALID]: ...`, a non-zero exit, and leaves the table and the checkpoint as they were', async () => {
    let items = [{ id: 1, name: 'one', updated_at: '2024-05-01T10:00:00Z' }] as Record<string, unknown>[];
    const base = await serve((path) => (path.endsWith('page=1') ? JSON.stringify(items) : '[]'));
    const data = tmp();
    const env = { HTTP_JSON_URL: `${base}/items`, TRIBUTARY_DATA: data };
    const job = ['run', 'jobs/http-json-example.ts', '--trigger', 'availableNow'];
    const first = await cli(job, { env });
    expect(first.stderr).not.toMatch(/error/);
    expect(first.code).toBe(0);
    const table = `${data}/http-json-items`;
    const cp = `${data}/_checkpoints/http-json-items`;
    const before = { version: (await DeltaTable.open(table)).version, offsets: readdirSync(`${cp}/offsets`).sort(), commits: readdirSync(`${cp}/commits`).sort() };
    expect(before.version).toBe(0);

    // A newer record whose id is not an integer.
    items = [...items, { id: 2.5, name: 'two', updated_at: '2024-05-01T11:00:00Z' }];
    const second = await cli(job, { env });
    expect(second.code).not.toBe(0);
    // Progress lines (query started/stopped) aside, the failure is one line.
    const lines = second.stderr.trim().split('\n').filter((l) => !/^tributary: query \S+ (started|stopped)/.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tributary: error \[ROW_INVALID\]: row 0, column "id": value 2\.5 is not an integer/);
    expect((await DeltaTable.open(table)).version).toBe(before.version);
    expect(readdirSync(`${cp}/offsets`).sort()).toEqual(before.offsets);
    expect(readdirSync(`${cp}/commits`).sort()).toEqual(before.commits);
    expect(existsSync(`${cp}/rows`) ? readdirSync(`${cp}/rows`).length : 0).toBeLessThanOrEqual(before.offsets.length);
  });
});
