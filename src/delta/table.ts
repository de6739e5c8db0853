import { randomUUID } from 'node:crypto';
import * as arrow from 'apache-arrow';
import { TributaryError } from '../errors.js';
import type { Row } from '../arrow/record-batch.js';
import type { TimestampNumbers } from '../arrow/coerce.js';
import type { Compression, EngineName, ParquetHandler } from '../parquet/handler.js';
import { parquetHandler } from '../parquet/engines.js';
import { discard, type Storage } from '../storage/storage.js';
import type { Action, AddFile, CommitInfo, DomainMetadata, Metadata, Protocol } from './actions.js';
import { checkClusteredWritable, clusteringColumnsOf, clusteringDomain, columnReference, logicalPath, newTableClusteringColumns, parseClusterBy } from './clustering.js';
import { type Engine, type EngineOptions, engineFor } from './engine.js';
import { type LastCheckpoint, writeCheckpoint } from './checkpoint.js';
import { AlreadyCommitted, commit, ENGINE_INFO, MetadataChanged } from './commit.js';
import { checkpointPath, commitPath, LOG_DIR } from './filenames.js';
import { checkWritable } from './protocol-support.js';
import { validateGeneratedColumns } from './generated-columns.js';
import { WriteChecks } from './write-checks.js';
import { checkDeclaredLengths } from './char-varchar.js';
import { metadataFeatures, newTableDefinition } from './table-properties.js';
import { protocolForMetadataChange } from './table-features.js';
import { inferSchema } from './infer.js';
import { mergeSchemas, schemaDifference, schemaToString, type StructType, typesEqual, typeToString, validateTableSchema } from '../schema/schema.js';
import { Snapshot } from './snapshot.js';
import { tableConfig } from './table-config.js';
import {
  DataFileWriter,
  dataSchemaOf,
  DEFAULT_ROW_GROUP_ROWS,
  DEFAULT_TARGET_FILE_SIZE,
  type InputChunk,
  inputChunks,
  inputRows,
  isArrowInput,
  isStreamInput,
  type PeekedStream,
  peekStream,
  splitByPartition,
  streamChunks,
  type TableInput,
  type WriteOptions,
} from './write-files.js';
import { schemaFromArrow, toArrowSchema } from '../arrow/types.js';
import { readTable } from './read.js';
import { readHistory, type HistoryEntry } from './history.js';
import { columnMappingMode, MODE_KEY, physicalPartitionColumns, physicalSchema, relabelBatch, requestedColumnMappingMode, withColumnMapping, withoutColumnMapping } from './column-mapping.js';
import { type CleanupHint, cleanupExpiredLogs } from './operations/log-cleanup.js';
import { assignRowTracking, withMaterializedColumnNames } from './row-tracking.js';
import { IDENTITY_SCHEMA_UPDATE_TAG, IdentityGenerator, identityColumns, inputSchemaOf } from './identity-columns.js';
import { isInCommitTimestampEnabled, nextInCommitTimestamp } from './in-commit-timestamp.js';
import { checkpointFileActions, writeV2Checkpoint } from './v2-checkpoint.js';

export interface CreateTableOptions {
  schema: StructType;
  partitionColumns?: string[];
  /**
   * Liquid clustering columns (Spark's CLUSTER BY): column references such as "a", "s.x" or
   * "`a.b`". The table gets the clustering feature and OPTIMIZE clusters it; not with partitions.
   */
  clusterBy?: readonly string[];
  configuration?: Record<string, string>;
  name?: string;
  description?: string;
}

