import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { DeltaTable } from '../../src/delta/table.js';
import { Tributary } from '../../src/index.js';
import type { StreamingQuery } from '../../src/engine/streaming-query.js';
import { compareCursor } from '../../src/source/builtins/http-json.js';
import { linkNext, setQueryParam } from '../../src/source/builtins/http-json-pagination.js';
import { parsePointer, resolvePointer } from '../../src/source/builtins/json-pointer.js';
import { JsonNumber } from '../../src/json/json-number.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-http-json-');

// ---------------------------------------------------------------------------------------------
// Real local HTTP servers

interface Reply {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
}
interface Served {
  base: string;
  requests: { url: string; headers: IncomingHttpHeaders }[];
}

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function serve(handler: (url: URL, headers: IncomingHttpHeaders, base: string) => Reply): Promise<Served> {
  const served: Served = { base: '', requests: [] };
  const server = createServer((req, res) => {
    served.requests.push({ url: req.url!, headers: req.headers });
    let reply: Reply;
    try {
      reply = handler(new URL(req.url!, served.base), req.headers, served.base);
    } catch (e) {
      reply = { status: 599, body: { handlerError: String(e) } };
    }
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
    res.end(text);
  });
  servers.push(server);
  server.keepAliveTimeout = 100;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  served.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return served;
}

// ---------------------------------------------------------------------------------------------
// Running the source into a Delta table

interface Run {
  q: StreamingQuery;
  warnings: string[];
  error: Error | null;
}

async function run(dir: string, schema: string | undefined, options: Record<string, string>, trigger: 'availableNow' | 'once' = 'availableNow'): Promise<Run> {
  const t = new Tributary();
  const warnings: string[] = [];
  t.onWarning = (m) => warnings.push(m);
  let reader = t.readStream.format('http-json').options({ callsPerMinute: '0', backoffBaseMs: '1', backoffCapMs: '5', ...options });
  if (schema !== undefined) reader = reader.schema(schema);
  const q = reader
    .load()
    .writeStream.format('delta')
    .option('checkpointLocation', `${dir}/cp`)
    .trigger(trigger === 'once' ? { once: true } : { availableNow: true })
    .start(`${dir}/table`);
  let error: Error | null = null;
  try {
    await q.awaitTermination(30_000);
  } catch (e) {
    error = e as Error;
  }
  return { q, warnings, error };
}

async function tableRows(dir: string, sortBy = 'id'): Promise<Record<string, unknown>[]> {
  const rows = arrowToRows(await (await DeltaTable.open(`${dir}/table`)).read());
  return rows.sort((a, b) => Number(a[sortBy]) - Number(b[sortBy]));
}

const tableVersion = async (dir: string) => (await DeltaTable.open(`${dir}/table`)).version;
const micros = (iso: string) => BigInt(Date.parse(iso)) * 1000n;
const item = (id: number) => ({ id, name: `item-${id}` });
const asServed = (ids: number[]) => ids.map((id) => ({ id: BigInt(id), name: `item-${id}` }));

// ---------------------------------------------------------------------------------------------

