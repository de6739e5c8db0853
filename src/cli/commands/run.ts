import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TributaryError } from '../../errors.js';
import type { StreamingQueryProgress } from '../../engine/progress.js';
import type { StreamingQuery } from '../../engine/streaming-query.js';
import { parseTriggerArg, type Trigger } from '../../engine/trigger.js';
import { Tributary } from '../../session.js';
import { storageOptionSecrets } from '../../storage/uri.js';
import { keyValues } from '../args.js';
import { canonicalOffset } from '../../source/offset.js';
import type { CliStdout } from '../output.js';
import { progressView, type ProgressView } from '../progress.js';
import { schemaArg } from '../schema-arg.js';

export interface RunArgs {
  storageOption?: string[];
  format?: string;
  option?: string[];
  schema?: string;
  checkpoint?: string;
  trigger?: string;
  maxRowsPerBatch?: number;
  maxBytesPerBatch?: number;
  partitionBy?: string;
  clusterBy?: string;
  engine?: string;
  queryName?: string;
  json?: boolean;
  schedule?: string;
  progress?: boolean;
  metricsPort?: number;
  metricsHost?: string;
  dashboard?: boolean;
  readyAfterIntervals?: number;
  livenessTimeout?: number;
}

/** A job file: `export default (t: Tributary) => t.readStream....start(path)`. */
export type JobModule = { default: (t: Tributary, ctx: { args: string[] }) => StreamingQuery | Promise<StreamingQuery> };


export function progressLine(p: StreamingQueryProgress): string {
  const v = p.deltaVersion === null ? 'no new version' : `version ${p.deltaVersion}`;
  const recovered = p.sources[0]?.metrics.recovered ? ' (recovered)' : '';
  return `batch ${p.batchId}${recovered}: ${p.numInputRows} rows in ${p.durationMs.triggerExecution ?? p.batchDuration} ms -> ${v}; offset ${p.sources[0]?.endOffset ? canonicalOffset(p.sources[0].endOffset) : '-'}`;
}

/**
 * Every line `run` prints goes through the session's secrets, after it is formatted (JSON
 * escaping included): the last pass, whatever a source or job put in a message. Standard output
 * goes through the CLI's watched stdout (a closed pipe ends the command quietly).
 */
type Print = (stream: 'stdout' | 'stderr', line: string) => void;

export async function runCommand(target: string, args: RunArgs, rest: string[], out: CliStdout): Promise<number> {
  const session = new Tributary();
  const bar = progressView(args);
  const print: Print = (stream, line) => {
    const text = session.secrets.redact(line) + '\n';
    bar.print(() => (stream === 'stdout' ? out.write(text) : process.stderr.write(text)));
  };
  try {
    return await run(session, print, bar, target, args, rest, out);
  } catch (e) {
    // main() prints the error; by then it must hold no secret either.
    throw session.secrets.scrub(e);
  } finally {
    bar.stop();
    await session.closeOps();
  }
}

/** The period between two ticks of a cron expression: the interval readiness counts in for --schedule. */
async function schedulePeriodMs(expr: string): Promise<number> {
  const { Cron } = await import('croner');
  const c = new Cron(expr, { paused: true });
  const [a, b] = c.nextRuns(2);
  c.stop();
  return a && b ? b.getTime() - a.getTime() : 0;
}

/**
 * `--metrics-port`: /metrics, /healthz, /readyz (and the dashboard with --dashboard) for every
 * query this process runs, started before the first query so a taken port fails the command
 * before anything is written.
 */
async function serveOps(session: Tributary, args: RunArgs, print: Print): Promise<void> {
  const needsPort = (['dashboard', 'metricsHost', 'readyAfterIntervals', 'livenessTimeout'] as const).find((k) => args[k] !== undefined);
  if (args.metricsPort === undefined) {
    if (needsPort) throw new TributaryError('INVALID_ARGUMENT', `--${needsPort.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} needs --metrics-port <port> (the port metrics, health and the dashboard are served on)`);
    return;
  }
  const ops = await session.serveOps({
    port: args.metricsPort,
    host: args.metricsHost,
    dashboard: args.dashboard,
    readyAfterIntervals: args.readyAfterIntervals,
    livenessTimeoutMs: args.livenessTimeout,
    intervalMs: args.schedule ? await schedulePeriodMs(args.schedule) : undefined,
  });
  // Also with --json: it goes to stderr, and a supervisor needs the address (with port 0 above all).
  print('stderr', `tributary: metrics at ${ops.url}metrics, health at ${ops.url}healthz and ${ops.url}readyz${args.dashboard ? `, dashboard at ${ops.url}` : ''}`);
}

/**
 * A source that knows how far it is through a finite job reports `progressDone`, `progressTotal`
 * and optionally `progressUnit` in its metrics (the CoinGecko backfill: chunks of its time
 * range); `run` then draws a bar of it, with an ETA. Other sources show no bar.
 */
export function sourceProgress(p: StreamingQueryProgress): { done: number; total: number; unit: string } | undefined {
  const m = p.sources[0]?.metrics ?? {};
  if (m.progressDone === undefined || m.progressTotal === undefined) return undefined;
  const done = Number(m.progressDone);
  const total = Number(m.progressTotal);
  if (!Number.isFinite(done) || !Number.isFinite(total) || total <= 0) return undefined;
  return { done, total, unit: m.progressUnit ?? 'steps' };
}