export interface AppendOptions {
  /** Create the table with this definition when it does not exist yet. */
  create?: CreateTableOptions;
  /** Add new nullable columns found in `schema` (or inferred from the rows) to the table. */
  mergeSchema?: boolean;
  /** The input's schema, for mergeSchema; without it new columns' types are inferred. */
  schema?: StructType;
  /**
   * What a number given for a timestamp column counts since the epoch: 'milliseconds' (the
   * default: JavaScript's Date.getTime()) or 'seconds' (what Spark's JSON reader takes, and
   * what `tributary append --input` reads JSON numbers as). Rows only; Arrow input is typed.
   */
  timestampNumbers?: TimestampNumbers;
  /** Idempotent write: skipped when the table already holds txn.version for txn.appId. */
  txn?: { appId: string; version: number };
  engine?: EngineName | ParquetHandler;
  compression?: Compression;
  targetFileSize?: number;
  maxRecordsPerFile?: number;
  rowGroupRows?: number;
  /** commitInfo operation and parameters; defaults describe a DataFrame append (WRITE). */
  operation?: string;
  operationParameters?: Record<string, string>;
  /** Write a checkpoint when the new version is a multiple of delta.checkpointInterval. */
  checkpoint?: boolean;
  /** Called when writing the checkpoint fails (the commit itself stands). */
  onCheckpointError?: (e: unknown) => void;
  /**
   * The stream input read again from its start (a file opened again). A stream is read once; an
   * append that must be planned again (identity values taken by a concurrent writer, a table
   * another writer created first with other physical names) reads it again through this, and
   * fails with the conflict without it, unless the stream was small enough to be held whole.
   */
  reread?: () => AsyncIterable<arrow.RecordBatch>;
  /**
   * The stream input is known to be large (a big file): its first file starts with its first
   * batch, instead of after a look-ahead of 65,536 rows and one more batch, which only tells a
   * small stream (encoded on the calling thread, and held whole for a replan) from a large one.
   * For the NDJSON decoder's 64K-row batches the look-ahead was two of them, decoded before the
   * Parquet encoder thread had any work. Planning again then needs `reread`, unless the stream
   * ended with its first batch.
   */
  largeStream?: boolean;
}

export interface AppendResult {
  /** The committed version; undefined when nothing was committed. */
  version: number | undefined;
  skipped?: 'already-committed' | 'no-rows';
  files: AddFile[];
  numRecords: number;
  numBytes: number;
  checkpoint?: LastCheckpoint;
  retries: number;
}

export type { TableInput };

/** Times an identity append is planned again after losing to a concurrent metadata change. */
const MAX_REPLANS = 15;

/**
 * A Delta table, opened at its latest version. Holds the snapshot it last saw and moves it
 * forward with its own commits, so a long-running writer never re-lists the log.
 */
export class DeltaTable {
  private constructor(
    /** The table's I/O: its Storage and the Parquet handler (see engine.ts). */
    readonly engine: Engine,
    private _snapshot: Snapshot | undefined,
  ) {
    this._lastCheckpoint = _snapshot?.checkpointVersion;
  }
  private _lastCheckpoint: number | undefined;
  /** Log cleanup's memo between this writer's checkpoints: see CleanupHint. */
  private readonly logCleanup: { hint?: CleanupHint } = {};
  /**
   * Whether the live files in each checkpoint this handle writes leave memory, read from it when
   * the next is built (TableState.filesAt): for a writer that only appends and never reads its
   * file list (a stream without auto-compaction), whose memory would otherwise grow with every
   * file it writes. Snapshot.files is refused on its snapshot then; refresh() loads a whole one.
   */
  releaseCheckpointedFiles = false;

  /** The newest checkpoint this handle knows of: the one its snapshot was read from, or one it wrote since. */
  get lastCheckpointVersion(): number | undefined {
    return this._lastCheckpoint;
  }

  get storage(): Storage {
    return this.engine.storage;
  }

  /**
   * Opens an existing table (TABLE_NOT_FOUND if there is none). `location` is a path or URI
   * (`s3://`, `gs://`, `abfss://`, `az://`, `file://`), a Storage, or an Engine.
   */
  static async open(location: string | Storage | Engine, version?: number, opts: EngineOptions = {}): Promise<DeltaTable> {
    const engine = await engineFor(location, opts);
    return new DeltaTable(engine, await Snapshot.load(engine, version));
  }

  /** Opens the table if it exists; otherwise a handle whose first append creates it. */
  static async forPath(location: string | Storage | Engine, opts: EngineOptions = {}): Promise<DeltaTable> {
    const engine = await engineFor(location, opts);
    try {
      return new DeltaTable(engine, await Snapshot.load(engine));
    } catch (e) {
      if (e instanceof TributaryError && e.code === 'TABLE_NOT_FOUND') return new DeltaTable(engine, undefined);
      throw e;
    }
  }

  static async create(location: string | Storage | Engine, opts: CreateTableOptions & EngineOptions): Promise<DeltaTable> {
    const t = await DeltaTable.forPath(location, opts);
    if (t._snapshot) throw new TributaryError('TABLE_EXISTS', `a Delta table already exists at ${t.storage.root}`);
    // "Create" means this call makes version 0: losing that race is an error here, unlike in append.
    if ((await t.commitCreate(withMappedSchema(opts), [], 'CREATE TABLE', { partitionBy: JSON.stringify(opts.partitionColumns ?? []) })) === undefined) {
      throw new TributaryError('TABLE_EXISTS', `another writer created the table at ${t.storage.root} first`);
    }
    return t;
  }

  get exists(): boolean {
    return this._snapshot !== undefined;
  }

