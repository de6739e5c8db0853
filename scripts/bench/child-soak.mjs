/**
 * Soak and overhead child: the rate source at <rowsPerBatch> rows per batch into a Delta table,
 * batches back to back, until <batches> batches committed, run from dist/ (what `tributary run`
 * runs) without tsx, so RSS is the product's. Auto-compaction on or off; with a metrics port, the
 * session serves /metrics, the health probes and the dashboard. Prints one JSON line: per-batch
 * end-to-end durations (progress.durationMs.triggerExecution), and RSS, heap and the table's file
 * count after two full GCs every <every> batches (and RSS after the first alone: V8 hands the
 * array buffers a full GC finds dead to a concurrent sweeper, which frees them a little later, so
 * a sample right after one GC may still count a checkpoint's buffers, up to 84 MiB of them; a
 * second GC finishes that sweep first. Measured: `gc()` left 48-84 MiB of array buffers pending
 * in 2 of 6 checkpoint builds, `gc(); gc()` none).
 *     node --expose-gc scripts/bench/child-soak.mjs <workdir> <batches> <rowsPerBatch> <every> <on|off> [metricsPort]
 */
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Tributary } from '../../dist/session.js';
// The WebAssembly instance dist/parquet/wasm.js initialised: its linear memory, sampled with RSS.
import { wasmMemory } from 'parquet-wasm/esm';

const [work, batchesArg, rowsArg, everyArg, compactArg, portArg] = process.argv.slice(2);
const batches = Number(batchesArg);
const every = Number(everyArg);
const t = new Tributary();
t.onWarning = () => undefined;
const durations = [];
const samples = [];
const t0 = performance.now();
let done;
const finished = new Promise((r) => (done = r));
let query;
t.streams.addListener({
  onQueryProgress: ({ progress }) => {
    durations.push(progress.durationMs.triggerExecution ?? 0);
    if (durations.length % every === 0) {
      globalThis.gc?.();
      const one = process.memoryUsage();
      globalThis.gc?.();
      const m = process.memoryUsage();
      const table = query?.tableSummary();
      // Where RSS is (Linux): anonymous memory (heaps, malloc, WebAssembly) vs file-backed (the node binary, libraries).
      let rollup = {};
      try {
        const txt = readFileSync('/proc/self/smaps_rollup', 'utf8') + readFileSync('/proc/self/status', 'utf8');
        for (const k of ['Anonymous', 'Rss', 'Threads']) rollup[k] = Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(txt)?.[1]);
        // glibc's main heap (brk): what the soak showed growing.
        const heap = /\[heap\]\n(?:.*\n)*?Rss:\s+(\d+)/.exec(readFileSync('/proc/self/smaps', 'utf8'));
        rollup.brkHeap = heap ? Number(heap[1]) : 0;
      } catch {}
      // The sink's table state (a bench probe, through the objects' runtime fields).
      const state = query?.opts?.sink?.table?.snapshot?.state;
      samples.push({ batch: durations.length, rssMiB: Math.round(m.rss / 1048576), rssOneGcMiB: Math.round(one.rss / 1048576), arrayBuffersOneGcMiB: Math.round(one.arrayBuffers / 1048576), heapMiB: Math.round(m.heapUsed / 1048576), externalMiB: Math.round(m.external / 1048576), wasmMiB: Math.round(wasmMemory().buffer.byteLength / 1048576), files: table?.numFiles ?? null, seconds: Math.round((performance.now() - t0) / 100) / 10, anonMiB: Math.round(rollup.Anonymous / 1024), threads: rollup.Threads, brkHeapMiB: Math.round(rollup.brkHeap / 1024), arrayBuffersMiB: Math.round(m.arrayBuffers / 1048576), version: table?.version, lastCheckpoint: table?.lastCheckpointVersion, tombstones: state?.tombstones?.size ?? null, load1: Math.round(os.loadavg()[0] * 10) / 10 });
      process.stderr.write(`soak: ${JSON.stringify(samples.at(-1))}\n`);
    }
    if (durations.length >= batches) done();
  },
});
if (portArg) {
  const ops = await t.serveOps({ port: Number(portArg), host: '127.0.0.1', dashboard: true });
  process.stderr.write(`ops at ${ops.url}\n`);
}
let w = t.readStream.format('rate').option('rowsPerBatch', rowsArg).load().writeStream.format('delta').option('checkpointLocation', path.join(work, 'cp'));
if (compactArg === 'on') w = w.option('autoCompact', true);
query = w.trigger({ processingTime: 0 }).start(path.join(work, 'table'));
await Promise.race([finished, query.awaitTermination()]);
await query.stop();
await t.closeOps();
process.stdout.write(JSON.stringify({ durations, samples, peakRssKiB: process.resourceUsage().maxRSS }) + '\n');
