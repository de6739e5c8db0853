import { fileURLToPath } from 'node:url';
import { TributaryError } from '../errors.js';
import { LocalStorage } from './local.js';
import type { ObjectStoreOptions } from './object-store.js';
import type { Storage } from './storage.js';

/**
 * The one place a table or checkpoint location becomes a Storage. Spellings and option names
 * follow delta-rs and its object_store crate, so a table's `storage_options` carry over:
 *
 *   /path, ./path, file:///path            local files (LocalStorage)
 *   s3://bucket/prefix, s3a://bucket/prefix S3 (the same objects under either scheme)
 *   gs://bucket/prefix                      Google Cloud Storage
 *   abfss://container@account.dfs.core.windows.net/prefix, abfs://...,
 *   az://container/prefix, azure://, adl:// Azure Blob (account from the options or environment)
 *
 * Options come from `storageOptions` first (keys case-insensitive, delta-rs names and their
 * aliases), then the environment. Store classes are imported only for a remote location, and
 * they load their SDK only on first use.
 */

export type Location =
  | { kind: 'local'; path: string }
  | { kind: 's3'; scheme: 's3' | 's3a'; bucket: string; prefix: string }
  | { kind: 'gcs'; bucket: string; prefix: string }
  | { kind: 'azure'; container: string; account?: string; prefix: string };

const REMOTE_SCHEMES = ['s3', 's3a', 'gs', 'abfs', 'abfss', 'az', 'azure', 'adl'];

/** Whether a location is on this machine's file system (a path or a file:// URL). */
export function isLocalLocation(location: string): boolean {
  return parseLocation(location).kind === 'local';
}

export function parseLocation(location: string): Location {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(location)?.[1]?.toLowerCase();
  // No scheme, or a one-letter one (a Windows drive, C:\...): a path.
  if (scheme === undefined || scheme.length === 1) return { kind: 'local', path: location };
  if (scheme === 'file') {
    try {
      return { kind: 'local', path: fileURLToPath(location) };
    } catch (e) {
      throw invalid(`${safeLocation(location)} is not a valid file:// URL: ${(e as Error).message}`);
    }
  }
  if (!REMOTE_SCHEMES.includes(scheme)) {
    throw invalid(`unsupported location ${safeLocation(location)}: use a local path, file://, s3://, s3a://, gs://, abfss://, abfs:// or az://`);
  }
  let u: URL;
  try {
    u = new URL(location);
  } catch {
    throw invalid(`${safeLocation(location)} is not a valid URL`);
  }
  if (u.search !== '' || u.hash !== '') {
    // A SAS token pasted into the URL would be a secret in every message: options carry those.
    throw invalid(`${safeLocation(location)}: a location takes no query or fragment; pass credentials as storage options`);
  }
  if (u.password !== '') throw invalid(`${safeLocation(location)}: a location takes no password; pass credentials as storage options`);
  const host = decodeURIComponent(u.hostname);
  const prefix = u.pathname
    .split('/')
    .filter((s) => s !== '')
    .map((s) => decodeURIComponent(s))
    .join('/');
  if (host === '') throw invalid(`${safeLocation(location)} names no bucket or container`);
  switch (scheme) {
    case 's3':
    case 's3a':
      return { kind: 's3', scheme, bucket: host, prefix };
    case 'gs':
      return { kind: 'gcs', bucket: host, prefix };
    default: {
      if (u.username !== '') {
        // abfss://container@account.dfs.core.windows.net/prefix (the Hadoop ABFS spelling).
        const account = /^([a-z0-9]+)\.(?:dfs|blob)\.core\.windows\.net$/i.exec(host)?.[1];
        if (account === undefined) throw invalid(`${safeLocation(location)}: expected container@ACCOUNT.dfs.core.windows.net`);
        return { kind: 'azure', container: decodeURIComponent(u.username), account: account.toLowerCase(), prefix };
      }
      return { kind: 'azure', container: host, prefix };
    }
  }
}

