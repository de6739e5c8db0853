import { randomUUID } from 'node:crypto';
import { TributaryError, escapeInvisible } from '../errors.js';
import type { FileInfo, Storage } from './storage.js';

/**
 * What S3, GCS and Azure Blob share: the Storage contract on top of a handful of per-store
 * primitives (get, head, put, put-in-parts, delete, list one page). Each store's file
 * implements only those, with its official SDK, loaded lazily; everything that decides
 * semantics (paths, paging, the conditional-write probe, error wording, redaction) lives here
 * once, so the three stores cannot drift apart.
 */

/** Tuning shared by the object stores; every field has a default. */
export interface ObjectStoreOptions {
  /** Objects of at least this many bytes are uploaded in parts (multipart / resumable / blocks). */
  multipartThreshold?: number;
  /** Size of one part. S3 needs at least 5 MiB (all but the last part); GCS a multiple of 256 KiB. */
  partSize?: number;
  /** Parts in flight at once during a multipart upload (memory use is about this × partSize). */
  uploadConcurrency?: number;
  /** Keys per list request; small values exist for tests of paging. */
  pageSize?: number;
  /** Limit for one HTTP request, in milliseconds. */
  timeoutMs?: number;
  /** Limit for opening a connection, in milliseconds. */
  connectTimeoutMs?: number;
  /** Attempts per request (first try included) for throttling, 5xx and network errors. */
  maxAttempts?: number;
  /**
   * Skip the conditional-write probe (delta-rs' AWS_S3_ALLOW_UNSAFE_RENAME): for a store that
   * ignores conditional creates and a table that only ever has ONE writer. Creates then check
   * for the object first, which catches a restarted writer but not two racing ones.
   */
  allowUnsafeRename?: boolean;
}

export type Tuning = Required<ObjectStoreOptions>;

export const DEFAULT_TUNING: Tuning = {
  multipartThreshold: 32 * 1024 * 1024,
  partSize: 8 * 1024 * 1024,
  uploadConcurrency: 4,
  pageSize: 1000,
  timeoutMs: 60_000,
  connectTimeoutMs: 10_000,
  maxAttempts: 5,
  allowUnsafeRename: false,
};

export function tuning(o: ObjectStoreOptions): Tuning {
  const t = { ...DEFAULT_TUNING };
  for (const [k, v] of Object.entries(o) as [keyof Tuning, unknown][]) {
    if (!(k in DEFAULT_TUNING) || v === undefined) continue;
    if (k === 'allowUnsafeRename') t.allowUnsafeRename = Boolean(v);
    else {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
        throw new TributaryError('INVALID_ARGUMENT', `object store option ${k} must be a whole number of at least 1, got ${String(v)}`, { option: k });
      }
      t[k] = v;
    }
  }
  return t;
}

/** One listed object; `key` is the full key in the bucket. */
export interface ObjectEntry {
  key: string;
  size: number;
  modificationTime: number;
}

export interface ObjectHead {
  size: number;
  modificationTime: number;
  writeId?: string;
}

/** Metadata name of the write id (Azure allows letters and digits only). */
export const WRITE_ID = 'tributarywriteid';

export interface ListPage {
  objects: ObjectEntry[];
  /** Continuation token; undefined on the last page. */
  next?: string;
}

export interface ListRequest {
  /** Only objects directly under the prefix (delimiter "/"), not those in deeper "directories". */
  shallow: boolean;
  token?: string;
  /** Exclusive lower bound on keys (a hint: results are filtered again here). */
  startAfter?: string;
}

/** What a store's SDK error says, in words safe to print once redacted. */
export interface ErrorSummary {
  status?: number;
  code?: string;
  message: string;
}

export abstract class ObjectStore implements Storage {
  /** e.g. "s3://bucket/prefix": scheme, bucket and prefix only, never a credential. */
  readonly root: string;
  /** Key prefix of the table in the bucket: "" or "some/prefix/". */
  protected readonly prefix: string;
  protected readonly tuning: Tuning;
  private probed?: Promise<void>;

