import { TributaryError } from '../../errors.js';
import { compareExactDecimals, exactDecimal } from '../../arrow/coerce.js';
import { JsonNumber } from '../../json/json-number.js';
import type { Row } from '../../arrow/record-batch.js';
import type { StructType } from '../../schema/schema.js';
import { HttpClient, HttpError, type JsonResponse, type RetryBudget } from '../../http/client.js';
import { credentialsInHeader, credentialsInUrl, type Secrets } from '../../redact.js';
import { canonicalOffset, type Offset, type OffsetValue } from '../offset.js';
import { MAX_TIMER_MS, Options } from '../options.js';
import { DataSource, type DataSourceStreamReader, type ReadLimit } from '../source.js';

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
 *                    absent values are null. Values then go through the engine's normal row coercion
 *                    (ISO-8601 text or epoch milliseconds for TIMESTAMP, numbers or numeric text for
 *                    numbers, objects for STRUCT/MAP...), so a mismatch fails the batch naming the row.
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
 * The source is non-replayable: latestOffset() makes the HTTP calls and keeps the rows for the
 * offset it returns; read() hands exactly those rows to the engine, which logs them ahead of the
 * batch. Read limits (maxRowsPerBatch) are not applied: a poll is one batch. Under an availableNow
 * trigger a run polls once, and polls again only while the previous poll stopped at maxPages (and
 * found new records). Numbers beyond 2^53 lose precision in JSON.parse: serve them as strings.
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

type Pagination = 'none' | 'next-url' | 'page' | 'cursor';
const PAGINATIONS: readonly Pagination[] = ['none', 'next-url', 'page', 'cursor'];

interface PollResult {
  records: unknown[];
  pages: number;
  truncated: boolean;
}

class HttpJsonReader implements DataSourceStreamReader {
  private readonly template: string;
  private readonly env = new Map<string, string>();
  private readonly headers: Record<string, string> = {};
  private readonly http: HttpClient;
  private readonly pagination: Pagination;
  private readonly recordsPath: string[];
  private readonly recordsPathText: string;
  private readonly columns: { name: string; pointer?: string[] }[];
  private readonly cursorField: string | undefined;
  private readonly initialCursor: string | undefined;
  private readonly maxPages: number;
  private readonly startPage: number;
  private readonly pageParam: string;
  private readonly pageSize: number | undefined;
  private readonly nextUrlPath: string[] | undefined;
  private readonly cursorParam: string | undefined;
  private readonly nextCursorPath: string[] | undefined;
  private readonly onError: 'fail' | 'skip-batch';
  private readonly retryBudget: number;
  private readonly cache = new Map<string, Row[]>();
  private warnings: string[] = [];
  private calls = 0;
  private retries = 0;
  private pagesRead = 0;
  private recordsRead = 0;
  private recordsSkipped = 0;
  private availableNow: 'off' | 'open' | 'done' = 'off';