/** A location as it may be printed: no password, query or fragment (where SAS tokens hide). */
export function safeLocation(location: string): string {
  return location.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/@]*:[^/@]*@)/, '$1[redacted]@').replace(/[?#].*$/s, (m) => (m.length > 1 ? '?[redacted]' : m));
}

/** Reads options: storageOptions (case-insensitive keys) first, then environment variables. */
class Options {
  private readonly given = new Map<string, string>();
  constructor(
    storageOptions: Record<string, string>,
    private readonly env: Record<string, string | undefined>,
  ) {
    for (const [k, v] of Object.entries(storageOptions)) if (v !== undefined && v !== null) this.given.set(k.toLowerCase(), String(v));
  }
  /** The first of `keys` in storageOptions. */
  option(...keys: string[]): string | undefined {
    for (const k of keys) {
      const v = this.given.get(k);
      if (v !== undefined && v !== '') return v;
    }
    return undefined;
  }
  /** The first of `envs` set in the environment. */
  envVar(...envs: string[]): string | undefined {
    for (const k of envs) {
      const v = this.env[k];
      if (v !== undefined && v !== '') return v;
    }
    return undefined;
  }
  get(keys: string[], envs: string[] = keys.map((k) => k.toUpperCase())): string | undefined {
    return this.option(...keys) ?? this.envVar(...envs);
  }
  flag(keys: string[], envs?: string[]): boolean | undefined {
    const v = this.get(keys, envs);
    if (v === undefined) return undefined;
    if (/^(true|1|yes|on)$/i.test(v)) return true;
    if (/^(false|0|no|off)$/i.test(v)) return false;
    throw invalid(`option ${keys[0]} must be true or false, got ${JSON.stringify(v)}`);
  }
  /** Tuning shared by every object store (Tributary's own names, plus object_store's client keys). */
  tuning(): ObjectStoreOptions {
    const int = (keys: string[]): number | undefined => {
      const v = this.option(...keys);
      if (v === undefined) return undefined;
      if (!/^\d+$/.test(v)) throw invalid(`option ${keys[0]} must be a whole number, got ${JSON.stringify(v)}`);
      return Number(v);
    };
    const retries = int(['max_retries']);
    return {
      pageSize: int(['page_size', 'tributary_page_size']),
      multipartThreshold: int(['multipart_threshold', 'tributary_multipart_threshold']),
      partSize: int(['part_size', 'tributary_part_size']),
      uploadConcurrency: int(['upload_concurrency', 'tributary_upload_concurrency']),
      maxAttempts: retries === undefined ? undefined : retries + 1,
      timeoutMs: duration('timeout', this.option('timeout')),
      connectTimeoutMs: duration('connect_timeout', this.option('connect_timeout')),
    };
  }
}

/** "30s", "500ms", "2m", "1h" or a number of seconds (object_store's spelling of timeouts). */
function duration(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|secs|m|min|mins|h)?\s*$/i.exec(v);
  if (!m) throw invalid(`option ${name} must be a duration such as 30s or 500ms, got ${JSON.stringify(v)}`);
  const unit = (m[2] ?? 's').toLowerCase();
  const f = unit === 'ms' ? 1 : unit.startsWith('m') ? 60_000 : unit === 'h' ? 3_600_000 : 1000;
  return Math.max(1, Math.round(Number(m[1]) * f));
}

/** The storage behind a table or checkpoint location. */
export async function storageFor(location: string, storageOptions: Record<string, string> = {}, env: Record<string, string | undefined> = process.env): Promise<Storage> {
  const loc = parseLocation(location);
  const o = new Options(storageOptions, env);
  switch (loc.kind) {
    case 'local':
      return new LocalStorage(loc.path);
    case 's3': {
      const { S3Store } = await import('./s3.js');
      return new S3Store({ bucket: loc.bucket, prefix: loc.prefix, scheme: loc.scheme, ...s3Config(o) });
    }
    case 'gcs': {
      const { GcsStore } = await import('./gcs.js');
      return new GcsStore({ bucket: loc.bucket, prefix: loc.prefix, ...gcsConfig(o) });
    }
    case 'azure': {
      const { AzureStore } = await import('./azure.js');
      return new AzureStore({ container: loc.container, prefix: loc.prefix, ...azureConfig(o, loc.account) });
    }
  }
}

