import { loadOptional } from '../optional-deps.js';
import { Readable } from 'node:stream';
import type { BlobServiceClient, ContainerClient, StoragePipelineOptions } from '@azure/storage-blob';
import { ObjectStore, WRITE_ID } from './object-store.js';
import type { ErrorSummary, ListPage, ListRequest, ObjectHead, ObjectStoreOptions } from './object-store.js';

/**
 * Where an Azure table lives and how to reach it. Credentials, first found wins: a connection
 * string, an account key, a SAS token, else DefaultAzureCredential (environment, workload or
 * managed identity, Azure CLI).
 */
export interface AzureStoreConfig extends ObjectStoreOptions {
  account: string;
  container: string;
  prefix?: string;
  /** Blob service URL, e.g. "http://127.0.0.1:10000/devstoreaccount1" for Azurite; default https://{account}.blob.core.windows.net. */
  endpoint?: string;
  connectionString?: string;
  accountKey?: string;
  /** A SAS token (with or without the leading "?"). */
  sasToken?: string;
}

type Sdk = typeof import('@azure/storage-blob');

/**
 * Azure Blob Storage (and ADLS Gen2 accounts through their blob endpoint). Creates carry
 * `If-None-Match: *`; 409 (BlobAlreadyExists) and 412 both mean another writer created the
 * blob. Big blobs are staged as blocks and committed in one block list at the end (with the
 * condition), so a failed upload leaves only uncommitted blocks, which are never visible and
 * which Azure discards after a week.
 */
export class AzureStore extends ObjectStore {
  private readonly config: AzureStoreConfig;
  private client?: Promise<{ sdk: Sdk; service: BlobServiceClient; container: ContainerClient }>;

  constructor(config: AzureStoreConfig) {
    const sas = config.sasToken?.replace(/^\?/, '');
    const secrets = [config.accountKey, config.sasToken, sas, config.connectionString, ...sasSignatures(sas), ...connectionStringSecrets(config.connectionString)].filter(
      (s): s is string => !!s,
    );
    const prefix = (config.prefix ?? '').replace(/^\/+|\/+$/g, '');
    super('Azure Blob', 'abfss', config.container, prefix, config, secrets, 'allow_unsafe_rename', `abfss://${config.container}@${config.account}.dfs.core.windows.net${prefix === '' ? '' : `/${prefix}`}`);
    this.config = config;
  }

  private azure(): Promise<{ sdk: Sdk; service: BlobServiceClient; container: ContainerClient }> {
    this.client ??= (async () => {
      const sdk = await loadOptional('@azure/storage-blob', 'Azure storage (abfss://, az://)', () => import('@azure/storage-blob'));
      const t = this.tuning;
      const options: StoragePipelineOptions = {
        // Exponential backoff on 503 ServerBusy, 500 and network errors; each try bounded in time.
        retryOptions: { maxTries: t.maxAttempts, tryTimeoutInMs: t.timeoutMs, retryDelayInMs: 200, maxRetryDelayInMs: 30_000 },
      };
      const url = this.config.endpoint?.replace(/\/+$/, '') ?? `https://${this.config.account}.blob.core.windows.net`;
      let service: BlobServiceClient;
      if (this.config.connectionString !== undefined) {
        service = sdk.BlobServiceClient.fromConnectionString(this.config.connectionString, options);
      } else if (this.config.accountKey !== undefined) {
        service = new sdk.BlobServiceClient(url, new sdk.StorageSharedKeyCredential(this.config.account, this.config.accountKey), options);
      } else if (this.config.sasToken !== undefined) {
        service = new sdk.BlobServiceClient(`${url}?${this.config.sasToken.replace(/^\?/, '')}`, new sdk.AnonymousCredential(), options);
      } else {
        const { DefaultAzureCredential } = await loadOptional('@azure/identity', 'Azure storage with DefaultAzureCredential', () => import('@azure/identity'));
        service = new sdk.BlobServiceClient(url, new DefaultAzureCredential(), options);
      }
      return { sdk, service, container: service.getContainerClient(this.config.container) };
    })();
    return this.client;
  }

  private async blob(key: string) {
    return (await this.azure()).container.getBlockBlobClient(key);
  }

  protected async getObject(key: string): Promise<Uint8Array | undefined> {
    const blob = await this.blob(key);
    try {
      const buf = await blob.downloadToBuffer();
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      if (status(e) === 404) return undefined;
      throw e;
    }
  }

