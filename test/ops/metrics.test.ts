/**
 * /metrics of real `tributary run` processes, scraped over loopback and parsed with
 * parse-prometheus-text-format: the rate source (batches, rows, durations, Delta version, lock,
 * process memory) and the CoinGecko job against the simulator with 429 bursts (requests by
 * status, retries, rate limiting, bytes, the retry budget). Every expectation follows from counts
 * (batches printed, faults injected), never from how long anything took.
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../simulator/coingecko.js';
import { scrape, sample, serve, value } from '../support/ops.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-metrics-');
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ updateEverySec: 1, seed: 5 });
});
afterAll(async () => {
  await sim.close();
});

describe('/metrics', () => {
  it('of a rate stream: counters and histograms move as batches commit, in the Prometheus text format', async () => {
    const dir = tmp();
    const run = serve(['run', '--format', 'rate', '--option', 'rowsPerBatch=10', '--checkpoint', path.join(dir, 'cp'), '--query-name', 'rate-q', '--trigger', 'processingTime=100ms', '--json', '--metrics-port', '0', path.join(dir, 't')]);
    try {
      const base = await run.url;
      const q = { query_name: 'rate-q' };
      const first = await run.lines(2);
      const m1 = await scrape(base);
      const b1 = value(m1, 'tributary_batches_committed_total', q);
      // At least the batches printed; the histograms count exactly the committed batches.
      expect(b1).toBeGreaterThanOrEqual(first.length);
      expect(m1.get('tributary_batches_committed_total')!.type).toBe('COUNTER');
      expect(value(m1, 'tributary_rows_committed_total', q)).toBe(10 * b1);
      expect(value(m1, 'tributary_input_rows_total', q)).toBe(10 * b1);
      expect(m1.get('tributary_batch_duration_seconds')!.type).toBe('HISTOGRAM');
      // parse-prometheus-text-format folds a histogram's labelled series into one sample of
      // buckets (it drops labels, _count and _sum): with one query, and every phase observed once
      // per batch, the +Inf bucket is still the number of batches.
      expect(Number(m1.get('tributary_batch_duration_seconds')!.metrics[0].buckets!['+Inf'])).toBe(b1);
      expect(m1.get('tributary_batch_phase_duration_seconds')!.type).toBe('HISTOGRAM');
      expect(Number(m1.get('tributary_batch_phase_duration_seconds')!.metrics[0].buckets!['+Inf'])).toBe(b1);
      // Each batch is one Delta commit; the table was created by batch 0 as version 0.
      expect(value(m1, 'tributary_last_committed_delta_version', q)).toBe(value(m1, 'tributary_last_committed_batch_id', q));
      expect(value(m1, 'tributary_last_committed_batch_id', q)).toBe(b1 - 1);
      expect(value(m1, 'tributary_sink_files_written_total', q)).toBe(b1);
      expect(value(m1, 'tributary_sink_bytes_written_total', q)).toBeGreaterThan(0);
      expect(value(m1, 'tributary_sink_commit_conflicts_retried_total', q)).toBe(0);
      expect(value(m1, 'tributary_table_files', q)).toBeGreaterThanOrEqual(b1);
      expect(value(m1, 'tributary_checkpoint_lock_held', q)).toBe(1);
      expect(value(m1, 'tributary_query_active', q)).toBe(1);
      expect(value(m1, 'tributary_seconds_since_last_commit', q)).toBeGreaterThanOrEqual(0);
      expect(value(m1, 'tributary_input_rows_per_second', q)).toBeGreaterThan(0);
      // prom-client's process metrics, on our own registry.
      expect(value(m1, 'process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
      expect(m1.get('nodejs_heap_size_used_bytes')?.type).toBe('GAUGE');

      // More batches: the counters only grow, and the last batch printed is covered.
      await run.lines(first.length + 3);
      const m2 = await scrape(base);
      const b2 = value(m2, 'tributary_batches_committed_total', q);
      expect(b2).toBeGreaterThanOrEqual(first.length + 3);
      expect(b2).toBeGreaterThan(b1);
      expect(value(m2, 'tributary_rows_committed_total', q)).toBe(10 * b2);
      expect(Number(m2.get('tributary_batch_duration_seconds')!.metrics[0].buckets!['+Inf'])).toBe(b2);
    } finally {
      expect(await run.stop()).toBe(0);
    }
  }, 120_000);

  it('of the CoinGecko job against the simulator: requests by status, retries and 429s count up as bursts are injected', async () => {
    const data = tmp();
    sim.replaceFaults({ rate429: { count: 2, retryAfter: 0 } });
    const env = { COINGECKO_BASE_URL: sim.baseUrl, TRIBUTARY_DATA: data, COINGECKO_CALLS_PER_MINUTE: '6000', TRIBUTARY_TRIGGER: '1 second' };
    const run = serve(['run', path.resolve('jobs/coingecko-prices.ts'), '--json', '--metrics-port', '0'], env);
    try {
      const base = await run.url;
      const q = { query_name: 'coingecko-prices' };
      await run.lines(1);
      // The first batch's poll met both 429s, retried them, and then got its 200.
      const m1 = await scrape(base);
      expect(value(m1, 'tributary_source_http_requests_total', { ...q, status: '429' })).toBe(2);
      expect(value(m1, 'tributary_source_http_rate_limited_total', q)).toBe(2);
      expect(value(m1, 'tributary_source_http_retries_total', q)).toBe(2);
      expect(value(m1, 'tributary_source_http_requests_total', { ...q, status: '200' })).toBeGreaterThanOrEqual(1);
      expect(value(m1, 'tributary_source_http_response_bytes_total', q)).toBeGreaterThan(0);
      expect(value(m1, 'tributary_source_retry_budget_remaining', q)).toBeGreaterThanOrEqual(0);
      expect(value(m1, 'tributary_batches_committed_total', q)).toBeGreaterThanOrEqual(1);
      const ok1 = value(m1, 'tributary_source_http_requests_total', { ...q, status: '200' });

      // Three more 429s: the counters move by exactly that, and batches keep committing.
      const committed = run.stdout.length;
      sim.setFaults({ rate429: { count: 3, retryAfter: 0 } });
      await run.lines(committed + 2);
      const m2 = await scrape(base);
      expect(value(m2, 'tributary_source_http_requests_total', { ...q, status: '429' })).toBe(5);
      expect(value(m2, 'tributary_source_http_rate_limited_total', q)).toBe(5);
      expect(value(m2, 'tributary_source_http_retries_total', q)).toBe(5);
      expect(value(m2, 'tributary_source_http_requests_total', { ...q, status: '200' })).toBeGreaterThan(ok1);
      expect(value(m2, 'tributary_batches_committed_total', q)).toBeGreaterThanOrEqual(committed + 2);
      expect(value(m2, 'tributary_source_http_response_bytes_total', q)).toBeGreaterThan(value(m1, 'tributary_source_http_response_bytes_total', q));
    } finally {
      sim.replaceFaults();
      expect(await run.stop()).toBe(0);
    }
  }, 120_000);
});
