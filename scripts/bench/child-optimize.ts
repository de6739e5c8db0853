// OPTIMIZE benchmark child: compacts <table> into ~128 MB files; prints time and peak RSS.
// With a second table argument, that table is compacted first, untimed: a warm process, as in a
// long-running job whose auto-compaction has run before (WASM compiled and tiered up, JIT warm).
import { DeltaTable } from '../../src/delta/table.js';
import { optimize } from '../../src/delta/operations/optimize.js';

const opts = { targetFileSize: 128 * 1024 * 1024 };
if (process.argv[3]) await optimize(await DeltaTable.open(process.argv[3]), opts);
const t = await DeltaTable.open(process.argv[2]);
const t0 = performance.now();
const m = await optimize(t, opts);
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ ms: Math.round(ms), ...m, filesAfter: t.snapshot.files.length, peakRssKiB: process.resourceUsage().maxRSS }) + '\n');