  protected async headObject(key: string): Promise<ObjectHead | undefined> {
    const blob = await this.blob(key);
    try {
      const p = await blob.getProperties();
      return { size: p.contentLength ?? 0, modificationTime: p.lastModified?.getTime() ?? 0, writeId: p.metadata?.[WRITE_ID] };
    } catch (e) {
      if (status(e) === 404) return undefined;
      throw e;
    }
  }

  protected async putObject(key: string, body: Uint8Array, ifAbsent: boolean, writeId?: string): Promise<boolean> {
    const blob = await this.blob(key);
    try {
      await blob.upload(body, body.length, { conditions: ifAbsent ? { ifNoneMatch: '*' } : undefined, metadata: writeId === undefined ? undefined : { [WRITE_ID]: writeId } });
      return true;
    } catch (e) {
      if (ifAbsent && exists(e)) return false;
      throw e;
    }
  }

  protected async putParts(key: string, chunks: AsyncIterable<Uint8Array>, ifAbsent: boolean, writeId?: string): Promise<boolean> {
    const blob = await this.blob(key);
    try {
      // The SDK stages blocks of partSize, a few at a time, and commits the list at the end.
      await blob.uploadStream(Readable.from(chunks, { objectMode: false }), this.tuning.partSize, this.tuning.uploadConcurrency, {
        conditions: ifAbsent ? { ifNoneMatch: '*' } : undefined,
        metadata: writeId === undefined ? undefined : { [WRITE_ID]: writeId },
      });
      return true;
    } catch (e) {
      if (ifAbsent && exists(e)) return false;
      throw e;
    }
  }

  protected async deleteObject(key: string): Promise<void> {
    const blob = await this.blob(key);
    await blob.deleteIfExists();
  }

  protected async listObjects(prefix: string, req: ListRequest): Promise<ListPage> {
    const { container } = await this.azure();
    const pages = req.shallow ? container.listBlobsByHierarchy('/', { prefix }) : container.listBlobsFlat({ prefix });
    // Azure has no start-after: the caller filters, and the listing still streams page by page.
    const r = await pages.byPage({ maxPageSize: this.tuning.pageSize, continuationToken: req.token }).next();
    if (r.done) return { objects: [] };
    const page = r.value;
    return {
      objects: page.segment.blobItems.map((b) => ({ key: b.name, size: b.properties.contentLength ?? 0, modificationTime: b.properties.lastModified?.getTime() ?? 0 })),
      next: page.continuationToken ? page.continuationToken : undefined,
    };
  }

  async ensureBucket(): Promise<void> {
    const { container } = await this.azure();
    await this.call('create container', '', async () => {
      await container.createIfNotExists();
    });
  }

  async close(): Promise<void> {
    this.client = undefined;
  }

  protected summarize(e: unknown): ErrorSummary {
    const err = e as { statusCode?: number; code?: string; message?: string; name?: string };
    // The first line only: the rest of an Azure message is the XML body with request ids.
    return { status: err.statusCode, code: err.code ?? err.name, message: (err.message ?? String(e)).split('\n')[0] };
  }
}

function status(e: unknown): number | undefined {
  return (e as { statusCode?: number })?.statusCode;
}

/** 409 BlobAlreadyExists (most creates) and 412 (a commit of a block list) both mean "it exists". */
function exists(e: unknown): boolean {
  return status(e) === 409 || status(e) === 412;
}

/** The signature of a SAS token, redacted on its own too (it is what grants access). */
function sasSignatures(sas: string | undefined): string[] {
  if (!sas) return [];
  const sig = new URLSearchParams(sas).get('sig');
  return sig ? [sig, encodeURIComponent(sig)] : [];
}

/** AccountKey and SharedAccessSignature values inside a connection string. */
function connectionStringSecrets(cs: string | undefined): string[] {
  if (!cs) return [];
  const out: string[] = [];
  for (const part of cs.split(';')) {
    const i = part.indexOf('=');
    const k = part.slice(0, i).trim().toLowerCase();
    if (k === 'accountkey' || k === 'sharedaccesssignature') {
      const v = part.slice(i + 1).trim();
      out.push(v, ...sasSignatures(v));
    }
  }
  return out;
}
