import { Agent, errors as undiciErrors, request } from 'undici';
import { TributaryError } from '../errors.js';
import { JsonSyntaxError } from '../json/exact-parse.js';
import { bomLength, firstInvalidUtf8, isValidUtf8 } from '../json/utf8.js';
import { Secrets } from '../redact.js';
import { VERSION } from '../version.js';
import { type Clock, SYSTEM_CLOCK, TokenBucket } from './pacer.js';
import { backoffMs, parseRetryAfter } from './retry-after.js';

export interface HttpClientOptions {
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  maxRetries?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Calls per minute (client-side pacing); undefined = unpaced. */
  callsPerMinute?: number;
  /** Values never to print (API keys): replaced by "***", in any encoding, in every message. */
  secrets?: Secrets | string[];
  userAgent?: string;
  random?: () => number;
  /** Time for pacing and backoff waits (tests use a virtual clock). */
  clock?: Clock;
  /**
   * Decodes a body's bytes (valid UTF-8 from `start`, after any byte order mark) instead of
   * JSON.parse; throws a JsonSyntaxError (the exact parser's) for a body that is not JSON, which
   * is then retried as one. For sources that read their records from the bytes (http-json).
   */
  decodeBody?: (raw: Buffer, start: number) => unknown;
}

export interface RetryBudget {
  /** Retries left for the current batch; shared by every call the batch makes. */
  remaining: number;
}

export interface JsonResponse<T = unknown> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
  attempts: number;
}

export interface HttpEvents {
  onRetry?(e: { attempt: number; delayMs: number; reason: string; retryAfterMs?: number }): void;
  /** Every attempt's answer: its HTTP status (undefined when no response came) and body bytes. */
  onResponse?(e: { status: number | undefined; bytes: number }): void;
}

/** Failure of an HTTP call after retries, or a non-retryable answer. */
export class HttpError extends TributaryError {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
  ) {
    super('SOURCE_ERROR', message, { status });
  }
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/**
 * One keep-alive undici Agent with connect/headers/body timeouts, and a retry loop around it.
 * The loop is ours rather than undici's RetryAgent because it must also retry bodies that arrive
 * truncated or malformed, use full jitter, treat Retry-After 0 as no hint, and draw on a retry
 * budget shared by the whole batch.
 */
export class HttpClient {
  private readonly agent: Agent;
  private readonly pacer: TokenBucket | undefined;
  private readonly clock: Clock;
  private readonly opts: Required<Omit<HttpClientOptions, 'callsPerMinute' | 'secrets' | 'random' | 'clock' | 'decodeBody'>> & Pick<HttpClientOptions, 'random' | 'decodeBody'>;
  readonly secrets: Secrets;

