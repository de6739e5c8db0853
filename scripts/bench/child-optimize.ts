// OPTIMIZE benchmark child: compacts <table> into ~128 MB files; prints time and peak RSS.
import { DeltaTable } from '../../src/delta/table.js';
import { optimize } from '../../src/delta/operations/optimize.js';

const t = await DeltaTable.open(process.argv[2]);
const t0 = performance.now();
const m = await optimize(t, { targetFileSize: 128 * 1024 * 1024 });
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ ms: Math.round(ms), ...m, filesAfter: t.snapshot.files.length, peakRssKiB: process.resourceUsage().maxRSS }) + '\n');