describe('http-json source: helpers', () => {
  it('reads RFC 6901 pointers, Link headers, query parameters and cursors', () => {
    const doc = { a: { 'b/c': [10, { 'd~e': 'x' }] }, '': 1 };
    expect(resolvePointer(doc, parsePointer('', 'p'))).toBe(doc);
    expect(resolvePointer(doc, parsePointer('/a/b~1c/0', 'p'))).toBe(10);
    expect(resolvePointer(doc, parsePointer('/a/b~1c/1/d~0e', 'p'))).toBe('x');
    expect(resolvePointer(doc, parsePointer('#/a/b~1c/1/d~0e', 'p'))).toBe('x');
    expect(resolvePointer(doc, parsePointer('/', 'p'))).toBe(1);
    expect(resolvePointer(doc, parsePointer('/a/b~1c/01', 'p'))).toBeUndefined();
    expect(resolvePointer(doc, parsePointer('/a/b~1c/-', 'p'))).toBeUndefined();
    expect(resolvePointer(doc, parsePointer('/a/constructor', 'p'))).toBeUndefined();
    expect(() => parsePointer('data/items', 'recordsPath')).toThrow(/option recordsPath="data\/items" is not a JSON pointer/);
    expect(() => parsePointer('/a~2', 'fields (x)')).toThrow(/"~" not followed by 0 or 1/);

    expect(linkNext('<https://x/a?page=2>; rel="next", <https://x/a?page=9>; rel="last"')).toBe('https://x/a?page=2');
    expect(linkNext('<https://x/a?page=1>; rel="prev", <https://x/a?page=3>; rel=next')).toBe('https://x/a?page=3');
    expect(linkNext('<https://x/a?page=9>; rel="last"')).toBeUndefined();
    expect(linkNext(undefined)).toBeUndefined();

    expect(setQueryParam('http://h/p?since=2024-01-01T00%3A00%3A00Z&page=1#f', 'page', '2')).toBe('http://h/p?since=2024-01-01T00%3A00%3A00Z&page=2#f');
    expect(setQueryParam('http://h/p', 'after', 'a b/c')).toBe('http://h/p?after=a%20b%2Fc');

    expect(compareCursor(9, 10)).toBeLessThan(0);
    expect(compareCursor('10', 9)).toBeGreaterThan(0);
    expect(compareCursor('2024-05-01T00:00:00Z', '2024-04-30T23:59:59Z')).toBeGreaterThan(0);
    expect(compareCursor('b', 'b')).toBe(0);
  });
});

