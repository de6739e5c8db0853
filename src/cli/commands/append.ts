import { fstatSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type * as arrow from 'apache-arrow';
import { TributaryError } from '../../errors.js';
import type { Compression, EngineName } from '../../parquet/handler.js';
import { countingHandler } from '../../parquet/counting-handler.js';
import { parquetHandler } from '../../parquet/engines.js';
import { DeltaTable, propertiesDifference, type TableInput } from '../../delta/table.js';
import { inferNdjson, type InputSource, ndjsonToBatches, type NdjsonInput, type NdjsonOptions, readNdjson, RowLines, spoolStdin, type SpooledInput, streamNdjson } from '../input.js';
import { JSON_TEXT } from '../../json/ndjson-decoder.js';
import { withInputLine } from '../../json/ndjson.js';
import { handOver } from '../../arrow/ipc-pieces.js';
import { pooledAllocator } from '../../arrow/buffer-pool.js';
import { mergeSchemas, schemaDifference, struct, type StructType, typesEqual, validateTableSchema } from '../../schema/schema.js';
import { requestedColumnMappingMode } from '../../delta/column-mapping.js';
import { inferSchema } from '../../delta/infer.js';
import { clusteredBy, columnReference, parseClusterBy } from '../../delta/clustering.js';
import { relaxGeneratedColumns } from '../../delta/generated-columns.js';
import { keyValues } from '../args.js';
import { formatBytes } from '../format.js';
import type { CliStdout } from '../output.js';
import { progressView, type ProgressView } from '../progress.js';
import { inferOnThread, type WholePass } from '../infer-thread.js';
import { schemaArg } from '../schema-arg.js';
import { inputSchemaOf } from '../../delta/identity-columns.js';

export interface AppendArgs {
  input: string;
  storageOption?: string[];
  schema?: string;
  partitionBy?: string;
  clusterBy?: string;
  mergeSchema?: boolean;
  engine?: string;
  compression?: string;
  targetFileSize?: number;
  rowGroupRows?: number;
  property?: string[];
  invalidUtf8?: string;
  json?: boolean;
  progress?: boolean;
  decodeWorkers?: number;
}

export async function appendCommand(tablePath: string, args: AppendArgs, out: CliStdout): Promise<void> {
  // Without --schema a new table's is inferred from the input (below).
  let schema = args.schema ? schemaArg(args.schema) : undefined;
  const partitionColumns = args.partitionBy ? args.partitionBy.split(',').map((s) => s.trim()).filter(Boolean) : [];
  const configuration = keyValues('--property', args.property);
  const engine = parquetHandler((args.engine ?? 'parquet-wasm') as EngineName);
  // A large input is encoded on a thread: started now, its start overlaps loading the table and
  // decoding the first chunk instead of holding up the first file (measured: README, NDJSON to Delta).
  // (The same size tells the append it is streaming a large file: largeStream below.)
  let largeInput = (inputSize(args.input) ?? 0) >= PRESTART_MIN_BYTES;
  if (largeInput) engine.prestart?.();
  const table = await DeltaTable.forPath(tablePath, { storageOptions: keyValues('--storage-option', args.storageOption) });
  if (table.exists && args.partitionBy !== undefined && partitionColumns.join(',') !== table.snapshot.partitionColumns.join(',')) {
    throw new TributaryError('INVALID_ARGUMENT', `table ${tablePath} is partitioned by [${table.snapshot.partitionColumns.join(', ')}], not [${partitionColumns.join(', ')}]`);
  }
  const clusterBy = args.clusterBy !== undefined ? parseClusterBy(args.clusterBy).map(columnReference) : undefined;
  if (table.exists && clusterBy !== undefined) {
    const theirs = clusteredBy(table.snapshot.schema, table.snapshot.protocol, table.snapshot.state.domains) ?? [];
    if (clusterBy.join(',') !== theirs.join(',')) throw new TributaryError('INVALID_ARGUMENT', `table ${tablePath} is clustered by [${theirs.join(', ')}], not [${clusterBy.join(', ')}]`);
  }
  // --property describes the table an append creates; run again on the table it created (a cron
  // job's "create if missing"), the table must have what was asked, as a racing append's must.
  const unmet = table.exists && Object.keys(configuration).length ? propertiesDifference(table.snapshot, configuration) : undefined;
  if (unmet) throw new TributaryError('INVALID_ARGUMENT', `table ${tablePath} is not the table --property asks for: ${unmet} (--property applies when the append creates the table)`);
  const bar = progressView(args);
  // SIGINT/SIGTERM while the input is read: the append stops at its next batch and fails as bad
  // input does, its data files removed and the table as it was (the default would exit at once,
  // leaving the files written so far). Once the input is read the commit is moments away and
  // goes ahead. A second signal exits at once.
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) process.exit(signalExitCode(sig));
    interrupted = sig;
    // A pipe that stays open would keep the reader waiting: it ends here (a file reads to its end).
    if (args.input === '-') process.stdin.destroy();
    // So does a schema pass on its thread, which the end of the input waits for.
    void speculation?.whole?.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const interruption = (sig: NodeJS.Signals) => new TributaryError('INTERRUPTED', `${sig} while reading ${name}: nothing was appended; ${table.storage.root} is as it was`, { exitCode: signalExitCode(sig) });
  // Checked before every batch and at the end: an input cut short by the signal is never committed.
  const interruptible = async function* <T>(items: AsyncIterable<T>): AsyncGenerator<T> {
    for await (const item of items) {
      if (interrupted) throw interruption(interrupted);
      yield item;
    }
    if (interrupted) throw interruption(interrupted);
  };
  let result;
  let lineOf: (row: number) => number | undefined = () => undefined;
  let name = args.input === '-' ? 'stdin' : args.input;
  let releasePool: (() => void) | undefined;
  // A new table's schema from the head of a large file, checked by a whole pass on a thread (speculate).
  let speculation: { schema: StructType; whole?: ReturnType<typeof inferOnThread> } | undefined;
  // Where the input is read from: args.input, or stdin's copy when it must be read twice.
  let source: InputSource = args.input;
  let spool: SpooledInput | undefined;
  try {
    // Stdin that must be read twice (a schema pass, then the decoding: a new table without
    // --schema, --merge-schema without it) is copied to a file first, so that memory stays a
    // file's whatever the input's size, and it is then read as a file is (named "stdin").
    if (args.input === '-' && !schema && (!table.exists || args.mergeSchema)) {
      spool = await spoolStdin({ stop: () => interrupted !== undefined, onProgress: bar.active ? (b) => bar.show('append: copying stdin', b, undefined, formatBytes(b)) : undefined });
      if (interrupted) throw interruption(interrupted);
      source = spool.source;
      if (!largeInput && spool.bytes >= PRESTART_MIN_BYTES) {
        largeInput = true;
        engine.prestart?.();
      }
    }
    const readFrom = typeof source === 'string' ? source : source.path;
    const columnMapping = requestedColumnMappingMode(configuration) !== 'none';
    /** How the input is read with `as` as its (table's) schema: decodePlan, from where it is read now. */
    const planFor = (as: StructType | undefined) => decodePlan(table, as, partitionColumns, { ...args, input: readFrom }, columnMapping);
    // Rows in all: known once the input is read (rows), or when the stream of batches ends.
    let rows: number | undefined;
    /**
     * The schema the file's rows need beyond `known`, from a pass over it that keeps no row
     * (inferNdjson); its conflicts are named by row and input line. With no rows, the first bad
     * line's error, or none (undefined).
     */
    const inferFromFile = async (known: StructType): Promise<StructType | undefined> => {
      const lines = new RowLines();
      lineOf = (r) => lines.lineOf(r);
      const found = await inferNdjson(source, known, lines, { ...readOptions(args, readFrom, bar, 'inferring the schema of'), stop: () => interrupted !== undefined });
      if (interrupted) throw interruption(interrupted);
      name = found.name;
      if (found.rows === 0 && found.error) throw found.error;
      return found.rows === 0 ? undefined : found.schema;
    };
    /**
     * A large file's first chunk infers a schema (a head's) to decode and write the file with while
     * the whole file's pass runs on a thread (infer-thread.ts); the append commits only if the whole
     * file infers that same schema, else it is planned again with the whole file's (below).
     * Undefined: no speculation (a small file, a head without rows, a schema the table cannot
     * have); `whole` undefined: the head read is the whole pass's result (it ended at a bad line).
     */
    const speculate = async (): Promise<{ schema: StructType; whole?: ReturnType<typeof inferOnThread> } | undefined> => {
      if ((inputSize(readFrom) ?? 0) < SPECULATE_MIN_BYTES) return undefined;
      const lines = new RowLines();
      lineOf = (r) => lines.lineOf(r);
      // A conflict within the head is the whole pass's first too: thrown here alike.
      const head = await inferNdjson(source, NO_COLUMNS, lines, { ...readOptions(args, readFrom, bar, 'inferring the schema of'), stop: () => true });
      if (interrupted) throw interruption(interrupted);
      if (head.error) return head.rows === 0 ? Promise.reject(head.error) : { schema: head.schema };
      if (head.rows === 0 || !head.partial) return undefined;
      try {
        validateTableSchema(head.schema, partitionColumns, { columnMapping });
      } catch {
        return undefined; // (a partition column of later lines, say): the whole pass decides
      }
      return { schema: head.schema, whole: inferOnThread({ path: readFrom, name, invalidUtf8: args.invalidUtf8 === 'replace' ? 'replace' : 'error' }) };
    };
    // A new table without --schema: its schema is the rows', inferred as Spark's JSON reader infers
    // one (delta/infer.ts). A file (or stdin's copy) is read once for it and then decoded with it,
    // or, when large, read meanwhile (speculate).
    if (!table.exists && !schema && readFrom !== '-') {
      speculation = await speculate();
      schema = speculation?.schema ?? (await inferFromFile(NO_COLUMNS)) ?? noRowsToInfer(name, table.storage.root);
    }
    const whole = speculation?.whole;
    const plan = planFor(schema);
    let decode: ((as: StructType) => AsyncIterable<arrow.RecordBatch>) | undefined;
    if (plan) {
      // The schema is known: bytes straight to Arrow batches (the decoder names bad lines
      // itself), streamed into the append as they are decoded: files are written as they fill
      // and memory holds a few batches, whatever the input's size.
      const workers = decodeWorkers(args, readFrom);
      // A large input's batches go to the encoder thread, which gives their buffers back: the
      // decoder on this thread builds its next batches in them (arrow/buffer-pool.ts).
      const pool = largeInput && workers === 0 ? engine.recycledBuffers?.() : undefined;
      if (pool) releasePool = pool.use();
      decode = (as) => {
        const stream = streamNdjson(source, as, { ...readOptions(args, readFrom, bar), decodeWorkers: workers, alloc: pool && pooledAllocator(pool) });
        ({ name } = stream);
        lineOf = (r) => stream.lineOf(r);
        // Nothing here reads a batch once the append has it: its buffers may move to the encoder thread.
        // A speculation's stream ends only once the whole file's pass agrees (before the commit);
        // not the one decoded again with the whole file's schema, after it did not.
        const batches = whole && as === plan.schema ? thenConfirmed(handedOver(stream.batches), whole.result, speculation!.schema) : handedOver(stream.batches);
        return interruptible(!bar.active ? batches : whenEnded(batches, () => showWritten((rows = stream.rows))));
      };
    }
    /** --merge-schema's path (or an input schema that differs from the table's): rows first, for the append to judge. */
    const readRows = async (): Promise<TableInput> => {
      const input = await readNdjson(source, readOptions(args, readFrom, bar));
      if (interrupted) throw interruption(interrupted);
      name = input.name;
      lineOf = (r) => input.lines[r];
      if (input.error) checkRowsBeforeBadLine(input, table, schema, args.mergeSchema);
      rows = input.rows.length;
      return input.rows;
    };
    let written = 0;
    const showWritten = (total: number) => bar.show('append: writing', written, total, `${written.toLocaleString('en-US')}/${total.toLocaleString('en-US')} rows`);
    const encoder = !bar.active
      ? engine
      : countingHandler(engine, (n) => {
          written += n;
          // While a stream is still being read, its reading bar is the one shown.
          if (rows !== undefined) showWritten(rows);
        });
    const appendOnce = (data: TableInput, mergeSchema: boolean | undefined, again?: () => AsyncIterable<arrow.RecordBatch>, inputSchema = table.exists ? schema : undefined) =>
      table.append(data, {
        create: schema ? { schema, partitionColumns, configuration, clusterBy } : undefined,
        mergeSchema,
        schema: inputSchema,
        // Rows read from JSON text (--merge-schema's path): numbers into timestamps are epoch seconds, as the decoder reads them.
        timestampNumbers: JSON_TEXT.timestampNumbers,
        engine: encoder,
        compression: (args.compression ?? 'snappy') as Compression,
        targetFileSize: args.targetFileSize,
        rowGroupRows: args.rowGroupRows,
        reread: again,
        // A large file is decoded into the first Parquet file at once (no look-ahead: see there).
        largeStream: again !== undefined && largeInput,
        onCheckpointError: (e) => bar.print(() => process.stderr.write(`tributary: warning: checkpoint not written: ${(e as Error).message}\n`)),
      });
    if (!decode) result = await appendOnce(await readRows(), args.mergeSchema);
    else {
      const decodeAs = decode;
      const first = plan!.schema;
      try {
        // Decoded batches never merge: every line's keys are the table's columns (or the decoder
        // refuses the line), so --merge-schema's first attempt (orMerge) is the append without it.
        // A file (not a pipe) can be decoded again, should the append have to be planned again.
        // With --schema, --merge-schema merges it (the decoder read the lines into the merged columns).
        result = await appendOnce(decodeAs(first), args.mergeSchema === true && schema !== undefined, readFrom !== '-' ? () => decodeAs(first) : undefined);
      } catch (e) {
        if (whole && !interrupted) {
          // The speculation failed (its files are gone): the whole pass's result decides, as if
          // it had come first. Its conflict, or the same schema (the attempt's error is the
          // input's: decoding again would meet it again), or the file decoded with its schema.
          const found = await whole.result;
          if (found.thrown) throw found.thrown;
          if (!(e instanceof SchemaMoved) && typesEqual(found.schema, speculation!.schema)) throw e;
          if (found.rows === 0) throw found.error ?? noRowsToInfer(name, table.storage.root);
          schema = found.schema;
          const second = planFor(schema)!.schema;
          written = 0;
          result = await appendOnce(decodeAs(second), false, () => decodeAs(second));
        } else {
          // A line the table's columns do not take (a new column, among others): that attempt's
          // files are gone (a failed append removes them). A pass over the file infers what the
          // merge adds (without holding the rows), and the file is decoded again with it, the
          // append told that is the input's schema (as the rows' inferred one is on the row path).
          // Nothing new: the first attempt's error is the input's.
          if (!plan?.orMerge || interrupted || !(e instanceof TributaryError) || (e.details.row === undefined && e.details.line === undefined)) throw e;
          const current = table.snapshot.schema;
          const inferred = await inferFromFile(current);
          const merged = inferred && mergeSchemas(current, inferred);
          if (!merged || typesEqual(merged, current)) throw e;
          written = 0;
          const second = inputSchemaOf(relaxGeneratedColumns(merged));
          result = await appendOnce(decodeAs(second), true, () => decodeAs(second), inferred);
        }
      }
    }
  } catch (e) {
    // Whatever the cut-short input made the append fail with, the signal is the cause.
    if (interrupted && !(e instanceof TributaryError && e.code === 'INTERRUPTED')) throw interruption(interrupted);
    // Point row errors at the input line as well as the row index (unless the reader did).
    if (e instanceof TributaryError && typeof e.details.row === 'number' && e.details.line === undefined) {
      const line = lineOf(e.details.row as number);
      if (line !== undefined) withInputLine(e, name, line);
    }
    throw e;
  } finally {
    releasePool?.();
    await speculation?.whole?.stop();
    await spool?.remove();
    bar.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (args.json) {
    out.write(JSON.stringify({ table: table.storage.root, ...result, files: result.files.map((f) => f.path) }) + '\n');
  } else if (result.version === undefined) {
    out.write(`nothing to append (${result.skipped}); ${table.storage.root} stays at version ${table.version}\n`);
  } else {
    out.write(
      `appended ${result.numRecords} rows in ${result.files.length} file(s) as version ${result.version} of ${table.storage.root}` +
        (result.checkpoint ? ` (checkpoint at ${result.checkpoint.version})` : '') +
        '\n',
    );
  }
}

/**
 * Threads to decode the input on: --decode-workers, else TRIBUTARY_DECODE_WORKERS, else by
 * measurement (README, "NDJSON to Delta"): decoding on threads pays only when there are cores to
 * spare for it beside the main thread and the Parquet encoder thread, and an input large enough
 * that starting the threads is paid back.
 */
function decodeWorkers(args: AppendArgs, input: string): number {
  if (args.decodeWorkers !== undefined) return args.decodeWorkers;
  const env = process.env.TRIBUTARY_DECODE_WORKERS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 0 || n > 64) throw new TributaryError('INVALID_ARGUMENT', `TRIBUTARY_DECODE_WORKERS must be a whole number from 0 to 64, got ${JSON.stringify(env)}`);
    return n;
  }
  const size = inputSize(input) ?? 0;
  const spare = availableParallelism() - 2;
  return size >= AUTO_DECODE_MIN_BYTES && spare >= AUTO_DECODE_MIN_SPARE_CORES ? Math.min(spare, 4) : 0;
}