  get snapshot(): Snapshot {
    if (!this._snapshot) throw new TributaryError('TABLE_NOT_FOUND', `no Delta table at ${this.storage.root}`);
    return this._snapshot;
  }

  get version(): number {
    return this.snapshot.version;
  }

  /**
   * A second handle on this table at the version this one has, with its own copy of the state
   * (the same storage): a background operation (auto-compaction) starts from it instead of reading
   * the log again, which costs as much as the checkpoint is big.
   */
  fork(): DeltaTable {
    return new DeltaTable(this.engine, this._snapshot?.fork());
  }

  /** Takes the snapshot an operation committed (operations live outside this class). */
  adoptSnapshot(s: Snapshot): void {
    this._snapshot = s;
  }

  /** Post-commit work shared by appends and operations: checkpoint, then log cleanup. */
  async afterCommit(onError?: (e: unknown) => void): Promise<LastCheckpoint | undefined> {
    try {
      const cp = await this.maybeCheckpoint();
      if (cp) this._lastCheckpoint = cp.version;
      if (cp) await cleanupExpiredLogs(this.snapshot, cp.version, Date.now(), this.logCleanup);
      return cp;
    } catch (e) {
      onError?.(e);
      return undefined;
    }
  }

  async refresh(): Promise<Snapshot> {
    this._snapshot = await Snapshot.load(this.engine);
    this._lastCheckpoint = Math.max(this._lastCheckpoint ?? -1, this._snapshot.checkpointVersion ?? -1);
    if (this._lastCheckpoint < 0) this._lastCheckpoint = undefined;
    return this._snapshot;
  }

  private newMetadata(opts: CreateTableOptions): { metadata: Metadata; protocol: Protocol; domains: DomainMetadata[] } {
    const partitionColumns = opts.partitionColumns ?? [];
    validateTableSchema(opts.schema, partitionColumns, { columnMapping: requestedColumnMappingMode(opts.configuration) !== 'none' });
    // Properties take effect as Spark applies them (protocol included) or are refused here.
    const clustered = (opts.clusterBy?.length ?? 0) > 0;
    const definition = newTableDefinition(opts.schema, opts.configuration ?? {}, { clustered });
    const { protocol } = definition;
    // Generation expressions are checked as Spark's CREATE TABLE checks them.
    validateGeneratedColumns(protocol, opts.schema);
    // With column mapping: ids and physical names (kept if withMappedSchema assigned them) and
    // maxColumnId; with row tracking, the names of its materialized columns.
    const { schema, configuration } = withColumnMapping(opts.schema, withMaterializedColumnNames(protocol, definition.configuration));
    const config = tableConfig({ configuration });
    // Resolved in the mapped schema: the clustering domain names physical columns.
    const clustering = newTableClusteringColumns(schema, partitionColumns, opts.clusterBy, config.numIndexedCols);
    const metadata: Metadata = {
      id: randomUUID(),
      // Spark leaves unset optional fields out rather than writing null.
      ...(opts.name ? { name: opts.name } : {}),
      ...(opts.description ? { description: opts.description } : {}),
      format: { provider: 'parquet', options: {} },
      schemaString: schemaToString(schema),
      partitionColumns,
      configuration,
      createdTime: Date.now(),
    };
    return { metadata, protocol, domains: clustering ? [clusteringDomain(clustering)] : [] };
  }

  /**
   * Version 0: protocol + metaData (+ the first files, like a DataFrame write to a new path).
   * Undefined when another writer created version 0 first (nothing was written).
   */
  private async commitCreate(opts: CreateTableOptions, extra: Action[], operation: string, params: Record<string, string>, metrics?: Record<string, string>): Promise<number | undefined> {
    const { metadata, protocol, domains } = this.newMetadata(opts);
    if (domains.length) params = { ...params, clusterBy: JSON.stringify((opts.clusterBy ?? []).flatMap(parseClusterBy).map(columnReference)) };
    // Version 0 meets the obligations of the features it turns on, as every later commit does.
    const actions = assignRowTracking(undefined, 0, [{ protocol }, { metaData: metadata }, ...domains.map((d) => ({ domainMetadata: d })), ...extra]);
    const now = (this.engine.clock ?? Date.now)();
    const ict = isInCommitTimestampEnabled(metadata) ? { inCommitTimestamp: nextInCommitTimestamp(now, undefined) } : {};
    const info: CommitInfo = { ...ict, timestamp: now, operation, operationParameters: params, isolationLevel: 'Serializable', isBlindAppend: true, ...(metrics ? { operationMetrics: metrics } : {}), engineInfo: ENGINE_INFO, txnId: randomUUID() };
    const body = [{ commitInfo: info }, ...actions].map((a) => JSON.stringify(a)).join('\n') + '\n';
    if (!(await this.storage.putIfAbsent(commitPath(0), body))) return undefined;
    this._snapshot = await Snapshot.load(this.engine, 0);
    return 0;
  }

