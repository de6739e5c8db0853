/**
 * A thread running the schema pass over an NDJSON file (inferNdjson), for a new table without
 * --schema that is being appended meanwhile with the schema of its first chunk (infer-thread.ts).
 * It answers once: the schema the whole file infers (as Delta's schemaString), the rows, and the
 * first bad line's error; or the conflict the pass threw, its input line already attached (the
 * row-to-line map is here). Errors cross as code, message and details and are rebuilt there.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { TributaryError } from '../errors.js';
import { withInputLine } from '../json/ndjson.js';
import { schemaToString, struct } from '../schema/schema.js';
import { inferNdjson, RowLines } from './input.js';

/** What the thread is asked: the file (read under `name` in messages) and how to read it. */
export interface ToInferrer {
  path: string;
  name: string;
  invalidUtf8?: 'error' | 'replace';
}

export interface CrossingError {
  code: TributaryError['code'];
  message: string;
  details: Record<string, unknown>;
}

export type FromInferrer = { ok: true; schemaString: string; rows: number; error?: CrossingError } | { ok: false; error: CrossingError };

const crossing = (e: TributaryError): CrossingError => ({ code: e.code, message: e.message, details: { ...e.details } });

async function main(m: ToInferrer): Promise<FromInferrer> {
  const lines = new RowLines();
  try {
    const found = await inferNdjson({ path: m.path, name: m.name }, struct([]), lines, { invalidUtf8: m.invalidUtf8 });
    return { ok: true, schemaString: schemaToString(found.schema), rows: found.rows, error: found.error && crossing(found.error) };
  } catch (e) {
    if (!(e instanceof TributaryError)) return { ok: false, error: { code: 'INTERNAL', message: `the schema pass failed: ${(e as Error).message}`, details: {} } };
    // A conflict names its row; the line is known only here (as appendCommand's catch adds it).
    const line = typeof e.details.row === 'number' && e.details.line === undefined ? lines.lineOf(e.details.row) : undefined;
    return { ok: false, error: crossing(line === undefined ? e : withInputLine(e, m.name, line)) };
  }
}

const port = parentPort!;
port.postMessage(await main(workerData as ToInferrer));
