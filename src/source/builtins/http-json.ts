import { TributaryError } from '../../errors.js';
import { compareExactDecimals, exactDecimal } from '../../arrow/coerce.js';
import type * as arrow from 'apache-arrow';
import { BodyRecordsPlan, type ScannedBody } from '../../json/body-records.js';
import { JsonNumber } from '../../json/json-number.js';
import { JsonRecordsDecoder } from '../../json/json-records.js';
import type { StructType } from '../../schema/schema.js';
import { HttpClient, type JsonResponse, type RetryBudget } from '../../http/client.js';
import { credentialsInHeader, credentialsInUrl, type Secrets } from '../../redact.js';
import type { Offset, OffsetValue } from '../offset.js';
import { MAX_TIMER_MS, Options } from '../options.js';
import { type Poll, PollingReader, ResponseShapeError } from '../polling-reader.js';
import { DataSource, type DataSourceStreamReader } from '../source.js';
import { CursorPagination, NextUrlPagination, NoPagination, PagePagination, type Pagination, type PaginationContext } from './http-json-pagination.js';
import { parsePointer } from './json-pointer.js';

/**
 * `format('http-json')`: any REST API that answers JSON, without writing a connector.
 *
 *   t.readStream.format('http-json')
 *     .option('url', 'https://api.example.com/v1/items?updated_since={cursor}&api_key=${env:EXAMPLE_KEY}')
 *     .option('header.Authorization', 'Bearer ${env:EXAMPLE_TOKEN}')
 *     .option('recordsPath', '/data')                 // JSON pointer to the array of records
 *     .option('fields', 'name=/attributes/name')      // column=pointer (relative to a record)
 *     .option('pagination', 'page')
 *     .option('cursorField', 'updated_at')            // incremental: only records newer than the offset
 *     .schema('id BIGINT, name STRING, updated_at TIMESTAMP')
 *     .load()
 *
 * Options (all strings):
 *   url              URL template (required). `{cursor}`: the committed incremental cursor (URL-encoded),
 *                    or `initialCursor` before the first batch (empty if neither); needs cursorField.
 *                    `{page}`: the page number (pagination=page). `${env:NAME}`: an environment
 *                    variable, inserted as is (so it may hold a whole base URL).
 *   header.<Name>    a request header; may use `${env:NAME}`.
 *                    Every value taken from the environment is a secret, and so are values written
 *                    literally where a credential goes (a URL's password, key/token/secret-like query
 *                    parameters and headers, a Basic credential decoded): they are replaced by ***,
 *                    in any encoding, in every error, warning and progress message.
 *   schema           the columns (DDL or StructType JSON), unless given with `.schema()` on the reader.
 *   recordsPath      RFC 6901 JSON pointer to the array of records in each response ("" = the body is the
 *                    array; the default). A pointer to nothing (or null) is an empty page (with a warning).
 *   fields           `col=/pointer,col2=/a/b`: columns read through a JSON pointer relative to the record
 *                    (`~1` is "/", `~0` is "~"; a pointer here cannot contain ","). Other columns are the record's property of the same name;
 *                    absent values are null. Values then become Arrow through the NDJSON decoder, the
 *                    coercion of `tributary append --input` (ISO-8601 text or epoch milliseconds for
 *                    TIMESTAMP, numbers or numeric text for numbers, objects for STRUCT/MAP...), so a
 *                    mismatch fails the poll naming the row, column and value (whatever onError says).
 *   pagination       none (default) | next-url | page | cursor; every poll reads all pages it can, up to
 *                    `maxPages` (default 100; a warning says when more were left for the next poll).
 *     next-url       `nextUrlPath`: pointer to the next page's URL in the body (relative URLs are resolved
 *                    against the current one); without it, the `Link: <...>; rel="next"` header. Stops when
 *                    there is no next URL (or it repeats).
 *     page           `{page}` in the url, or else the query parameter `pageParam` (default "page"), from
 *                    `startPage` (default 1) until an empty page; with `pageSize`, a page shorter than that
 *                    is the last one too.
 *     cursor         `cursorParam` (the query parameter carrying the page cursor) and `nextCursorPath`
 *                    (pointer to the next page's cursor in the body); stops when it is null, absent or "".
 *   cursorField      a column whose value orders records (a number, or ISO timestamp / text compared as
 *                    text). The offset is { cursor: <largest value written> } and only records with a larger
 *                    value are emitted, so polling the same data twice writes nothing twice, and a poll
 *                    with nothing new runs no batch. Records without a value are skipped (with a warning).
 *                    Records that arrive later with a value equal to the committed cursor are not emitted:
 *                    pick a field that strictly increases (an updated_at with enough precision, an id).
 *                    With maxPages truncation the API should filter on `{cursor}` and sort ascending, so
 *                    the next poll continues where this one stopped.
 *   initialCursor    the cursor before the first batch (used in `{cursor}`; records <= it are skipped).
 *   (no cursorField) the offset is { poll: <count of polls that returned records> } and EVERY record of
 *                    every poll is emitted: an endpoint that returns the same records each time writes them
 *                    again each batch. Use this only for endpoints that return each record once (a queue,
 *                    "events since last call"), or add a cursorField.
 *   onError          fail (default) | skip-batch: an HTTP failure (after retries) or a response of the
 *                    wrong shape ends the query, or runs no batch (the offset stays; nothing is lost; the
 *                    next trigger tries again) and is reported as a warning.
 *   callsPerMinute   client-side pacing (default 60; 0 = unpaced), retries included.
 *   maxRetries       retries per call (default 4) of 408/429/5xx, network errors and bad JSON, with
 *                    exponential backoff (backoffBaseMs 500, backoffCapMs 30000) or Retry-After.
 *   retryBudget      retries shared by all calls of one batch (default 10).
 *   timeoutMs        response headers / body timeout (default 30000).
 *
 * The source is non-replayable: latestOffset() makes the HTTP calls, decodes the records into
 * Arrow record batches and keeps them for the offset it returns; read() hands exactly those
 * batches to the engine, which logs them ahead of the batch. Read limits (maxRowsPerBatch) are not applied: a poll is one batch. Under an availableNow
 * trigger a run polls once, and polls again only while the previous poll stopped at maxPages (and
 * found new records). Numbers keep the digits they were written with (the exact
 * parser): a 20-digit id lands exactly in a DECIMAL(38,0), is refused by a BIGINT it does not fit.
 */
