/**
 * A REST API without a connector, polled into a Delta table with format('http-json').
 *   npm run job:http-json-example                          (long-running, a poll every 30 s)
 *   npx tributary run jobs/http-json-example.ts --trigger availableNow    (from cron)
 * Each poll reads page=1, 2, ... until an empty page (at most 100 pages) and writes only the
 * records whose updated_at is newer than the last one written, so re-reading the same pages
 * writes nothing twice and a poll with nothing new makes no table version.
 * Configuration from the environment:
 *   HTTP_JSON_URL (http://127.0.0.1:8787/items). It may use {cursor} (the last updated_at written,
 *     e.g. ...?updated_since={cursor}) and ${env:NAME} for keys.
 *   HTTP_JSON_TOKEN: when set, sent as "Authorization: Bearer <token>" (redacted in every message).
 *   HTTP_JSON_RECORDS_PATH: JSON pointer to the records in a response ("" = the body is the array).
 *   HTTP_JSON_SCHEMA (id BIGINT, name STRING, updated_at TIMESTAMP).
 *   TRIBUTARY_DATA (./data): table <data>/http-json-items, checkpoint <data>/_checkpoints/http-json-items.
 */
import * as path from 'node:path';
import type { StreamingQuery } from '../src/engine/streaming-query.js';
import type { Tributary } from '../src/session.js';

export default function httpJsonExample(t: Tributary, _ctx: { args: string[] }): StreamingQuery {
  const env = process.env;
  const data = path.resolve(env.TRIBUTARY_DATA ?? 'data');
  let reader = t.readStream
    .format('http-json')
    .option('url', env.HTTP_JSON_URL ?? 'http://127.0.0.1:8787/items')
    .option('recordsPath', env.HTTP_JSON_RECORDS_PATH ?? '')
    .option('pagination', 'page')
    .option('pageParam', 'page')
    .option('startPage', '1')
    .option('cursorField', 'updated_at')
    .option('callsPerMinute', '60')
    .option('onError', 'skip-batch')
    .schema(env.HTTP_JSON_SCHEMA ?? 'id BIGINT, name STRING, updated_at TIMESTAMP');
  if (env.HTTP_JSON_TOKEN) reader = reader.option('header.Authorization', 'Bearer ${env:HTTP_JSON_TOKEN}');
  return reader
    .load()
    .writeStream.format('delta')
    .option('checkpointLocation', path.join(data, '_checkpoints', 'http-json-items'))
    .queryName('http-json-items')
    .trigger({ processingTime: '30 seconds' })
    .start(path.join(data, 'http-json-items'));
}
