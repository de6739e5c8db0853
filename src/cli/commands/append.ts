import { TributaryError } from '../../errors.js';
import type { Compression, EngineName } from '../../parquet/encoder.js';
import { DeltaTable, type TableInput } from '../../delta/table.js';
import { ndjsonToBatches, decodeNdjson, type NdjsonInput, readNdjson } from '../input.js';
import { withInputLine } from '../../json/ndjson.js';
import { mergeSchemas, type StructType, typesEqual, validateTableSchema } from '../../schema/schema.js';
import { inferSchema } from '../../delta/infer.js';
import type { CliStdout } from '../output.js';
import { schemaArg } from '../schema-arg.js';

export interface AppendArgs {
  input: string;
  schema?: string;
  partitionBy?: string;
  mergeSchema?: boolean;
  engine?: string;
  compression?: string;
  targetFileSize?: number;
  rowGroupRows?: number;
  property?: string[];
  invalidUtf8?: string;
  json?: boolean;
}

export async function appendCommand(tablePath: string, args: AppendArgs, out: CliStdout): Promise<void> {
  const schema = args.schema ? schemaArg(args.schema) : undefined;
  const partitionColumns = args.partitionBy ? args.partitionBy.split(',').map((s) => s.trim()).filter(Boolean) : [];
  const configuration: Record<string, string> = {};
  for (const p of args.property ?? []) {
    const i = p.indexOf('=');
    if (i <= 0) throw new TributaryError('INVALID_ARGUMENT', `--property expects key=value, got "${p}"`);
    configuration[p.slice(0, i)] = p.slice(i + 1);
  }
  const table = await DeltaTable.forPath(tablePath);
  if (!table.exists && !schema) {
    throw new TributaryError('TABLE_NOT_FOUND', `no Delta table at ${table.storage.root}; pass --schema to create it`);
  }
  if (table.exists && args.partitionBy !== undefined && partitionColumns.join(',') !== table.snapshot.partitionColumns.join(',')) {
    throw new TributaryError('INVALID_ARGUMENT', `table ${tablePath} is partitioned by [${table.snapshot.partitionColumns.join(', ')}], not [${partitionColumns.join(', ')}]`);
  }
  if (table.exists && Object.keys(configuration).length) {
    throw new TributaryError('INVALID_ARGUMENT', '--property only applies when the append creates the table');
  }
  const invalidUtf8 = args.invalidUtf8 === 'replace' ? 'replace' : 'error';
  let data: TableInput;
  let name: string;
  let lineOf: (row: number) => number | undefined;
  const decodeWith = decoderSchema(table, schema, partitionColumns, args.mergeSchema);
  if (decodeWith) {
    // The schema is known: bytes straight to Arrow batches (the decoder names bad lines itself).
    const decoded = await decodeNdjson(args.input, decodeWith, { invalidUtf8 });
    ({ batches: data, name, lineOf } = decoded);
  } else {
    // --merge-schema (or an input schema that differs from the table's): rows first.
    const input = await readNdjson(args.input, { invalidUtf8 });
    if (input.error) checkRowsBeforeBadLine(input, table, schema, args.mergeSchema);
    ({ rows: data, name } = input);
    lineOf = (r) => input.lines[r];
  }
  let result;
  try {
    result = await table.append(data, {
      create: schema ? { schema, partitionColumns, configuration } : undefined,
      mergeSchema: args.mergeSchema,
      schema: table.exists ? schema : undefined,
      engine: (args.engine ?? 'parquet-wasm') as EngineName,
      compression: (args.compression ?? 'snappy') as Compression,
      targetFileSize: args.targetFileSize,
      rowGroupRows: args.rowGroupRows,
      onCheckpointError: (e) => process.stderr.write(`tributary: warning: checkpoint not written: ${(e as Error).message}\n`),
    });
  } catch (e) {
    // Point row errors at the input line as well as the row index.
    if (e instanceof TributaryError && typeof e.details.row === 'number') {
      const line = lineOf(e.details.row as number);
      if (line !== undefined) withInputLine(e, name, line);
    }
    throw e;
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
 * The schema the input can be decoded into before the append, or undefined when the append
 * decides it from the rows (--merge-schema) or refuses it as a whole (an input schema with
 * columns the table does not have: SCHEMA_MISMATCH, reported before any row). A new table's
 * schema is checked first: a line is not judged against columns that cannot exist.
 */
function decoderSchema(table: DeltaTable, schema: StructType | undefined, partitionColumns: string[], mergeSchema: boolean | undefined): StructType | undefined {
  if (mergeSchema) return undefined;
  if (!table.exists) {
    validateTableSchema(schema!, partitionColumns);
    return schema;
  }
  const current = table.snapshot.schema;
  if (schema) {
    try {
      if (!typesEqual(mergeSchemas(current, schema), current)) return undefined;
    } catch {
      return undefined; // incompatible types: the append words it
    }
  }
  return current;
}

/**
 * Rows were read up to a bad line. The earliest problem wins: a row before that line that the
 * append would refuse (against the schema --merge-schema makes of the table's and those rows')
 * is reported first, else the bad line. (An input schema the table refuses as a whole is not
 * about rows: the bad line is reported, as before.)
 */
function checkRowsBeforeBadLine(input: NdjsonInput, table: DeltaTable, schema: StructType | undefined, mergeSchema: boolean | undefined): never {
  const target = !table.exists ? schema : mergeSchema ? mergeSchemas(table.snapshot.schema, schema ?? inferSchema(input.rows, table.snapshot.schema)) : undefined;
  if (target) ndjsonToBatches({ ...input, error: undefined }, target);
  throw input.error;
}
