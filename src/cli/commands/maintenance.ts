import { keyValues } from '../args.js';
import { DeltaTable } from '../../delta/table.js';
import { optimize, type OptimizeProgress } from '../../delta/operations/optimize.js';
import { vacuum, type VacuumProgress } from '../../delta/operations/vacuum.js';
import { formatBytes } from '../format.js';
import type { CliStdout } from '../output.js';
import { type ProgressSwitches, progressView, type ProgressView } from '../progress.js';

const count = (n: number) => n.toLocaleString('en-US');

/** The bar moves with the bytes (closer to the time taken than the file count); both are shown. */
function showOptimize(bar: ProgressView, p: OptimizeProgress): void {
  bar.show('optimize', p.bytesDone, p.bytesTotal, `${count(p.filesDone)}/${count(p.filesTotal)} files, ${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)}`);
}

function showVacuum(bar: ProgressView, p: VacuumProgress): void {
  if (p.phase === 'list') bar.show('vacuum: listing files', 0, undefined, 'reading the table directory');
  else if (p.filesToDelete === 0) bar.show('vacuum', 0, undefined, `${count(p.filesListed)} files listed, none to delete`);
  else bar.show('vacuum: deleting', p.filesDeleted, p.filesToDelete, `${count(p.filesDeleted)}/${count(p.filesToDelete)} files deleted, ${count(p.filesListed)} listed`);
}

/** Runs `op` with the progress bar the switches ask for (its `onProgress`, when shown), stopped however `op` ends. */
async function withProgress<P, T>(args: ProgressSwitches, show: (bar: ProgressView, p: P) => void, op: (onProgress: ((p: P) => void) | undefined) => Promise<T>): Promise<T> {
  const bar = progressView(args);
  try {
    return await op(bar.active ? (p) => show(bar, p) : undefined);
  } finally {
    bar.stop();
  }
}

export async function optimizeCommand(tablePath: string, args: { where?: string; targetFileSize?: number; minFiles?: number; json?: boolean; progress?: boolean; storageOption?: string[] }, out: CliStdout): Promise<void> {
  const table = await DeltaTable.open(tablePath, undefined, { storageOptions: keyValues('--storage-option', args.storageOption) });
  const m = await withProgress(args, showOptimize, (onProgress) => optimize(table, { where: args.where, targetFileSize: args.targetFileSize, minFiles: args.minFiles, onProgress }));
  if (args.json) out.write(JSON.stringify(m) + '\n');
  else if (m.version === undefined) out.write(`nothing to optimize in ${table.storage.root} (version ${table.version})\n`);
  else {
    out.write(
      `optimized ${m.partitionsOptimized} partition(s): ${m.numFilesRemoved} files (${formatBytes(m.numBytesRemoved)}) -> ${m.numFilesAdded} files (${formatBytes(m.numBytesAdded)}) as version ${m.version}\n`,
    );
  }
}

export async function vacuumCommand(tablePath: string, args: { retention?: number; dryRun?: boolean; force?: boolean; json?: boolean; progress?: boolean; storageOption?: string[] }, out: CliStdout): Promise<void> {
  const table = await DeltaTable.open(tablePath, undefined, { storageOptions: keyValues('--storage-option', args.storageOption) });
  const r = await withProgress(args, showVacuum, (onProgress) => vacuum(table, { retentionMs: args.retention, dryRun: args.dryRun, force: args.force, onProgress }));
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