  /**
   * Another writer created the table between this append's look and its version 0, as racing
   * "create if missing" appends do. When that table is the one this append would have created
   * (same schema, partitioning and requested properties) and we can write to it, the append
   * joins it as if it had existed; otherwise TABLE_EXISTS names the difference.
   */
  private async joinCreatedTable(create: CreateTableOptions): Promise<Snapshot> {
    const snap = await Snapshot.load(this.engine);
    this._snapshot = snap;
    const root = this.storage.root;
    const ours = create.partitionColumns ?? [];
    const fail = (difference: string) =>
      new TributaryError('TABLE_EXISTS', `another writer created the table at ${root} first, and it differs from the table this append would create: ${difference}; append with its definition, or write to another path`);
    // Column ids and physical names are each creator's own: compare the logical schemas.
    const schemaDiff = schemaDifference(withoutColumnMapping(create.schema), withoutColumnMapping(snap.schema));
    if (schemaDiff) throw fail(`${schemaDiff} (its schema: ${typeToString(snap.schema)})`);
    if (JSON.stringify(ours) !== JSON.stringify(snap.partitionColumns)) {
      throw fail(`it is partitioned by [${snap.partitionColumns.join(', ')}], this append by [${ours.join(', ')}]`);
    }
    // Logical paths on both sides: the domain names physical columns under column mapping.
    const theirClustering = JSON.stringify(clusteringColumnsOf(snap.protocol, snap.state.domains)?.map((c) => logicalPath(snap.schema, c)) ?? null);
    const ourClustering = JSON.stringify(newTableClusteringColumns(create.schema, ours, create.clusterBy, snap.config.numIndexedCols) ?? null);
    if (theirClustering !== ourClustering) throw fail(`it is clustered by ${theirClustering}, this append by ${ourClustering}`);
    const wanted = newTableDefinition(create.schema, create.configuration ?? {}, { clustered: (create.clusterBy?.length ?? 0) > 0 });
    const unmet = unmetProperties(snap, wanted.configuration);
    if (unmet) throw fail(unmet);
    // A table created a moment ago has exactly the protocol its properties give.
    const features = (p: Protocol) => JSON.stringify([p.minReaderVersion, p.minWriterVersion, [...(p.readerFeatures ?? [])].sort(), [...(p.writerFeatures ?? [])].sort()]);
    if (features(wanted.protocol) !== features(snap.protocol)) throw fail(`its protocol is ${JSON.stringify(snap.protocol)}, this append's properties ask for ${JSON.stringify(wanted.protocol)}`);
    checkWritable(snap.protocol, snap.metadata, root);
    return snap;
  }

  /**
   * Appends rows, Arrow data, or a stream of Arrow batches (AsyncIterable<RecordBatch>) as one
   * commit. Values are validated chunk by chunk as they are written; data files are stored as
   * they fill, and the commit comes once, at the end. Any failure (a bad value in the last
   * batch, a stream that throws) removes the files stored so far and leaves the table exactly
   * as it was.
   */
  async append(input: TableInput, opts: AppendOptions = {}): Promise<AppendResult> {
    return this.appendAttempt(input, opts, 0);
  }

