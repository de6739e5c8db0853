import { TributaryError } from '../errors.js';
import type { Row } from '../arrow/record-batch.js';
import { HttpError, type HttpClient, type JsonResponse, type RetryBudget } from '../http/client.js';
import type { Secrets } from '../redact.js';
import { canonicalOffset, type Offset, offsetsEqual } from './offset.js';
import type { DataSourceStreamReader, ReadLimit } from './source.js';

/**
 * A response that arrived whole and parsed, but has the wrong shape for the source (an object
 * where records were expected, a price that is not a number): a source failure like an HTTP one,
 * so the onError policy applies, and retrying the next trigger may help.
 */
export class ResponseShapeError extends TributaryError {
  constructor(message: string) {
    super('SOURCE_ERROR', message);
    this.name = 'ResponseShapeError';
  }
}

/** What a failed poll does: end the query, run no batch (the offset stays), or a batch of null rows. */
export type OnError = 'fail' | 'skip-batch' | 'null-rows';

export interface PollingReaderOptions {
  /** The source's name in warnings ("coingecko", "http-json"). */
  label: string;
  http: HttpClient;
  secrets: Secrets;
  onError: OnError;
  /** Retries shared by every call of one poll. */
  retryBudget: number;
}

/** One poll's result: the rows and the offset they end at (`start` itself: nothing new). */
export interface Poll {
  end: Offset;
  rows: Row[];
}

/**
 * The skeleton of a source over an HTTP API that cannot answer for the past (a current price, a
 * queue): latestOffset polls, keeps the rows for the offset it returns, and read() hands exactly
 * those to the engine, which writes them ahead before the batch runs (the source is
 * non-replayable). Written once here: the retry budget per poll, the onError policy, warnings
 * (redacted), metrics, availableNow. A source supplies `initialOffset` and `poll`.
 */
export abstract class PollingReader implements DataSourceStreamReader {
  private cached: { key: string; rows: Row[] } | undefined;
  private warnings: string[] = [];
  private calls = 0;
  private retries = 0;
  /** Answers by HTTP status ("error" when none came: a timeout or a reset), for the metrics. */
  private readonly statuses = new Map<string, number>();
  private bytes = 0;
  private budgetLeft: number | undefined;
  /** availableNow: 'open' from the trigger's start; a source sets 'done' when nothing is left. */
  protected availableNow: 'off' | 'open' | 'done' = 'off';

  constructor(protected readonly polling: PollingReaderOptions) {}

  abstract initialOffset(): Offset;

  /** One poll from `start`. Throw HttpError or ResponseShapeError for what onError handles. */
  protected abstract poll(start: Offset, budget: RetryBudget, limit: ReadLimit): Promise<Poll>;

  /** The batch that stands for a failed poll under onError=null-rows (none by default). */
  protected nullRows(start: Offset): Poll {
    return { end: start, rows: [] };
  }

  /** Source metrics beside the HTTP ones, for progress. */
  protected extraMetrics(): Record<string, string> {
    return {};
  }

  /** availableNow: everything available at the start is one poll unless a source says otherwise. */
  prepareForTriggerAvailableNow(_start: Offset): void {
    this.availableNow = 'open';
  }

  async latestOffset(start: Offset, limit: ReadLimit): Promise<Offset> {
    if (this.availableNow === 'done') return start;
    const budget: RetryBudget = { remaining: this.polling.retryBudget };
    let result: Poll;
    try {
      result = await this.poll(start, budget, limit);
      this.budgetLeft = budget.remaining;
    } catch (e) {
      this.budgetLeft = budget.remaining;
      if (this.availableNow === 'open') this.availableNow = 'done';
      const sourceFailure = e instanceof HttpError || e instanceof ResponseShapeError || (e instanceof TributaryError && e.code === 'SOURCE_ERROR');
      if (!sourceFailure || this.polling.onError === 'fail') throw e;
      const what = this.polling.onError === 'skip-batch' ? `the offset stays at ${canonicalOffset(start)} and the next trigger tries again` : 'a batch of null rows stands for it';
      this.warn(`${this.polling.onError}: ${(e as Error).message}; ${what}`);
      if (this.polling.onError === 'skip-batch') return start;
      result = this.nullRows(start);
    }
    if (this.availableNow === 'open' && !this.morePolls(result)) this.availableNow = 'done';
    if (offsetsEqual(result.end, start)) return start;
    this.cached = { key: canonicalOffset(result.end), rows: result.rows };
    return result.end;
  }

  /** availableNow: whether another poll may find more of what was there at the start (no by default). */
  protected morePolls(_result: Poll): boolean {
    return false;
  }

  read(_start: Offset, end: Offset): Row[] {
    const key = canonicalOffset(end);
    if (!this.cached || this.cached.key !== key) {
      throw new TributaryError('SOURCE_ERROR', `${this.polling.label}: no poll cached for offset ${key} (a non-replayable source is read only while planning)`);
    }
    const rows = this.cached.rows;
    this.cached = undefined;
    return rows;
  }

  drainWarnings(): string[] {
    const w = this.warnings;
    this.warnings = [];
    return w;
  }

  /**
   * Counts since the reader opened (Spark's source metrics are strings): calls, retries, answers
   * by status (`httpStatus.429`), response bytes, and the retry budget the last poll left.
   */
  metrics(): Record<string, string> {
    const m: Record<string, string> = { httpCalls: String(this.calls), httpRetries: String(this.retries), httpBytes: String(this.bytes) };
    for (const [status, n] of this.statuses) m[`httpStatus.${status}`] = String(n);
    if (this.budgetLeft !== undefined) m.retryBudgetLeft = String(this.budgetLeft);
    return { ...m, ...this.extraMetrics() };
  }

  async stop(): Promise<void> {
    await this.polling.http.close();
  }

  protected warn(msg: string): void {
    this.warnings.push(this.polling.secrets.redact(msg));
  }

  /** One GET through the client, counted, drawing retries from the poll's budget. */
  protected async get<T = unknown>(url: string, headers: Record<string, string>, budget: RetryBudget): Promise<JsonResponse<T>> {
    this.calls++;
    return this.polling.http.getJson<T>(url, headers, budget, {
      onRetry: () => this.retries++,
      onResponse: ({ status, bytes }) => {
        const key = status === undefined ? 'error' : String(status);
        this.statuses.set(key, (this.statuses.get(key) ?? 0) + 1);
        this.bytes += bytes;
      },
    });
  }
}