/** Inputs from this size on are encoded on the encoder thread (more than one 64K-row chunk of typical lines). */
const PRESTART_MIN_BYTES = 4 * 1024 * 1024;

/** Below this input size, or with fewer spare cores, decoding stays on the main thread (measured). */
const AUTO_DECODE_MIN_BYTES = 64 * 1024 * 1024;
const AUTO_DECODE_MIN_SPARE_CORES = 2;

/**
 * From this size on, a new table without --schema is written with its head's schema while the
 * whole file's schema pass runs on a thread (speculate): below it, the pass (about 6 ms a MiB
 * measured) costs little more than starting the thread.
 */
const SPECULATE_MIN_BYTES = 16 * 1024 * 1024;

/** The whole file's schema is not the head's the append was decoding with (thenConfirmed). */
class SchemaMoved extends Error {}

/**
 * The same batches, ending only once the whole file's schema pass has answered, and failing
 * (SchemaMoved, before the append can commit) unless it inferred `head` with no bad line: a
 * file whose later lines need another schema (a new column, a wider type, a value the head's
 * type takes by coercion but inference would not) is never committed with the head's.
 */
async function* thenConfirmed(batches: AsyncIterable<arrow.RecordBatch>, whole: Promise<WholePass>, head: StructType): AsyncGenerator<arrow.RecordBatch> {
  yield* batches;
  const found = await whole;
  if (found.thrown || found.error || !typesEqual(found.schema, head)) throw new SchemaMoved(`the whole input infers another schema than its head: ${found.thrown ? found.thrown.message : found.error ? found.error.message : schemaDifference(head, found.schema)}`);
}