  /**
   * One plan of an append. Identity values are in the data files, so an append to a table with
   * identity columns that loses the race to a metadata change (another writer moved the
   * high-water mark) cannot just retry its commit: it is planned again on the new snapshot (new
   * values, new files; the stale ones are deleted), up to MAX_REPLANS times. Input in memory is
   * planned again as it is; a stream only if it was held whole by its look-ahead or the caller
   * can read it again (opts.reread).
   */
  private async appendAttempt(input: TableInput, opts: AppendOptions, replans: number): Promise<AppendResult> {
    const snap = this._snapshot;
    if (!snap && !opts.create) throw new TributaryError('TABLE_NOT_FOUND', `no Delta table at ${this.storage.root}; give a schema to create it`);
    if (snap) {
      checkWritable(snap.protocol, snap.metadata, this.storage.root);
      checkClusteredWritable(snap.schema, clusteringColumnsOf(snap.protocol, snap.state.domains) ?? [], snap.metadata.configuration ?? {}, snap.config.numIndexedCols, this.storage.root);
    }
    if (snap && opts.txn) {
      const have = snap.txnVersion(opts.txn.appId);
      if (have !== undefined && have >= opts.txn.version) return { version: undefined, skipped: 'already-committed', files: [], numRecords: 0, numBytes: 0, retries: 0 };
    }

    // A stream's first batches are read ahead: its schema (mergeSchema) and, when it is small,
    // its size. If reading them fails, nothing was written.
    const stream: PeekedStream | undefined = isStreamInput(input) ? await peekStream(input, opts.largeStream ? 0 : undefined) : undefined;
    const memory = isStreamInput(input) ? undefined : input;

    // A new table's column ids and physical names are chosen now: its first data files use them.
    const create = snap ? undefined : withMappedSchema(opts.create!);
    const mode = snap ? columnMappingMode(snap.metadata.configuration) : requestedColumnMappingMode(create!.configuration);
    let schema = snap ? snap.schema : create!.schema;
    const partitionColumns = snap ? snap.partitionColumns : create!.partitionColumns ?? [];
    if (!snap) validateTableSchema(schema, partitionColumns, { columnMapping: mode !== 'none' });
    let newMetadata: Metadata | undefined;
    let newProtocol: Protocol | undefined;
    if (snap && opts.mergeSchema) {
      // Arrow input says its types; rows have them inferred, as Spark's JSON reader does.
      const incoming =
        opts.schema ??
        (stream
          ? stream.first && schemaFromArrow(stream.first.schema)
          : isArrowInput(memory!)
            ? schemaFromArrow((memory instanceof arrow.Table ? memory : (memory as readonly arrow.RecordBatch[])[0]).schema)
            : inferSchema(memory as readonly Row[], schema));
      const merged = incoming ? mergeSchemas(schema, mode === 'none' ? incoming : withoutColumnMapping(incoming)) : schema;
      if (!typesEqual(merged, schema)) {
        // New columns obey the same rules as the columns a table is created with.
        validateTableSchema(merged, partitionColumns, { columnMapping: mode !== 'none' });
        // In a mapped table they get the next column ids and new physical names, and maxColumnId moves on.
        const mapped = withColumnMapping(merged, snap.metadata.configuration);
        newMetadata = { ...snap.metadata, schemaString: schemaToString(mapped.schema), configuration: mapped.configuration };
        schema = mapped.schema;
        // A new column may need a table feature the table does not support (TIMESTAMP_NTZ,
        // VARIANT; readers refuse the table without it). As in delta-spark, the protocol is
        // upgraded with the metadata for the features a metadata change turns on, and the
        // others (TIMESTAMP_NTZ) are refused, naming them: they must be enabled by hand.
        const change = protocolForMetadataChange(snap.protocol, metadataFeatures(schema, mapped.configuration));
        newProtocol = change.protocol;
        const manual = change.manual;
        if (manual.length) {
          const names = manual.map((f) => f.name).join(', ');
          throw new TributaryError(
            'UNSUPPORTED_FEATURE',
            `the new columns need the table feature ${names}, which table ${this.storage.root} does not support; a schema change does not turn it on (Spark refuses it too): enable it first (Spark: ALTER TABLE ... SET TBLPROPERTIES ('delta.feature.${manual[0].name}' = 'supported')), or create the table with it`,
          );
        }
      }
    } else if (snap && opts.schema && !opts.mergeSchema) {
      const merged = mergeSchemas(schema, opts.schema);
      if (!typesEqual(merged, schema)) {
        const extra = merged.fields.filter((f) => !schema.fields.some((g) => g.name.toLowerCase() === f.name.toLowerCase())).map((f) => f.name);
        throw new TributaryError('SCHEMA_MISMATCH', `the input has columns the table does not: ${extra.join(', ')}; pass mergeSchema (--merge-schema) to add them`);
      }
    }
    // CHAR/VARCHAR lengths the input schema declares must be the table's (with any new columns').
    if (snap && opts.schema) checkDeclaredLengths(schema, opts.schema, this.storage.root);

    // A new table's properties are checked (and normalised) before any work is done.
    const definition = snap ? undefined : newTableDefinition(schema, create!.configuration ?? {}, { clustered: (create!.clusterBy?.length ?? 0) > 0 });
    const config = snap ? snap.config : tableConfig({ configuration: definition!.configuration });
    // A new table's clustering columns are checked before any work is done, as its properties are.
    if (!snap) newTableClusteringColumns(schema, partitionColumns, create!.clusterBy, config.numIndexedCols);
    // Generated columns and constraints, compiled once for the whole append.
    const checks = snap
      ? WriteChecks.for(snap.protocol, (newMetadata ?? snap.metadata).configuration ?? {}, schema, this.storage.root)
      : WriteChecks.for(definition!.protocol, definition!.configuration, schema, this.storage.root);
    const wopts: WriteOptions = {
      // The table's Parquet handler, unless this append asks for another one for its data files.
      parquet: opts.engine === undefined ? this.engine.parquet : typeof opts.engine === 'object' ? opts.engine : parquetHandler(opts.engine),
      compression: opts.compression ?? 'snappy',
      targetFileSize: opts.targetFileSize ?? DEFAULT_TARGET_FILE_SIZE,
      maxRecordsPerFile: opts.maxRecordsPerFile,
      rowGroupRows: opts.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS,
      stats: { numIndexedCols: config.numIndexedCols, stringPrefixLength: config.stringPrefixLength },
    };
    // Data files, stats and partition values use the physical names (the logical ones without column mapping).
    const physical = physicalSchema(schema, mode);
    const physicalParts = physicalPartitionColumns(schema, partitionColumns, mode);
    const physicalArrow = mode === 'none' ? undefined : toArrowSchema(physical);
    const dataSchema = dataSchemaOf(physical, physicalParts);
    const logicalName = new Map(physicalParts.map((p, i) => [p, partitionColumns[i]]));
    // Identity columns are filled here: the input is read with them nullable, then given values.
    const identity = identityColumns(schema);
    if (!snap) for (const c of identity) if (partitionColumns.includes(c.name)) throw new TributaryError('SCHEMA_INVALID', `identity column "${c.name}" cannot be a partition column (Spark refuses it too)`);
    const identityGen = identity.length ? new IdentityGenerator(schema, identity) : undefined;

    // A stream's size is known only at its end (or when it ended within the look-ahead).
    const knownRows = memory ? inputRows(memory) : stream!.rows;
    if (knownRows === 0 && snap && !newMetadata) {
      return { version: undefined, skipped: 'no-rows', files: [], numRecords: 0, numBytes: 0, retries: 0 };
    }

    // Phase 1: the input becomes Arrow chunk by chunk (validated as it does), is split by partition
    // and written to data files, stored as each is finished. On any failure they are removed:
    // nothing was committed. A stream is pulled one batch at a time, as the writer takes them.
    const writer = new DataFileWriter(this.storage, dataSchema, physicalParts, wopts, knownRows);
    let files: AddFile[];
    let numRecords = 0;
    // Rows may leave out identity and generated columns: they are read nullable, then filled.
    const inputSchema = identityGen ? inputSchemaOf(checks.inputSchema) : checks.inputSchema;
    const write = async ({ batch, firstRowIndex }: InputChunk) => {
      // Identity values first, then generated values and constraints (delta-spark's order), all
      // on the logical batch, which is then relabelled to physical names.
      const logical = checks.apply(identityGen ? identityGen.fill(batch, firstRowIndex) : batch, firstRowIndex);
      const b = physicalArrow ? relabelBatch(logical, physicalArrow) : logical;
      for (const slice of splitByPartition(b, physical, physicalParts, firstRowIndex, (c) => logicalName.get(c) ?? c)) await writer.write(slice.values, slice.batch);
      numRecords += batch.numRows;
    };
    try {
      if (memory) for (const chunk of inputChunks(memory, inputSchema, opts.timestampNumbers)) await write(chunk);
      else for await (const chunk of streamChunks(stream!.batches, inputSchema)) await write(chunk);
      files = await writer.finish();
    } catch (e) {
      await writer.abort();
      throw e;
    }
    if (numRecords === 0 && snap && !newMetadata) {
      // A stream that turned out empty: like empty rows, no new version.
      return { version: undefined, skipped: 'no-rows', files: [], numRecords: 0, numBytes: 0, retries: 0 };
    }

    // Phase 3: commit.
    const numBytes = files.reduce((n, f) => n + f.size, 0);
    // The identity high-water marks move with the commit that used the values.
    const identitySchema = identityGen?.updatedSchema();
    const identityOnly = identitySchema !== undefined && newMetadata === undefined;
    if (identitySchema && snap) newMetadata = { ...(newMetadata ?? snap.metadata), schemaString: schemaToString(identitySchema) };
    const toCreate = identitySchema && create ? { ...create, schema: identitySchema } : create;
    const actions: Action[] = [];
    if (newProtocol) actions.push({ protocol: newProtocol });
    if (newMetadata) actions.push({ metaData: newMetadata });
    if (opts.txn) actions.push({ txn: { appId: opts.txn.appId, version: opts.txn.version, lastUpdated: Date.now() } });
    for (const f of files) actions.push({ add: f });
    const operation = opts.operation ?? 'WRITE';
    const params = opts.operationParameters ?? { mode: 'Append', partitionBy: JSON.stringify(partitionColumns) };
    const metrics = { numFiles: String(files.length), numOutputRows: String(numRecords), numOutputBytes: String(numBytes) };
    if (operation === 'STREAMING UPDATE') Object.assign(metrics, { numAddedFiles: String(files.length), numRemovedFiles: '0' });

    let version: number;
    let retries = 0;
    try {
      const created = snap ? undefined : await this.commitCreate(toCreate!, actions, operation, params, metrics);
      if (created !== undefined) {
        version = created;
      } else {
        // Appending to the table we read, or to the one a racing writer just created.
        const base = snap ?? (await this.joinCreatedTable(create!));
        // Planned again on the table that won: values generated for a table that did not exist yet
        // may be taken in the one that does, and the files carry the physical names this append
        // chose, not those of the winner.
        if (!snap && (identitySchema || mode !== 'none')) throw new MetadataChanged(`another writer created the table at ${this.storage.root} first`);
        const held = opts.txn ? base.txnVersion(opts.txn.appId) : undefined;
        if (held !== undefined && held >= opts.txn!.version) throw new AlreadyCommitted(opts.txn!.appId, opts.txn!.version, base.version);
        // Like an empty append to an existing table: no new version.
        if (!snap && numRecords === 0) return { version: undefined, skipped: 'no-rows', files: [], numRecords: 0, numBytes: 0, retries: 0 };
        const r = await commit(this.storage, base, {
          actions,
          commitInfo: { operation, operationParameters: params, operationMetrics: metrics, ...(identityOnly ? { tags: IDENTITY_SCHEMA_UPDATE_TAG } : {}) },
          // Spark counts an append that only moves identity high-water marks as blind.
          isBlindAppend: !newMetadata || identityOnly,
        });
        this._snapshot = r.snapshot;
        version = r.version;
        retries = r.retries;
      }
    } catch (e) {
      await this.removeFiles(files);
      // The in-memory snapshot may have moved past other writers' commits: reload it.
      await this.refresh().catch(() => undefined);
      if (e instanceof AlreadyCommitted) {
        return { version: undefined, skipped: 'already-committed', files: [], numRecords: 0, numBytes: 0, retries };
      }
      if (e instanceof MetadataChanged && (identityGen || (!snap && mode !== 'none')) && replans < MAX_REPLANS) {
        // A stream is read once: planned again only from what the look-ahead held, or read again.
        const again = memory ?? stream!.all ?? opts.reread?.();
        if (again) return this.appendAttempt(again, opts, replans + 1);
      }
      throw e;
    }

    const result: AppendResult = { version, files, numRecords, numBytes, retries };
    // A failed checkpoint never fails the commit: the table is valid without it.
    if (opts.checkpoint !== false) result.checkpoint = await this.afterCommit(opts.onCheckpointError);
    return result;
  }

