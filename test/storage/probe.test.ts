import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTributaryError } from '../../src/errors.js';
import { PROBE_DIR } from '../../src/storage/object-store.js';
import { S3Store } from '../../src/storage/s3.js';
import { storageFor } from '../../src/storage/uri.js';
import { cli } from '../support/cli.js';
import { startFakeS3, type FakeS3 } from '../support/fake-s3.js';
import { REMOTE, closeAll, makeStore } from '../support/object-stores.js';
import type { Storage } from '../../src/storage/storage.js';
import { tempDir } from '../support/tmp.js';

/**
 * A store that ignores conditional writes would let two writers both "create" version N: the
 * probe must refuse it, by name, before the first commit, and pass on the real servers.
 */
const opened: Storage[] = [];
afterAll(() => closeAll(opened));

describe.each(REMOTE)('conditional-write probe on %s', (backend) => {
  it('passes, and leaves no probe object behind', async () => {
    const s = (await makeStore(backend)) as S3Store;
    opened.push(s);
    await s.checkConditionalWrites();
    await s.checkConditionalWrites(); // once per instance: the second call is the same answer
    expect(await s.listRecursive('')).toEqual([]);
    expect(await s.listRecursive(PROBE_DIR)).toEqual([]);
  });
});

describe('a store that silently overwrites on If-None-Match (our fake S3)', () => {
  let fake: FakeS3;
  beforeAll(async () => {
    fake = await startFakeS3();
  });
  afterAll(() => fake.close());

  const open = (options: Record<string, string> = {}) =>
    storageFor(`s3://bucket/table-${randomUUID()}`, {
      aws_endpoint_url: fake.endpoint,
      aws_allow_http: 'true',
      aws_access_key_id: 'fake-id',
      aws_secret_access_key: 'fake-secret-value-0123456789',
      aws_region: 'us-east-1',
      ...options,
    });

  it('really does overwrite (so the test means something)', async () => {
    const s = await open({ AWS_S3_ALLOW_UNSAFE_RENAME: 'true' });
    opened.push(s);
    await s.write('x', 'one');
    await s.write('x', 'two');
    expect(await s.readText('x')).toBe('two');
  });

  it('is refused before the first create, with a message naming the store and the opt-out', async () => {
    const s = await open();
    opened.push(s);
    const e = await s.putIfAbsent('_delta_log/00000000000000000000.json', '{}').catch((x: unknown) => x);
    expect(isTributaryError(e, 'CONDITIONAL_WRITE_UNSUPPORTED')).toBe(true);
    const msg = (e as Error).message;
    expect(msg).toContain('S3 store s3://bucket/table-');
    expect(msg).toContain('does not honour conditional writes');
    expect(msg).toContain('replaced the existing object');
    expect(msg).toContain('AWS_S3_ALLOW_UNSAFE_RENAME=true');
    expect(msg).not.toContain('fake-secret-value');
    // Nothing was committed, and the probe cleaned up after itself.
    expect(await s.stat('_delta_log/00000000000000000000.json')).toBeUndefined();
    expect([...fake.objects.keys()].filter((k) => k.includes(PROBE_DIR))).toEqual([]);
    // The refusal sticks: no second probe, the same error.
    const before = fake.requests.length;
    const again = await s.putIfAbsent('_delta_log/00000000000000000000.json', '{}').catch((x: unknown) => x);
    expect(isTributaryError(again, 'CONDITIONAL_WRITE_UNSUPPORTED')).toBe(true);
    expect(fake.requests.length).toBe(before);
  });

  it('with AWS_S3_ALLOW_UNSAFE_RENAME=true (single writer) creates work and an existing object is still found', async () => {
    const s = await open({ AWS_S3_ALLOW_UNSAFE_RENAME: 'true' });
    opened.push(s);
    expect(await s.putIfAbsent('_delta_log/00000000000000000000.json', 'a')).toBe(true);
    expect(await s.putIfAbsent('_delta_log/00000000000000000000.json', 'b')).toBe(false);
    expect(await s.readText('_delta_log/00000000000000000000.json')).toBe('a');
    expect(fake.requests.some((r) => r.includes(PROBE_DIR))).toBe(true); // from the refused store above only
  });
});

describe('the real CLI on a store that silently overwrites (our fake S3)', () => {
  let fake: FakeS3;
  const tmp = tempDir('tributary-probe-cli-');
  beforeAll(async () => {
    fake = await startFakeS3();
  });
  afterAll(() => fake.close());

  const SECRET = 'fake-secret-value-0123456789';
  const options = () => ['aws_endpoint_url=' + fake.endpoint, 'aws_allow_http=true', 'aws_access_key_id=fake-id', `aws_secret_access_key=${SECRET}`, 'aws_region=us-east-1'].flatMap((o) => ['--storage-option', o]);
  const under = (prefix: string) => [...fake.objects.keys()].filter((k) => k.startsWith(`bucket/${prefix}/`));
  const REFUSED = /^tributary: error \[CONDITIONAL_WRITE_UNSUPPORTED\]: S3 store s3:\/\/bucket\/\S+ does not honour conditional writes: .*replaced the existing object\. .* set the storage option AWS_S3_ALLOW_UNSAFE_RENAME=true\.$/;

  it('refuses append and run with one line and exit 1, leaving no table and no checkpoint; AWS_S3_ALLOW_UNSAFE_RENAME=true makes both work', async () => {
    const id = randomUUID();
    const input = path.join(tmp(), 'rows.ndjson');
    writeFileSync(input, '{"id": 1}\n{"id": 2}\n');
    const append = (extra: string[] = []) => cli(['append', `s3://bucket/t-${id}`, '--schema', 'id BIGINT', '--input', input, ...options(), ...extra]);
    const run = (extra: string[] = []) => cli(['run', '--format', 'rate', '--option', 'rowsPerBatch=3', '--checkpoint', `s3://bucket/cp-${id}`, '--trigger', 'once', `s3://bucket/rt-${id}`, ...options(), ...extra]);

    for (const r of [await append(), await run()]) {
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(REFUSED);
      expect(r.stderr).not.toContain(SECRET);
    }
    // The append's data file went again; the stream never got to write anything.
    expect(under(`t-${id}`)).toEqual([]);
    expect(under(`cp-${id}`)).toEqual([]);
    expect(under(`rt-${id}`)).toEqual([]);

    const unsafe = ['--storage-option', 'AWS_S3_ALLOW_UNSAFE_RENAME=true'];
    const appended = await append(unsafe);
    expect(appended.stderr).toBe('');
    expect(appended.code).toBe(0);
    const read = await cli(['read', `s3://bucket/t-${id}`, ...options()]);
    expect(read.code).toBe(0);
    expect(read.stdout.trim().split('\n').map((l) => JSON.parse(l).id).sort()).toEqual([1, 2]);
    const ran = await run(unsafe);
    expect(ran.stderr).not.toMatch(/error/);
    expect(ran.code).toBe(0);
    const streamed = await cli(['read', `s3://bucket/rt-${id}`, ...options()]);
    expect(streamed.stdout.trim().split('\n').map((l) => JSON.parse(l).value).sort()).toEqual([0, 1, 2]);
    expect(under(`cp-${id}`).some((k) => k.endsWith('/commits/0'))).toBe(true);
  }, 120_000);
});