  /**
   * @param kind the store's name for messages ("S3", "GCS", "Azure Blob")
   * @param scheme URL scheme of `root`
   * @param bucket bucket or container
   * @param secrets values that must never appear in a message (keys, tokens, SAS, connection strings)
   */
  protected constructor(
    readonly kind: string,
    scheme: string,
    readonly bucket: string,
    prefix: string,
    options: ObjectStoreOptions,
    private readonly secrets: readonly string[],
    /** The option a single-writer setup sets to skip the probe, as the user would spell it. */
    private readonly unsafeOptionName: string,
    rootOverride?: string,
  ) {
    const p = prefix.replace(/^\/+|\/+$/g, '').replace(/\/+/g, '/');
    this.prefix = p === '' ? '' : `${p}/`;
    this.tuning = tuning(options);
    this.root = rootOverride ?? `${scheme}://${bucket}${p === '' ? '' : `/${p}`}`;
  }

  /**
   * Conditional creates up to this size go up as one request even above the multipart
   * threshold, for stores whose multipart completion is not a reliable race arbiter (S3).
   */
  protected readonly singleConditionalLimit: number = 0;

  /** What console.log and JSON show of a store: never its configuration, which holds credentials. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `${this.constructor.name} ${this.root}`;
  }

  toJSON(): Record<string, string> {
    return { store: this.kind, root: this.root };
  }

  // ---- primitives, one set per store ----

  /** The object's bytes, or undefined when it does not exist. */
  protected abstract getObject(key: string): Promise<Uint8Array | undefined>;
  /** Size, time and the write id a create stored with the object (see putIfAbsent). */
  protected abstract headObject(key: string): Promise<ObjectHead | undefined>;
  /**
   * One request. With ifAbsent, false when the object already exists (nothing written).
   * `writeId`, when given, is stored as the object's metadata for headObject to return.
   */
  protected abstract putObject(key: string, body: Uint8Array, ifAbsent: boolean, writeId?: string): Promise<boolean>;
  /**
   * An upload in parts from a stream of chunks of any size; all-or-nothing visibility, and an
   * abandoned upload (the stream threw) leaves no object and, where the store allows, no parts.
   */
  protected abstract putParts(key: string, chunks: AsyncIterable<Uint8Array>, ifAbsent: boolean, writeId?: string): Promise<boolean>;
  /** Idempotent: deleting a missing object succeeds. */
  protected abstract deleteObject(key: string): Promise<void>;
  protected abstract listObjects(prefix: string, request: ListRequest): Promise<ListPage>;
  protected abstract summarize(e: unknown): ErrorSummary;
  /** Creates the bucket/container if it does not exist (setup scripts and tests; tables never do). */
  abstract ensureBucket(): Promise<void>;
  abstract close(): Promise<void>;

  // ---- the Storage contract ----

  async read(path: string): Promise<Uint8Array> {
    const bytes = await this.call('read', path, () => this.getObject(this.key(path)));
    if (bytes === undefined) {
      throw new TributaryError('IO', `cannot read ${this.describe(path)}: no such object`, { ...this.where(path), errno: 'ENOENT' });
    }
    return bytes;
  }

  async readText(path: string): Promise<string> {
    return Buffer.from(await this.read(path)).toString('utf8');
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    const h = await this.call('stat', path, () => this.headObject(this.key(path)));
    return h && { path, size: h.size, modificationTime: h.modificationTime };
  }

  async write(path: string, data: Uint8Array | string): Promise<void> {
    await this.upload(path, toBytes(data), false);
  }

