import { keyValues } from '../args.js';
import { DeltaTable } from '../../delta/table.js';
import { optimize } from '../../delta/operations/optimize.js';
import { vacuum } from '../../delta/operations/vacuum.js';
import { formatBytes } from '../format.js';
import type { CliStdout } from '../output.js';

export async function optimizeCommand(tablePath: string, args: { where?: string; targetFileSize?: number; minFiles?: number; json?: boolean; storageOption?: string[] }, out: CliStdout): Promise<void> {
  const table = await DeltaTable.open(tablePath, undefined, { storageOptions: keyValues('--storage-option', args.storageOption) });
  const m = await optimize(table, {
    where: args.where,
    targetFileSize: args.targetFileSize,
    minFiles: args.minFiles,
  });
  if (args.json) out.write(JSON.stringify(m) + '\n');
  else if (m.version === undefined) out.write(`nothing to optimize in ${table.storage.root} (version ${table.version})\n`);
  else {
    out.write(
      `optimized ${m.partitionsOptimized} partition(s): ${m.numFilesRemoved} files (${formatBytes(m.numBytesRemoved)}) -> ${m.numFilesAdded} files (${formatBytes(m.numBytesAdded)}) as version ${m.version}\n`,
    );
  }
}

export async function vacuumCommand(tablePath: string, args: { retention?: number; dryRun?: boolean; force?: boolean; json?: boolean; storageOption?: string[] }, out: CliStdout): Promise<void> {
  const table = await DeltaTable.open(tablePath, undefined, { storageOptions: keyValues('--storage-option', args.storageOption) });
  const r = await vacuum(table, { retentionMs: args.retention, dryRun: args.dryRun, force: args.force });
  if (args.json) {
    out.write(JSON.stringify(r) + '\n');
    return;
  }
  const verb = r.dryRun ? 'would delete' : 'deleted';
  for (const f of r.deleted) out.write(`${verb} ${f}\n`);
  for (const f of r.leftovers) out.write(`${verb} ${f} (left by an interrupted write)\n`);
  out.write(
    `${verb} ${r.deleted.length} file(s), ${formatBytes(r.bytes)}, unreferenced for more than ${Math.round(r.retentionMs / 3_600_000)} hours` +
      (r.leftovers.length ? `, and ${r.leftovers.length} staging file(s) left by interrupted writes` : '') +
      '\n',
  );
}
