import type { JsonResponse } from '../../http/client.js';

/**
 * How http-json finds the pages of one poll: each mode is a small strategy that gives the first
 * page's URL and, from a page just read, the next one's (undefined when it was the last).
 */
export interface Pagination {
  first(): string;
  next(page: PageRead): string | undefined;
}

/** A page just read: where it came from, what came back, and the records it held. */
export interface PageRead {
  url: string;
  /** 1-based count of pages read in this poll. */
  number: number;
  response: JsonResponse;
  records: number;
  /**
   * The body's value at one of the pointers the reader was configured with (nextUrlPath,
   * nextCursorPath), as the exact parser gives it; undefined when there is none. The body is
   * read from its bytes, so only the values asked for up front become JavaScript values.
   */
  valueAt(pointer: readonly string[]): unknown;
}

/** What a strategy needs from the reader: the URL template, and errors in the source's words. */
export interface PaginationContext {
  /** The url template filled in (page number where it has `{page}`). */
  url(page?: number): string;
  /** A source error about the response of a page (redacted by the reader). */
  shapeError(page: PageRead, what: string): Error;
  describe(v: unknown): string;
  preview(text: string, max: number): string;
}

/** pagination=none: one response. */
export class NoPagination implements Pagination {
  constructor(private readonly ctx: PaginationContext) {}
  first(): string {
    return this.ctx.url();
  }
  next(): undefined {
    return undefined;
  }
}

/**
 * pagination=page: `{page}` in the url, or else the query parameter `pageParam`, from `startPage`
 * until an empty page; with `pageSize`, a shorter page is the last one too.
 */
export class PagePagination implements Pagination {
  private readonly inTemplate: boolean;
  constructor(
    private readonly ctx: PaginationContext,
    template: string,
    private readonly startPage: number,
    private readonly pageParam: string,
    private readonly pageSize: number | undefined,
  ) {
    this.inTemplate = /\{page\}/.test(template);
  }
  private urlOf(n: number): string {
    return this.inTemplate ? this.ctx.url(n) : setQueryParam(this.ctx.url(this.startPage), this.pageParam, String(n));
  }
  first(): string {
    return this.urlOf(this.startPage);
  }
  next(page: PageRead): string | undefined {
    if (page.records === 0 || (this.pageSize !== undefined && page.records < this.pageSize)) return undefined;
    return this.urlOf(this.startPage + page.number);
  }
}

/**
 * pagination=next-url: the next page's URL at `nextUrlPath` in the body (relative URLs resolved
 * against the current one), or else the `Link: <...>; rel="next"` header.
 */
export class NextUrlPagination implements Pagination {
  constructor(
    private readonly ctx: PaginationContext,
    private readonly nextUrlPath: string[] | undefined,
  ) {}
  first(): string {
    return this.ctx.url();
  }
  next(page: PageRead): string | undefined {
    const v = this.nextUrlPath ? page.valueAt(this.nextUrlPath) : linkNext(page.response.headers.link);
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') throw this.ctx.shapeError(page, `nextUrlPath points to ${this.ctx.describe(v)}, not a URL`);
    try {
      return new URL(v, page.url).toString();
    } catch {
      throw this.ctx.shapeError(page, `the next-page URL ${JSON.stringify(this.ctx.preview(v, 200))} is not a URL`);
    }
  }
}

/**
 * pagination=cursor: the page cursor at `nextCursorPath` in the body, sent as the query parameter
 * `cursorParam`, until it is null, absent or "".
 */
export class CursorPagination implements Pagination {
  constructor(
    private readonly ctx: PaginationContext,
    private readonly cursorParam: string,
    private readonly nextCursorPath: string[],
  ) {}
  first(): string {
    return this.ctx.url();
  }
  next(page: PageRead): string | undefined {
    const v = page.valueAt(this.nextCursorPath);
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string' && typeof v !== 'number') throw this.ctx.shapeError(page, `nextCursorPath points to ${this.ctx.describe(v)}, not a cursor`);
    return setQueryParam(this.ctx.url(), this.cursorParam, String(v));
  }
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
