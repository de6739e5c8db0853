import { loadOptional } from '../optional-deps.js';
import type { S3Client } from '@aws-sdk/client-s3';
import { TributaryError } from '../errors.js';
import { ObjectStore, WRITE_ID, mapLimited, rechunk, sleep } from './object-store.js';
import type { ErrorSummary, ListPage, ListRequest, ObjectHead, ObjectStoreOptions } from './object-store.js';

/** Where an S3 table lives and how to reach it. Unset credentials mean the SDK's default chain. */
export interface S3StoreConfig extends ObjectStoreOptions {
  bucket: string;
  /** Key prefix of the table ("" for the bucket root). */
  prefix?: string;
  /** Unset: the SDK's own resolution (AWS_REGION, the profile's region). */
  region?: string;
  /** An S3-compatible endpoint (moto, MinIO, R2...); unset: AWS. */
  endpoint?: string;
  /** Path-style addressing (https://host/bucket/key) rather than virtual-hosted (https://bucket.host/key). */
  forcePathStyle?: boolean;
  /** Permit a plain-http endpoint; refused otherwise, as delta-rs does (AWS_ALLOW_HTTP). */
  allowHttp?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** A named profile of ~/.aws/config (AWS_PROFILE). */
  profile?: string;
  /** The scheme `root` is spelled with; s3a:// tables are the same objects. */
  scheme?: 's3' | 's3a';
}

type Sdk = typeof import('@aws-sdk/client-s3');

/** S3's floor for every part but the last. */
const MIN_PART = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;

/**
 * Amazon S3 and S3-compatible stores. Creates are PutObject / CompleteMultipartUpload with
 * `If-None-Match: *` (S3 conditional writes, 2024): 412 means another writer created the key.
 * The SDK's standard retry strategy handles throttling (SlowDown, 503) and 5xx with backoff.
 */
export class S3Store extends ObjectStore {
  /**
   * A create (a Delta commit: kilobytes) is one conditional PutObject up to S3's 5 GiB limit,
   * as in delta-rs, whose object_store has no conditional multipart at all. Real S3 also
   * arbitrates racing conditional CompleteMultipartUploads, but moto, the S3 this project
   * tests against, lets all of them succeed; only larger creates take that path.
   */
  protected override readonly singleConditionalLimit = 5 * 1024 * 1024 * 1024;
  private readonly config: S3StoreConfig;
  private client?: Promise<{ sdk: Sdk; client: S3Client }>;

  constructor(config: S3StoreConfig) {
    const secrets = [config.credentials?.secretAccessKey, config.credentials?.sessionToken, config.credentials?.accessKeyId].filter((s): s is string => !!s);
    super('S3', config.scheme ?? 's3', config.bucket, config.prefix ?? '', config, secrets, 'AWS_S3_ALLOW_UNSAFE_RENAME');
    if (config.endpoint !== undefined) checkEndpoint(config.endpoint, config.allowHttp ?? false);
    if (this.tuning.partSize < MIN_PART) {
      throw new TributaryError('INVALID_ARGUMENT', `S3 part size must be at least ${MIN_PART} bytes (5 MiB), got ${this.tuning.partSize}`, { option: 'partSize' });
    }
    this.config = config;
  }