  async writeStream(path: string, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const it = chunks[Symbol.asyncIterator]();
    const head: Uint8Array[] = [];
    let size = 0;
    // Small objects (most commits, small data files) go up in one request: read up to the
    // threshold first, and only switch to a multipart upload once the stream is known to be big.
    while (size < this.tuning.multipartThreshold) {
      const r = await it.next();
      if (r.done) {
        await this.call('write', path, () => this.putObject(this.key(path), concat(head, size), false));
        return;
      }
      head.push(r.value);
      size += r.value.length;
    }
    const source = new SourceGuard(prepend(head, it));
    try {
      await this.call('write', path, () => this.putParts(this.key(path), source.chunks(), false));
    } catch (e) {
      // The caller's own stream failing is the cause worth reporting, not the SDK's wrapping of it.
      throw source.error ?? e;
    }
  }

  async putIfAbsent(path: string, data: Uint8Array | string): Promise<boolean> {
    const bytes = toBytes(data);
    if (this.tuning.allowUnsafeRename) {
      if (await this.stat(path)) return false;
    } else {
      await this.checkConditionalWrites();
    }
    const writeId = randomUUID();
    if (await this.upload(path, bytes, true, writeId)) return true;
    // "Exists" can be our own write: an SDK retry of a create whose first response was lost
    // finds the object the first attempt made. Treating that as a lost race would make the
    // writer retry a commit that did land (a duplicate append). Each create stores a fresh
    // id as metadata: the object is ours exactly when it carries this call's id.
    const head = await this.call('stat', path, () => this.headObject(this.key(path)));
    return head?.writeId === writeId;
  }