async function run(session: Tributary, print: Print, bar: ProgressView, target: string, args: RunArgs, rest: string[], out: CliStdout): Promise<number> {
  // Every query this run starts (a --format one, or a job file's) reaches its stores with these.
  session.storageOptions = keyValues('--storage-option', args.storageOption);
  for (const v of storageOptionSecrets(session.storageOptions)) session.secrets.add(v);
  const trigger: Trigger | undefined = args.trigger ? parseTriggerArg(args.trigger) : undefined;
  session.onWarning = (m) => print('stderr', `tributary: warning: ${m}`);
  await serveOps(session, args, print);
  session.streams.addListener({
    onQueryProgress: ({ progress }) => {
      print('stdout', args.json ? JSON.stringify(progress) : progressLine(progress));
      const s = sourceProgress(progress);
      if (s) bar.show(`run ${progress.name ?? 'query'}`, s.done, s.total, `${s.done}/${s.total} ${s.unit}`);
    },
    onQueryStarted: (e) => {
      if (!args.json) print('stderr', `tributary: query ${e.id} started (run ${e.runId})`);
    },
    // Each run of a --schedule gets a bar of its own.
    onQueryTerminated: () => bar.stop(),
  });

  const build = async (): Promise<StreamingQuery> => {
  let query: StreamingQuery;
  if (args.format) {
    if (!args.checkpoint) throw new TributaryError('INVALID_ARGUMENT', 'run --format needs --checkpoint <dir>');
    let reader = session.readStream.format(args.format).options(keyValues('--option', args.option));
    if (args.schema) reader = reader.schema(schemaArg(args.schema));
    if (args.maxRowsPerBatch !== undefined) reader = reader.option('maxRowsPerBatch', String(args.maxRowsPerBatch));
    if (args.maxBytesPerBatch !== undefined) reader = reader.option('maxBytesPerBatch', String(args.maxBytesPerBatch));
    let writer = reader.load().writeStream.format('delta').option('checkpointLocation', args.checkpoint);
    if (args.partitionBy) writer = writer.partitionBy(args.partitionBy.split(',').map((s) => s.trim()));
    if (args.clusterBy) writer = writer.clusterBy(args.clusterBy);
    if (args.engine) writer = writer.option('engine', args.engine);
    if (args.queryName) writer = writer.queryName(args.queryName);
    query = writer.trigger(trigger ?? (args.schedule ? { availableNow: true } : { processingTime: 0 })).start(target);
  } else {
    const file = path.resolve(target);
    if (!existsSync(file)) throw new TributaryError('INVALID_ARGUMENT', `no job file ${file} (or give --format <source> to run a source into the table ${target})`);
    session.triggerOverride = trigger ?? (args.schedule ? { availableNow: true } : undefined);
    if (/\.[cm]?ts$/.test(file)) {
      // TypeScript jobs run through tsx's loader.
      const { register } = await import('tsx/esm/api');
      register();
    }
    const mod = (await import(pathToFileURL(file).href)) as JobModule;
    if (typeof mod.default !== 'function') throw new TributaryError('INVALID_ARGUMENT', `job ${file} must export a default function (tributary) => StreamingQuery`);
    query = await mod.default(session, { args: rest });
  }
  return query;
  };

  if (args.schedule) return runScheduled(args.schedule, build, args.json ?? false, out.closed, print);
  const query = await build();

  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      print('stderr', `tributary: ${sig} again: exiting now (the next run recovers from the checkpoint)`);
      process.exit(130);
    }
    print('stderr', `tributary: ${sig}: stopping after the current batch (send it again to exit at once)`);
    for (const q of session.streams.active) void q.stop();
  };
  // Progress nobody reads any more (`| head`): stop after the current batch, quietly.
  const onClosed = () => {
    for (const q of session.streams.active) void q.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  out.closed.addEventListener('abort', onClosed);
  if (out.closed.aborted) onClosed();
  try {
    await query.awaitTermination();
    for (const q of session.streams.active) await q.awaitTermination();
    if (!args.json) print('stderr', `tributary: query ${query.id} stopped`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    out.closed.removeEventListener('abort', onClosed);
  }
}

/**
 * `--schedule "<cron>"`: one long-lived process that runs the query (availableNow unless a
 * trigger is given) at every tick of a cron expression. croner computes the ticks; a tick that
 * arrives while the previous run is still going is skipped, never overlapped.
 */
async function runScheduled(expr: string, build: () => Promise<StreamingQuery>, json: boolean, outputClosed: AbortSignal, print: Print): Promise<number> {
  const { Cron } = await import('croner');
  let failed: Error | undefined;
  let stopping = false;
  let current: StreamingQuery | undefined;
  let wake!: () => void;
  const finished = new Promise<void>((r) => (wake = r));
  const job = new Cron(expr, { protect: true }, async () => {
    if (stopping) return;
    try {
      current = await build();
      await current.awaitTermination();
    } catch (e) {
      // A failed tick (API down, checkpoint locked by an overlapping cron run) is reported and
      // the schedule goes on; the next tick recovers from the checkpoint.
      failed = e as Error;
      print('stderr', `tributary: scheduled run failed: ${(e as Error).message}`);
    } finally {
      current = undefined;
    }
    if (!json) print('stderr', `tributary: next run at ${job.nextRun()?.toISOString() ?? 'never'}`);
  });
  if (!json) print('stderr', `tributary: scheduled "${expr}", first run at ${job.nextRun()?.toISOString()}`);
  const stop = () => {
    stopping = true;
    job.stop();
    void (current ? current.stop() : Promise.resolve()).then(() => wake());
  };
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    print('stderr', `tributary: ${sig}: stopping the schedule after the current run`);
    stop();
  };
  // Progress nobody reads any more: end the schedule after the current run, quietly.
  const onClosed = () => {
    if (!stopping) stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  outputClosed.addEventListener('abort', onClosed);
  if (outputClosed.aborted) onClosed();
  await finished;
  job.stop();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  outputClosed.removeEventListener('abort', onClosed);
  return failed && !stopping ? 1 : 0;
}
