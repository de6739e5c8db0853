import { randomBytes, randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { redactPatterns } from '../../src/storage/object-store.js';
import { AzureStore } from '../../src/storage/azure.js';
import { GcsStore } from '../../src/storage/gcs.js';
import { LocalStorage } from '../../src/storage/local.js';
import { S3Store } from '../../src/storage/s3.js';
import type { Storage } from '../../src/storage/storage.js';
import { isLocalLocation, parseLocation, storageFor } from '../../src/storage/uri.js';
import { BUCKET, closeAll, secretValues, servers } from '../support/object-stores.js';

/**
 * Locations and options to stores, the way delta-rs users spell them; every spelling of one
 * table reaches the same objects on the real servers; and no secret ever shows in a root, a
 * message or a thrown error (its cause and details included).
 */
const opened: Storage[] = [];
afterAll(() => closeAll(opened));
const open = async (location: string, options: Record<string, string> = {}, env: Record<string, string | undefined> = {}) => {
  const s = await storageFor(location, options, env);
  opened.push(s);
  return s;
};

describe('parseLocation', () => {
  it('maps every spelling to its store, bucket/container and prefix', () => {
    expect(parseLocation('/data/table')).toEqual({ kind: 'local', path: '/data/table' });
    expect(parseLocation('relative/table')).toEqual({ kind: 'local', path: 'relative/table' });
    expect(parseLocation('file:///data/my%20table')).toEqual({ kind: 'local', path: '/data/my table' });
    expect(parseLocation('C:\\data\\table')).toMatchObject({ kind: 'local' });
    expect(parseLocation('s3://bucket/a/b')).toEqual({ kind: 's3', scheme: 's3', bucket: 'bucket', prefix: 'a/b' });
    expect(parseLocation('s3a://bucket/a/b/')).toEqual({ kind: 's3', scheme: 's3a', bucket: 'bucket', prefix: 'a/b' });
    expect(parseLocation('S3://bucket')).toEqual({ kind: 's3', scheme: 's3', bucket: 'bucket', prefix: '' });
    expect(parseLocation('gs://bucket/t%20x/y')).toEqual({ kind: 'gcs', bucket: 'bucket', prefix: 't x/y' });
    expect(parseLocation('abfss://cont@acct.dfs.core.windows.net/p/q')).toEqual({ kind: 'azure', container: 'cont', account: 'acct', prefix: 'p/q' });
    expect(parseLocation('abfs://cont@acct.blob.core.windows.net/p')).toEqual({ kind: 'azure', container: 'cont', account: 'acct', prefix: 'p' });
    expect(parseLocation('az://cont/p/q')).toEqual({ kind: 'azure', container: 'cont', prefix: 'p/q' });
    expect(parseLocation('azure://cont/p')).toEqual({ kind: 'azure', container: 'cont', prefix: 'p' });
    expect(parseLocation('adl://cont')).toEqual({ kind: 'azure', container: 'cont', prefix: '' });
    expect(isLocalLocation('/x')).toBe(true);
    expect(isLocalLocation('file:///x')).toBe(true);
    expect(isLocalLocation('s3a://b/x')).toBe(false);
    expect(isLocalLocation('az://c/x')).toBe(false);
  });

  it('refuses unknown schemes and locations that carry secrets, without quoting the secret', () => {
    for (const bad of ['http://host/x', 'hdfs://nn/x', 'abfss://cont@evil.example.com/p', 's3:///no-bucket']) {
      expect(() => parseLocation(bad)).toThrowError(TributaryError);
    }
    const cases: [string, string][] = [
      ['s3://user:PASSWORD-s3cr3t@bucket/t', 'PASSWORD-s3cr3t'],
      ['az://cont/t?sv=2024&sig=SIGNATURE-s3cr3t', 'SIGNATURE-s3cr3t'],
      ['gs://bucket/t#frag-s3cr3t', 'frag-s3cr3t'],
    ];
    for (const [loc, secret] of cases) {
      const e = catchError(() => parseLocation(loc));
      expect(e).toBeInstanceOf(TributaryError);
      expectNoSecret(e, [secret]);
    }
  });
});

describe('storageFor', () => {
  it('local paths and file:// give LocalStorage, exactly as before', async () => {
    expect(await storageFor('/tmp/some/table')).toBeInstanceOf(LocalStorage);
    expect((await storageFor('file:///tmp/some/table')).root).toBe('/tmp/some/table');
  });

  it('s3:// and s3a:// reach the same objects (options by delta-rs name, upper or lower case)', async () => {
    const s = servers().s3;
    const prefix = `uri-${randomUUID()}`;
    const opts = { AWS_ENDPOINT_URL: s.endpoint, AWS_ALLOW_HTTP: 'true', aws_access_key_id: s.accessKeyId, aws_secret_access_key: s.secretAccessKey, AWS_REGION: s.region };
    const a = (await open(`s3://${BUCKET}/${prefix}`, opts)) as S3Store;
    await a.ensureBucket();
    const b = await open(`s3a://${BUCKET}/${prefix}/`, opts);
    expect(a).toBeInstanceOf(S3Store);
    expect(a.root).toBe(`s3://${BUCKET}/${prefix}`);
    expect(b.root).toBe(`s3a://${BUCKET}/${prefix}`);
    await a.write('_delta_log/00000000000000000000.json', 'v0');
    expect(await b.readText('_delta_log/00000000000000000000.json')).toBe('v0');
    expect(await b.putIfAbsent('_delta_log/00000000000000000000.json', 'other')).toBe(false);
    // The same from the environment alone (AWS SDK default chain's variables).
    const c = await open(`s3a://${BUCKET}/${prefix}`, {}, { AWS_ENDPOINT_URL: s.endpoint, AWS_ALLOW_HTTP: 'true', AWS_ACCESS_KEY_ID: s.accessKeyId, AWS_SECRET_ACCESS_KEY: s.secretAccessKey, AWS_REGION: s.region });
    expect(await c.list('_delta_log')).toEqual(['00000000000000000000.json']);
  });

  it('S3 options: plain http is refused unless allowed; path-style by default with an endpoint, virtual-hosted when asked', async () => {
    const e = await storageFor('s3://b/t', { AWS_ENDPOINT_URL: 'http://127.0.0.1:1' }, {}).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((e as Error).message).toContain('AWS_ALLOW_HTTP=true');
    const config = async (o: Record<string, string>, env: Record<string, string> = {}) => (await storageFor('s3://b/t', o, env)) as unknown as { config: { forcePathStyle?: boolean; region?: string; allowUnsafeRename?: boolean } };
    expect((await config({ AWS_ENDPOINT_URL: 'https://minio.example' })).config).toMatchObject({ forcePathStyle: true, region: 'us-east-1' });
    expect((await config({ AWS_ENDPOINT_URL: 'https://minio.example', AWS_S3_ADDRESSING_STYLE: 'virtual' })).config.forcePathStyle).toBe(false);
    expect((await config({ aws_virtual_hosted_style_request: 'true' }, { AWS_ENDPOINT_URL: 'https://r2.example' })).config.forcePathStyle).toBe(false);
    expect((await config({}, { AWS_REGION: 'eu-west-1' })).config).toMatchObject({ forcePathStyle: false, region: 'eu-west-1' });
    expect((await config({ aws_s3_allow_unsafe_rename: 'true' })).config.allowUnsafeRename).toBe(true);
    expect((await config({}, { AWS_S3_ALLOW_UNSAFE_RENAME: 'TRUE' })).config.allowUnsafeRename).toBe(true);
    await expect(storageFor('s3://b/t', { aws_access_key_id: 'only-the-id' }, {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('gs:// with google_base_url or STORAGE_EMULATOR_HOST (host:port or .../storage/v1) reaches the same objects', async () => {
    const g = servers().gcs;
    const prefix = `uri-${randomUUID()}`;
    const a = (await open(`gs://${BUCKET}/${prefix}`, { google_base_url: g.endpoint })) as GcsStore;
    expect(a).toBeInstanceOf(GcsStore);
    expect(a.root).toBe(`gs://${BUCKET}/${prefix}`);
    await a.ensureBucket();
    await a.write('x', 'gcs');
    const hostPort = g.endpoint.replace('http://', '');
    expect(await (await open(`gs://${BUCKET}/${prefix}`, {}, { STORAGE_EMULATOR_HOST: hostPort })).readText('x')).toBe('gcs');
    expect(await (await open(`gs://${BUCKET}/${prefix}`, {}, { STORAGE_EMULATOR_HOST: `${g.endpoint}/storage/v1` })).readText('x')).toBe('gcs');
  });

  it('az:// and abfss:// reach the same objects; key, SAS-less connection string and use_emulator spellings', async () => {
    const z = servers().azure;
    const prefix = `uri-${randomUUID()}`;
    const keyOpts = { azure_storage_account_name: z.account, azure_storage_account_key: z.accountKey, azure_storage_endpoint: z.endpoint, allow_http: 'true' };
    const a = (await open(`az://${BUCKET}/${prefix}`, keyOpts)) as AzureStore;
    expect(a).toBeInstanceOf(AzureStore);
    await a.ensureBucket();
    await a.write('_delta_log/00000000000000000000.json', 'az');
    const b = await open(`abfss://${BUCKET}@${z.account}.dfs.core.windows.net/${prefix}`, { azure_storage_account_key: z.accountKey, azure_storage_endpoint: z.endpoint, allow_http: 'true' });
    expect(b.root).toBe(a.root);
    expect(a.root).toBe(`abfss://${BUCKET}@${z.account}.dfs.core.windows.net/${prefix}`);
    expect(await b.readText('_delta_log/00000000000000000000.json')).toBe('az');
    expect(await b.putIfAbsent('_delta_log/00000000000000000000.json', 'again')).toBe(false);
    // A connection string from the environment names account, key and endpoint at once.
    const c = await open(`az://${BUCKET}/${prefix}`, {}, { AZURE_STORAGE_CONNECTION_STRING: z.connectionString });
    expect(await c.list('_delta_log')).toEqual(['00000000000000000000.json']);
    // use_emulator: Azurite's address from AZURITE_BLOB_STORAGE_URL, plain http allowed.
    const d = await open(`az://${BUCKET}/${prefix}`, { use_emulator: 'true', account_name: z.account, account_key: z.accountKey }, { AZURITE_BLOB_STORAGE_URL: z.endpoint.replace(/\/[^/]+$/, '') });
    expect(await d.readText('_delta_log/00000000000000000000.json')).toBe('az');
    // Environment account name and key, the ecosystem's variable names.
    const e = await open(`az://${BUCKET}/${prefix}`, { azure_storage_endpoint: z.endpoint, allow_http: 'true' }, { AZURE_STORAGE_ACCOUNT_NAME: z.account, AZURE_STORAGE_ACCOUNT_KEY: z.accountKey });
    expect(await e.readText('_delta_log/00000000000000000000.json')).toBe('az');
  });

  it('Azure: no account is an error naming the options; a plain-http endpoint needs allow_http', async () => {
    await expect(storageFor('az://cont/p', {}, {})).rejects.toThrow(/azure_storage_account_name/);
    await expect(storageFor('az://cont/p', { account_name: 'a', azure_storage_endpoint: 'http://127.0.0.1:1/a' }, {})).rejects.toThrow(/allow_http=true/);
  });
});

describe('no secret in roots, messages or thrown errors', () => {
  it('the servers\u2019 own secrets appear in no store root', async () => {
    const z = servers().azure;
    const s = servers().s3;
    const stores = [
      await open(`s3://${BUCKET}/x`, { AWS_ENDPOINT_URL: s.endpoint, AWS_ALLOW_HTTP: 'true', AWS_ACCESS_KEY_ID: s.accessKeyId, AWS_SECRET_ACCESS_KEY: s.secretAccessKey }),
      await open(`az://${BUCKET}/x`, { azure_storage_connection_string: z.connectionString }),
      await open(`az://${BUCKET}/x`, { account_name: z.account, account_key: z.accountKey, endpoint: z.endpoint, allow_http: 'true' }),
    ];
    for (const st of stores) expectNoSecret({ root: st.root, text: String(st), json: JSON.stringify(st), inspected: inspect(st, { depth: 20, showHidden: false }) }, [...secretValues(), s.accessKeyId].filter((v) => v !== z.account));
  });

  it('signature-like fragments are redacted from any text an SDK produces', () => {
    const t = redactPatterns(
      'GET https://a.blob.core.windows.net/c/x?sv=2024&sig=SIGVALUE&se=2099 failed; AccountKey=KEYVALUE;Authorization: AWS4-HMAC-SHA256 Credential=AK/x, Signature=SIGV4VALUE\nX-Amz-Signature=QSIG',
    );
    for (const v of ['SIGVALUE', 'KEYVALUE', 'SIGV4VALUE', 'QSIG']) expect(t).not.toContain(v);
    expect(t).toContain('https://a.blob.core.windows.net/c/x');
  });

  it('Azure: a wrong account key, SAS token or connection string fails without quoting it', async () => {
    const z = servers().azure;
    const wrongKey = randomBytes(64).toString('base64');
    const sigValue = `FAKESIG${randomBytes(16).toString('hex')}`;
    const sas = `sv=2024-11-04&ss=b&srt=sco&sp=rwdlac&se=2099-01-01T00:00:00Z&sig=${sigValue}`;
    const cs = z.connectionString.replace(z.accountKey, wrongKey);
    const variants: Record<string, string>[] = [
      { account_name: z.account, account_key: wrongKey, endpoint: z.endpoint, allow_http: 'true' },
      { account_name: z.account, sas_token: sas, endpoint: z.endpoint, allow_http: 'true' },
      { azure_storage_connection_string: cs },
    ];
    for (const v of variants) {
      const st = await open(`az://${BUCKET}/secret-${randomUUID()}`, v);
      for (const op of [() => st.readText('x'), () => st.write('x', 'y'), () => st.putIfAbsent('_delta_log/0.json', '{}'), () => st.list('')]) {
        const e = await op().then(() => undefined, (x: unknown) => x);
        expect(e).toBeInstanceOf(TributaryError);
        expect((e as TributaryError).details).toMatchObject({ status: 403 });
        expectNoSecret(e, [wrongKey, sas, sigValue, cs, z.accountKey]);
      }
    }
  });

  it('S3: errors from the server name bucket and key, never the keys', async () => {
    const s = servers().s3;
    const secret = `S3SECRET${randomBytes(16).toString('hex')}`;
    const token = `TOKEN${randomBytes(16).toString('hex')}`;
    const st = await open(`s3://no-such-bucket-${randomUUID().slice(0, 8)}/t`, { AWS_ENDPOINT_URL: s.endpoint, AWS_ALLOW_HTTP: 'true', aws_access_key_id: 'AKIDTEST', aws_secret_access_key: secret, aws_session_token: token });
    const e = await st.write('x', 'y').then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(TributaryError);
    expect((e as Error).message).toMatch(/NoSuchBucket/);
    expect((e as Error).message).toContain('/t/x');
    expectNoSecret(e, [secret, token, s.secretAccessKey]);
  });

  it('GCS: a service-account key given as JSON never appears in errors', async () => {
    const g = servers().gcs;
    const keyBody = randomBytes(300).toString('base64').replace(/(.{64})/g, '$1\n');
    const privateKey = `-----BEGIN PRIVATE KEY-----\n${keyBody}\n-----END PRIVATE KEY-----\n`;
    const json = JSON.stringify({ type: 'service_account', client_email: 'x@y.iam.gserviceaccount.com', private_key: privateKey, project_id: 'p' });
    const st = await open(`gs://${BUCKET}/secret`, { google_base_url: g.endpoint, google_service_account_key: json });
    const e = await st.write('x', 'y').then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(TributaryError);
    expect((e as Error).message).toContain(`gs://${BUCKET}/secret/x`);
    expectNoSecret(e, [json, privateKey, ...keyBody.split('\n').filter((l) => l.length >= 16)]);
    const bad = await storageFor(`gs://${BUCKET}/secret`, { google_service_account_key: `{not json ${keyBody}` }, {}).catch((x: unknown) => x);
    expect(bad).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expectNoSecret(bad, keyBody.split('\n').filter((l) => l.length >= 16));
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

/** Every way an error or value is shown: message, toString, util.inspect (causes included), JSON details. */
function expectNoSecret(value: unknown, secrets: string[]): void {
  const shown = [inspect(value, { depth: 20 }), String(value)];
  if (value instanceof Error) {
    shown.push(value.message, String(value.stack));
    for (let c: unknown = value.cause; c; c = (c as Error).cause) shown.push(inspect(c, { depth: 20 }), String((c as Error).message));
    shown.push(JSON.stringify((value as TributaryError).details ?? {}));
  }
  for (const secret of secrets) {
    for (const text of shown) expect(text.includes(secret), `secret leaked in: ${text.slice(0, 300)}`).toBe(false);
  }
}