  async list(dir: string): Promise<string[]> {
    const prefix = this.dirKey(dir);
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('list', dir, () => this.listObjects(prefix, { shallow: true, token }));
      for (const o of page.objects) {
        const name = o.key.slice(prefix.length);
        if (name !== '' && !name.includes('/')) names.push(name);
      }
      token = page.next;
    } while (token !== undefined);
    return names.sort(byPath);
  }

  async listRecursive(dir: string): Promise<FileInfo[]> {
    const out: FileInfo[] = [];
    for await (const page of this.listPages(dir)) out.push(...page);
    // The same order LocalStorage gives (UTF-16 code units), so callers see one order everywhere.
    return out.sort((a, b) => byPath(a.path, b.path));
  }

  async *listPages(dir: string, startAfter?: string): AsyncGenerator<FileInfo[]> {
    const prefix = this.dirKey(dir);
    const after = startAfter === undefined ? undefined : this.key(startAfter);
    let token: string | undefined;
    do {
      const page = await this.call('list', dir, () => this.listObjects(prefix, { shallow: false, token, startAfter: after }));
      const files: FileInfo[] = [];
      for (const o of page.objects) {
        // Keys ending in "/" are "directory markers" some tools create: not files.
        if (o.key.endsWith('/') || !o.key.startsWith(prefix)) continue;
        if (after !== undefined && compareKeys(o.key, after) <= 0) continue;
        files.push({ path: o.key.slice(this.prefix.length), size: o.size, modificationTime: o.modificationTime });
      }
      yield files;
      token = page.next;
    } while (token !== undefined);
  }

  async delete(path: string): Promise<void> {
    await this.call('delete', path, () => this.deleteObject(this.key(path)));
  }

  /**
   * Runs the conditional-write probe now (it otherwise runs before the first `putIfAbsent`):
   * throws CONDITIONAL_WRITE_UNSUPPORTED for a store that would let two writers both create
   * the same commit. Once per store instance; a transport failure lets a later call try again.
   */
  checkConditionalWrites(): Promise<void> {
    this.probed ??= this.probe().catch((e: unknown) => {
      if (!(e instanceof TributaryError && e.code === 'CONDITIONAL_WRITE_UNSUPPORTED')) this.probed = undefined;
      throw e;
    });
    return this.probed;
  }

  // ---- shared pieces ----

  /** Two conditional creates of one fresh key: the second must report "exists" and change nothing. */
  private async probe(): Promise<void> {
    const path = `${PROBE_DIR}/${randomUUID()}`;
    const key = this.key(path);
    try {
      const first = await this.call('probe', path, () => this.putObject(key, toBytes('first'), true));
      // Different bytes on purpose: the second create must fail, not be mistaken for a retry.
      const second = await this.call('probe', path, () => this.putObject(key, toBytes('second'), true));
      const kept = await this.call('probe', path, () => this.getObject(key));
      const intact = kept !== undefined && Buffer.from(kept).toString('utf8') === 'first';
      if (!first || second || !intact) {
        throw new TributaryError(
          'CONDITIONAL_WRITE_UNSUPPORTED',
          `${this.kind} store ${this.root} does not honour conditional writes: a create-if-absent of ${this.describe(path)} ` +
            `${second ? 'replaced the existing object' : first ? 'did not keep the first object' : 'refused a key that did not exist'}. ` +
            'Two writers could then both commit the same table version and one commit would be lost without an error, so Tributary will not commit here. ' +
            `Use a store that honours If-None-Match / ifGenerationMatch, or, if only one process ever writes this table, set the storage option ${this.unsafeOptionName}=true.`,
          { store: this.kind, bucket: this.bucket, key, option: this.unsafeOptionName },
        );
      }
    } finally {
      await this.deleteObject(key).catch(() => undefined);
    }
  }

  /** A single request below the threshold, parts above it; false when the create found the object. */
  private upload(path: string, bytes: Uint8Array, ifAbsent: boolean, writeId?: string): Promise<boolean> {
    const key = this.key(path);
    const op = ifAbsent ? 'create' : 'write';
    const single = ifAbsent ? Math.max(this.tuning.multipartThreshold, this.singleConditionalLimit + 1) : this.tuning.multipartThreshold;
    if (bytes.length < single) return this.call(op, path, () => this.putObject(key, bytes, ifAbsent, writeId));
    return this.call(op, path, () => this.putParts(key, slices(bytes, this.tuning.partSize), ifAbsent, writeId));
  }

  protected key(path: string): string {
    return this.prefix + path.replace(/^\/+/, '');
  }

  /** The key prefix that lists `dir`: "" and "/" mean the table root. */
  protected dirKey(dir: string): string {
    const d = dir.replace(/^\/+|\/+$/g, '');
    return d === '' ? this.prefix : `${this.prefix}${d}/`;
  }

  /** The object as a URL for messages: store, bucket and key, nothing secret. */
  protected describe(path: string): string {
    const p = path.replace(/^\/+/, '');
    return escapeInvisible(p === '' ? this.root : `${this.root}/${p}`);
  }

  private where(path: string): Record<string, unknown> {
    return { store: this.kind, bucket: this.bucket, key: this.key(path) };
  }

  /** Runs one store operation; an SDK failure becomes a TributaryError naming the object, redacted. */
  protected async call<T>(op: string, path: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof TributaryError) throw e;
      throw this.failure(op, path, e);
    }
  }

  protected failure(op: string, path: string, e: unknown): TributaryError {
    let s: ErrorSummary;
    try {
      s = this.summarize(e);
    } catch {
      s = { message: String(e) };
    }
    const what = [s.code, s.status !== undefined ? `HTTP ${s.status}` : undefined].filter(Boolean).join(', ');
    const message = s.message.trim() === '' ? 'no details from the server' : s.message;
    const text = this.redact(`${what === '' ? '' : `${what}: `}${message}`);
    // The SDK's error object is not kept as the cause: it holds the request (URL with a SAS
    // token, signed headers) and would print it when logged. A redacted copy of its words is.
    const cause = new Error(text);
    cause.name = this.redact(String((e as Error)?.name ?? 'Error'));
    return new TributaryError('IO', `cannot ${op} ${this.describe(path)}: ${text}`, { ...this.where(path), status: s.status, sdkCode: s.code === undefined ? undefined : this.redact(s.code) }, { cause });
  }

  /** Removes every configured secret, and signature-like query parameters, from a text. */
  protected redact(text: string): string {
    let out = text;
    for (const s of this.secrets) if (s.length >= 4) out = out.split(s).join('[redacted]');
    return redactPatterns(out);
  }
}

