import type * as arrow from 'apache-arrow';
import { rowsToRecordBatch } from '../../src/arrow/record-batch.js';
import { parseDdl } from '../../src/schema/ddl.js';

/**
 * The stream of Arrow batches the streamed-append tests feed DeltaTable.append
 * (test/delta/streaming-append.test.ts, test/delta/streamed-file.test.ts): BATCHES batches of
 * BATCH rows of a small ticker shape, rows numbered from 0 so that any row read back can be
 * checked against `rowAt`.
 */
export const SCHEMA = parseDdl('id BIGINT NOT NULL, coin STRING, price DOUBLE');
export const BATCH = 10_000;
export const BATCHES = 40;

/** Row `n` of the stream, as it reads back (BIGINT ids come back as bigint). */
export const rowAt = (n: number) => ({ id: BigInt(n), coin: ['btc', 'eth', null][(n % BATCH) % 3], price: n / 4 });

/** Batch `k` of the stream: rows k * BATCH to (k + 1) * BATCH - 1. */
export const batchAt = (k: number): arrow.RecordBatch =>
  rowsToRecordBatch(
    Array.from({ length: BATCH }, (_, i) => ({ ...rowAt(k * BATCH + i), id: k * BATCH + i })),
    SCHEMA,
  );