  /** The SDK and one client, made on first use: a user of local tables never loads the SDK. */
  private s3(): Promise<{ sdk: Sdk; client: S3Client }> {
    // The SDK warns on stderr that a future release will need Node 22: a multi-line notice in the
    // middle of a CLI's one-line output. Tributary supports Node 20; the notice is off unless the
    // user set the variable themselves.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client ??= loadOptional('@aws-sdk/client-s3', 'S3 storage (s3://, s3a://)', () => import('@aws-sdk/client-s3')).then((sdk) => {
      const t = this.tuning;
      const client = new sdk.S3Client({
        region: this.config.region,
        endpoint: this.config.endpoint,
        forcePathStyle: this.config.forcePathStyle,
        credentials: this.config.credentials,
        profile: this.config.profile,
        maxAttempts: t.maxAttempts,
        // Exponential backoff with jitter for throttling, 5xx and timeouts.
        retryMode: 'standard',
        requestHandler: { connectionTimeout: t.connectTimeoutMs, requestTimeout: t.timeoutMs, throwOnRequestTimeout: true },
      });
      return { sdk, client };
    });
    return this.client;
  }

  protected async getObject(key: string): Promise<Uint8Array | undefined> {
    const { sdk, client } = await this.s3();
    try {
      const r = await client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await r.Body!.transformToByteArray();
    } catch (e) {
      if (errorName(e) === 'NoSuchKey') return undefined;
      throw e;
    }
  }

  protected async headObject(key: string): Promise<ObjectHead | undefined> {
    const { sdk, client } = await this.s3();
    try {
      const r = await client.send(new sdk.HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: r.ContentLength ?? 0, modificationTime: r.LastModified?.getTime() ?? 0, writeId: r.Metadata?.[WRITE_ID] };
    } catch (e) {
      // A HEAD response has no body to tell a missing key from a missing bucket; the next list or write will.
      if (status(e) === 404) return undefined;
      throw e;
    }
  }

  protected async putObject(key: string, body: Uint8Array, ifAbsent: boolean, writeId?: string): Promise<boolean> {
    const { sdk, client } = await this.s3();
    const Metadata = writeId === undefined ? undefined : { [WRITE_ID]: writeId };
    return this.conditional(() => client.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: body.length, IfNoneMatch: ifAbsent ? '*' : undefined, Metadata })));
  }

  /**
   * Multipart upload by hand (@aws-sdk/lib-storage is not a dependency): equal parts, a few in
   * flight, completed with the create condition; any failure aborts the upload so no parts
   * linger (they would be billed and never visible).
   */
  protected async putParts(key: string, chunks: AsyncIterable<Uint8Array>, ifAbsent: boolean, writeId?: string): Promise<boolean> {
    const { sdk, client } = await this.s3();
    const Bucket = this.bucket;
    const created = await client.send(new sdk.CreateMultipartUploadCommand({ Bucket, Key: key, ChecksumAlgorithm: 'CRC32', Metadata: writeId === undefined ? undefined : { [WRITE_ID]: writeId } }));
    const UploadId = created.UploadId!;
    const abort = () => client.send(new sdk.AbortMultipartUploadCommand({ Bucket, Key: key, UploadId })).then(() => undefined, () => undefined);
    let parts;
    try {
      parts = await mapLimited(rechunk(chunks, this.tuning.partSize), this.tuning.uploadConcurrency, async (body, i) => {
        const PartNumber = i + 1;
        if (PartNumber > MAX_PARTS) throw new TributaryError('INVALID_ARGUMENT', `more than ${MAX_PARTS} parts of ${this.tuning.partSize} bytes: raise partSize`);
        const r = await client.send(new sdk.UploadPartCommand({ Bucket, Key: key, UploadId, PartNumber, Body: body, ContentLength: body.length, ChecksumAlgorithm: 'CRC32' }));
        return { PartNumber, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32 };
      });
    } catch (e) {
      await abort();
      throw e;
    }
    try {
      const done = await this.conditional(() =>
        client.send(new sdk.CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId, MultipartUpload: { Parts: parts }, IfNoneMatch: ifAbsent ? '*' : undefined })),
      );
      if (!done) await abort();
      return done;
    } catch (e) {
      await abort();
      throw e;
    }
  }

  /**
   * Runs a (possibly conditional) write: false on 412 (the key exists). 409
   * ConditionalRequestConflict means another conditional write to the key was in flight; S3
   * asks to retry, and the retry then succeeds or gets 412. The SDK does not retry 409 itself.
   */
  private async conditional(send: () => Promise<unknown>): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await send();
        return true;
      } catch (e) {
        if (status(e) === 412 || errorName(e) === 'PreconditionFailed') return false;
        if (errorName(e) !== 'ConditionalRequestConflict' || attempt >= this.tuning.maxAttempts * 2) throw e;
        await sleep(Math.min(2000, 25 * 2 ** attempt) * (0.5 + Math.random()));
      }
    }
  }

  protected async deleteObject(key: string): Promise<void> {
    const { sdk, client } = await this.s3();
    await client.send(new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  protected async listObjects(prefix: string, req: ListRequest): Promise<ListPage> {
    const { sdk, client } = await this.s3();
    const r = await client.send(
      new sdk.ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: prefix,
        Delimiter: req.shallow ? '/' : undefined,
        MaxKeys: this.tuning.pageSize,
        ContinuationToken: req.token,
        StartAfter: req.token === undefined ? req.startAfter : undefined,
      }),
    );
    return {
      objects: (r.Contents ?? []).map((o) => ({ key: o.Key!, size: o.Size ?? 0, modificationTime: o.LastModified?.getTime() ?? 0 })),
      next: r.IsTruncated ? r.NextContinuationToken : undefined,
    };
  }

  async ensureBucket(): Promise<void> {
    const { sdk, client } = await this.s3();
    await this.call('create bucket', '', async () => {
      try {
        await client.send(new sdk.CreateBucketCommand({ Bucket: this.bucket }));
      } catch (e) {
        if (errorName(e) !== 'BucketAlreadyOwnedByYou' && errorName(e) !== 'BucketAlreadyExists') throw e;
      }
    });
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) (await c.catch(() => undefined))?.client.destroy();
  }

  protected summarize(e: unknown): ErrorSummary {
    const err = e as { name?: string; message?: string; Code?: string };
    return { status: status(e), code: err.Code ?? err.name, message: err.message ?? String(e) };
  }
}

function status(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function errorName(e: unknown): string | undefined {
  const err = e as { name?: string; Code?: string };
  return err?.Code ?? err?.name;
}

/** A plain-http endpoint sends credentials and data in the clear: only when asked for (AWS_ALLOW_HTTP). */
export function checkEndpoint(endpoint: string, allowHttp: boolean): void {
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    throw new TributaryError('INVALID_ARGUMENT', `S3 endpoint ${JSON.stringify(endpoint)} is not a URL`, { option: 'AWS_ENDPOINT_URL' });
  }
  if (u.protocol === 'http:' && !allowHttp) {
    throw new TributaryError('INVALID_ARGUMENT', `S3 endpoint ${u.origin} is plain http: set AWS_ALLOW_HTTP=true to allow it (credentials and data would travel unencrypted)`, { option: 'AWS_ALLOW_HTTP' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new TributaryError('INVALID_ARGUMENT', `S3 endpoint ${u.origin} must be http(s)`, { option: 'AWS_ENDPOINT_URL' });
  }
}
