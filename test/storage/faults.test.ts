import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { startFaultyProxy, type Fault, type FaultyProxy } from '../support/faulty-proxy.js';
import { BUCKET, REMOTE, SMALL_PARTS, closeAll, makeStore, remoteStore, servers } from '../support/object-stores.js';
import { pattern, unevenChunks } from '../support/bytes.js';

/**
 * Faults injected by a proxy in front of each real server: throttling and 5xx are retried by
 * the SDK's configured retry strategy; a create whose response was lost (the object was made,
 * the client saw a reset) is retried and recognized as the caller's own, not a lost race.
 * Assertions count requests; nothing depends on timing.
 */
const THROTTLE: Record<(typeof REMOTE)[number], Fault['fault']> = {
  s3: { status: 503, headers: { 'content-type': 'application/xml' }, body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>' },
  gcs: { status: 429, headers: { 'content-type': 'application/json' }, body: '{"error":{"code":429,"message":"rate limit"}}' },
  azure: { status: 503, headers: { 'x-ms-error-code': 'ServerBusy', 'content-type': 'application/xml' }, body: '<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>busy</Message></Error>' },
};

const upstream = (b: (typeof REMOTE)[number]) => (b === 'azure' ? servers().azure.endpoint.replace(/\/[^/]+$/, '') : b === 's3' ? servers().s3.endpoint : servers().gcs.endpoint);
const writesTo = (key: string) => (method: string, url: string) => (method === 'PUT' || method === 'POST') && safeDecode(url).includes(key);

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

describe.each(REMOTE)('faults on %s', (backend) => {
  let proxy: FaultyProxy;
  const opened: ObjectStore[] = [];
  beforeAll(async () => {
    proxy = await startFaultyProxy(upstream(backend));
  });
  afterAll(async () => {
    await closeAll(opened);
    await proxy.close();
  });

  const viaProxy = async (prefix: string, maxAttempts = 5) => {
    const endpoint = backend === 'azure' ? `${proxy.endpoint}/${servers().azure.account}` : proxy.endpoint;
    const s = remoteStore(backend, { prefix, endpoint, maxAttempts });
    await s.ensureBucket();
    opened.push(s);
    return s;
  };

  it('throttling / 503 answers are retried by the SDK until the write lands', async () => {
    const prefix = `faults-${randomUUID()}`;
    const s = await viaProxy(prefix);
    const fault: Fault = { match: writesTo(`${prefix}/data/x.bin`), times: 2, fault: THROTTLE[backend] };
    proxy.faults.push(fault);
    await s.write('data/x.bin', 'payload');
    expect(fault.seen).toBe(3); // two refused, the third passed
    expect(await s.readText('data/x.bin')).toBe('payload');
  });

  it('a lost response to a create is retried and recognized as our own write, not a lost race', async () => {
    const prefix = `faults-${randomUUID()}`;
    const s = await viaProxy(prefix);
    await s.checkConditionalWrites(); // the probe's own requests pass untouched
    const fault: Fault = { match: writesTo(`${prefix}/_delta_log/00000000000000000000.json`), times: 1, fault: 'drop-response' };
    proxy.faults.push(fault);
    expect(await s.putIfAbsent('_delta_log/00000000000000000000.json', 'mine')).toBe(true);
    expect(fault.seen).toBeGreaterThanOrEqual(2); // the dropped one made the object; the retry found it
    expect(await s.readText('_delta_log/00000000000000000000.json')).toBe('mine');
    // Anyone else's create of the same version still loses.
    const other = await viaProxy(prefix);
    expect(await other.putIfAbsent('_delta_log/00000000000000000000.json', 'theirs')).toBe(false);
  });

  it('errors that retries cannot fix are IO errors naming the store, bucket and object', async () => {
    const prefix = `faults-${randomUUID()}`;
    const s = await viaProxy(prefix, 2); // few attempts: the backoff before giving up is not what is tested
    proxy.faults.push({ match: writesTo(`${prefix}/data/never.bin`), times: 100, fault: { status: 500, body: 'boom' } });
    const e = (await s.write('data/never.bin', 'x').catch((x: unknown) => x)) as Error & { code: string; details: Record<string, unknown> };
    expect(e.code).toBe('IO');
    expect(e.message).toContain(`${s.root}/data/never.bin`);
    expect(e.details).toMatchObject({ bucket: BUCKET, status: 500 });
  });
});

describe('S3 multipart upload hygiene (moto)', () => {
  const uploads = async (prefix: string) => {
    const r = await fetch(`${servers().s3.endpoint}/${BUCKET}?uploads&prefix=${encodeURIComponent(prefix)}`);
    const xml = await r.text();
    return (xml.match(/<Upload>/g) ?? []).length;
  };

  it('a stream that fails midway aborts its multipart upload: no object, no parts left', async () => {
    const prefix = `mp-${randomUUID()}`;
    const s = (await makeStore('s3', { prefix, ...SMALL_PARTS.s3 })) as ObjectStore;
    // The listing of pending uploads works (so the zero below means something).
    await fetch(`${servers().s3.endpoint}/${BUCKET}/${prefix}/probe-upload?uploads`, { method: 'POST' });
    expect(await uploads(`${prefix}/probe-upload`)).toBe(1);

    const big = pattern(12 * 1024 * 1024);
    const failing = async function* () {
      yield* unevenChunks(big, [3 * 1024 * 1024]);
      throw new Error('source failed after two parts');
    };
    await expect(s.writeStream('data/part.bin', failing())).rejects.toThrow('source failed after two parts');
    expect(await s.stat('data/part.bin')).toBeUndefined();
    expect(await uploads(`${prefix}/data/`)).toBe(0);

    // And a good one of the same size completes in three parts.
    await s.writeStream('data/part.bin', unevenChunks(big, [3 * 1024 * 1024]));
    expect(Buffer.from(await s.read('data/part.bin')).equals(Buffer.from(big))).toBe(true);
    expect(await uploads(`${prefix}/data/`)).toBe(0);
    await s.close();
  });
});
