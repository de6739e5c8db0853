// OPTIMIZE benchmark child: compacts <table> into ~128 MB files; prints time and peak RSS.
// Plain JavaScript on the built code (dist/, which optimize.ts builds first), the way the
// `tributary` CLI runs: under tsx, the encoder thread would also load TypeScript through tsx's
// hooks, a start-up cost users of the CLI never pay.
// With a second table argument, that table is compacted first, untimed: a warm process, as in a
// long-running job whose auto-compaction has run before (WASM compiled and tiered up, JIT warm).
const { DeltaTable } = await import('../../dist/delta/table.js');
const { optimize } = await import('../../dist/delta/operations/optimize.js');

const opts = { targetFileSize: 128 * 1024 * 1024 };
if (process.argv[3]) await optimize(await DeltaTable.open(process.argv[3]), opts);
const t = await DeltaTable.open(process.argv[2]);
const t0 = performance.now();
const m = await optimize(t, opts);
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ ms: Math.round(ms), ...m, filesAfter: t.snapshot.files.length, peakRssKiB: process.resourceUsage().maxRSS }) + '\n');