function s3Config(o: Options) {
  // Credentials come as a set: from the options if any is there, else from the environment
  // (where the SDK's chain would find them first too; named here so they can be redacted).
  const idKeys = ['aws_access_key_id', 'access_key_id'];
  const secretKeys = ['aws_secret_access_key', 'secret_access_key'];
  const tokenKeys = ['aws_session_token', 'aws_token', 'session_token', 'token'];
  const fromOptions = o.option(...idKeys, ...secretKeys) !== undefined;
  const id = fromOptions ? o.option(...idKeys) : o.envVar('AWS_ACCESS_KEY_ID');
  const secret = fromOptions ? o.option(...secretKeys) : o.envVar('AWS_SECRET_ACCESS_KEY');
  const token = fromOptions ? o.option(...tokenKeys) : o.envVar('AWS_SESSION_TOKEN');
  if ((id === undefined) !== (secret === undefined)) {
    throw invalid(`S3 credentials need both ${id === undefined ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY'} and the other one`, 'AWS_ACCESS_KEY_ID');
  }
  const endpoint = o.get(['aws_endpoint_url', 'aws_endpoint', 'endpoint_url', 'endpoint'], ['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT']);
  const style = o.get(['aws_s3_addressing_style', 'addressing_style'], ['AWS_S3_ADDRESSING_STYLE'])?.toLowerCase();
  const virtual = o.flag(['aws_virtual_hosted_style_request', 'virtual_hosted_style_request'], ['AWS_VIRTUAL_HOSTED_STYLE_REQUEST']);
  if (style !== undefined && !['path', 'virtual', 'auto'].includes(style)) throw invalid(`AWS_S3_ADDRESSING_STYLE must be path, virtual or auto, got ${JSON.stringify(style)}`, 'AWS_S3_ADDRESSING_STYLE');
  // An explicit endpoint is path-style unless asked otherwise (delta-rs does the same: most
  // S3-compatible servers have no wildcard DNS for bucket.host); AWS itself is virtual-hosted.
  const forcePathStyle = style === 'path' ? true : style === 'virtual' || virtual === true ? false : virtual === false ? true : endpoint !== undefined;
  return {
    region: o.get(['aws_region', 'region', 'aws_default_region'], ['AWS_REGION', 'AWS_DEFAULT_REGION']) ?? (endpoint !== undefined ? 'us-east-1' : undefined),
    endpoint,
    forcePathStyle,
    allowHttp: o.flag(['aws_allow_http', 'allow_http'], ['AWS_ALLOW_HTTP']) ?? false,
    credentials: id !== undefined && secret !== undefined ? { accessKeyId: id, secretAccessKey: secret, sessionToken: token } : undefined,
    profile: o.option('aws_profile', 'profile'),
    ...o.tuning(),
    allowUnsafeRename: o.flag(['aws_s3_allow_unsafe_rename', 'allow_unsafe_rename'], ['AWS_S3_ALLOW_UNSAFE_RENAME']) ?? false,
  };
}

function gcsConfig(o: Options) {
  return {
    endpoint: gcsEndpoint(o.get(['google_base_url', 'base_url'], ['GOOGLE_BASE_URL', 'STORAGE_EMULATOR_HOST'])),
    keyFilename: o.get(
      ['google_service_account', 'service_account', 'google_service_account_path', 'service_account_path', 'google_application_credentials', 'application_credentials'],
      ['GOOGLE_SERVICE_ACCOUNT', 'GOOGLE_SERVICE_ACCOUNT_PATH', 'SERVICE_ACCOUNT', 'GOOGLE_APPLICATION_CREDENTIALS'],
    ),
    serviceAccountKey: o.get(['google_service_account_key', 'service_account_key'], ['GOOGLE_SERVICE_ACCOUNT_KEY']),
    projectId: o.get(['google_project_id', 'project_id'], ['GOOGLE_CLOUD_PROJECT']),
    ...o.tuning(),
    allowUnsafeRename: o.flag(['allow_unsafe_rename'], ['TRIBUTARY_ALLOW_UNSAFE_RENAME']) ?? false,
  };
}

/**
 * STORAGE_EMULATOR_HOST is "host:port" to most clients and a base URL ending in /storage/v1 to
 * the Node SDK: both spellings mean the same server here.
 */
function gcsEndpoint(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `http://${v}`;
  return withScheme.replace(/\/+$/, '').replace(/\/storage\/v1$/, '');
}

/** Azurite's documented development account; its key is public, not a secret. */
const EMULATOR_ACCOUNT = 'devstoreaccount1';
const EMULATOR_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

