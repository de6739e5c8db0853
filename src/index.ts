export { Tributary } from './session.js';
export { DataSource, OffsetRangeRefused, READ_ALL } from './source/source.js';
export type { DataSourceStreamReader, SimpleDataSourceStreamReader, ReadLimit, ReadResult, SourceOptions } from './source/source.js';
export type { Offset } from './source/offset.js';
export { StreamingQuery } from './engine/streaming-query.js';
export type { StreamingQueryListener, StreamingQueryProgress } from './engine/progress.js';
export type { Sink, BatchData, SinkResult } from './engine/sinks/sink.js';
export { DeltaTable } from './delta/table.js';
export { parseDdl, parseSchema } from './schema/ddl.js';
export * as types from './schema/schema.js';
export { TributaryError } from './errors.js';

import { Tributary } from './session.js';

/** The default session, with the built-in sources registered. */
export const tributary = new Tributary();
export default tributary;
export { ConsoleSink, showString } from './engine/sinks/console-sink.js';
export type { ConsoleSinkOptions } from './engine/sinks/console-sink.js';
export { MemorySink } from './engine/sinks/memory-sink.js';
export { foreachBatchSink, deltaWriter } from './engine/sinks/foreach-batch.js';
export type { ForeachBatchFunction, DeltaWriterOptions } from './engine/sinks/foreach-batch.js';
