import { loadOptional } from '../optional-deps.js';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Bucket, Storage as GcsClient } from '@google-cloud/storage';
import { TributaryError } from '../errors.js';
import { ObjectStore, WRITE_ID } from './object-store.js';
import type { ErrorSummary, ListPage, ListRequest, ObjectHead, ObjectStoreOptions } from './object-store.js';

/** Where a GCS table lives and how to reach it. No credentials given: Application Default Credentials. */
export interface GcsStoreConfig extends ObjectStoreOptions {
  bucket: string;
  prefix?: string;
  /** Another endpoint (scheme, host, port), e.g. an emulator: "http://127.0.0.1:4443". */
  endpoint?: string;
  /** Path of a service-account JSON key file (google_service_account). */
  keyFilename?: string;
  /** The service-account JSON key itself (google_service_account_key). */
  serviceAccountKey?: string;
  projectId?: string;
}

type Sdk = typeof import('@google-cloud/storage');

/** GCS takes resumable chunks in multiples of 256 KiB. */
const CHUNK_UNIT = 256 * 1024;

/**
 * Google Cloud Storage. Creates carry `ifGenerationMatch: 0` ("only if no live object"), on
 * simple and resumable uploads alike: 412 means another writer created the key. Big objects
 * go up as a resumable upload in chunks of `partSize`; one whose source fails is never
 * finalized, so no object appears (the session expires on its own after a week).
 */
export class GcsStore extends ObjectStore {
  private readonly config: GcsStoreConfig;
  private client?: Promise<{ sdk: Sdk; client: GcsClient; bucket: Bucket }>;
  private readonly credentials?: { client_email?: string; private_key?: string; [k: string]: unknown };

  constructor(config: GcsStoreConfig) {
    let credentials: GcsStore['credentials'];
    if (config.serviceAccountKey !== undefined) {
      try {
        credentials = JSON.parse(config.serviceAccountKey) as GcsStore['credentials'];
      } catch {
        // Never quote the value: it is a private key.
        throw new TributaryError('INVALID_ARGUMENT', `google_service_account_key for gs://${config.bucket} is not JSON`, { option: 'google_service_account_key' });
      }
    }
    const secrets = [config.serviceAccountKey, credentials?.private_key, ...privateKeyLines(credentials?.private_key)].filter((s): s is string => !!s);
    super('GCS', 'gs', config.bucket, config.prefix ?? '', config, secrets, 'allow_unsafe_rename');
    if (this.tuning.partSize % CHUNK_UNIT !== 0) {
      throw new TributaryError('INVALID_ARGUMENT', `GCS part size must be a multiple of ${CHUNK_UNIT} bytes (256 KiB), got ${this.tuning.partSize}`, { option: 'partSize' });
    }
    this.config = config;
    this.credentials = credentials;
  }

  private gcs(): Promise<{ sdk: Sdk; client: GcsClient; bucket: Bucket }> {
    this.client ??= loadOptional('@google-cloud/storage', 'GCS storage (gs://)', () => import('@google-cloud/storage')).then((sdk) => {
      const t = this.tuning;
      const client = new sdk.Storage({
        apiEndpoint: this.config.endpoint,
        keyFilename: this.config.keyFilename,
        credentials: this.credentials,
        // Creating a bucket needs a project; an emulator accepts any.
        projectId: this.config.projectId ?? (this.config.endpoint !== undefined ? 'tributary-emulator' : undefined),
        // A custom endpoint skips authentication unless told otherwise: keep it when credentials were given.
        useAuthWithCustomEndpoint: this.config.endpoint !== undefined && (this.credentials !== undefined || this.config.keyFilename !== undefined),
        timeout: t.timeoutMs,
        retryOptions: {
          autoRetry: true,
          maxRetries: t.maxAttempts - 1,
          // Exponential backoff on 408/429/5xx and network errors. "Always": an unconditional
          // overwrite with the same bytes is safe to repeat, and a create's repeat that finds
          // its own first attempt's object is recognized by putIfAbsent.
          idempotencyStrategy: sdk.IdempotencyStrategy.RetryAlways,
          maxRetryDelay: 32,
          totalTimeout: Math.ceil((t.timeoutMs * t.maxAttempts) / 1000),
        },
      });
      if (this.config.endpoint !== undefined) {
        // The SDK takes a STORAGE_EMULATOR_HOST in the environment verbatim as the JSON API's
        // base URL (it expects ".../storage/v1" there, unlike other clients), even over an
        // explicit apiEndpoint: pin it to the endpoint this store was given.
        client.baseUrl = `${this.config.endpoint.replace(/\/+$/, '')}/storage/v1`;
      }
      return { sdk, client, bucket: client.bucket(this.bucket) };
    });
    return this.client;
  }