/** The schema inference starts from for a new table: no columns yet. */
const NO_COLUMNS: StructType = struct([]);

/** A new table without --schema, and no rows to infer one from. */
function noRowsToInfer(name: string, root: string): never {
  throw new TributaryError('INVALID_ARGUMENT', `${name} has no rows to infer a schema from, and there is no Delta table at ${root}; pass --schema to create it`);
}

/** A shell's exit code for a process ended by `sig` (128 + its number). */
const signalExitCode = (sig: NodeJS.Signals) => (sig === 'SIGINT' ? 130 : 143);

/** The same batches, each marked as handed over (arrow/ipc-pieces.ts). */
async function* handedOver(batches: AsyncIterable<arrow.RecordBatch>): AsyncGenerator<arrow.RecordBatch> {
  for await (const b of batches) yield handOver(b);
}

/** The same batches, calling `onEnd` once the stream has ended (not when it fails). */
async function* whenEnded<T>(items: AsyncIterable<T>, onEnd: () => void): AsyncGenerator<T> {
  yield* items;
  onEnd();
}

/** How to read the NDJSON input, showing bytes read of the file's size (just the counts from a pipe). */
function readOptions(args: AppendArgs, input: string, bar: ProgressView, doing = 'reading'): NdjsonOptions {
  const size = inputSize(input);
  const name = args.input === '-' ? 'stdin' : args.input;
  return {
    invalidUtf8: args.invalidUtf8 === 'replace' ? 'replace' : 'error',
    onProgress: !bar.active
      ? undefined
      : (bytes, rows) => bar.show(`append: ${doing} ${name}`, bytes, size, `${formatBytes(bytes)}${size === undefined ? '' : `/${formatBytes(size)}`}, ${rows.toLocaleString('en-US')} rows`),
  };
}

