import { besideModule, startThread } from '../threads.js';
import { TributaryError } from '../errors.js';
import { parseSchemaString, type StructType } from '../schema/schema.js';
import type { CrossingError, FromInferrer, ToInferrer } from './infer-worker.js';

/** The whole file's schema pass, as inferNdjson returns it (its conflict, if any, is `thrown`). */
export type WholePass = { schema: StructType; rows: number; error?: TributaryError; thrown?: undefined } | { thrown: TributaryError };

/**
 * The schema pass over a whole NDJSON file on a thread of its own (infer-worker.ts), so that a
 * new table without --schema can be decoded and written meanwhile with the schema of the file's
 * first chunk, and committed only if the whole file infers that same schema (appendCommand). On
 * two cores it shortens such an append by about a quarter (README, "NDJSON to Delta"); with more,
 * by most of the pass. `stop()` ends the thread (the append failed, or was interrupted).
 */
export function inferOnThread(request: ToInferrer): { result: Promise<WholePass>; stop: () => Promise<void> } {
  // The infer-worker beside this module: dist/cli/'s, or from the CLI's bundle the bundle's entry.
  const worker = startThread(besideModule(import.meta.url, 'infer-worker'), request);
  const rebuilt = (e: CrossingError) => new TributaryError(e.code, e.message, e.details);
  const result = new Promise<WholePass>((resolve, reject) => {
    worker.once('message', (m: FromInferrer) =>
      resolve(m.ok ? { schema: parseSchemaString(m.schemaString), rows: m.rows, error: m.error && rebuilt(m.error) } : { thrown: rebuilt(m.error) }),
    );
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new TributaryError('INTERNAL', `the schema pass's thread exited (code ${code}) before answering`)));
  });
  // Unobserved until the append asks: a failure then is its to report.
  result.catch(() => undefined);
  return { result, stop: async () => void (await worker.terminate()) };
}
