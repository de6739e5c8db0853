import type * as arrow from 'apache-arrow';
import type { Row } from '../arrow/record-batch.js';
import type { StructType } from '../schema/schema.js';
import { TributaryError } from '../errors.js';
import { Secrets } from '../redact.js';
import type { Offset } from './offset.js';

/**
 * The Source API, shaped like PySpark's Python Data Source (pyspark.sql.datasource): a
 * DataSource names itself, declares a schema and creates a stream reader; the reader moves
 * between JSON offsets. The engine owns the offsets (in the checkpoint) and hands `start` to
 * `latestOffset`, as Spark 4.2 does, so readers need no memory of their own position.
 */

/** How much one batch may take (Spark's ReadLimit). */
export type ReadLimit = { kind: 'all' } | { kind: 'maxRows'; maxRows: number } | { kind: 'maxBytes'; maxBytes: number };

export const READ_ALL: ReadLimit = { kind: 'all' };

/** What a read returns: rows, Arrow record batches, or an (async) iterable of either. */
export type ReadResult =
  | readonly Row[]
  | arrow.RecordBatch
  | Iterable<Row | arrow.RecordBatch>
  | AsyncIterable<Row | arrow.RecordBatch>;

type MaybePromise<T> = T | Promise<T>;

export interface DataSourceStreamReader {
  /** Where a new query starts. A restarted query resumes from its checkpoint instead. */
  initialOffset(): MaybePromise<Offset>;
  /** The newest offset available after `start` within `limit`; `start` itself means "no new data". */
  latestOffset(start: Offset, limit: ReadLimit): MaybePromise<Offset>;
  /** The rows between two offsets. Must be deterministic unless the source is non-replayable. */
  read(start: Offset, end: Offset): MaybePromise<ReadResult>;
  /** Everything up to `end` is durably in the sink (runs one batch late, like Spark). */
  commit?(end: Offset): MaybePromise<void>;
  stop?(): MaybePromise<void>;
  /** Warnings since the last call (a coin missing from a response...), shown in progress. */
  drainWarnings?(): string[];
  /** Source metrics for progress (sources[].metrics), e.g. HTTP retries. */
  metrics?(): Record<string, string>;
  /** availableNow: record the current end; never report anything beyond it afterwards. */
  prepareForTriggerAvailableNow?(start: Offset): MaybePromise<void>;
}

/**
 * Thrown by a reader's `read` when a logged range cannot be read under the reader's current options
 * (more rows than one batch may hold, say, planned by an earlier run with a bad option). For a
 * replayable source, the engine then plans a pending batch again if the sink does not hold it yet;
 * any other error keeps the logged plan, to be re-run as it is.
 */
export class OffsetRangeRefused extends TributaryError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('INVALID_ARGUMENT', message, details);
  }
}

/** SimpleDataSourceStreamReader: one call returns the new rows and where they end. */
export interface SimpleDataSourceStreamReader {
  initialOffset(): MaybePromise<Offset>;
  read(start: Offset): MaybePromise<{ rows: ReadResult; end: Offset }>;
  /** Re-reads a range deterministically; without it the source is treated as non-replayable. */
  readBetweenOffsets?(start: Offset, end: Offset): MaybePromise<ReadResult>;
  commit?(end: Offset): MaybePromise<void>;
  stop?(): MaybePromise<void>;
}

export type SourceOptions = Readonly<Record<string, string>>;

/**
 * A data source, registered under `formatName` and instantiated with the query's options:
 *
 *   class Prices extends DataSource {
 *     static formatName = 'prices';
 *     schema() { return 'coin STRING, price DOUBLE'; }
 *     streamReader(schema) { return new PricesReader(this.options); }
 *   }
 */
export abstract class DataSource {
  static formatName: string;
  /**
   * The option keys this source reads, when it wants unknown keys reported: a key one or two
   * typing mistakes from a known one is refused at start ("did you mean ...?"), any other unknown
   * key is a warning. A name ending in ".*" is a namespace (`header.*`). Without this list the
   * source's options are not checked (it may read anything).
   */
  static optionNames?: readonly string[];
  /**
   * Values this source must never show (API keys it reads from the environment): add them with
   * `this.secrets.add(value)`. The session redacts them, in any encoding, from every error,
   * warning and progress line it prints.
   */
  readonly secrets = new Secrets();
  constructor(readonly options: SourceOptions) {}
  /** StructType or a DDL string. */
  abstract schema(): StructType | string;
  streamReader?(schema: StructType): DataSourceStreamReader;
  simpleStreamReader?(schema: StructType): SimpleDataSourceStreamReader;
  /**
   * False for sources that cannot return old data again (a "current price" API): the engine then
   * reads each batch before logging its offsets and writes the rows ahead to the checkpoint, so
   * a crash replays exactly those rows and never fetches anew.
   */
  get replayable(): boolean {
    return true;
  }
  /** Shown as sources[].description in progress. */
  description(): string {
    return (this.constructor as typeof DataSource).formatName;
  }
}

export type DataSourceClass = (new (options: SourceOptions) => DataSource) & { formatName: string; optionNames?: readonly string[] };
