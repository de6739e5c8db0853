import { Command, CommanderError, Option } from 'commander';
import { isTributaryError } from '../errors.js';
import { appendCommand } from './commands/append.js';
import { historyCommand } from './commands/history.js';
import { inspectCommand } from './commands/inspect.js';
import { readCommand } from './commands/read.js';
import { runCommand } from './commands/run.js';
import { optimizeCommand, vacuumCommand } from './commands/maintenance.js';

const collect = (v: string, acc: string[]) => [...acc, v];

export function buildProgram(): Command {
  const program = new Command('tributary')
    .description('Stream rows into Delta Lake tables that Spark and delta-rs read directly')
    .version('0.1.0')
    // Program options only before the subcommand, so `inspect --version N` reaches inspect.
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('append <table>')
    .description('append NDJSON records to a Delta table as one commit (creating it with --schema)')
    .requiredOption('-i, --input <file>', 'NDJSON file, or - for stdin')
    .option('-s, --schema <schema>', 'StructType JSON file, or a DDL string like "coin STRING, price DOUBLE"')
    .option('-p, --partition-by <columns>', 'comma-separated partition columns (when creating)')
    .option('--merge-schema', 'add new nullable columns from the input to the table')
    .addOption(new Option('-e, --engine <engine>', 'Parquet encoder').choices(['parquet-wasm', 'parquetjs']).default('parquet-wasm'))
    .addOption(new Option('--compression <codec>', 'Parquet compression').choices(['snappy', 'zstd', 'uncompressed']).default('snappy'))
    .option('--target-file-size <size>', 'cut data files near this size (e.g. 128MB)')
    .option('--row-group-rows <n>', 'maximum rows per Parquet row group')
    .option('--property <key=value>', 'table property when creating (repeatable)', collect, [])
    .addOption(new Option('--invalid-utf8 <policy>', 'input bytes that are not UTF-8: refuse the input, or store U+FFFD').choices(['error', 'replace']).default('error'))
    .option('--json', 'print the result as JSON')
    .action((table, opts) => appendCommand(table, opts));

  program
    .command('inspect <table>')
    .description('version, schema, partitions, files, records, size, checkpoint and protocol')
    .option('-v, --version <n>', 'inspect an older version')
    .option('--json', 'print as JSON')
    .action((table, opts) => inspectCommand(table, opts));

  program
    .command('history <table>')
    .description('the commits of a table, like DESCRIBE HISTORY')
    .option('-n, --limit <n>', 'only the newest n commits')
    .option('--json', 'print as JSON')
    .action((table, opts) => historyCommand(table, opts));

  program
    .command('read <table>')
    .description('print a table (or --version N of it) as NDJSON')
    .option('-v, --version <n>', 'time travel to version n')
    .option('-n, --limit <n>', 'at most n rows')
    .action((table, opts) => readCommand(table, opts));

  program
    .command('optimize <table>')
    .description('compact small files per partition (bin-packing), one commit with dataChange=false')
    .option('-w, --where <predicate>', "partition filter, e.g. \"date = '2026-11-28'\"")
    .option('--target-file-size <size>', 'target size of the compacted files', '128MB')
    .option('--min-files <n>', 'only partitions with at least n small files', '2')
    .option('--json', 'print metrics as JSON')
    .action((table, opts) => optimizeCommand(table, opts));

  program
    .command('vacuum <table>')
    .description('delete data files no snapshot in the retention window references')
    .option('-r, --retention <duration>', 'retention, e.g. 168h (default: delta.deletedFileRetentionDuration, 7 days)')
    .option('--dry-run', 'list what would be deleted')
    .option('--force', 'allow a retention below 168 hours')
    .option('--json', 'print the result as JSON')
    .action((table, opts) => vacuumCommand(table, opts));

  program
    .command('run <target> [args...]')
    .description('run a streaming query: a registered source into a Delta table (--format), or a job file')
    .option('-f, --format <source>', 'source format (rate, ...); <target> is then the Delta table')
    .option('-o, --option <key=value>', 'source option (repeatable)', collect, [])
    .option('-s, --schema <schema>', 'override the source schema (StructType JSON file or DDL)')
    .option('-c, --checkpoint <dir>', 'checkpoint directory (offsets, commits, write-ahead rows)')
    .option('-t, --trigger <trigger>', 'processingTime=30s | once | availableNow (overrides a job file\'s trigger)')
    .option('--max-rows-per-batch <n>', 'admission control: at most n rows per batch')
    .option('--max-bytes-per-batch <size>', 'admission control: about this many bytes per batch')
    .option('-p, --partition-by <columns>', 'partition columns when the table is created')
    .addOption(new Option('-e, --engine <engine>', 'Parquet encoder').choices(['parquet-wasm', 'parquetjs']))
    .option('--query-name <name>', 'query name shown in progress')
    .option('--schedule <cron>', 'run on a cron expression (e.g. "*/5 * * * *") in one long-lived process')
    .option('--json', 'progress as JSON lines')
    .action(async (target, rest, opts) => {
      process.exitCode = await runCommand(target, opts, rest);
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (isTributaryError(e)) {
      process.stderr.write(`tributary: error [${e.code}]: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`tributary: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 70;
  }
}