  constructor(
    o: Options,
    raw: Readonly<Record<string, string>>,
    schema: StructType,
    private readonly secrets: Secrets,
  ) {
    this.template = o.required('url');
    // Environment references, resolved once; their values are secrets, registered as soon as
    // they are read so that every message from here on is redacted.
    for (const c of credentialsInUrl(this.template)) secrets.add(c);
    const refs = [this.template, ...Object.entries(raw).filter(([k]) => k.startsWith('header.')).map(([, v]) => v)];
    for (const text of refs) {
      for (const m of text.matchAll(ENV_RE)) {
        const name = m[1].trim();
        const v = process.env[name];
        if (v === undefined) throw new TributaryError('INVALID_ARGUMENT', `source "http-json": environment variable ${name} (referenced as \${env:${name}}) is not set`);
        this.env.set(name, v);
        secrets.add(v);
      }
    }
    for (const [k, v] of Object.entries(raw)) {
      if (!k.startsWith('header.')) continue;
      const name = k.slice('header.'.length);
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new TributaryError('INVALID_ARGUMENT', `source "http-json": option ${k}: "${name}" is not a valid header name`);
      this.headers[name] = v.replace(ENV_RE, (_, n: string) => this.env.get(n.trim())!);
      for (const c of credentialsInHeader(name, this.headers[name])) secrets.add(c);
    }

    const p = o.string('pagination', 'none')!;
    if (!(PAGINATIONS as readonly string[]).includes(p)) throw new TributaryError('INVALID_ARGUMENT', `source "http-json": option pagination must be ${PAGINATIONS.join(', ')}; got "${p}"`);
    this.pagination = p as Pagination;
    this.recordsPathText = o.string('recordsPath', '')!;
    this.recordsPath = parsePointer(this.recordsPathText, 'recordsPath');
    this.maxPages = o.number('maxPages', 100, { min: 1, integer: true })!;
    this.startPage = o.number('startPage', 1, { integer: true })!;
    this.pageParam = o.string('pageParam', 'page')!;
    this.pageSize = o.number('pageSize', undefined, { min: 1, integer: true });
    const nextUrlPath = o.string('nextUrlPath');
    this.nextUrlPath = nextUrlPath === undefined ? undefined : parsePointer(nextUrlPath, 'nextUrlPath');
    if (this.pagination === 'cursor') {
      this.cursorParam = o.required('cursorParam');
      this.nextCursorPath = parsePointer(o.required('nextCursorPath'), 'nextCursorPath');
    }
    if (this.pagination !== 'page' && /\{page\}/.test(this.template)) {
      throw new TributaryError('INVALID_ARGUMENT', `source "http-json": the url has {page} but pagination is "${this.pagination}" (use pagination=page)`);
    }

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
    this.columns = schema.fields.map((f) => ({ name: f.name, pointer: mapped.get(f.name) }));

    this.cursorField = o.string('cursorField');
    if (this.cursorField !== undefined && !names.has(this.cursorField)) {
      throw new TributaryError('INVALID_ARGUMENT', `source "http-json": option cursorField "${this.cursorField}" is not a column of the schema (${[...names].join(', ')})`);
    }
    this.initialCursor = o.string('initialCursor');
    if (this.cursorField === undefined && /\{cursor\}/.test(this.template)) {
      throw new TributaryError('INVALID_ARGUMENT', 'source "http-json": the url has {cursor} but no option cursorField says which column the cursor is');
    }

    const onError = o.string('onError', 'fail');
    if (onError !== 'fail' && onError !== 'skip-batch') throw new TributaryError('INVALID_ARGUMENT', `source "http-json": option onError must be fail or skip-batch; got "${onError}"`);
    this.onError = onError;
    this.retryBudget = o.number('retryBudget', 10, { min: 0, integer: true })!;
    const timeoutMs = o.number('timeoutMs', 30_000, { min: 1, max: MAX_TIMER_MS })!;
    const callsPerMinute = o.number('callsPerMinute', 60, { min: 0 })!;
    this.http = new HttpClient({
      exactNumbers: true,
      callsPerMinute: callsPerMinute > 0 ? callsPerMinute : undefined,
      maxRetries: o.number('maxRetries', 4, { min: 0, integer: true }),
      headersTimeoutMs: timeoutMs,
      bodyTimeoutMs: timeoutMs,
      backoffBaseMs: o.number('backoffBaseMs', 500, { min: 0, max: MAX_TIMER_MS }),
      backoffCapMs: o.number('backoffCapMs', 30_000, { min: 0, max: MAX_TIMER_MS }),
      secrets,
    });
  }

  initialOffset(): Offset {
    if (this.cursorField === undefined) return { poll: 0 };
    return { cursor: this.initialCursor ?? null };
  }

  drainWarnings(): string[] {
    const w = this.warnings;
    this.warnings = [];
    return w;
  }

  metrics(): Record<string, string> {
    return {
      httpCalls: String(this.calls),
      httpRetries: String(this.retries),
      pages: String(this.pagesRead),
      records: String(this.recordsRead),
      recordsAlreadySeen: String(this.recordsSkipped),
    };
  }