  /** Undoes a failed append's data files, and the partition directories made for them. */
  private async removeFiles(files: AddFile[]) {
    await discard(this.storage, files.map((f) => decodeURIComponent(f.path)));
  }

  /** Spark's cadence: a checkpoint at every version that is a multiple of the interval. */
  async maybeCheckpoint(): Promise<LastCheckpoint | undefined> {
    const snap = this.snapshot;
    if (snap.version === 0 || snap.version % snap.config.checkpointInterval !== 0) return undefined;
    return this.checkpoint();
  }

  async checkpoint(): Promise<LastCheckpoint | undefined> {
    const snap = this.snapshot;
    const cfg = snap.config;
    // Tables that ask for stats_parsed (or no JSON stats) get no checkpoint from us rather than
    // one that disagrees with their properties; a table without checkpoints is valid.
    if (cfg.writeStatsAsStruct && snap.metadata.configuration['delta.checkpoint.writeStatsAsStruct'] !== undefined) return undefined;
    if (!cfg.writeStatsAsJson) return undefined;
    const state = snap.state;
    const now = Date.now();
    const held = [...state.tombstones];
    // A state that let files go stays that way (its file list is partial until a refresh).
    const heldFiles = this.releaseCheckpointedFiles || state.filesAt ? [...state.files] : undefined;
    const base = state.tombstonesAt;
    const engine = this.engine;
    const counted = { numFiles: 0, sizeInBytes: 0 };
    // The state's actions, then the older tombstones (and live files) from the previous
    // checkpoint, if they were let go. filesAt is never set without tombstonesAt, to the same one.
    async function* actions(): AsyncGenerator<Action> {
      const count = (a: Action) => {
        if ('add' in a) (counted.numFiles++, (counted.sizeInBytes += a.add.size ?? 0));
        return a;
      };
      for (const a of state.checkpointActions(now, cfg.deletedFileRetentionMs, cfg.setTransactionRetentionMs)) yield count(a);
      if (!base) return;
      for await (const a of checkpointFileActions(engine, base.files, state.filesAt ? ['add', 'remove'] : ['remove'])) {
        if ('add' in a) {
          if (state.checkpointedFileLive(a.add)) yield count(a);
        } else if (state.checkpointedTombstoneKept(a.remove, now, cfg.deletedFileRetentionMs)) yield a;
      }
    }
    // delta.checkpointPolicy=v2 (which brings the v2Checkpoint feature) asks for V2 checkpoints;
    // a table that merely supports the feature may have classic ones, as Spark writes them then.
    const v2 = snap.metadata.configuration['delta.checkpointPolicy'] === 'v2' && (snap.protocol.readerFeatures ?? []).includes('v2Checkpoint');
    const info = v2 ? await writeV2Checkpoint(engine, snap.version, actions()) : await writeCheckpoint(engine, snap.version, actions());
    // Written and read back: its tombstones (and, for a writer that asked, its live files) need
    // not stay in memory (a long-lived stream with auto-compaction would otherwise hold one per
    // file it ever compacted, for the retention; one without, every file it ever wrote). Only
    // if no commit moved this state on meanwhile: the counts are those of snap.version.
    if (this._snapshot?.state !== state || this._snapshot.version !== snap.version) return info;
    const at = { version: snap.version, files: [info.v2Checkpoint ? `${LOG_DIR}/${info.v2Checkpoint.path}` : checkpointPath(snap.version)] };
    state.tombstonesCheckpointed(at, held);
    if (heldFiles) state.filesCheckpointed(at, heldFiles, counted);
    return info;
  }