export class HttpJsonSource extends DataSource {
  static override formatName = 'http-json';
  static override optionNames = [
    'url', 'header.*', 'schema', 'recordsPath', 'fields', 'pagination', 'nextUrlPath', 'pageParam', 'startPage', 'pageSize', 'cursorParam', 'nextCursorPath', 'maxPages',
    'cursorField', 'initialCursor', 'onError', 'callsPerMinute', 'maxRetries', 'backoffBaseMs', 'backoffCapMs', 'retryBudget', 'timeoutMs',
  ];

  /** The `schema` option; without it an empty schema that streamReader() refuses, unless the
   *  reader's `.schema()` replaced it (DataStreamReader.load asks for this schema either way). */
  schema(): StructType | string {
    const s = this.options.schema;
    if (s !== undefined && s.trim() !== '') return s;
    return { kind: 'struct', fields: [] };
  }

  override get replayable(): boolean {
    return false;
  }

  override description(): string {
    return this.secrets.redact(`HttpJson[${maskTemplate(this.options.url ?? '?')}]`);
  }

  override streamReader(schema: StructType): DataSourceStreamReader {
    if (schema.fields.length === 0) {
      throw new TributaryError(
        'INVALID_ARGUMENT',
        'source "http-json" needs its columns: give option schema (e.g. .option("schema", "id BIGINT, name STRING")) or .schema(<DDL>) on readStream',
      );
    }
    return new HttpJsonReader(new Options('http-json', this.options), this.options, schema, this.secrets);
  }
}

type PaginationMode = 'none' | 'next-url' | 'page' | 'cursor';
const PAGINATIONS: readonly PaginationMode[] = ['none', 'next-url', 'page', 'cursor'];

/** The reader's options, read and checked once (every mistake named by its option). */
interface HttpJsonConfig {
  template: string;
  /** `${env:NAME}` values (secrets). */
  env: Map<string, string>;
  headers: Record<string, string>;
  pagination: { mode: PaginationMode; startPage: number; pageParam: string; pageSize?: number; nextUrlPath?: string[]; cursorParam?: string; nextCursorPath?: string[] };
  recordsPath: string[];
  recordsPathText: string;
  columns: { name: string; pointer?: string[] }[];
  /** recordsPath, the columns and the pagination's pointers, compiled for the body scan. */
  plan: BodyRecordsPlan;
  /** The pointers the pagination reads from a body, in the plan's order of extras. */
  extras: string[][];
  cursorField: string | undefined;
  initialCursor: string | undefined;
  maxPages: number;
}

