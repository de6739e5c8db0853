import { DeltaTable } from '../../delta/table.js';
import { optimize } from '../../delta/operations/optimize.js';
import { vacuum } from '../../delta/operations/vacuum.js';
import { parseDuration } from '../../engine/trigger.js';
import { formatBytes } from '../format.js';
import { parseSize } from '../size.js';

export async function optimizeCommand(tablePath: string, args: { where?: string; targetFileSize?: string; minFiles?: string; json?: boolean }): Promise<void> {
  const table = await DeltaTable.open(tablePath);
  const m = await optimize(table, {
    where: args.where,
    targetFileSize: args.targetFileSize ? parseSize(args.targetFileSize) : undefined,
    minFiles: args.minFiles ? Number(args.minFiles) : undefined,
  });
  if (args.json) process.stdout.write(JSON.stringify(m) + '\n');
  else if (m.version === undefined) process.stdout.write(`nothing to optimize in ${table.storage.root} (version ${table.version})\n`);
  else {
    process.stdout.write(
      `optimized ${m.partitionsOptimized} partition(s): ${m.numFilesRemoved} files (${formatBytes(m.numBytesRemoved)}) -> ${m.numFilesAdded} files (${formatBytes(m.numBytesAdded)}) as version ${m.version}\n`,
    );
  }
}

export async function vacuumCommand(tablePath: string, args: { retention?: string; dryRun?: boolean; force?: boolean; json?: boolean }): Promise<void> {
  const table = await DeltaTable.open(tablePath);
  const r = await vacuum(table, { retentionMs: args.retention ? parseDuration(args.retention) : undefined, dryRun: args.dryRun, force: args.force });
  if (args.json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  for (const f of r.deleted) process.stdout.write(`${r.dryRun ? 'would delete' : 'deleted'} ${f}\n`);
  process.stdout.write(`${r.dryRun ? 'would delete' : 'deleted'} ${r.deleted.length} file(s), ${formatBytes(r.bytes)}, unreferenced for more than ${Math.round(r.retentionMs / 3_600_000)} hours\n`);
}