  prepareForTriggerAvailableNow(_start: Offset): void {
    this.availableNow = 'open';
  }

  private warn(msg: string) {
    this.warnings.push(this.secrets.redact(msg));
  }

  /** A SOURCE_ERROR whose message is redacted (it may quote the response). */
  private sourceError(msg: string): TributaryError {
    return new TributaryError('SOURCE_ERROR', this.secrets.redact(msg));
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

  /** One poll: every page it can read now; the rows are kept for the offset returned. */
  async latestOffset(start: Offset, _limit: ReadLimit): Promise<Offset> {
    if (this.availableNow === 'done') return start;
    const budget: RetryBudget = { remaining: this.retryBudget };
    let poll: PollResult;
    try {
      poll = await this.poll(start, budget);
    } catch (e) {
      if (this.availableNow === 'open') this.availableNow = 'done';
      const sourceError = e instanceof HttpError || (e instanceof TributaryError && e.code === 'SOURCE_ERROR');
      if (!sourceError || this.onError === 'fail') throw e;
      this.warn(`http-json skip-batch: ${(e as Error).message}; the offset stays at ${canonicalOffset(start)} and the next trigger tries again`);
      return start;
    }
    if (poll.truncated) {
      this.warn(
        `http-json: stopped after maxPages=${this.maxPages} pages; ` +
          (this.cursorField === undefined
            ? 'later pages were not read (the next poll starts from the first page again; raise maxPages)'
            : 'the rest is left for the next poll (the API should sort ascending by the cursor and filter on {cursor}, or records beyond the last page read are missed)'),
      );
    }
    // availableNow: poll again only while a poll stopped at maxPages (an incremental source then
    // continues from its new cursor); a source without cursor polls once.
    if (this.availableNow === 'open' && (!poll.truncated || this.cursorField === undefined)) this.availableNow = 'done';

    const rows = poll.records.map((r) => this.toRow(r));
    let end: Offset;
    let out: Row[];
    if (this.cursorField === undefined) {
      if (rows.length === 0) return start;
      end = { ...start, poll: Number(start.poll ?? 0) + 1 };
      out = rows;
    } else {
      const field = this.cursorField;
      // A checkpoint started without initialCursor gets it later too: the url and the filter agree.
      const committed = (start.cursor ?? this.initialCursor ?? null) as OffsetValue;
      let max: CursorValue | null = committed === null ? null : (committed as string | number);
      let missing = 0;
      out = [];
      for (let i = 0; i < rows.length; i++) {
        const v = rows[i][field];
        if (v === null || v === undefined) {
          missing++;
          continue;
        }
        if (typeof v !== 'number' && typeof v !== 'string' && !(v instanceof JsonNumber)) {
          throw this.sourceError(`http-json: record ${i} of this poll has cursorField ${field} = ${this.show(v, 80)}; a cursor must be a number or text`);
        }
        if (committed !== null && compareCursor(v as CursorValue, committed as string | number) <= 0) {
          this.recordsSkipped++;
          continue;
        }
        out.push(rows[i]);
        if (max === null || compareCursor(v, max) > 0) max = v as CursorValue;
      }
      if (missing) this.warn(`http-json: ${missing} record(s) without a value for cursorField ${field} were skipped`);
      if (out.length === 0) return start;
      end = { ...start, cursor: max === null ? null : offsetCursor(max) };
    }
    this.cache.clear();
    this.cache.set(canonicalOffset(end), out);
    return end;
  }

  read(_start: Offset, end: Offset): Row[] {
    const rows = this.cache.get(canonicalOffset(end));
    if (!rows) throw new TributaryError('SOURCE_ERROR', `http-json: no poll cached for offset ${canonicalOffset(end)} (a non-replayable source is read only while planning)`);
    this.cache.delete(canonicalOffset(end));
    return rows;
  }

  async stop(): Promise<void> {
    await this.http.close();
  }

  private toRow(record: unknown): Row {
    const row: Row = {};
    for (const c of this.columns) {
      const v = c.pointer ? resolvePointer(record, c.pointer) : ownProperty(record, c.name);
      row[c.name] = v === undefined ? null : v;
    }
    return row;
  }

  /** The url template with `{cursor}`, `{page}` and `${env:...}` filled in. */
  private buildUrl(start: Offset, page?: number): string {
    return this.template.replace(TEMPLATE_RE, (m, envName: string | undefined, ph: string | undefined) => {
      if (envName !== undefined) return this.env.get(envName.trim())!;
      if (ph === 'page') return String(page ?? this.startPage);
      if (ph === 'cursor') {
        const c = start.cursor ?? this.initialCursor ?? null;
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

  private async get(url: string, budget: RetryBudget): Promise<JsonResponse> {
    try {
      new URL(url);
    } catch {
      throw new TributaryError('INVALID_ARGUMENT', this.secrets.redact(`source "http-json": ${JSON.stringify(url)} is not a valid absolute URL (option url)`));
    }
    this.calls++;
    const r = await this.http.getJson(url, this.headers, budget, { onRetry: () => this.retries++ });
    this.pagesRead++;
    return r;
  }

  private records(body: unknown, url: string, page: number): unknown[] {
    const v = resolvePointer(body, this.recordsPath);
    if (Array.isArray(v)) return v;
    if (v === undefined || v === null) {
      this.warn(`http-json: ${this.where(url, page)}: recordsPath ${JSON.stringify(this.recordsPathText)} found ${v === null ? 'null' : 'nothing'} in the response; read as no records`);
      return [];
    }
    throw this.sourceError(`http-json: ${this.where(url, page)}: recordsPath ${JSON.stringify(this.recordsPathText)} points to ${this.describeJson(v)}, not an array of records`);
  }

  private async poll(start: Offset, budget: RetryBudget): Promise<PollResult> {
    const records: unknown[] = [];
    const first = this.buildUrl(start, this.startPage);
    const pageInQuery = this.pagination === 'page' && !/\{page\}/.test(this.template);
    let url = pageInQuery ? setQueryParam(first, this.pageParam, String(this.startPage)) : first;
    let pages = 0;
    const seen = new Set<string>();
    for (;;) {
      pages++;
      const res = await this.get(url, budget);
      const batch = this.records(res.body, url, pages);
      for (const r of batch) records.push(r);
      this.recordsRead += batch.length;

      // Where the next page is, if there is one.
      let next: string | undefined;
      if (this.pagination === 'page') {
        if (batch.length === 0 || (this.pageSize !== undefined && batch.length < this.pageSize)) break;
        const n = this.startPage + pages;
        next = pageInQuery ? setQueryParam(first, this.pageParam, String(n)) : this.buildUrl(start, n);
      } else if (this.pagination === 'next-url') {
        const v = this.nextUrlPath ? resolvePointer(res.body, this.nextUrlPath) : linkNext(res.headers.link);
        if (v === undefined || v === null || v === '') break;
        if (typeof v !== 'string') throw this.sourceError(`http-json: ${this.where(url, pages)}: nextUrlPath points to ${this.describeJson(v)}, not a URL`);
        try {
          next = new URL(v, url).toString();
        } catch {
          throw this.sourceError(`http-json: ${this.where(url, pages)}: the next-page URL ${JSON.stringify(this.secrets.preview(v, 200))} is not a URL`);
        }
      } else if (this.pagination === 'cursor') {
        const v = resolvePointer(res.body, this.nextCursorPath!);
        if (v === undefined || v === null || v === '') break;
        if (typeof v !== 'string' && typeof v !== 'number') throw this.sourceError(`http-json: ${this.where(url, pages)}: nextCursorPath points to ${this.describeJson(v)}, not a cursor`);
        next = setQueryParam(first, this.cursorParam!, String(v));
      } else {
        break;
      }
      seen.add(url);
      if (seen.has(next)) {
        this.warn(`http-json: ${this.where(url, pages)}: the next page is a page already read this poll; stopping there`);
        break;
      }
      if (pages >= this.maxPages) return { records, pages, truncated: true };
      url = next;
    }
    return { records, pages, truncated: false };
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

/** RFC 6901: "" is the whole document; otherwise "/"-separated tokens with ~1 = "/" and ~0 = "~".
 *  The URI-fragment form ("#/a/b", percent-encoded) is accepted too. */
export function parsePointer(text: string, option: string): string[] {
  let p = text;
  if (p.startsWith('#')) {
    try {
      p = decodeURIComponent(p.slice(1));
    } catch {
      throw new TributaryError('INVALID_ARGUMENT', `source "http-json": option ${option}=${JSON.stringify(text)} is not a valid JSON pointer (bad percent-encoding)`);
    }
  }
  if (p === '') return [];
  if (!p.startsWith('/')) {
    throw new TributaryError('INVALID_ARGUMENT', `source "http-json": option ${option}=${JSON.stringify(text)} is not a JSON pointer: it must be "" or start with "/" (e.g. "/data/items")`);
  }
  return p
    .slice(1)
    .split('/')
    .map((t) => {
      if (/~[^01]|~$/.test(t)) throw new TributaryError('INVALID_ARGUMENT', `source "http-json": option ${option}=${JSON.stringify(text)} has "~" not followed by 0 or 1 (write ~0 for "~" and ~1 for "/")`);
      return t.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

/** The value a parsed pointer refers to, or undefined when there is none. */
export function resolvePointer(doc: unknown, tokens: readonly string[]): unknown {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9]\d*)$/.test(t)) return undefined;
      const i = Number(t);
      if (i >= cur.length) return undefined;
      cur = cur[i];
    } else if (cur !== null && typeof cur === 'object') {
      cur = ownProperty(cur, t);
      if (cur === undefined) return undefined;
    } else {
      return undefined;
    }
  }
  return cur;
}

function ownProperty(v: unknown, key: string): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  return Object.prototype.hasOwnProperty.call(v, key) ? (v as Record<string, unknown>)[key] : undefined;
}

/** The rel="next" target of a Link header (RFC 8288), if any. */
export function linkNext(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join(', ') : header;
  for (const m of text.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    for (const param of m[2].split(';')) {
      const pm = /^\s*rel\s*=\s*"?([^"]*)"?\s*$/i.exec(param);
      if (pm && pm[1].toLowerCase().split(/\s+/).includes('next')) return m[1];
    }
  }
  return undefined;
}

/** Sets one query parameter, leaving the rest of the URL byte for byte as it was. */
export function setQueryParam(url: string, name: string, value: string): string {
  const hashAt = url.indexOf('#');
  const hash = hashAt >= 0 ? url.slice(hashAt) : '';
  const base = hashAt >= 0 ? url.slice(0, hashAt) : url;
  const q = base.indexOf('?');
  const path = q >= 0 ? base.slice(0, q) : base;
  const query = q >= 0 ? base.slice(q + 1) : '';
  const enc = encodeURIComponent(name);
  const parts = query === '' ? [] : query.split('&').filter((p) => {
    const k = p.split('=')[0];
    let key = k;
    try {
      key = decodeURIComponent(k.replace(/\+/g, ' '));
    } catch {
      // keep the raw key
    }
    return key !== name;
  });
  parts.push(`${enc}=${encodeURIComponent(value)}`);
  return `${path}?${parts.join('&')}${hash}`;
}

/** The url template as shown in progress: env references stay references; a userinfo password
 *  and key-like query values are masked. */
function maskTemplate(t: string): string {
  const keep = (v: string) => /^\$\{env:[^}]+\}$/.test(v);
  return t
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*:)([^/?#@]*)@/i, (_, k: string, v: string) => (keep(v) ? `${k}${v}@` : `${k}***@`))
    .replace(/([?&][^=&#]*(?:key|token|secret|password)[^=&#]*=)([^&#]*)/gi, (_, k: string, v: string) => (keep(v) ? k + v : `${k}***`));
}