function azureConfig(o: Options, accountFromUrl: string | undefined) {
  const cKeys = ['azure_storage_connection_string', 'connection_string'];
  const keyKeys = ['azure_storage_account_key', 'azure_storage_access_key', 'azure_storage_master_key', 'master_key', 'account_key', 'access_key'];
  const sasKeys = ['azure_storage_sas_key', 'azure_storage_sas_token', 'sas_key', 'sas_token'];
  // As for S3: credentials given with the table win as a set over any in the environment.
  const fromOptions = o.option(...cKeys, ...keyKeys, ...sasKeys) !== undefined;
  const pick = (keys: string[], envs: string[]) => (fromOptions ? o.option(...keys) : o.envVar(...envs));
  let connectionString = pick(cKeys, ['AZURE_STORAGE_CONNECTION_STRING']);
  let accountKey = pick(keyKeys, ['AZURE_STORAGE_ACCOUNT_KEY', 'AZURE_STORAGE_ACCESS_KEY', 'AZURE_STORAGE_KEY']);
  const sasToken = pick(sasKeys, ['AZURE_STORAGE_SAS_TOKEN', 'AZURE_STORAGE_SAS_KEY']);
  const emulator = o.flag(['azure_storage_use_emulator', 'use_emulator'], ['AZURE_STORAGE_USE_EMULATOR']) ?? false;
  let account =
    accountFromUrl ??
    o.get(['azure_storage_account_name', 'account_name'], ['AZURE_STORAGE_ACCOUNT_NAME', 'AZURE_STORAGE_ACCOUNT']) ??
    (connectionString !== undefined ? accountOfConnectionString(connectionString) : undefined) ??
    (emulator ? EMULATOR_ACCOUNT : undefined);
  if (account === undefined) {
    throw invalid('no Azure storage account: use abfss://container@ACCOUNT.dfs.core.windows.net/..., or set azure_storage_account_name (AZURE_STORAGE_ACCOUNT_NAME)', 'azure_storage_account_name');
  }
  let endpoint = o.get(['azure_storage_endpoint', 'azure_endpoint', 'endpoint'], ['AZURE_STORAGE_ENDPOINT']);
  if (emulator) {
    endpoint ??= `${(o.envVar('AZURITE_BLOB_STORAGE_URL') ?? 'http://127.0.0.1:10000').replace(/\/+$/, '')}/${account}`;
    if (connectionString === undefined && accountKey === undefined && sasToken === undefined && account === EMULATOR_ACCOUNT) accountKey = EMULATOR_KEY;
  }
  const allowHttp = emulator || (o.flag(['azure_allow_http', 'allow_http'], ['AZURE_ALLOW_HTTP']) ?? false);
  if (endpoint !== undefined) {
    let u: URL;
    try {
      u = new URL(endpoint);
    } catch {
      throw invalid(`Azure endpoint ${JSON.stringify(endpoint)} is not a URL`, 'azure_storage_endpoint');
    }
    if (u.protocol === 'http:' && !allowHttp) {
      throw invalid(`Azure endpoint ${u.origin} is plain http: set allow_http=true (or use_emulator=true for Azurite) to allow it`, 'allow_http');
    }
    // A connection string names its own endpoint; an explicit one must not be silently ignored.
    if (connectionString !== undefined) connectionString = withBlobEndpoint(connectionString, endpoint);
  }
  account = account.toLowerCase() === account ? account : account.toLowerCase();
  return { account, endpoint, connectionString, accountKey, sasToken, ...o.tuning(), allowUnsafeRename: o.flag(['allow_unsafe_rename'], ['TRIBUTARY_ALLOW_UNSAFE_RENAME']) ?? false };
}

function accountOfConnectionString(cs: string): string | undefined {
  for (const part of cs.split(';')) {
    const i = part.indexOf('=');
    if (part.slice(0, i).trim().toLowerCase() === 'accountname') return part.slice(i + 1).trim();
  }
  return /UseDevelopmentStorage=true/i.test(cs) ? EMULATOR_ACCOUNT : undefined;
}

function withBlobEndpoint(cs: string, endpoint: string): string {
  const parts = cs.split(';').filter((p) => p.trim() !== '' && !/^\s*BlobEndpoint\s*=/i.test(p));
  return [...parts, `BlobEndpoint=${endpoint}`].join(';');
}

function invalid(message: string, option?: string): TributaryError {
  return new TributaryError('INVALID_ARGUMENT', message, option === undefined ? {} : { option });
}

/**
 * The values among store options that are secrets (keys, tokens, SAS, connection strings,
 * service-account JSON), for callers that print anything derived from options: they register
 * them to be redacted. Names are matched case-insensitively, as the options are.
 */
export function storageOptionSecrets(storageOptions: Readonly<Record<string, string>>): string[] {
  const secretName = /(secret|password|token|sas|signature|connection_string|account_key|access_key$|private_key|service_account|credential)/i;
  return Object.entries(storageOptions)
    .filter(([k]) => secretName.test(k) && !/access_key_id$/i.test(k))
    .map(([, v]) => v)
    .filter((v) => v.length >= 3);
}
