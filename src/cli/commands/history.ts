import { DeltaTable } from '../../delta/table.js';
import { keyValues } from '../args.js';
import type { CliStdout } from '../output.js';

export async function historyCommand(tablePath: string, args: { limit?: number; json?: boolean; storageOption?: string[] }, out: CliStdout): Promise<void> {
  const table = await DeltaTable.open(tablePath, undefined, { storageOptions: keyValues('--storage-option', args.storageOption) });
  const entries = await table.history(args.limit);
  if (args.json) {
    out.write(JSON.stringify(entries, null, 2) + '\n');
    return;
  }
  const rows = entries.map((e) => [
    String(e.version),
    new Date(e.timestamp ?? 0).toISOString(),
    e.operation ?? '',
    JSON.stringify(e.operationParameters ?? {}),
    JSON.stringify(e.operationMetrics ?? {}),
    String(e.engineInfo ?? ''),
  ]);
  const head = ['version', 'timestamp', 'operation', 'operationParameters', 'operationMetrics', 'engineInfo'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => Math.min(r[i].length, 60))));
  const fmt = (r: string[]) => r.map((c, i) => (c.length > 60 ? c.slice(0, 57) + '...' : c).padEnd(widths[i])).join('  ').trimEnd();
  out.write([fmt(head), ...rows.map(fmt)].join('\n') + '\n');
}