/** The input's size when it is a regular file (a path, or stdin redirected from a file). */
function inputSize(input: string): number | undefined {
  try {
    const st = input === '-' ? fstatSync(0) : statSync(input);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined; // the reader reports a missing input in its own words
  }
}

/**
 * How the input is read before the append: decoded into Arrow batches of a known schema, or
 * (undefined) read as rows for the append to judge: --merge-schema without --schema from a pipe
 * (appendCommand copies stdin to a file first), an input schema with columns the table does not
 * have without --merge-schema (SCHEMA_MISMATCH, reported before any row), or one whose types the
 * merge refuses. With --merge-schema and --schema, the lines are decoded into the merged columns. A new table's schema is checked first: a line is not judged against columns that cannot
 * exist.
 *
 * --merge-schema without --schema, from a file: decoded into the table's own columns first, `orMerge`.
 * Most appends that pass it bring no new column (a scheduled job's guard against a source that may
 * grow one), and then the merge infers the table's own schema from the rows: the append is the one
 * without --merge-schema. A line that brings a new column (or a new struct field; anything the
 * decoder refuses) fails that attempt, whose files a failed append removes; a pass over the file
 * then infers what the merge adds, and it is decoded again with that (appendCommand). A new table
 * has nothing to fall back to (its schema is given or inferred from the whole input).
 */
