import { TributaryError } from '../errors.js';
import { parseSchema } from '../delta/ddl.js';
import type { StructType } from '../delta/schema.js';
import type { Compression, EngineName } from '../parquet/encoder.js';
import { parseSize } from '../cli/size.js';
import { checkSourceOptionKeys, checkWriteStreamOptionKeys } from '../source/option-keys.js';
import type { DataSource, DataSourceClass, ReadLimit } from '../source/source.js';
import { READ_ALL } from '../source/source.js';
import type { Tributary } from '../session.js';
import { DeltaSink } from './sinks/delta-sink.js';
import { foreachBatchSink, type ForeachBatchFunction } from './sinks/foreach-batch.js';
import type { Sink } from './sinks/sink.js';
import { StreamingQuery } from './streaming-query.js';
import { resolveTrigger, type Trigger } from './trigger.js';

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

  constructor(private readonly session: Tributary) {
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
    readonly session: Tributary,
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

  private readLimit(): ReadLimit {
    const src = this.df.sourceOptions;
    const rows = this.opts.maxRowsPerBatch ?? src.maxRowsPerBatch;
    const bytes = this.opts.maxBytesPerBatch ?? src.maxBytesPerBatch;
    if (rows !== undefined) {
      const n = Number(rows);
      if (!Number.isInteger(n) || n < 1) throw new TributaryError('INVALID_ARGUMENT', `maxRowsPerBatch must be a positive integer, got ${rows}`);
      return { kind: 'maxRows', maxRows: n };
    }
    if (bytes !== undefined) return { kind: 'maxBytes', maxBytes: parseSize(bytes) };
    return READ_ALL;
  }

  /** Starts the query; it runs in the background. `path` is the Delta table for format('delta'). */
  start(path?: string): StreamingQuery {
    const session = this.df.session;
    checkWriteStreamOptionKeys(this.fmt!, this.opts, (m) => session.warn(m));
    const checkpointLocation = this.opts.checkpointLocation;
    if (!checkpointLocation) throw new TributaryError('INVALID_ARGUMENT', 'writeStream needs .option("checkpointLocation", <dir>): it is where exactly-once progress is kept');
    let sink: Sink;
    if (this.fmt === 'custom') sink = this.customSink!;
    else if (this.fmt === 'delta') {
      const target = path ?? this.opts.path;
      if (!target) throw new TributaryError('INVALID_ARGUMENT', 'format("delta") needs a table path: .start(<path>)');
      for (const p of this.partitions) {
        if (!this.df.schema.fields.some((f) => f.name === p)) throw new TributaryError('INVALID_ARGUMENT', `partitionBy column "${p}" is not in the source schema (${this.df.schema.fields.map((f) => f.name).join(', ')})`);
      }
      sink = new DeltaSink({
        path: target,
        partitionColumns: this.partitions,
        mergeSchema: this.opts.mergeSchema === 'true',
        engine: (this.opts.engine as EngineName | undefined) ?? 'parquet-wasm',
        compression: (this.opts.compression as Compression | undefined) ?? 'snappy',
        targetFileSize: this.opts.targetFileSize ? parseSize(this.opts.targetFileSize) : undefined,
        onWarning: (m) => session.warn(m),
        autoCompact:
          this.opts.autoCompact === 'true' || this.opts['autoCompact.everyCommits'] || this.opts['autoCompact.maxSmallFiles']
            ? {
                everyCommits: this.opts['autoCompact.everyCommits'] ? Number(this.opts['autoCompact.everyCommits']) : this.opts['autoCompact.maxSmallFiles'] ? undefined : 50,
                maxSmallFiles: this.opts['autoCompact.maxSmallFiles'] ? Number(this.opts['autoCompact.maxSmallFiles']) : undefined,
                targetFileSize: this.opts['autoCompact.targetFileSize'] ? parseSize(this.opts['autoCompact.targetFileSize']) : undefined,
              }
            : undefined,
      });
    } else {
      const factory = session.sinkFactory(this.fmt!);
      sink = factory({ options: { ...this.opts }, path, name: this.name, session });
    }
    const trigger = resolveTrigger(session.triggerOverride ?? this.trig);
    const q = new StreamingQuery(
      {
        source: this.df.source,
        schema: this.df.schema,
        sink,
        checkpointLocation,
        trigger,
        readLimit: this.readLimit(),
        minBatchesToRetain: Number(this.opts.minBatchesToRetain ?? 100),
        name: this.name,
      },
      { listeners: () => session.streams.listeners, onTerminated: (query) => session.streams.terminated(query), warn: (m) => session.warn(m), secrets: session.secrets },
    );
    session.streams.started(q);
    return q;
  }
}
