import { fstatSync, statSync } from 'node:fs';
import { TributaryError } from '../../errors.js';
import type { Compression, EngineName } from '../../parquet/handler.js';
import { countingHandler } from '../../parquet/counting-handler.js';
import { parquetHandler } from '../../parquet/engines.js';
import { DeltaTable } from '../../delta/table.js';
import { keyValues } from '../args.js';
import { formatBytes } from '../format.js';
import { readNdjson } from '../input.js';
import type { CliStdout } from '../output.js';
import { progressView, type ProgressView } from '../progress.js';
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
  progress?: boolean;
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
  const bar = progressView(args);
  let result;
  let input;
  try {
    input = await readInput(args, bar);
    const rows = input.rows.length;
    let written = 0;
    const engine = parquetHandler((args.engine ?? 'parquet-wasm') as EngineName);
    const encoder = !bar.active
      ? engine
      : countingHandler(engine, (n) => {
          written += n;
          bar.show('append: writing', written, rows, `${written.toLocaleString('en-US')}/${rows.toLocaleString('en-US')} rows`);
        });
    result = await table.append(input.rows, {
      create: schema ? { schema, partitionColumns, configuration } : undefined,
      mergeSchema: args.mergeSchema,
      schema: table.exists ? schema : undefined,
      engine: encoder,
      compression: (args.compression ?? 'snappy') as Compression,
      targetFileSize: args.targetFileSize,
      rowGroupRows: args.rowGroupRows,
      onCheckpointError: (e) => bar.print(() => process.stderr.write(`tributary: warning: checkpoint not written: ${(e as Error).message}\n`)),
    });
  } catch (e) {
    // Point row errors at the input line as well as the row index.
    if (input && e instanceof TributaryError && typeof e.details.row === 'number') {
      const line = input.lines[e.details.row as number];
      if (line !== undefined) e.message = `${e.message} [${input.name}, line ${line}]`;
    }
    throw e;
  } finally {
    bar.stop();
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


/** Reads the NDJSON input, showing bytes read of the file's size (just the counts from a pipe). */
function readInput(args: AppendArgs, bar: ProgressView) {
  const size = inputSize(args.input);
  const name = args.input === '-' ? 'stdin' : args.input;
  return readNdjson(args.input, {
    invalidUtf8: args.invalidUtf8 === 'replace' ? 'replace' : 'error',
    onProgress: !bar.active
      ? undefined
      : (bytes, rows) => bar.show(`append: reading ${name}`, bytes, size, `${formatBytes(bytes)}${size === undefined ? '' : `/${formatBytes(size)}`}, ${rows.toLocaleString('en-US')} rows`),
  });
}

/** The input's size when it is a regular file (a path, or stdin redirected from a file). */
function inputSize(input: string): number | undefined {
  try {
    const st = input === '-' ? fstatSync(0) : statSync(input);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined; // readNdjson reports a missing input in its own words
  }
}
