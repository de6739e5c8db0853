import { TributaryError } from '../errors.js';
import { parseSchema } from '../schema/ddl.js';
import type { StructType } from '../schema/schema.js';
import { type Compression, ENGINE_NAMES } from '../parquet/handler.js';
import { parseDuration, parseSize } from '../units.js';
import { storageOptionSecrets } from '../storage/uri.js';
import { MAX_TIMER_MS, Options } from '../source/options.js';
import { type BatchBudget, batchBudget } from '../source/row-budget.js';
import { checkSourceOptionKeys, checkWriteStreamOptionKeys } from '../source/option-keys.js';
import type { DataSource, DataSourceClass, ReadLimit } from '../source/source.js';
import { READ_ALL } from '../source/source.js';
import type { StreamingContext } from './streaming-context.js';
import { DEFAULT_RENEW_INTERVAL_MS } from './lock.js';
import { newTableClusteringColumns } from '../delta/clustering.js';
import { DEFAULT_STATS_OPTIONS } from '../delta/stats.js';
import { DeltaSink } from './sinks/delta-sink.js';
import { foreachBatchSink, type ForeachBatchFunction } from './sinks/foreach-batch.js';
import type { Sink } from './sinks/sink.js';
import { StreamingQuery } from './streaming-query.js';
import { resolveTrigger, type Trigger } from './trigger.js';

const COMPRESSIONS: readonly Compression[] = ['snappy', 'zstd', 'uncompressed'];

/** format / option / options, shared by readStream and writeStream (Spark's option-bag builders). */
abstract class OptionBuilder {
  protected readonly opts: Record<string, string> = {};
  protected abstract fmt: string | undefined;

  format(name: string): this {
    this.fmt = name;
    return this;
  }
  option(key: string, value: string | number | boolean): this {
    this.opts[key] = String(value);
    return this;
  }
  options(o: Record<string, string | number | boolean>): this {
    for (const [k, v] of Object.entries(o)) this.option(k, v);
    return this;
  }
}

/** `tributary.readStream`: format, options and schema of a streaming source. */
export class DataStreamReader extends OptionBuilder {
  protected fmt: string | undefined;
  private userSchema: StructType | undefined;

  constructor(private readonly session: StreamingContext) {
    super();
  }

  /** Overrides the source's own schema (StructType or DDL), like DataStreamReader.schema(). */
  schema(s: StructType | string): this {
    this.userSchema = typeof s === 'string' ? parseSchema(s) : s;
    return this;
  }
  load(): StreamingDataFrame {
    if (!this.fmt) throw new TributaryError('INVALID_ARGUMENT', 'readStream needs .format(<source>) before .load()');
    const cls = this.session.dataSource.lookup(this.fmt);
    checkSourceOptionKeys(cls, this.opts, (m) => this.session.warn(m));
    const source = new cls({ ...this.opts });
    source.secrets.attachTo(this.session.secrets);
    const declared = source.schema();
    const schema = this.userSchema ?? (typeof declared === 'string' ? parseSchema(declared) : declared);
    return new StreamingDataFrame(this.session, cls, source, schema, { ...this.opts });
  }
}

/** The unbounded table a source produces; `.writeStream` turns it into a query. */
export class StreamingDataFrame {
  constructor(
    readonly session: StreamingContext,
    readonly sourceClass: DataSourceClass,
    readonly source: DataSource,
    readonly schema: StructType,
    readonly sourceOptions: Readonly<Record<string, string>>,
  ) {}

  get isStreaming(): boolean {
    return true;
  }

  get writeStream(): DataStreamWriter {
    return new DataStreamWriter(this);
  }
}

export class DataStreamWriter extends OptionBuilder {
  protected fmt: string | undefined = 'delta';
  private partitions: string[] = [];
  private clustering: string[] = [];
  private trig: Trigger | undefined;
  private name: string | undefined;
  private customSink: Sink | undefined;

  constructor(private readonly df: StreamingDataFrame) {
    super();
  }

  partitionBy(...cols: (string | string[])[]): this {
    this.partitions = cols.flat();
    return this;
  }
  /** Liquid clustering columns for the table the query creates (PySpark 4's DataStreamWriter.clusterBy). */
  clusterBy(...cols: (string | string[])[]): this {
    this.clustering = cols.flat();
    return this;
  }
  trigger(t: Trigger): this {
    this.trig = t;
    return this;
  }
  queryName(n: string): this {
    this.name = n;
    return this;
  }
  /** Any object implementing the Sink interface. */
  sink(s: Sink): this {
    this.customSink = s;
    this.fmt = 'custom';
    return this;
  }
  /** PySpark's foreachBatch: `fn(batch, batchId)` gets every micro-batch as an Arrow table. */
  foreachBatch(fn: ForeachBatchFunction): this {
    return this.sink(foreachBatchSink(fn));
  }

  /** Admission control, set on the writer or the reader; a batch must fit in this process's heap. */
  private readLimit(w: Options, budget: BatchBudget): ReadLimit {
    const src = new Options(this.df.sourceClass.formatName, this.df.sourceOptions);
    const from = (key: string) => (w.has(key) ? w : src.has(key) ? src : undefined);
    const rows = from('maxRowsPerBatch');
    if (rows) return { kind: 'maxRows', maxRows: rows.number('maxRowsPerBatch', undefined, { min: 1, max: budget.maxRows, integer: true, maxReason: budget.reason })! };
    const bytes = from('maxBytesPerBatch');
    if (bytes) return { kind: 'maxBytes', maxBytes: bytes.amount('maxBytesPerBatch', undefined, parseSize, 'size', { min: 1, max: budget.maxBytes, maxReason: budget.reason })! };
    return READ_ALL;
  }

