import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { TributaryError } from '../errors.js';
import type { Row } from '../arrow/record-batch.js';
import { parseJsonExact } from '../arrow/values.js';

export interface NdjsonInput {
  rows: Row[];
  /** 1-based input line of each row, to point errors at the line a user can open. */
  lines: number[];
  name: string;
}

/** Reads newline-delimited JSON (a file path or "-" for stdin), keeping big numbers exact. */
export async function readNdjson(source: string): Promise<NdjsonInput> {
  const name = source === '-' ? 'stdin' : source;
  const stream = source === '-' ? process.stdin : createReadStream(source);
  const rows: Row[] = [];
  const lines: number[] = [];
  let lineNo = 0;
  try {
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    for await (const line of rl) {
      lineNo++;
      if (line.trim() === '') continue;
      let v: unknown;
      try {
        v = parseJsonExact(line);
      } catch (e) {
        throw new TributaryError('INPUT_PARSE', `${name}, line ${lineNo}: not valid JSON (${(e as Error).message})`, { line: lineNo });
      }
      if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        throw new TributaryError('INPUT_PARSE', `${name}, line ${lineNo}: expected a JSON object per line`, { line: lineNo });
      }
      rows.push(v as Row);
      lines.push(lineNo);
    }
  } catch (e) {
    if (e instanceof TributaryError) throw e;
    throw new TributaryError('IO', `cannot read ${name}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return { rows, lines, name };
}