function httpJsonConfig(o: Options, raw: Readonly<Record<string, string>>, schema: StructType, secrets: Secrets): HttpJsonConfig {
  const template = o.required('url');
  // Environment references, resolved once; their values are secrets, registered as soon as they
  // are read so that every message from here on is redacted.
  for (const c of credentialsInUrl(template)) secrets.add(c);
  const env = new Map<string, string>();
  const refs = [template, ...Object.entries(raw).filter(([k]) => k.startsWith('header.')).map(([, v]) => v)];
  for (const text of refs) {
    for (const m of text.matchAll(ENV_RE)) {
      const name = m[1].trim();
      const v = process.env[name];
      if (v === undefined) throw new TributaryError('INVALID_ARGUMENT', `source "http-json": environment variable ${name} (referenced as \${env:${name}}) is not set`);
      env.set(name, v);
      secrets.add(v);
    }
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!k.startsWith('header.')) continue;
    const name = k.slice('header.'.length);
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new TributaryError('INVALID_ARGUMENT', `source "http-json": option ${k}: "${name}" is not a valid header name`);
    headers[name] = v.replace(ENV_RE, (_, n: string) => env.get(n.trim())!);
    for (const c of credentialsInHeader(name, headers[name])) secrets.add(c);
  }

  const mode = o.string('pagination', 'none')!;
  if (!(PAGINATIONS as readonly string[]).includes(mode)) throw new TributaryError('INVALID_ARGUMENT', `source "http-json": option pagination must be ${PAGINATIONS.join(', ')}; got "${mode}"`);
  const nextUrlPath = o.string('nextUrlPath');
  const pagination: HttpJsonConfig['pagination'] = {
    mode: mode as PaginationMode,
    startPage: o.number('startPage', 1, { integer: true })!,
    pageParam: o.string('pageParam', 'page')!,
    pageSize: o.number('pageSize', undefined, { min: 1, integer: true }),
    nextUrlPath: nextUrlPath === undefined ? undefined : parsePointer(nextUrlPath, 'nextUrlPath'),
  };
  if (mode === 'cursor') {
    pagination.cursorParam = o.required('cursorParam');
    pagination.nextCursorPath = parsePointer(o.required('nextCursorPath'), 'nextCursorPath');
  }
  if (mode !== 'page' && /\{page\}/.test(template)) {
    throw new TributaryError('INVALID_ARGUMENT', `source "http-json": the url has {page} but pagination is "${mode}" (use pagination=page)`);
  }
  const recordsPathText = o.string('recordsPath', '')!;

  // Columns: a pointer per mapped column, the record's own property for the rest.
  const names = new Set(schema.fields.map((f) => f.name));
  const mapped = new Map<string, string[]>();
  for (const item of o.list('fields')) {
    const i = item.indexOf('=');
    if (i <= 0) throw new TributaryError('INVALID_ARGUMENT', `source "http-json": option fields expects col=/pointer pairs separated by commas; got "${item}"`);
    const col = item.slice(0, i).trim();
    if (!names.has(col)) throw new TributaryError('INVALID_ARGUMENT', `source "http-json": option fields maps "${col}", which is not a column of the schema (${[...names].join(', ')})`);
    mapped.set(col, parsePointer(item.slice(i + 1).trim(), `fields (${col})`));
  }
  const cursorField = o.string('cursorField');
  if (cursorField !== undefined && !names.has(cursorField)) {
    throw new TributaryError('INVALID_ARGUMENT', `source "http-json": option cursorField "${cursorField}" is not a column of the schema (${[...names].join(', ')})`);
  }
  if (cursorField === undefined && /\{cursor\}/.test(template)) {
    throw new TributaryError('INVALID_ARGUMENT', 'source "http-json": the url has {cursor} but no option cursorField says which column the cursor is');
  }
  const recordsPath = parsePointer(recordsPathText, 'recordsPath');
  const columns = schema.fields.map((f) => ({ name: f.name, pointer: mapped.get(f.name) }));
  const extras = [pagination.nextUrlPath, pagination.nextCursorPath].filter((p): p is string[] => p !== undefined);
  // A column without a pointer is the record's own property of its name (none on an array record).
  const plan = new BodyRecordsPlan(recordsPath, columns.map((c) => (c.pointer ? { tokens: c.pointer, ownProperty: false } : { tokens: [c.name], ownProperty: true })), extras);
  return {
    template,
    env,
    headers,
    pagination,
    recordsPath,
    recordsPathText,
    columns,
    plan,
    extras,
    cursorField,
    initialCursor: o.string('initialCursor'),
    maxPages: o.number('maxPages', 100, { min: 1, integer: true })!,
  };
}