  constructor(options: HttpClientOptions = {}) {
    this.opts = {
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      headersTimeoutMs: options.headersTimeoutMs ?? 30_000,
      bodyTimeoutMs: options.bodyTimeoutMs ?? 30_000,
      maxRetries: options.maxRetries ?? 4,
      backoffBaseMs: options.backoffBaseMs ?? 500,
      backoffCapMs: options.backoffCapMs ?? 30_000,
      userAgent: options.userAgent ?? `tributary/${VERSION}`,
      random: options.random,
      decodeBody: options.decodeBody,
    };
    this.secrets = options.secrets instanceof Secrets ? options.secrets : new Secrets(options.secrets);
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      connect: { timeout: this.opts.connectTimeoutMs },
      headersTimeout: this.opts.headersTimeoutMs,
      bodyTimeout: this.opts.bodyTimeoutMs,
    });
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.pacer = options.callsPerMinute ? new TokenBucket(options.callsPerMinute, 1, this.clock) : undefined;
  }

  redact(s: string): string {
    return this.secrets.redact(s);
  }

  /** The start of a response body for a message: redacted before it is cut, then quoted. */
  private preview(text: string, max: number): string {
    return JSON.stringify(this.secrets.preview(text, max));
  }

  /** GET a JSON document, retrying transient failures within the budget. */
  async getJson<T = unknown>(url: string, headers: Record<string, string> = {}, budget?: RetryBudget, events?: HttpEvents): Promise<JsonResponse<T>> {
    let attempt = 0;
    for (;;) {
      await this.pacer?.take();
      let failure: { reason: string; status?: number; retryable: boolean; retryAfterMs?: number };
      try {
        const res = await request(url, { method: 'GET', dispatcher: this.agent, headers: { accept: 'application/json', 'user-agent': this.opts.userAgent, ...headers } });
        // Bytes first: a decoder would turn invalid UTF-8 into U+FFFD without a word.
        const raw = Buffer.from(await res.body.arrayBuffer());
        events?.onResponse?.({ status: res.statusCode, bytes: raw.length });
        const bom = bomLength(raw);
        const utf8 = isValidUtf8(raw, bom);
        // The text only when something reads it: a body decoded from its bytes needs none.
        let decoded: string | undefined;
        const bodyText = () => (decoded ??= raw.toString('utf8', bom));
        const ctype = String(res.headers['content-type'] ?? '');
        if (res.statusCode >= 200 && res.statusCode < 300 && !utf8) {
          const at = firstInvalidUtf8(raw, bom);
          failure = { reason: `${describe(url, this)} answered ${res.statusCode} with a body that is not valid UTF-8 (byte 0x${raw[bom + at].toString(16).toUpperCase().padStart(2, '0')} at byte ${bom + at + 1} of ${raw.length})`, status: res.statusCode, retryable: true };
        } else if (res.statusCode >= 200 && res.statusCode < 300) {
          try {
            const decode = this.opts.decodeBody;
            const body = (decode ? decode(raw, bom) : JSON.parse(bodyText())) as T;
            return { status: res.statusCode, body, headers: res.headers, attempts: attempt + 1 };
          } catch (e) {
            failure = { reason: `${describe(url, this)} answered ${res.statusCode} with a body that is not valid JSON (${jsonErrorSummary(e)}; ${bodyText().length} bytes, starts ${this.preview(bodyText(), 80)})`, status: res.statusCode, retryable: true };
          }
        } else {
          const text = bodyText();
          const isJson = /json/i.test(ctype) && isParsable(text);
          const preview = this.preview(text, 200);
          const what = isJson ? `error body ${preview}` : `a non-JSON error body (${ctype || 'no content-type'}, ${/<html|<!doctype/i.test(text) ? 'an HTML page, probably from a CDN or proxy' : 'not JSON'}) starting ${preview}`;
          failure = {
            reason: `${describe(url, this)} answered HTTP ${res.statusCode} with ${what}`,
            status: res.statusCode,
            retryable: RETRY_STATUS.has(res.statusCode),
            retryAfterMs: parseRetryAfter(res.headers['retry-after']),
          };
        }
      } catch (e) {
        events?.onResponse?.({ status: undefined, bytes: 0 });
        failure = { reason: `${describe(url, this)} failed: ${networkReason(e)}`, retryable: true };
      }
      const reason = this.redact(failure.reason);
      const canRetry = failure.retryable && attempt < this.opts.maxRetries && (!budget || budget.remaining > 0);
      if (!canRetry) {
        const why = !failure.retryable ? '' : budget && budget.remaining <= 0 ? ' (retry budget for this batch used up)' : ` (after ${attempt + 1} attempts)`;
        throw new HttpError(`${reason}${why}`, failure.status, failure.retryable);
      }
      if (budget) budget.remaining--;
      const delayMs = failure.retryAfterMs ?? backoffMs(attempt, this.opts.backoffBaseMs, this.opts.backoffCapMs, this.opts.random);
      events?.onRetry?.({ attempt: attempt + 1, delayMs, reason, retryAfterMs: failure.retryAfterMs });
      await this.clock.sleep(delayMs);
      attempt++;
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

function isParsable(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * JSON.parse's message without the piece of the body V8 quotes in it (`Unexpected token 'k',
 * ..."e": "abcd"... is not valid JSON`): that piece is cut at both ends where V8 likes, so a key
 * in it could show partly; the message shows the body's start, redacted, instead.
 */
function jsonErrorSummary(e: unknown): string {
  // Our parser's messages quote at most a short key, never the body around it.
  if (e instanceof JsonSyntaxError) return e.message;
  const msg = (e as Error)?.message ?? String(e);
  const quote = msg.search(/,?\s*(?:\.\.\.)?"/);
  return quote >= 0 ? msg.slice(0, quote).trimEnd() : msg;
}

/** The request as messages show it: no query string and no userinfo (origin has none); a key
 *  in the path is redacted in the form `new URL` gave it. */
function describe(url: string, c: HttpClient): string {
  const u = new URL(url);
  return c.redact(`GET ${u.origin}${u.pathname}`);
}

function networkReason(e: unknown): string {
  if (e instanceof undiciErrors.HeadersTimeoutError) return 'timed out waiting for response headers';
  if (e instanceof undiciErrors.BodyTimeoutError) return 'timed out reading the response body';
  if (e instanceof undiciErrors.ConnectTimeoutError) return 'timed out connecting';
  const err = e as NodeJS.ErrnoException & { cause?: { code?: string } };
  const code = err.code ?? err.cause?.code;
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') return 'the connection closed before the body was complete (truncated response)';
  return `${code ?? ''} ${err.message}`.trim();
}
