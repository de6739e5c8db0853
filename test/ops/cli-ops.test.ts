/**
 * The operations options of real `tributary` processes: --schedule processes serve metrics and
 * probes across their runs, the writeStream options (metricsPort, progressHistory) work from the
 * library, and bad options are one line and a non-zero exit with nothing written.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tributary } from '../../src/session.js';
import { cli } from '../support/cli.js';
import { getJson, scrape, serve, value } from '../support/ops.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-cli-ops-');

describe('tributary run --metrics-port', () => {
  it('--schedule: one process serves the metrics and probes of every run, counters adding up across runs', async () => {
    const dir = tmp();
    const run = serve(['run', '--format', 'rate', '--option', 'rowsPerBatch=3', '--checkpoint', path.join(dir, 'cp'), '--query-name', 'cron-q', '--schedule', '* * * * * *', '--json', '--metrics-port', '0', path.join(dir, 't')]);
    try {
      const base = await run.url;
      await run.lines(3);
      const m = await scrape(base);
      const batches = value(m, 'tributary_batches_committed_total', { query_name: 'cron-q' });
      // Each tick is a new query run (availableNow: one batch); the series is the query's.
      expect(batches).toBeGreaterThanOrEqual(3);
      expect(value(m, 'tributary_rows_committed_total', { query_name: 'cron-q' })).toBe(3 * batches);
      expect(new Set(run.stdout.map((l) => JSON.parse(l).runId)).size).toBe(run.stdout.length);
      expect(await getJson(base, 'healthz')).toMatchObject({ status: 200 });
      expect(await getJson(base, 'readyz')).toMatchObject({ status: 200 });
    } finally {
      expect(await run.stop()).toBe(0);
    }
  }, 120_000);

  it('refuses ops options without a port, a taken port and a bad number in one line, writing nothing', async () => {
    const dir = tmp();
    const base = ['run', '--format', 'rate', '--option', 'rowsPerBatch=3', '--checkpoint', path.join(dir, 'cp'), '--trigger', 'once', path.join(dir, 't')];
    const noPort = await cli([...base, '--dashboard']);
    expect(noPort.code).toBe(1);
    expect(noPort.stderr).toBe('tributary: error [INVALID_ARGUMENT]: --dashboard needs --metrics-port <port> (the port metrics, health and the dashboard are served on)\n');
    const ready = await cli([...base, '--ready-after-intervals', '3']);
    expect(ready.stderr).toMatch(/^tributary: error \[INVALID_ARGUMENT\]: --ready-after-intervals needs --metrics-port <port>/);

    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    try {
      const port = (taken.address() as { port: number }).port;
      const busy = await cli([...base, '--metrics-port', String(port)]);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toBe(`tributary: error [IO]: cannot serve metrics on 127.0.0.1:${port}: the port is in use\n`);
    } finally {
      taken.close();
    }
    const bad = await cli([...base, '--metrics-port', '70000']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/^tributary: error \[INVALID_ARGUMENT\]: --metrics-port expects a whole number from 0 to 65535, got "70000"\n$/);
    // Nothing was written by any of them.
    expect(existsSync(path.join(dir, 'cp'))).toBe(false);
    expect(existsSync(path.join(dir, 't'))).toBe(false);
  }, 60_000);

  it('tributary dashboard refuses a directory that is no checkpoint', async () => {
    const r = await cli(['dashboard', tmp(), '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tributary: error \[INVALID_ARGUMENT\]: .* is not a streaming checkpoint \(no metadata file\)/);
  });
});

describe('writeStream options', () => {
  it('metricsPort serves the session\'s metrics; progressHistory bounds the progress kept in the checkpoint', async () => {
    const dir = tmp();
    const t = new Tributary();
    const q = t.readStream.format('rate').option('rowsPerBatch', 2).load().writeStream.option('checkpointLocation', path.join(dir, 'cp')).option('metricsPort', 0).option('progressHistory', 3).queryName('lib').trigger({ processingTime: 0 }).start(path.join(dir, 't'));
    try {
      const ops = await t.operations!;
      let batches = 0;
      await new Promise<void>((r) => t.streams.addListener({ onQueryProgress: () => void (++batches === 6 && r()) }));
      await q.stop();
      const m = await scrape(ops.url);
      expect(value(m, 'tributary_batches_committed_total', { query_name: 'lib' })).toBe(batches);
      expect(value(m, 'tributary_query_active', { query_name: 'lib' })).toBe(0);
      expect(value(m, 'tributary_checkpoint_lock_held', { query_name: 'lib' })).toBe(0);
      // The newest three entries are kept, no more.
      const kept = readdirSync(path.join(dir, 'cp', 'progress')).map((f) => Number(f.split('.')[0])).sort((a, b) => a - b);
      expect(kept).toEqual([batches - 3, batches - 2, batches - 1]);
    } finally {
      await q.stop();
      await t.closeOps();
    }
  }, 60_000);

  it('progressHistory=0 keeps none', async () => {
    const dir = tmp();
    const t = new Tributary();
    const q = t.readStream.format('rate').option('rowsPerBatch', 2).load().writeStream.option('checkpointLocation', path.join(dir, 'cp')).option('progressHistory', 0).trigger({ once: true }).start(path.join(dir, 't'));
    await q.awaitTermination();
    expect(q.lastProgress?.batchId).toBe(0);
    expect(existsSync(path.join(dir, 'cp', 'progress'))).toBe(false);
  });
});
