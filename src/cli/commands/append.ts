import { TributaryError } from '../../errors.js';
import type { Compression, EngineName } from '../../parquet/handler.js';
import { keyValues } from '../args.js';
import { DeltaTable } from '../../delta/table.js';
import { readNdjson } from '../input.js';
import type { CliStdout } from '../output.js';
import { schemaArg } from '../schema-arg.js';

export interface AppendArgs {
  input: string;
  storageOption?: string[];
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
  const configuration = keyValues('--property', args.property);
  const table = await DeltaTable.forPath(tablePath, { storageOptions: keyValues('--storage-option', args.storageOption) });
  if (!table.exists && !schema) {
    throw new TributaryError('TABLE_NOT_FOUND', `no Delta table at ${table.storage.root}; pass --schema to create it`);
  }
  if (table.exists && args.partitionBy !== undefined && partitionColumns.join(',') !== table.snapshot.partitionColumns.join(',')) {
    throw new TributaryError('INVALID_ARGUMENT', `table ${tablePath} is partitioned by [${table.snapshot.partitionColumns.join(', ')}], not [${partitionColumns.join(', ')}]`);
  }
  if (table.exists && Object.keys(configuration).length) {
    throw new TributaryError('INVALID_ARGUMENT', '--property only applies when the append creates the table');
  }
  const input = await readNdjson(args.input, { invalidUtf8: args.invalidUtf8 === 'replace' ? 'replace' : 'error' });
  let result;
  try {
    result = await table.append(input.rows, {
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
      const line = input.lines[e.details.row as number];
      if (line !== undefined) e.message = `${e.message} [${input.name}, line ${line}]`;
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