  protected async getObject(key: string): Promise<Uint8Array | undefined> {
    const { bucket } = await this.gcs();
    try {
      const [buf] = await bucket.file(key).download();
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      if (code(e) === 404) return undefined;
      throw e;
    }
  }

  protected async headObject(key: string): Promise<ObjectHead | undefined> {
    const { bucket } = await this.gcs();
    try {
      const [m] = await bucket.file(key).getMetadata();
      const id = m.metadata?.[WRITE_ID];
      return { size: Number(m.size ?? 0), modificationTime: m.updated ? Date.parse(m.updated) : 0, writeId: typeof id === 'string' ? id : undefined };
    } catch (e) {
      if (code(e) === 404) return undefined;
      throw e;
    }
  }

  protected async putObject(key: string, body: Uint8Array, ifAbsent: boolean, writeId?: string): Promise<boolean> {
    const { bucket } = await this.gcs();
    try {
      await bucket.file(key).save(Buffer.from(body.buffer, body.byteOffset, body.byteLength), {
        resumable: false,
        metadata: writeId === undefined ? undefined : { metadata: { [WRITE_ID]: writeId } },
        preconditionOpts: ifAbsent ? { ifGenerationMatch: 0 } : undefined,
      });
      return true;
    } catch (e) {
      if (ifAbsent && code(e) === 412) return false;
      throw e;
    }
  }

  protected async putParts(key: string, chunks: AsyncIterable<Uint8Array>, ifAbsent: boolean, writeId?: string): Promise<boolean> {
    const { bucket } = await this.gcs();
    const sink = bucket.file(key).createWriteStream({
      resumable: true,
      // Chunked: each chunk is its own request and the object is finalized by the last one
      // only, so a source that fails midway leaves an unfinished session, not an object.
      chunkSize: this.tuning.partSize,
      metadata: writeId === undefined ? undefined : { metadata: { [WRITE_ID]: writeId } },
      preconditionOpts: ifAbsent ? { ifGenerationMatch: 0 } : undefined,
    });
    try {
      await pipeline(Readable.from(chunks, { objectMode: false }), sink);
      return true;
    } catch (e) {
      if (ifAbsent && code(e) === 412) return false;
      throw e;
    }
  }

  protected async deleteObject(key: string): Promise<void> {
    const { bucket } = await this.gcs();
    await bucket.file(key).delete({ ignoreNotFound: true });
  }

  protected async listObjects(prefix: string, req: ListRequest): Promise<ListPage> {
    const { bucket } = await this.gcs();
    const [files, next] = await bucket.getFiles({
      prefix,
      delimiter: req.shallow ? '/' : undefined,
      maxResults: this.tuning.pageSize,
      pageToken: req.token,
      // Inclusive, unlike S3's StartAfter: the key itself is filtered out by the caller.
      startOffset: req.token === undefined ? req.startAfter : undefined,
      autoPaginate: false,
    });
    return {
      objects: files.map((f) => ({ key: f.name, size: Number(f.metadata.size ?? 0), modificationTime: f.metadata.updated ? Date.parse(f.metadata.updated) : 0 })),
      next: (next as { pageToken?: string } | null)?.pageToken,
    };
  }

  async ensureBucket(): Promise<void> {
    const { client, bucket } = await this.gcs();
    await this.call('create bucket', '', async () => {
      const [exists] = await bucket.exists();
      if (exists) return;
      try {
        await client.createBucket(this.bucket);
      } catch (e) {
        if (code(e) !== 409) throw e;
      }
    });
  }

  async close(): Promise<void> {
    // The SDK keeps no pool that needs closing; forget the client so a later use makes a fresh one.
    this.client = undefined;
  }

  protected summarize(e: unknown): ErrorSummary {
    const err = e as { code?: unknown; message?: string; name?: string };
    const status = typeof err.code === 'number' ? err.code : undefined;
    return { status, code: typeof err.code === 'string' ? err.code : err.name, message: err.message ?? String(e) };
  }
}

function code(e: unknown): unknown {
  return (e as { code?: unknown })?.code;
}

/** A PEM key's base64 lines: a message quoting part of a key must not leak it either. */
function privateKeyLines(pem: string | undefined): string[] {
  if (!pem) return [];
  return pem.split(/\r?\n|\\n/).filter((l) => l.length >= 16 && !l.startsWith('-----'));
}