function httpJsonClient(o: Options, secrets: Secrets, plan: BodyRecordsPlan): HttpClient {
  const timeoutMs = o.number('timeoutMs', 30_000, { min: 1, max: MAX_TIMER_MS })!;
  const callsPerMinute = o.number('callsPerMinute', 60, { min: 0 })!;
  return new HttpClient({
    // Records are read from the body's bytes (validated as the exact parser would): values land
    // in their columns as written, whatever the column type turns out to be.
    decodeBody: (raw, start) => plan.scan(raw, start),
    callsPerMinute: callsPerMinute > 0 ? callsPerMinute : undefined,
    maxRetries: o.number('maxRetries', 4, { min: 0, integer: true }),
    headersTimeoutMs: timeoutMs,
    bodyTimeoutMs: timeoutMs,
    backoffBaseMs: o.number('backoffBaseMs', 500, { min: 0, max: MAX_TIMER_MS }),
    backoffCapMs: o.number('backoffCapMs', 30_000, { min: 0, max: MAX_TIMER_MS }),
    secrets,
  });
}

/** The records of one page: its scanned body and which of its records are kept (all when undefined). */
interface PageRecords {
  body: ScannedBody;
  keep?: number[];
}

interface Pages {
  pages: PageRecords[];
  count: number;
  truncated: boolean;
}

class HttpJsonReader extends PollingReader {
  private readonly c: HttpJsonConfig;
  private readonly schema: StructType;
  private readonly secrets: Secrets;
  private pagesRead = 0;
  private recordsRead = 0;
  private recordsSkipped = 0;
  private lastTruncated = false;

  constructor(o: Options, raw: Readonly<Record<string, string>>, schema: StructType, secrets: Secrets) {
    const c = httpJsonConfig(o, raw, schema, secrets);
    const onError = o.string('onError', 'fail');
    if (onError !== 'fail' && onError !== 'skip-batch') throw new TributaryError('INVALID_ARGUMENT', `source "http-json": option onError must be fail or skip-batch; got "${onError}"`);
    super({ label: 'http-json', http: httpJsonClient(o, secrets, c.plan), secrets, onError, retryBudget: o.number('retryBudget', 10, { min: 0, integer: true })! });
    this.c = c;
    this.schema = schema;
    this.secrets = secrets;
  }

  initialOffset(): Offset {
    if (this.c.cursorField === undefined) return { poll: 0 };
    return { cursor: this.c.initialCursor ?? null };
  }

  protected override extraMetrics(): Record<string, string> {
    return { pages: String(this.pagesRead), records: String(this.recordsRead), recordsAlreadySeen: String(this.recordsSkipped) };
  }

  /**
   * availableNow: poll again only while a poll stopped at maxPages (an incremental source then
   * continues from its new cursor); a source without cursor polls once.
   */
  protected override morePolls(): boolean {
    return this.lastTruncated && this.c.cursorField !== undefined;
  }

  /** One poll: every page it can read now, the records newer than the committed cursor. */
  protected async poll(start: Offset, budget: RetryBudget): Promise<Poll> {
    this.lastTruncated = false;
    const pages = await this.readPages(start, budget);
    this.lastTruncated = pages.truncated;
    if (pages.truncated) {
      this.warn(
        `http-json: stopped after maxPages=${this.c.maxPages} pages; ` +
          (this.c.cursorField === undefined
            ? 'later pages were not read (the next poll starts from the first page again; raise maxPages)'
            : 'the rest is left for the next poll (the API should sort ascending by the cursor and filter on {cursor}, or records beyond the last page read are missed)'),
      );
    }
    if (this.c.cursorField === undefined) {
      if (pages.count === 0) return { end: start, rows: [] };
      return { end: { ...start, poll: Number(start.poll ?? 0) + 1 }, rows: this.decode(pages.pages) };
    }
    return this.newerThanCursor(start, pages.pages, this.c.cursorField);
  }

