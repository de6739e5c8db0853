import { Command, CommanderError, Option } from 'commander';
import { isTributaryError, TributaryError } from '../errors.js';
import { MAX_ROW_GROUP_ROWS } from '../parquet/handler.js';
import { VERSION } from '../version.js';
import { durationArg, sizeArg, wholeNumber } from './args.js';
import { CliStdout } from './output.js';

// Each command's module is loaded when that command runs: `append` need not load the streaming
// engine, the HTTP client and the sources (a fifth of a one-shot append's CPU went to loading them).
const appendCommand: typeof import('./commands/append.js').appendCommand = async (...a) => (await import('./commands/append.js')).appendCommand(...a);
const historyCommand: typeof import('./commands/history.js').historyCommand = async (...a) => (await import('./commands/history.js')).historyCommand(...a);
const inspectCommand: typeof import('./commands/inspect.js').inspectCommand = async (...a) => (await import('./commands/inspect.js')).inspectCommand(...a);
const readCommand: typeof import('./commands/read.js').readCommand = async (...a) => (await import('./commands/read.js')).readCommand(...a);
const runCommand: typeof import('./commands/run.js').runCommand = async (...a) => (await import('./commands/run.js')).runCommand(...a);
const optimizeCommand: typeof import('./commands/maintenance.js').optimizeCommand = async (...a) => (await import('./commands/maintenance.js')).optimizeCommand(...a);
const vacuumCommand: typeof import('./commands/maintenance.js').vacuumCommand = async (...a) => (await import('./commands/maintenance.js')).vacuumCommand(...a);
const dashboardCommand: typeof import('./commands/dashboard.js').dashboardCommand = async (...a) => (await import('./commands/dashboard.js')).dashboardCommand(...a);

const collect = (v: string, acc: string[]) => [...acc, v];

