/**
 * Tributary's streaming benchmark child: the rate source at `rowsPerBatch` rows per batch into a
 * Delta table, batches back to back, until `batches` batches committed. Prints one JSON line with
 * the per-batch end-to-end durations (offset log to commit log: progress.durationMs.triggerExecution)
 * and RSS samples.
 *     node --import tsx --expose-gc scripts/bench/child-stream.ts <workdir> <batches> <rowsPerBatch> <rssEvery>
 */
import * as path from 'node:path';
import { Tributary } from '../../src/session.js';

const [work, batchesArg, rowsArg, everyArg] = process.argv.slice(2);
const batches = Number(batchesArg);
const every = Number(everyArg);
const t = new Tributary();
const durations: number[] = [];
const rss: { batch: number; rssMiB: number; heapMiB: number }[] = [];
const gc = (globalThis as { gc?: () => void }).gc;
let done!: () => void;
const finished = new Promise<void>((r) => (done = r));
t.streams.addListener({
  onQueryProgress: ({ progress }) => {
    durations.push(progress.durationMs.triggerExecution ?? 0);
    if (progress.batchId % every === every - 1) {
      gc?.();
      const m = process.memoryUsage();
      rss.push({ batch: progress.batchId + 1, rssMiB: Math.round(m.rss / 1048576), heapMiB: Math.round(m.heapUsed / 1048576) });
    }
    if (durations.length >= batches) done();
  },
});
const q = t.readStream.format('rate').option('rowsPerBatch', rowsArg).load()
  .writeStream.format('delta').option('checkpointLocation', path.join(work, 'cp')).trigger({ processingTime: 0 }).start(path.join(work, 'table'));
await Promise.race([finished, q.awaitTermination()]);
await q.stop();
process.stdout.write(JSON.stringify({ durations, rss, peakRssKiB: process.resourceUsage().maxRSS }) + '\n');