  /** Incremental reads: only records whose cursor is past the committed one; the new cursor is their maximum. */
  private newerThanCursor(start: Offset, pages: readonly PageRecords[], field: string): Poll {
    // A checkpoint started without initialCursor gets it later too: the url and the filter agree.
    const committed = (start.cursor ?? this.c.initialCursor ?? null) as OffsetValue;
    let max: CursorValue | null = committed === null ? null : (committed as string | number);
    let missing = 0;
    const out: PageRecords[] = [];
    let kept = 0;
    const column = this.c.columns.findIndex((c) => c.name === field);
    let i = 0;
    for (const page of pages) {
      const keep: number[] = [];
      for (let r = 0; r < page.body.count; r++, i++) {
        // The cursor is the one value of a record the source compares itself: a JavaScript value.
        const v = page.body.value(r, column);
        if (v === null || v === undefined) {
          missing++;
          continue;
        }
        if (typeof v !== 'number' && typeof v !== 'string' && !(v instanceof JsonNumber)) {
          throw new ResponseShapeError(this.secrets.redact(`http-json: record ${i} of this poll has cursorField ${field} = ${this.show(v, 80)}; a cursor must be a number or text`));
        }
        if (committed !== null && compareCursor(v as CursorValue, committed as string | number) <= 0) {
          this.recordsSkipped++;
          continue;
        }
        keep.push(r);
        if (max === null || compareCursor(v, max) > 0) max = v as CursorValue;
      }
      out.push({ body: page.body, keep });
      kept += keep.length;
    }
    if (missing) this.warn(`http-json: ${missing} record(s) without a value for cursorField ${field} were skipped`);
    if (kept === 0) return { end: start, rows: [] };
    return { end: { ...start, cursor: max === null ? null : offsetCursor(max) }, rows: this.decode(out) };
  }

  /** The pages of one poll, as the pagination strategy leads from one to the next. */
  private async readPages(start: Offset, budget: RetryBudget): Promise<Pages> {
    const pagination = this.pagination(start);
    const pages: PageRecords[] = [];
    let count = 0;
    const seen = new Set<string>();
    let url = pagination.first();
    for (let number = 1; ; number++) {
      const response = await this.page(url, budget);
      const body = response.body as ScannedBody;
      const records = this.records(body, url, number);
      if (records) pages.push({ body });
      count += records;
      this.recordsRead += records;
      const valueAt = (p: readonly string[]) => body.extra(this.c.extras.indexOf(p as string[]));
      const next = pagination.next({ url, number, response, records, valueAt });
      if (next === undefined) return { pages, count, truncated: false };
      seen.add(url);
      if (seen.has(next)) {
        this.warn(`http-json: ${this.where(url, number)}: the next page is a page already read this poll; stopping there`);
        return { pages, count, truncated: false };
      }
      if (number >= this.c.maxPages) return { pages, count, truncated: true };
      url = next;
    }
  }

  private pagination(start: Offset): Pagination {
    const p = this.c.pagination;
    const ctx: PaginationContext = {
      url: (page) => this.buildUrl(start, page),
      shapeError: (page, what) => new ResponseShapeError(this.secrets.redact(`http-json: ${this.where(page.url, page.number)}: ${what}`)),
      describe: (v) => this.describeJson(v),
      preview: (text, max) => this.secrets.preview(text, max),
    };
    switch (p.mode) {
      case 'page':
        return new PagePagination(ctx, this.c.template, p.startPage, p.pageParam, p.pageSize);
      case 'next-url':
        return new NextUrlPagination(ctx, p.nextUrlPath);
      case 'cursor':
        return new CursorPagination(ctx, p.cursorParam!, p.nextCursorPath!);
      default:
        return new NoPagination(ctx);
    }
  }

  /**
   * The poll's records as Arrow record batches of the stream's schema: their column values go
   * through the NDJSON decoder (json-records.ts), so they become Arrow here, once, exactly as a
   * line of `tributary append --input` would (a value that would round into its column fails the
   * poll naming the row, before anything is logged). The engine logs these batches ahead as they are.
   */
  private decode(pages: readonly PageRecords[]): arrow.RecordBatch[] {
    const decoder = new JsonRecordsDecoder(this.schema, 'http-json');
    for (const { body, keep } of pages) {
      if (keep) for (const r of keep) decoder.pushSpans(body, r);
      else for (let r = 0; r < body.count; r++) decoder.pushSpans(body, r);
    }
    return decoder.end();
  }