  async read(opts: { version?: number; columns?: string[] } = {}): Promise<arrow.Table> {
    const snap = opts.version === undefined ? this.snapshot : await Snapshot.load(this.engine, opts.version);
    return readTable(snap, opts.columns);
  }

  async history(limit?: number): Promise<HistoryEntry[]> {
    return readHistory(this.storage, this.snapshot.version, limit);
  }
}

/**
 * A new table's definition with column mapping applied to its schema (fresh ids and physical
 * names, whatever mapping metadata the given schema carried), when its properties ask for it.
 */
function withMappedSchema(create: CreateTableOptions): CreateTableOptions {
  const mode = requestedColumnMappingMode(create.configuration);
  if (mode === 'none') return create;
  return { ...create, schema: withColumnMapping(withoutColumnMapping(create.schema), { [MODE_KEY]: mode }).schema };
}

/**
 * The first property of `configuration` (canonical keys, as newTableDefinition gives them) that
 * the snapshot's table does not have, described; undefined when it has them all.
 */
function unmetProperties(snap: Snapshot, configuration: Readonly<Record<string, string>>): string | undefined {
  for (const [key, value] of Object.entries(configuration)) {
    const theirs = snap.metadata.configuration?.[key];
    if (theirs !== value) return `its property ${key} is ${theirs === undefined ? 'unset' : JSON.stringify(theirs)}, this append asks for ${JSON.stringify(value)}`;
  }
  return undefined;
}

