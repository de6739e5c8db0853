import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { inject } from 'vitest';
import type { ObjectStoreEndpoints } from './object-stores-context.js';
import { AzureStore } from '../../src/storage/azure.js';
import { GcsStore } from '../../src/storage/gcs.js';
import { LocalStorage } from '../../src/storage/local.js';
import type { ObjectStore, ObjectStoreOptions } from '../../src/storage/object-store.js';
import { S3Store } from '../../src/storage/s3.js';
import type { Storage } from '../../src/storage/storage.js';
import { tempDir } from './tmp.js';


export type Backend = 'local' | 's3' | 'gcs' | 'azure';
export const REMOTE: Exclude<Backend, 'local'>[] = ['s3', 'gcs', 'azure'];
export const ALL: Backend[] = ['local', ...REMOTE];

/** Every test file shares one bucket/container per server; each store gets its own prefix. */
export const BUCKET = 'tributary-tests';

/** The running servers (started by test/support/object-stores-setup.ts). */
export function servers(): ObjectStoreEndpoints {
  const s = inject('objectStores');
  if (!s) throw new Error('object-store servers are not running: test/support/object-stores-setup.ts must be a globalSetup');
  return s;
}

const tmp = tempDir('tributary-stores-');

/** Small parts, so multipart paths run on small test objects (S3's floor is 5 MiB). */
export const SMALL_PARTS: Record<Exclude<Backend, 'local'>, ObjectStoreOptions> = {
  s3: { multipartThreshold: 1024 * 1024, partSize: 5 * 1024 * 1024 },
  gcs: { multipartThreshold: 1024 * 1024, partSize: 256 * 1024 },
  azure: { multipartThreshold: 1024 * 1024, partSize: 256 * 1024 },
};

/** A store on a fresh prefix of the backend's test bucket (a fresh directory for local). */
export async function makeStore(backend: Backend, options: ObjectStoreOptions & { prefix?: string; endpoint?: string } = {}): Promise<Storage> {
  const prefix = options.prefix ?? `t-${randomUUID()}`;
  if (backend === 'local') return new LocalStorage(path.join(tmp(), prefix));
  const store = remoteStore(backend, { ...options, prefix });
  await store.ensureBucket();
  return store;
}

export function remoteStore(backend: Exclude<Backend, 'local'>, options: ObjectStoreOptions & { prefix: string; endpoint?: string; bucket?: string }): ObjectStore {
  const s = servers();
  const bucket = options.bucket ?? BUCKET;
  switch (backend) {
    case 's3':
      return new S3Store({
        bucket,
        region: s.s3.region,
        endpoint: options.endpoint ?? s.s3.endpoint,
        forcePathStyle: true,
        allowHttp: true,
        credentials: { accessKeyId: s.s3.accessKeyId, secretAccessKey: s.s3.secretAccessKey },
        ...options,
      });
    case 'gcs':
      return new GcsStore({ bucket, endpoint: options.endpoint ?? s.gcs.endpoint, ...options });
    case 'azure':
      return new AzureStore({ account: s.azure.account, container: bucket, endpoint: options.endpoint ?? s.azure.endpoint, accountKey: s.azure.accountKey, ...options });
  }
}

/** Every secret the servers were started with: none may appear in any message. */
export function secretValues(): string[] {
  const s = servers();
  return [s.s3.secretAccessKey, s.azure.accountKey, s.azure.connectionString];
}

export async function closeAll(stores: Storage[]): Promise<void> {
  await Promise.all(stores.map((s) => s.close?.()));
}

/**
 * A table (or checkpoint) location on a backend as a user would give it: a URI and the storage
 * options that reach the test server (the CLI's --storage-option, the library's storageOptions).
 * Each call is a fresh prefix of the test bucket (a fresh directory for local).
 */
export interface Location {
  backend: Backend;
  uri: string;
  options: Record<string, string>;
}

export function locationOn(backend: Backend, prefix = `t-${randomUUID()}`): Location {
  if (backend === 'local') return { backend, uri: path.join(tmp(), prefix), options: {} };
  const s = servers();
  switch (backend) {
    case 's3':
      return {
        backend,
        uri: `s3://${BUCKET}/${prefix}`,
        options: { aws_endpoint_url: s.s3.endpoint, aws_allow_http: 'true', aws_region: s.s3.region, aws_access_key_id: s.s3.accessKeyId, aws_secret_access_key: s.s3.secretAccessKey },
      };
    case 'gcs':
      return { backend, uri: `gs://${BUCKET}/${prefix}`, options: { google_base_url: s.gcs.endpoint } };
    case 'azure':
      return {
        backend,
        uri: `az://${BUCKET}/${prefix}`,
        options: { azure_storage_account_name: s.azure.account, azure_storage_account_key: s.azure.accountKey, azure_storage_endpoint: s.azure.endpoint, allow_http: 'true' },
      };
  }
}

/** A location below another one (a table and its checkpoint side by side), same options. */
export function sub(loc: Location, name: string): Location {
  return { ...loc, uri: loc.backend === 'local' ? path.join(loc.uri, name) : `${loc.uri}/${name}` };
}

/** The options as repeated CLI flags. */
export function storageArgs(options: Record<string, string>): string[] {
  return Object.entries(options).flatMap(([k, v]) => ['--storage-option', `${k}=${v}`]);
}

/** Creates the test bucket/container on each remote backend (the CLI never creates one). */
export async function ensureBuckets(backends: readonly Backend[]): Promise<void> {
  for (const b of backends) {
    if (b === 'local') continue;
    const s = remoteStore(b, { prefix: 'x' });
    await s.ensureBucket();
    await s.close();
  }
}