  /**
   * Starts the query; it runs in the background. `path` is the Delta table for format('delta').
   * Every option is read and checked here (the source's when the query opens its reader, still
   * before the checkpoint is touched): a bad value must never reach a batch plan in offsets/.
   */
  start(path?: string): StreamingQuery {
    const session = this.df.session;
    checkWriteStreamOptionKeys(this.fmt!, this.opts, (m) => session.warn(m));
    const w = Options.forWriteStream(this.opts);
    const checkpointLocation = this.opts.checkpointLocation;
    if (!checkpointLocation) throw new TributaryError('INVALID_ARGUMENT', 'writeStream needs .option("checkpointLocation", <dir>): it is where exactly-once progress is kept');
    const readLimit = this.readLimit(w, batchBudget(this.df.schema));
    const minBatchesToRetain = w.number('minBatchesToRetain', 100, { min: 1, integer: true })!;
    const lockRenewIntervalMs = w.amount('checkpointLock.renewInterval', DEFAULT_RENEW_INTERVAL_MS, parseDuration, 'duration', { min: 10, max: MAX_TIMER_MS })!;
    const trigger = resolveTrigger(session.triggerOverride ?? this.trig);
    const progressHistory = w.number('progressHistory', undefined, { min: 0, max: 10_000, integer: true });
    const metricsPort = w.number('metricsPort', undefined, { min: 0, max: 65_535, integer: true });
    let ready: Promise<void> | undefined;
    if (metricsPort !== undefined) {
      if (!session.serveOpsFor) throw new TributaryError('INVALID_ARGUMENT', 'writeStream option metricsPort needs a session that serves metrics (a Tributary session)');
      const readyAfterIntervals = w.number('readyAfterIntervals', undefined, { min: 1, max: 1_000_000, integer: true });
      ready = session.serveOpsFor({ port: metricsPort, host: this.opts.metricsHost, dashboard: w.boolean('dashboard', false), readyAfterIntervals });
      // Awaited by the query before it touches the checkpoint; its failure fails the query.
      ready.catch(() => undefined);
    }
    // `storage.<key>` options reach the stores of the checkpoint location and the Delta table.
    const storageOptions = { ...session.storageOptions, ...Object.fromEntries(Object.entries(this.opts).filter(([k]) => k.startsWith('storage.')).map(([k, v]) => [k.slice('storage.'.length), v])) };
    for (const v of storageOptionSecrets(storageOptions)) session.secrets.add(v);
    let sink: Sink;
    if (this.fmt === 'custom') sink = this.customSink!;
    else if (this.fmt === 'delta') {
      const target = path ?? this.opts.path;
      if (!target) throw new TributaryError('INVALID_ARGUMENT', 'format("delta") needs a table path: .start(<path>)');
      for (const p of this.partitions) {
        if (!this.df.schema.fields.some((f) => f.name === p)) throw new TributaryError('INVALID_ARGUMENT', `partitionBy column "${p}" is not in the source schema (${this.df.schema.fields.map((f) => f.name).join(', ')})`);
      }
      // Clustering columns the table would get are checked as the first batch would check them.
      newTableClusteringColumns(this.df.schema, this.partitions, this.clustering, DEFAULT_STATS_OPTIONS.numIndexedCols);
      const engine = w.choice('engine', 'parquet-wasm', ENGINE_NAMES)!;
      const compression = w.choice('compression', 'snappy', COMPRESSIONS)!;
      // Caught here rather than by the first batch's encoder, after its offsets were logged.
      if (engine === 'parquetjs' && compression === 'zstd') throw new TributaryError('INVALID_ARGUMENT', 'writeStream: option compression="zstd" needs engine parquet-wasm (the parquetjs engine has no zstd)');
      const everyCommits = w.number('autoCompact.everyCommits', undefined, { min: 1, integer: true });
      const maxSmallFiles = w.number('autoCompact.maxSmallFiles', undefined, { min: 1, integer: true });
      const compactTarget = w.amount('autoCompact.targetFileSize', undefined, parseSize, 'size', { min: 1 });
      sink = new DeltaSink({
        path: target,
        partitionColumns: this.partitions,
        clusterBy: this.clustering,
        mergeSchema: w.boolean('mergeSchema', false),
        engine,
        compression,
        targetFileSize: w.amount('targetFileSize', undefined, parseSize, 'size', { min: 1 }),
        onWarning: (m) => session.warn(m),
        storageOptions,
        autoCompact:
          w.boolean('autoCompact', false) || everyCommits !== undefined || maxSmallFiles !== undefined
            ? { everyCommits: everyCommits ?? (maxSmallFiles !== undefined ? undefined : 50), maxSmallFiles, targetFileSize: compactTarget }
            : undefined,
      });
    } else {
      const factory = session.sinkFactory(this.fmt!);
      sink = factory({ options: { ...this.opts }, path, name: this.name, context: session });
    }
    const q = new StreamingQuery(
      {
        source: this.df.source,
        schema: this.df.schema,
        sink,
        checkpointLocation,
        trigger,
        readLimit,
        minBatchesToRetain,
        lockRenewIntervalMs,
        storageOptions,
        progressHistory,
        name: this.name,
      },
      { listeners: () => session.streams.listeners, onTerminated: (query) => session.streams.terminated(query), warn: (m) => session.warn(m), secrets: session.secrets, ready },
    );
    session.streams.started(q);
    return q;
  }
}