export function buildProgram(out: CliStdout): Command {
  const program = new Command('tributary')
    .description('Stream rows into Delta Lake tables that Spark and delta-rs read directly')
    .version(VERSION)
    // Program options only before the subcommand, so `inspect --version N` reaches inspect.
    .enablePositionalOptions()
    .exitOverride()
    // Usage errors are reported by main() as one line like every other failure; help and
    // --version still print through commander. Subcommands inherit both settings.
    .configureOutput({ writeOut: (s) => void out.write(s), writeErr: (s) => process.stderr.write(s), outputError: () => undefined });

  program
    .command('append <table>')
    .description('append NDJSON records to a Delta table as one commit (creating it with --schema)')
    .requiredOption('-i, --input <file>', 'NDJSON file, or - for stdin')
    .option('-s, --schema <schema>', 'StructType JSON file, or a DDL string like "coin STRING, price DOUBLE"')
    .option('-p, --partition-by <columns>', 'comma-separated partition columns (when creating)')
    .option('--cluster-by <columns>', 'comma-separated liquid clustering columns (when creating; not with --partition-by)')
    .option('--merge-schema', 'add new nullable columns from the input to the table')
    .addOption(new Option('-e, --engine <engine>', 'Parquet encoder').choices(['parquet-wasm', 'parquetjs']).default('parquet-wasm'))
    .addOption(new Option('--compression <codec>', 'Parquet compression').choices(['snappy', 'zstd', 'uncompressed']).default('snappy'))
    .option('--target-file-size <size>', 'cut data files near this size (e.g. 128MB)', sizeArg('--target-file-size'))
    .option('--row-group-rows <n>', 'maximum rows per Parquet row group (default 262144)', wholeNumber('--row-group-rows', { min: 1, max: MAX_ROW_GROUP_ROWS }))
    .option('--property <key=value>', 'table property when creating (repeatable)', collect, [])
    .addOption(new Option('--invalid-utf8 <policy>', 'input bytes that are not UTF-8: refuse the input, or store U+FFFD').choices(['error', 'replace']).default('error'))
    .option('--decode-workers <n>', 'threads decoding the input (0 = the main thread; default: by input size and cores, or TRIBUTARY_DECODE_WORKERS)', wholeNumber('--decode-workers', { min: 0, max: 64 }))
    .option('--storage-option <key=value>', 'object-store option, e.g. AWS_ENDPOINT_URL=http://127.0.0.1:5000 (repeatable)', collect, [])
    .option('--json', 'print the result as JSON')
    .option('--no-progress', 'no progress bar (drawn only when stdout and stderr are terminals)')
    .action((table, opts) => appendCommand(table, opts, out));

  program
    .command('inspect <table>')
    .description('version, schema, partitions, files, records, size, checkpoint and protocol')
    .option('-v, --version <n>', 'inspect an older version', wholeNumber('--version'))
    .option('--storage-option <key=value>', 'object-store option, e.g. AWS_ENDPOINT_URL=http://127.0.0.1:5000 (repeatable)', collect, [])
    .option('--json', 'print as JSON')
    .action((table, opts) => inspectCommand(table, opts, out));

  program
    .command('history <table>')
    .description('the commits of a table, like DESCRIBE HISTORY')
    .option('-n, --limit <n>', 'only the newest n commits', wholeNumber('--limit'))
    .option('--storage-option <key=value>', 'object-store option, e.g. AWS_ENDPOINT_URL=http://127.0.0.1:5000 (repeatable)', collect, [])
    .option('--json', 'print as JSON')
    .action((table, opts) => historyCommand(table, opts, out));

  program
    .command('read <table>')
    .description('print a table (or --version N of it) as NDJSON')
    .option('-v, --version <n>', 'time travel to version n', wholeNumber('--version'))
    .option('-n, --limit <n>', 'at most n rows', wholeNumber('--limit'))
    .option('--storage-option <key=value>', 'object-store option, e.g. AWS_ENDPOINT_URL=http://127.0.0.1:5000 (repeatable)', collect, [])
    .action((table, opts) => readCommand(table, opts, out));

  program
    .command('optimize <table>')
    .description('compact small files per partition (bin-packing), or cluster a clustered table; one commit with dataChange=false')
    .option('-w, --where <predicate>', "partition filter, e.g. \"date = '2026-11-28'\"")
    .option('--target-file-size <size>', 'target size of the compacted files (default: 128MB)', sizeArg('--target-file-size'))
    .option('--min-files <n>', 'only partitions with at least n small files (default: 2)', wholeNumber('--min-files', { min: 1 }))
    .option('--storage-option <key=value>', 'object-store option, e.g. AWS_ENDPOINT_URL=http://127.0.0.1:5000 (repeatable)', collect, [])
    .option('--json', 'print metrics as JSON')
    .option('--no-progress', 'no progress bar (drawn only when stdout and stderr are terminals)')
    .action((table, opts) => optimizeCommand(table, opts, out));

  program
    .command('vacuum <table>')
    .description('delete data files no snapshot in the retention window references')
    .option('-r, --retention <duration>', 'retention, e.g. 168h (default: delta.deletedFileRetentionDuration, 7 days)', durationArg('--retention'))
    .option('--dry-run', 'list what would be deleted')
    .option('--force', 'allow a retention below 168 hours')
    .option('--storage-option <key=value>', 'object-store option, e.g. AWS_ENDPOINT_URL=http://127.0.0.1:5000 (repeatable)', collect, [])
    .option('--json', 'print the result as JSON')
    .option('--no-progress', 'no progress bar (drawn only when stdout and stderr are terminals)')
    .action((table, opts) => vacuumCommand(table, opts, out));

  program
    .command('run <target> [args...]')
    .description('run a streaming query: a registered source into a Delta table (--format), or a job file')
    .option('-f, --format <source>', 'source format (rate, ...); <target> is then the Delta table')
    .option('-o, --option <key=value>', 'source option (repeatable)', collect, [])
    .option('-s, --schema <schema>', 'override the source schema (StructType JSON file or DDL)')
    .option('-c, --checkpoint <dir>', 'checkpoint directory (offsets, commits, write-ahead rows)')
    .option('-t, --trigger <trigger>', 'processingTime=30s | once | availableNow (overrides a job file\'s trigger)')
    .option('--max-rows-per-batch <n>', 'admission control: at most n rows per batch', wholeNumber('--max-rows-per-batch', { min: 1 }))
    .option('--max-bytes-per-batch <size>', 'admission control: about this many bytes per batch', sizeArg('--max-bytes-per-batch'))
    .option('-p, --partition-by <columns>', 'partition columns when the table is created')
    .option('--cluster-by <columns>', 'liquid clustering columns when the table is created')
    .addOption(new Option('-e, --engine <engine>', 'Parquet encoder').choices(['parquet-wasm', 'parquetjs']))
    .option('--query-name <name>', 'query name shown in progress')
    .option('--schedule <cron>', 'run on a cron expression (e.g. "*/5 * * * *") in one long-lived process')
    .option('--storage-option <key=value>', 'object-store option, e.g. AWS_ENDPOINT_URL=http://127.0.0.1:5000 (repeatable)', collect, [])
    .option('--json', 'progress as JSON lines')
    .option('--no-progress', 'no progress bar for sources that report their progress (drawn only when stdout and stderr are terminals)')
    .option('--metrics-port <port>', 'serve Prometheus metrics at /metrics, and /healthz and /readyz, on this port', wholeNumber('--metrics-port', { max: 65535 }))
    .option('--metrics-host <host>', 'interface for --metrics-port (default 127.0.0.1; 0.0.0.0 for Kubernetes probes)')
    .option('--dashboard', 'also serve the live dashboard at / on the --metrics-port')
    .option('--ready-after-intervals <n>', '/readyz fails once no batch committed for n trigger intervals (default 3)', wholeNumber('--ready-after-intervals', { min: 1 }))
    .option('--liveness-timeout <duration>', '/healthz fails once the trigger loop has not moved for this long (default 5m)', durationArg('--liveness-timeout'))
    .action(async (target, rest, opts) => {
      process.exitCode = await runCommand(target, opts, rest, out);
    });

  program
    .command('dashboard <checkpoint> [table]')
    .description("serve the dashboard of a stopped or cron-run query from the progress its checkpoint keeps")
    .option('--port <port>', 'port to serve on (default 4040; 0 picks a free one)', wholeNumber('--port', { max: 65535 }), 4040)
    .option('--host <host>', 'interface to bind (default 127.0.0.1)')
    .option('--batches <n>', 'batches charted (the newest; default 100)', wholeNumber('--batches', { min: 1 }))
    .option('--storage-option <key=value>', 'object-store option, e.g. AWS_ENDPOINT_URL=http://127.0.0.1:5000 (repeatable)', collect, [])
    .action(async (checkpoint, table, opts) => {
      process.exitCode = await dashboardCommand(checkpoint, table, opts);
    });

  return program;
}