describe('http-json source: pagination into Delta', () => {
  it('pagination=page adds pageParam from startPage until an empty page; {page} in the url with pageSize stops at a short page', async () => {
    const items = [1, 2, 3, 4, 5].map(item);
    const s = await serve((url) => {
      const m = /^\/p\/(\d+)\.json$/.exec(url.pathname);
      if (m) {
        const p = Number(m[1]); // zero-based pages of 2
        return { body: items.slice(p * 2, p * 2 + 2) };
      }
      const page = Number(url.searchParams.get('page'));
      const limit = Number(url.searchParams.get('limit'));
      return { body: { data: items.slice((page - 1) * limit, page * limit) } };
    });

    const dir = tmp();
    const r = await run(dir, 'id BIGINT, name STRING', { url: `${s.base}/items?limit=2`, pagination: 'page', recordsPath: '/data' });
    expect(r.error).toBeNull();
    expect(s.requests.map((x) => x.url)).toEqual(['/items?limit=2&page=1', '/items?limit=2&page=2', '/items?limit=2&page=3', '/items?limit=2&page=4']);
    expect(await tableRows(dir)).toEqual(asServed([1, 2, 3, 4, 5]));
    expect(r.q.lastProgress?.sources[0]).toMatchObject({ description: `HttpJson[${s.base}/items?limit=2]`, endOffset: { poll: 1 }, metrics: { httpCalls: '4', pages: '4', records: '5' } });

    s.requests.length = 0;
    const dir2 = tmp();
    const r2 = await run(dir2, 'id BIGINT, name STRING', { url: `${s.base}/p/{page}.json`, pagination: 'page', startPage: '0', pageSize: '2' });
    expect(r2.error).toBeNull();
    expect(s.requests.map((x) => x.url)).toEqual(['/p/0.json', '/p/1.json', '/p/2.json']);
    expect(await tableRows(dir2)).toEqual(asServed([1, 2, 3, 4, 5]));
  });

  it('pagination=next-url follows a (relative) URL in the body, or the Link header', async () => {
    const items = [1, 2, 3, 4, 5].map(item);
    const s = await serve((url, _h, base) => {
      const after = Number(url.searchParams.get('after') ?? 0);
      const chunk = items.filter((i) => i.id > after).slice(0, 2);
      const more = chunk.length === 2 && chunk[1].id < items.length;
      if (url.pathname === '/body') return { body: { items: chunk, links: { next: more ? `/body?after=${chunk[1].id}` : null } } };
      const headers: Record<string, string> = { link: `<${base}/link?after=0>; rel="first"` };
      if (more) headers.link += `, <${base}/link?after=${chunk[1].id}>; rel="next"`;
      return { body: chunk, headers };
    });

    const dir = tmp();
    const r = await run(dir, 'id BIGINT, name STRING', { url: `${s.base}/body`, pagination: 'next-url', recordsPath: '/items', nextUrlPath: '/links/next' });
    expect(r.error).toBeNull();
    expect(s.requests.map((x) => x.url)).toEqual(['/body', '/body?after=2', '/body?after=4']);
    expect(await tableRows(dir)).toEqual(asServed([1, 2, 3, 4, 5]));

    s.requests.length = 0;
    const dir2 = tmp();
    const r2 = await run(dir2, 'id BIGINT, name STRING', { url: `${s.base}/link`, pagination: 'next-url' });
    expect(r2.error).toBeNull();
    expect(s.requests.map((x) => x.url)).toEqual(['/link', '/link?after=2', '/link?after=4']);
    expect(await tableRows(dir2)).toEqual(asServed([1, 2, 3, 4, 5]));
  });

  it('pagination=cursor sends cursorParam with the cursor found at nextCursorPath until it is null', async () => {
    const pages: Record<string, { rows: unknown[]; next: string | null }> = {
      '': { rows: [item(1), item(2)], next: 'c2' },
      c2: { rows: [item(3), item(4)], next: 'c3/x' },
      'c3/x': { rows: [item(5)], next: null },
    };
    const s = await serve((url) => {
      const p = pages[url.searchParams.get('after') ?? ''];
      return { body: { data: p.rows, meta: { next_cursor: p.next } } };
    });
    const dir = tmp();
    const r = await run(dir, 'id BIGINT, name STRING', { url: `${s.base}/c?limit=2`, pagination: 'cursor', recordsPath: '/data', cursorParam: 'after', nextCursorPath: '/meta/next_cursor' });
    expect(r.error).toBeNull();
    expect(s.requests.map((x) => x.url)).toEqual(['/c?limit=2', '/c?limit=2&after=c2', '/c?limit=2&after=c3%2Fx']);
    expect(await tableRows(dir)).toEqual(asServed([1, 2, 3, 4, 5]));
  });

  it('pagination=none reads one response; maxPages bounds a poll and availableNow continues from the new cursor', async () => {
    const items = [1, 2, 3, 4, 5].map((id) => ({ ...item(id), seq: id * 10 }));
    const s = await serve((url) => {
      const since = Number(url.searchParams.get('since') || 0);
      const page = Number(url.searchParams.get('page') ?? 1);
      return { body: items.filter((i) => i.seq > since).slice((page - 1) * 2, page * 2) };
    });

    const dir0 = tmp();
    const r0 = await run(dir0, 'id BIGINT, name STRING', { url: `${s.base}/all` });
    expect(r0.error).toBeNull();
    expect(s.requests.map((x) => x.url)).toEqual(['/all']);
    expect(await tableRows(dir0)).toEqual(asServed([1, 2]));

    s.requests.length = 0;
    const dir = tmp();
    const r = await run(dir, 'id BIGINT, name STRING, seq BIGINT', { url: `${s.base}/items?since={cursor}`, pagination: 'page', maxPages: '2', cursorField: 'seq' });
    expect(r.error).toBeNull();
    expect(s.requests.map((x) => x.url)).toEqual(['/items?since=&page=1', '/items?since=&page=2', '/items?since=40&page=1', '/items?since=40&page=2']);
    expect(r.q.recentProgress.map((p) => [p.numInputRows, p.sources[0].endOffset])).toEqual([
      [4, { cursor: 40 }],
      [1, { cursor: 50 }],
    ]);
    expect(r.warnings.some((w) => /stopped after maxPages=2 pages/.test(w))).toBe(true);
    expect((await tableRows(dir)).map((x) => Number(x.id))).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('http-json source: incremental cursor', () => {
  it('emits only records newer than the committed cursor; a poll with nothing new adds no table version', async () => {
    const records = [
      { id: 1, name: 'a', updated_at: '2024-05-01T10:00:00Z' },
      { id: 2, name: 'b', updated_at: '2024-05-01T11:00:00Z' },
      { id: 3, name: 'c', updated_at: '2024-05-01T09:30:00Z' },
    ];
    // The server ignores `since` (a lazy API): the source's own filter must prevent duplicates.
    const s = await serve(() => ({ body: { records } }));
    const dir = tmp();
    const opts = { url: `${s.base}/items?since={cursor}`, recordsPath: '/records', cursorField: 'updated_at', initialCursor: '2024-01-01T00:00:00Z' };
    const schema = 'id BIGINT, name STRING, updated_at TIMESTAMP';

    const r1 = await run(dir, schema, opts);
    expect(r1.error).toBeNull();
    expect(s.requests.at(-1)!.url).toBe(`/items?since=${encodeURIComponent('2024-01-01T00:00:00Z')}`);
    expect(r1.q.lastProgress?.sources[0].endOffset).toEqual({ cursor: '2024-05-01T11:00:00Z' });
    expect(await tableRows(dir)).toEqual(records.map((x) => ({ id: BigInt(x.id), name: x.name, updated_at: micros(x.updated_at) })));
    expect(await tableVersion(dir)).toBe(0);

    // New records appear (and an old one is served again): the second run writes only the new.
    records.push({ id: 4, name: 'd', updated_at: '2024-05-02T08:00:00Z' }, { id: 5, name: 'e', updated_at: '2024-05-01T12:00:00Z' });
    const r2 = await run(dir, schema, opts);
    expect(r2.error).toBeNull();
    expect(s.requests.at(-1)!.url).toBe(`/items?since=${encodeURIComponent('2024-05-01T11:00:00Z')}`);
    expect(r2.q.recentProgress.map((p) => p.numInputRows)).toEqual([2]);
    expect(r2.q.lastProgress?.sources[0]).toMatchObject({ startOffset: { cursor: '2024-05-01T11:00:00Z' }, endOffset: { cursor: '2024-05-02T08:00:00Z' }, metrics: { recordsAlreadySeen: '3' } });
    expect((await tableRows(dir)).map((x) => Number(x.id))).toEqual([1, 2, 3, 4, 5]);
    expect(await tableVersion(dir)).toBe(1);

    // Nothing new: no batch, no table version, no offsets file.
    const r3 = await run(dir, schema, opts);
    expect(r3.error).toBeNull();
    expect(r3.q.recentProgress).toHaveLength(0);
    expect(await tableVersion(dir)).toBe(1);
    expect(readdirSync(`${dir}/cp/offsets`).sort()).toEqual(['0', '1']);
    expect((await tableRows(dir)).length).toBe(5);
  });

  it('compares numeric cursors as numbers and skips records without a cursor value', async () => {
    const records: Record<string, unknown>[] = [{ id: 9 }, { id: 10 }, { name: 'no id' }];
    const s = await serve(() => ({ body: records }));
    const dir = tmp();
    const r1 = await run(dir, 'id BIGINT, name STRING', { url: `${s.base}/n?after={cursor}`, cursorField: 'id', initialCursor: '8' });
    expect(r1.error).toBeNull();
    expect(r1.q.lastProgress?.sources[0].endOffset).toEqual({ cursor: 10 });
    expect(r1.warnings.some((w) => /1 record\(s\) without a value for cursorField id were skipped/.test(w))).toBe(true);
    records.push({ id: 11 }, { id: 100 });
    const r2 = await run(dir, 'id BIGINT, name STRING', { url: `${s.base}/n?after={cursor}`, cursorField: 'id', initialCursor: '8' });
    expect(r2.error).toBeNull();
    expect(s.requests.at(-1)!.url).toBe('/n?after=10');
    expect((await tableRows(dir)).map((x) => Number(x.id))).toEqual([9, 10, 11, 100]);
  });
});

describe('http-json source: a batch the table refuses', () => {
  it('leaves the checkpoint as it was (no offsets, no write-ahead rows), so the query moves on once the source serves good rows', async () => {
    // The table says amt is NOT NULL; the stream's schema lets a null through, the table refuses it.
    const dir = tmp();
    const t0 = await DeltaTable.forPath(`${dir}/table`);
    await t0.append([{ id: 1n, amt: 5n }], { create: { schema: { kind: 'struct', fields: [ { name: 'id', type: { kind: 'primitive', name: 'long' }, nullable: true, metadata: {} }, { name: 'amt', type: { kind: 'primitive', name: 'long' }, nullable: false, metadata: {} } ] }, partitionColumns: [] } });
    let records: Record<string, unknown>[] = [{ id: 2, amt: null }];
    const s = await serve(() => ({ body: records }));
    const opts = { url: `${s.base}/x?after={cursor}`, cursorField: 'id', initialCursor: '1' };
    const schema = 'id BIGINT, amt BIGINT';
    // The checkpoint's files (its progress entries aside; the directories the first run made may stay).
    const listing = () => (existsSync(`${dir}/cp`) ? readdirSync(`${dir}/cp`, { recursive: true }).map(String).filter((p) => !p.startsWith('progress') && statSync(`${dir}/cp/${p}`).isFile()).sort() : []);
    const r1 = await run(dir, schema, opts);
    expect(r1.error).toMatchObject({ code: 'ROW_INVALID' });
    const after1 = listing();
    expect(after1.filter((p) => /^(offsets|commits|sources)\/./.test(p))).toEqual([]);
    // Again: refused again, the checkpoint still as it was.
    const r2 = await run(dir, schema, opts);
    expect(r2.error).toMatchObject({ code: 'ROW_INVALID' });
    expect(listing()).toEqual(after1);
    expect(await tableVersion(dir)).toBe(0);
    // The source now serves the record fixed, and one more: both land, once.
    records = [{ id: 2, amt: 7 }, { id: 3, amt: 8 }];
    const r3 = await run(dir, schema, opts);
    expect(r3.error).toBeNull();
    expect((await tableRows(dir)).map((x) => [Number(x.id), Number(x.amt)])).toEqual([[1, 5], [2, 7], [3, 8]]);
    expect(readdirSync(`${dir}/cp/commits`)).toEqual(['0']);
  });
});

describe('http-json source: values land exactly', () => {
  it('keeps the digits of numbers a double would change, into decimals and longs, and compares 20-digit cursors exactly', async () => {
    // Served as raw JSON text: JSON.stringify would already have rounded these numbers.
    const body = '[{"id":18446744073709551617,"price":0.1234567890123456789,"big":9007199254740993},{"id":18446744073709551618,"price":1e-20,"big":-9223372036854775808}]';
    const s = await serve(() => ({ body }));
    const dir = tmp();
    const r = await run(dir, 'id DECIMAL(38,0), price DECIMAL(38,20), big BIGINT', { url: `${s.base}/x?after={cursor}`, cursorField: 'id' });
    expect(r.error).toBeNull();
    const rows = arrowToRows(await (await DeltaTable.open(`${dir}/table`)).read()).sort((a, b) => String(a.id).localeCompare(String(b.id)));
    expect(rows).toEqual([
      { id: '18446744073709551617', price: '0.12345678901234567890', big: 9007199254740993n },
      { id: '18446744073709551618', price: '0.00000000000000000001', big: -9223372036854775808n },
    ]);
    // The cursor keeps its 20 digits (as text): a double would make both ids equal.
    expect(r.q.lastProgress?.sources[0].endOffset).toEqual({ cursor: '18446744073709551618' });
    const again = await run(dir, 'id DECIMAL(38,0), price DECIMAL(38,20), big BIGINT', { url: `${s.base}/x?after={cursor}`, cursorField: 'id' });
    expect(again.error).toBeNull();
    expect(s.requests.at(-1)!.url).toBe('/x?after=18446744073709551618');
    expect(await tableVersion(dir)).toBe(0);
    expect(compareCursor(new JsonNumber('18446744073709551617'), '18446744073709551618')).toBe(-1);
    expect(compareCursor(new JsonNumber('1.50'), 1.5)).toBe(0);
    expect(compareCursor(new JsonNumber('-1e-30'), 0)).toBe(-1);
  });

  it('refuses a value that would round into its column, a body that is not UTF-8, and duplicate keys; skips a byte order mark', async () => {
    const bodies: Record<string, string | Buffer> = {
      round: '[{"id":1,"price":0.125}]',
      utf8: Buffer.concat([Buffer.from('[{"id":1,"name":"caf'), Buffer.from([0xe9]), Buffer.from('"}]')]),
      dup: '[{"id":1,"id":2}]',
      bom: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[{"id":7,"name":"ok"}]')]),
    };
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(bodies[req.url!.slice(1)]);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const opts = { maxRetries: '0' };
    const round = await run(tmp(), 'id BIGINT, price DECIMAL(5,2)', { url: `${base}/round`, ...opts });
    expect(round.error?.message).toMatch(/row 0, column "price": value 0.125 has 3 digits after the point, more than the column's scale 2/);
    const utf8 = await run(tmp(), 'id BIGINT, name STRING', { url: `${base}/utf8`, ...opts });
    expect(utf8.error?.message).toMatch(/answered 200 with a body that is not valid UTF-8 \(byte 0xE9 at byte 21 of 24\)/);
    const dup = await run(tmp(), 'id BIGINT', { url: `${base}/dup`, ...opts });
    expect(dup.error?.message).toMatch(/not valid JSON \(the key "id" appears twice in one object/);
    const dir = tmp();
    const bom = await run(dir, 'id BIGINT, name STRING', { url: `${base}/bom`, ...opts });
    expect(bom.error).toBeNull();
    expect(await tableRows(dir)).toEqual([{ id: 7n, name: 'ok' }]);
  });
});

describe('http-json source: headers, secrets and errors', () => {
  const SECRET = 'tok-3f9a7c21-very-secret';
  process.env.HTTP_JSON_TEST_TOKEN = SECRET;

  it('sends header.* options with ${env:...} values, and never shows the secret in errors, warnings or progress', async () => {
    let failing = false;
    const s = await serve((url, headers) => {
      if (failing) {
        // A hostile error page echoing the credential back.
        return { status: 500, body: { error: `internal error for ${headers.authorization} at ${url.pathname}` } };
      }
      if (headers.authorization !== `Bearer ${SECRET}`) return { status: 401, body: { error: 'unauthorized' } };
      return { body: [{ id: 1, name: 'secured' }] };
    });
    const opts = {
      url: `${s.base}/t/\${env:HTTP_JSON_TEST_TOKEN}/items?api_key=\${env:HTTP_JSON_TEST_TOKEN}`,
      'header.Authorization': 'Bearer ${env:HTTP_JSON_TEST_TOKEN}',
      'header.X-Client': 'tributary-test',
      maxRetries: '2',
    };
    const dir = tmp();
    const r = await run(dir, 'id BIGINT, name STRING', opts);
    expect(r.error).toBeNull();
    const req = s.requests.at(-1)!;
    expect(req.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(req.headers['x-client']).toBe('tributary-test');
    expect(req.url).toBe(`/t/${SECRET}/items?api_key=${SECRET}`);
    expect(await tableRows(dir)).toEqual([{ id: 1n, name: 'secured' }]);
    expect(JSON.stringify(r.q.recentProgress)).not.toContain(SECRET);

    failing = true;
    const before = s.requests.length;
    const r2 = await run(dir, 'id BIGINT, name STRING', opts);
    expect(s.requests.length - before).toBe(3); // 1 call + 2 retries
    expect(r2.error).not.toBeNull();
    expect(r2.error!.message).toMatch(/HTTP 500/);
    expect(r2.error!.message).toMatch(/after 3 attempts/);
    expect(r2.error!.message).toContain('***');
    expect(r2.error!.message).not.toContain(SECRET);
    expect(String(r2.error!.stack)).not.toContain(SECRET);
    expect(JSON.stringify(r2.warnings)).not.toContain(SECRET);

    // skip-batch: the same failure becomes a redacted warning.
    const r3 = await run(dir, 'id BIGINT, name STRING', { ...opts, onError: 'skip-batch', maxRetries: '0' });
    expect(r3.error).toBeNull();
    expect(r3.warnings.join('\n')).toMatch(/skip-batch: .*HTTP 500/);
    expect(r3.warnings.join('\n')).not.toContain(SECRET);
  });

  it('maps records at recordsPath with nested fields pointers; unmapped columns use the property of the same name', async () => {
    const s = await serve(() => ({
      body: {
        result: {
          page: {
            rows: [
              { id: '101', attrs: { name: 'alpha', 'a/b': 1.5, 't~x': true }, tags: ['red', 'blue'], ts: '2024-05-01T10:00:00.123Z', geo: { lat: 1.25, lon: -3 } },
              { id: 102, attrs: { name: 'beta', 'a/b': 2 }, tags: [], ts: 1714557600, note: 'hi', geo: null },
            ],
          },
        },
      },
    }));
    const dir = tmp();
    const r = await run(dir, 'id BIGINT, name STRING, ratio DOUBLE, flag BOOLEAN, first_tag STRING, created TIMESTAMP, note STRING, lat DOUBLE, geo STRUCT<lat: DOUBLE, lon: DOUBLE>', {
      url: `${s.base}/nested`,
      recordsPath: '/result/page/rows',
      fields: 'name=/attrs/name, ratio=/attrs/a~1b, flag=/attrs/t~0x, first_tag=/tags/0, created=/ts, lat=/geo/lat',
    });
    expect(r.error).toBeNull();
    expect(await tableRows(dir)).toEqual([
      { id: 101n, name: 'alpha', ratio: 1.5, flag: true, first_tag: 'red', created: micros('2024-05-01T10:00:00.123Z'), note: null, lat: 1.25, geo: { lat: 1.25, lon: -3 } },
      { id: 102n, name: 'beta', ratio: 2, flag: null, first_tag: null, created: 1714557600n * 1_000_000n, note: 'hi', lat: null, geo: null },
    ]);
  });

  it('onError=skip-batch keeps the offset: a failed poll runs no batch, and the next one loses nothing', async () => {
    let down = false;
    const records = [
      { id: 1, name: 'a', v: 1 },
      { id: 2, name: 'b', v: 2 },
    ];
    const s = await serve(() => (down ? { status: 503, body: '<html>maintenance</html>', headers: { 'content-type': 'text/html' } } : { body: { data: records } }));
    const dir = tmp();
    const opts = { url: `${s.base}/items`, recordsPath: '/data', cursorField: 'v', onError: 'skip-batch', maxRetries: '0' };
    const r1 = await run(dir, 'id BIGINT, name STRING, v BIGINT', opts);
    expect(r1.error).toBeNull();
    expect(await tableVersion(dir)).toBe(0);

    down = true;
    records.push({ id: 3, name: 'c', v: 3 });
    const r2 = await run(dir, 'id BIGINT, name STRING, v BIGINT', opts, 'once');
    expect(r2.error).toBeNull();
    expect(r2.q.recentProgress).toHaveLength(0);
    expect(r2.warnings.join('\n')).toMatch(/skip-batch: GET http:\/\/127\.0\.0\.1:\d+\/items answered HTTP 503 .*the offset stays at \{"cursor":2\}/);
    expect(await tableVersion(dir)).toBe(0);
    expect(readdirSync(`${dir}/cp/offsets`)).toEqual(['0']);

    // Without skip-batch the same failure ends the query.
    const r3 = await run(dir, 'id BIGINT, name STRING, v BIGINT', { ...opts, onError: 'fail' });
    expect(r3.error?.message).toMatch(/HTTP 503/);
    expect(readdirSync(`${dir}/cp/offsets`)).toEqual(['0']);

    down = false;
    const r4 = await run(dir, 'id BIGINT, name STRING, v BIGINT', opts);
    expect(r4.error).toBeNull();
    expect(r4.q.lastProgress?.sources[0]).toMatchObject({ startOffset: { cursor: 2 }, endOffset: { cursor: 3 }, numInputRows: 1 });
    expect((await tableRows(dir)).map((x) => Number(x.id))).toEqual([1, 2, 3]);
  });

  it('treats a response of the wrong shape as a source error (skip-batch applies)', async () => {
    const s = await serve(() => ({ body: { data: { not: 'an array' } } }));
    const dir = tmp();
    const r = await run(dir, 'id BIGINT', { url: `${s.base}/x`, recordsPath: '/data' });
    expect(r.error?.message).toMatch(/recordsPath "\/data" points to an object, not an array of records/);
    const r2 = await run(tmp(), 'id BIGINT', { url: `${s.base}/x`, recordsPath: '/data', onError: 'skip-batch' });
    expect(r2.error).toBeNull();
    expect(r2.warnings.join('\n')).toMatch(/skip-batch: .*not an array of records/);
  });

  it('explains configuration mistakes by the option they concern', async () => {
    const s = await serve(() => ({ body: [] }));
    const noSchema = await run(tmp(), undefined, { url: `${s.base}/x` });
    expect(noSchema.error?.message).toMatch(/needs its columns: give option schema/);
    // The schema option works as well as .schema().
    const withOption = await run(tmp(), undefined, { url: `${s.base}/x`, schema: 'id BIGINT' });
    expect(withOption.error).toBeNull();
    const noEnv = await run(tmp(), 'id BIGINT', { url: `${s.base}/x`, 'header.X-Key': '${env:HTTP_JSON_TEST_MISSING_VAR}' });
    expect(noEnv.error?.message).toMatch(/environment variable HTTP_JSON_TEST_MISSING_VAR .* is not set/);
    const badField = await run(tmp(), 'id BIGINT', { url: `${s.base}/x`, fields: 'nope=/a' });
    expect(badField.error?.message).toMatch(/option fields maps "nope", which is not a column/);
    const badCursor = await run(tmp(), 'id BIGINT', { url: `${s.base}/x?since={cursor}` });
    expect(badCursor.error?.message).toMatch(/has \{cursor\} but no option cursorField/);
    const badPagination = await run(tmp(), 'id BIGINT', { url: `${s.base}/x`, pagination: 'cursor' });
    expect(badPagination.error?.message).toMatch(/needs option cursorParam/);
    const noUrl = await run(tmp(), 'id BIGINT', {});
    expect(noUrl.error?.message).toMatch(/needs option url/);
  });
});

describe('jobs/http-json-example.ts', () => {
  it('polls HTTP_JSON_URL page by page into data/http-json-items with an updated_at cursor', async () => {
    const items = [
      { id: 1, name: 'one', updated_at: '2024-05-01T10:00:00Z' },
      { id: 2, name: 'two', updated_at: '2024-05-01T11:00:00Z' },
    ];
    const s = await serve((url) => ({ body: Number(url.searchParams.get('page')) === 1 ? items : [] }));
    const data = tmp();
    const env = { ...process.env };
    process.env.HTTP_JSON_URL = `${s.base}/items`;
    process.env.TRIBUTARY_DATA = data;
    try {
      const job = (await import('../../jobs/http-json-example.js')).default;
      const t = new Tributary();
      t.onWarning = () => undefined;
      t.triggerOverride = { availableNow: true };
      const q = job(t, { args: [] });
      await q.awaitTermination(30_000);
      expect(s.requests.map((r) => r.url)).toEqual(['/items?page=1', '/items?page=2']);
      expect(existsSync(`${data}/_checkpoints/http-json-items/offsets/0`)).toBe(true);
      const rows = arrowToRows(await (await DeltaTable.open(`${data}/http-json-items`)).read()).sort((a, b) => Number(a.id) - Number(b.id));
      expect(rows.map((r) => [Number(r.id), r.name])).toEqual([
        [1, 'one'],
        [2, 'two'],
      ]);
      expect(q.lastProgress?.sources[0].endOffset).toEqual({ cursor: '2024-05-01T11:00:00Z' });
    } finally {
      process.env = env;
    }
  });
});