  /** The url template with `{cursor}`, `{page}` and `${env:...}` filled in. */
  private buildUrl(start: Offset, page?: number): string {
    return this.c.template.replace(TEMPLATE_RE, (m, envName: string | undefined, ph: string | undefined) => {
      if (envName !== undefined) return this.c.env.get(envName.trim())!;
      if (ph === 'page') return String(page ?? this.c.pagination.startPage);
      if (ph === 'cursor') {
        const c = start.cursor ?? this.c.initialCursor ?? null;
        return c === null ? '' : encodeURIComponent(String(c));
      }
      return m;
    });
  }

  private where(url: string, page: number): string {
    let shown: string;
    try {
      const u = new URL(url);
      shown = `${u.origin}${u.pathname}`;
    } catch {
      shown = '<invalid url>';
    }
    return this.secrets.redact(`GET ${shown} (page ${page} of this poll)`);
  }

  /** A value from a response, for a message: JSON, redacted before it is cut. */
  private show(v: unknown, max: number): string {
    return this.secrets.preview(JSON.stringify(v) ?? String(v), max);
  }

  private describeJson(v: unknown): string {
    if (v === null) return 'null';
    if (Array.isArray(v)) return 'an array';
    if (typeof v === 'object') return 'an object';
    return `a ${typeof v} (${this.show(v, 60)})`;
  }

  private async page(url: string, budget: RetryBudget): Promise<JsonResponse> {
    try {
      new URL(url);
    } catch {
      throw new TributaryError('INVALID_ARGUMENT', this.secrets.redact(`source "http-json": ${JSON.stringify(url)} is not a valid absolute URL (option url)`));
    }
    const r = await this.get(url, this.c.headers, budget);
    this.pagesRead++;
    return r;
  }

  /** The number of records a page holds (at recordsPath). */
  private records(body: ScannedBody, url: string, page: number): number {
    if (body.found === 'array') return body.count;
    if (body.found !== 'other') {
      this.warn(`http-json: ${this.where(url, page)}: recordsPath ${JSON.stringify(this.c.recordsPathText)} found ${body.found === 'null' ? 'null' : 'nothing'} in the response; read as no records`);
      return 0;
    }
    const v = body.foundValue();
    throw new ResponseShapeError(this.secrets.redact(`http-json: ${this.where(url, page)}: recordsPath ${JSON.stringify(this.c.recordsPathText)} points to ${this.describeJson(v)}, not an array of records`));
  }
}

const ENV_RE = /\$\{env:([^}]+)\}/g;
const TEMPLATE_RE = /\$\{env:([^}]+)\}|\{(cursor|page)\}/g;

/** A cursor value: text, a number, or a JSON number kept as its digits. */
export type CursorValue = string | number | JsonNumber;

/**
 * Number vs number (or numeric text) numerically, exactly (a cursor of 20 digits must not
 * compare equal to its neighbour, as two doubles would); anything else as text.
 */
export function compareCursor(a: CursorValue, b: CursorValue): number {
  const isNum = (x: CursorValue) => typeof x === 'number' || x instanceof JsonNumber;
  if (isNum(a) || isNum(b)) {
    const x = exactDecimal(String(a));
    const y = exactDecimal(String(b));
    if (x && y) return compareExactDecimals(x, y);
  }
  const s = String(a);
  const t = String(b);
  return s < t ? -1 : s > t ? 1 : 0;
}

/** A cursor as the offset keeps it: a JSON number that would round is kept as its text. */
const offsetCursor = (v: CursorValue): string | number => (v instanceof JsonNumber ? v.text : v);

/** The url template as shown in progress: env references stay references; a userinfo password
 *  and key-like query values are masked. */
function maskTemplate(t: string): string {
  const keep = (v: string) => /^\$\{env:[^}]+\}$/.test(v);
  return t
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*:)([^/?#@]*)@/i, (_, k: string, v: string) => (keep(v) ? `${k}${v}@` : `${k}***@`))
    .replace(/([?&][^=&#]*(?:key|token|secret|password)[^=&#]*=)([^&#]*)/gi, (_, k: string, v: string) => (keep(v) ? k + v : `${k}***`));
}
