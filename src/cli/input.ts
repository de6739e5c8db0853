import { createReadStream } from 'node:fs';
import { TributaryError } from '../errors.js';
import type { Row } from '../arrow/record-batch.js';
import { JsonSyntaxError, parseJsonExact } from '../json/exact-parse.js';
import { bomLength, firstInvalidUtf8, isValidUtf8 } from '../json/utf8.js';
import { escapeInvisible } from '../errors.js';

export interface NdjsonInput {
  rows: Row[];
  /** 1-based input line of each row, to point errors at the line a user can open. */
  lines: number[];
  name: string;
}

export interface NdjsonOptions {
  /** Invalid UTF-8: refuse the input naming the line (default), or store U+FFFD for the bad bytes. */
  invalidUtf8?: 'error' | 'replace';
  /** Called after each chunk read: the bytes read so far and the rows parsed from them. */
  onProgress?: (bytesRead: number, rows: number) => void;
}

/**
 * Reads newline-delimited JSON (a file path or "-" for stdin) as bytes, so that nothing is
 * decoded before it is checked: a leading byte order mark is skipped, invalid UTF-8 is refused
 * naming the line (unless the caller asked for replacement), and each line is parsed by the
 * exact parser (numbers keep their digits, duplicate keys are refused).
 */
export async function readNdjson(source: string, opts: NdjsonOptions = {}): Promise<NdjsonInput> {
  const name = source === '-' ? 'stdin' : source;
  const stream = source === '-' ? process.stdin : createReadStream(source);
  const rows: Row[] = [];
  const lines: number[] = [];
  let lineNo = 0;
  let carry: Buffer | undefined;
  let first = true;
  let bytesRead = 0;

  const take = (buf: Buffer, start: number, end: number) => {
    lineNo++;
    let e = end;
    if (e > start && buf[e - 1] === 0x0d) e--; // CRLF
    if (e - start === 0) return;
    if (opts.invalidUtf8 !== 'replace' && !isValidUtf8(buf, start, e)) {
      const at = firstInvalidUtf8(buf, start, e);
      throw new TributaryError(
        'INPUT_PARSE',
        `${name}, line ${lineNo}: not valid UTF-8 (byte 0x${buf[start + at].toString(16).toUpperCase().padStart(2, '0')} at byte ${at + 1} of the line); fix the input or pass --invalid-utf8 replace to store U+FFFD instead`,
        { line: lineNo },
      );
    }
    const text = buf.toString('utf8', start, e);
    if (isBlank(text)) return;
    let v: unknown;
    try {
      v = parseJsonExact(text);
    } catch (err) {
      if (!(err instanceof JsonSyntaxError)) throw err;
      throw new TributaryError('INPUT_PARSE', `${name}, line ${lineNo}: not valid JSON (${err.message}${excerpt(text, err.position)})`, { line: lineNo });
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      throw new TributaryError('INPUT_PARSE', `${name}, line ${lineNo}: expected a JSON object per line`, { line: lineNo });
    }
    rows.push(v as Row);
    lines.push(lineNo);
  };

  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytesRead += chunk.length;
      const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
      let pos = 0;
      if (first) {
        // A byte order mark may arrive split over the first chunks.
        if (buf.length < 3) {
          carry = buf;
          continue;
        }
        pos = bomLength(buf);
        first = false;
      }
      for (;;) {
        const nl = buf.indexOf(0x0a, pos);
        if (nl < 0) break;
        take(buf, pos, nl);
        pos = nl + 1;
      }
      carry = pos < buf.length ? buf.subarray(pos) : undefined;
      opts.onProgress?.(bytesRead, rows.length);
    }
    if (carry && carry.length) {
      const start = first ? bomLength(carry) : 0;
      take(carry, start, carry.length);
    }
  } catch (e) {
    if (e instanceof TributaryError) throw e;
    throw new TributaryError('IO', `cannot read ${name}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return { rows, lines, name };
}

function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** A short, visible excerpt of the line around a syntax error. */
function excerpt(text: string, at: number): string {
  const from = Math.max(0, at - 20);
  const to = Math.min(text.length, at + 20);
  return `: ${from > 0 ? '...' : ''}${escapeInvisible(text.slice(from, to))}${to < text.length ? '...' : ''}`;
}