/** Codes of CommanderErrors that are not failures (help or the version was asked for). */
const NOT_FAILURES = new Set(['commander.helpDisplayed', 'commander.version', 'commander.help']);

/**
 * Runs the CLI; returns the exit code. Every failure is one line on stderr, `tributary: error
 * [CODE]: message`, so scripts and log scrapers can rely on its shape: 1 for Tributary's errors, 2
 * for usage errors, 70 (EX_SOFTWARE) for a bug ([INTERNAL]). TRIBUTARY_DEBUG=1 adds the stack.
 */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const out = new CliStdout(process.stdout);
  let code: number;
  try {
    await buildProgram(out).parseAsync(argv, { from: 'user' });
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (NOT_FAILURES.has(e.code)) return e.exitCode === 0 ? 0 : 2;
      reportError(new TributaryError('INVALID_ARGUMENT', e.message.replace(/^error: /, ''), { commander: e.code }), env);
      return 2;
    }
    reportError(e, env);
    if (isTributaryError(e, 'INTERRUPTED') && typeof e.details.exitCode === 'number') return e.details.exitCode;
    return isTributaryError(e) ? 1 : 70;
  }
  if (out.failure) {
    reportError(out.failure, env);
    return 1;
  }
  return code;
}

/** One line per failure; messages that span lines (wrapped library errors) are joined. */
export function errorLine(e: unknown): string {
  const code = isTributaryError(e) ? e.code : 'INTERNAL';
  // An unexpected error's class says what went wrong ("RangeError: ...", "RuntimeError: unreachable").
  const message = isTributaryError(e) ? e.message : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return `tributary: error [${code}]: ${message.replace(/\s*\n\s*/g, ' ').trim() || 'unknown error'}`;
}

/**
 * Errors that escape every await (a job's stray promise, a throw in a timer) would otherwise
 * print Node's multi-line trace: they end the process as one line too.
 */
export function exitOnUncaught(env: NodeJS.ProcessEnv = process.env): void {
  const fatal = (e: unknown) => {
    reportError(e, env);
    process.exit(isTributaryError(e) ? 1 : 70);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}

function reportError(e: unknown, env: NodeJS.ProcessEnv): void {
  process.stderr.write(errorLine(e) + '\n');
  if (env.TRIBUTARY_DEBUG && env.TRIBUTARY_DEBUG !== '0') {
    for (let x: unknown = e; x instanceof Error; x = x.cause) process.stderr.write(`${x === e ? '' : 'caused by: '}${x.stack ?? x.message}\n`);
  }
}