/** Where the probe writes: hidden (Delta, Spark and VACUUM skip names starting with "."), at the table root. */
export const PROBE_DIR = '.tributary-probe';

/** Signature-bearing fragments that may appear in SDK messages (URLs with SAS, signed headers). */
export function redactPatterns(text: string): string {
  return text
    // SAS query parameters (short names: only as URL parameters) and signature fields anywhere.
    .replace(/([?&;](?:sig|se|sv|sp|st|spr|srt|ss|sr|skoid|sktid|skt|ske|sks|skv)=)[^&\s;"']*/gi, '$1[redacted]')
    .replace(/(\b(?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|X-Goog-Signature|X-Goog-Credential|Signature|Credential|AWSAccessKeyId)=)[^&\s;,"']*/gi, '$1[redacted]')
    .replace(/(AccountKey=|SharedAccessSignature=)[^;\s"']*/gi, '$1[redacted]')
    .replace(/(\bAuthorization\s*[:=]\s*)[^\n,]*/gi, '$1[redacted]')
    .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '[redacted private key]');
}

/** Wraps a source so its failure is recognized after an SDK has wrapped or swallowed it. */
class SourceGuard {
  error?: unknown;
  constructor(private readonly source: AsyncIterable<Uint8Array>) {}
  async *chunks(): AsyncGenerator<Uint8Array> {
    try {
      yield* this.source;
    } catch (e) {
      this.error = e;
      throw e;
    }
  }
}

export function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? new Uint8Array(Buffer.from(data, 'utf8')) : data;
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function* prepend(head: Uint8Array[], rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* head;
  head.length = 0;
  for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
}

/** Views (no copies) of consecutive parts of an in-memory object. */
async function* slices(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, Math.min(at + size, bytes.length));
}

/**
 * Regroups a stream of chunks of any size into parts of exactly `size` bytes (the last may be
 * smaller), copying each byte once into its part. S3 needs equal parts; the others chunk alone.
 */
export async function* rechunk(chunks: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let part = new Uint8Array(size);
  let filled = 0;
  for await (const chunk of chunks) {
    let at = 0;
    while (at < chunk.length) {
      // A whole part inside one chunk needs no copy.
      if (filled === 0 && chunk.length - at >= size) {
        yield chunk.subarray(at, at + size);
        at += size;
        continue;
      }
      const n = Math.min(size - filled, chunk.length - at);
      part.set(chunk.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === size) {
        yield part;
        part = new Uint8Array(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield part.subarray(0, filled);
}

/** LocalStorage's order (UTF-16 code units). */
function byPath(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The stores' own key order: UTF-8 bytes, which is code point order (unlike JS's `<` on surrogates). */
export function compareKeys(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

/** Bounded parallelism for part uploads: at most `limit` in flight, results in order. */
export async function mapLimited<T, R>(items: AsyncIterable<T>, limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  const running = new Set<Promise<void>>();
  let failed: { e: unknown } | undefined;
  let i = 0;
  try {
    for await (const item of items) {
      if (failed) break;
      const index = i++;
      const p: Promise<void> = fn(item, index)
        .then(
          (r) => {
            results[index] = r;
          },
          (e: unknown) => {
            failed ??= { e };
          },
        )
        .finally(() => running.delete(p));
      running.add(p);
      if (running.size >= limit) await Promise.race(running);
      if (failed) break;
    }
  } finally {
    // Also when the source threw: the caller cleans up (aborts the upload) only once nothing is in flight.
    await Promise.all(running);
  }
  if (failed) throw failed.e;
  return results;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
