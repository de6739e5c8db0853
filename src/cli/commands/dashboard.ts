import { CheckpointDir } from '../../engine/checkpoint-dir.js';
import { DEFAULT_PROGRESS_HISTORY } from '../../engine/streaming-query.js';
import { TributaryError } from '../../errors.js';
import { checkpointFeed } from '../../ops/dashboard-feed.js';
import { OpsServer } from '../../ops/server.js';
import { keyValues } from '../args.js';

export interface DashboardArgs {
  port: number;
  host?: string;
  batches?: number;
  storageOption?: string[];
}

/**
 * `tributary dashboard <checkpoint> [<table>]`: the dashboard of a query that is not running here
 * (stopped, or run by cron), built from the progress its checkpoint keeps, until SIGINT/SIGTERM.
 */
export async function dashboardCommand(location: string, table: string | undefined, args: DashboardArgs): Promise<number> {
  const storageOptions = keyValues('--storage-option', args.storageOption);
  const checkpoint = await CheckpointDir.at(location, storageOptions);
  if (!(await checkpoint.storage.stat('metadata'))) {
    throw new TributaryError('INVALID_ARGUMENT', `${checkpoint.dir} is not a streaming checkpoint (no metadata file): give the --checkpoint a query ran with`);
  }
  const feed = checkpointFeed({ checkpoint, table, storageOptions, history: args.batches ?? DEFAULT_PROGRESS_HISTORY });
  const server = await OpsServer.start({ port: args.port, host: args.host, dashboard: feed, keepAlive: true });
  process.stderr.write(`tributary: dashboard of ${checkpoint.dir} at ${server.url} (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return 0;
}