export function decodePlan(table: DeltaTable, schema: StructType | undefined, partitionColumns: string[], args: AppendArgs, columnMapping: boolean): { schema: StructType; orMerge: boolean } | undefined {
  // A pipe read once (appendCommand copies stdin to a file when it must be read twice).
  if (args.mergeSchema && schema === undefined && args.input === '-') return undefined;
  const orMerge = args.mergeSchema === true && table.exists && schema === undefined;
  // Identity columns are decoded nullable: rows leave them out and the append fills them; so are
  // generated columns, which the append computes when the input leaves them out.
  if (!table.exists) {
    validateTableSchema(schema!, partitionColumns, { columnMapping });
    return { schema: inputSchemaOf(relaxGeneratedColumns(schema!)), orMerge };
  }
  const current = table.snapshot.schema;
  if (schema) {
    try {
      // --merge-schema with --schema: the lines are decoded into the merged columns, as the rows
      // were coerced to them (the append, told the input's schema, makes the same merge).
      const merged = mergeSchemas(current, schema);
      if (!typesEqual(merged, current)) return args.mergeSchema ? { schema: inputSchemaOf(relaxGeneratedColumns(merged)), orMerge } : undefined;
    } catch {
      return undefined; // incompatible types: the append words it
    }
  }
  return { schema: inputSchemaOf(relaxGeneratedColumns(current)), orMerge };
}

/**
 * Rows were read up to a bad line. The earliest problem wins: a row before that line that the
 * append would refuse (against the schema --merge-schema makes of the table's and those rows')
 * is reported first, else the bad line. (An input schema the table refuses as a whole is not
 * about rows: the bad line is reported, as before.)
 */
function checkRowsBeforeBadLine(input: NdjsonInput, table: DeltaTable, schema: StructType | undefined, mergeSchema: boolean | undefined): never {
  const target = !table.exists ? schema : mergeSchema ? mergeSchemas(table.snapshot.schema, schema ?? inferSchema(input.rows, table.snapshot.schema)) : undefined;
  if (target) ndjsonToBatches({ ...input, error: undefined }, relaxGeneratedColumns(target));
  throw input.error;
}