/**
 * Why an existing table is not one that properties asked for when creating it would give
 * (`tributary append --property` run again on the table it created): a property with another
 * value or unset, or a table feature or protocol version the properties need that the table
 * lacks. A table that has more (features added since, other properties) has what was asked.
 * Compared by what the properties turn into, not by how they were spelled.
 */
export function propertiesDifference(snap: Snapshot, properties: Readonly<Record<string, string>>): string | undefined {
  const wanted = newTableDefinition(snap.schema, properties);
  const unmet = unmetProperties(snap, wanted.configuration);
  if (unmet) return unmet;
  const p = snap.protocol;
  const w = wanted.protocol;
  const missing = [...(w.readerFeatures ?? [])].filter((f) => !(p.readerFeatures ?? []).includes(f)).concat([...(w.writerFeatures ?? [])].filter((f) => !(p.writerFeatures ?? []).includes(f)));
  if (missing.length) return `it does not have the table feature${missing.length > 1 ? 's' : ''} ${[...new Set(missing)].join(', ')} that the properties ask for`;
  if (w.minReaderVersion > p.minReaderVersion || w.minWriterVersion > p.minWriterVersion) return `its protocol is ${JSON.stringify(p)}, the properties ask for ${JSON.stringify(w)}`;
  return undefined;
}
