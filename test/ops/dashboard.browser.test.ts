/**
 * The dashboard in a real browser: Debian's headless Chromium, driven by playwright-core, opens
 * the page of a running `tributary run --dashboard`, waits for a live update (server-sent
 * events), and checks the charts hold exactly the progress the server reports; then the same for
 * `tributary dashboard <checkpoint>` on a finished cron-style checkpoint (three availableNow runs).
 * Screenshots land in test-output/. Without Chromium this test fails: `.ci/run` installs it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { getJson, serve } from '../support/ops.js';
import { tempDir } from '../support/tmp.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = path.resolve('test-output');
const tmp = tempDir('tributary-dashboard-');
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does)`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  mkdirSync(OUT, { recursive: true });
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

interface Progress {
  batchId: number;
  numInputRows: number;
  inputRowsPerSecond: number;
  processedRowsPerSecond: number;
  deltaVersion: number | null;
  durationMs: Record<string, number>;
}
interface Charts {
  rates: number[][];
  duration: number[][];
  rows: number[][];
  version: (number | null)[][];
}

/** What the page drew for one query, and the state it drew it from (window.__tributary). */
async function drawn(page: Page): Promise<{ updates: number; charts: Record<string, Charts>; state: { mode: string; queries: { key: string; progress: Progress[]; table: Record<string, number> | null }[] }; sections: Record<string, { progressJson: string | null; table: string | null }> }> {
  // One synchronous look inside the page: the state, the charts and what each query's section
  // shows belong to the same update (an event handled between two looks would mix two updates).
  return page.evaluate(() => {
    const t = (globalThis as unknown as { __tributary: { updates: number; charts: unknown; state: unknown } }).__tributary;
    const sections: Record<string, { progressJson: string | null; table: string | null }> = {};
    interface El { textContent: string | null; getAttribute(name: string): string | null; querySelector(selector: string): El | null }
    const doc = (globalThis as unknown as { document: { querySelectorAll(selector: string): ArrayLike<El> } }).document;
    for (const s of Array.from(doc.querySelectorAll('section[data-query]'))) {
      sections[s.getAttribute('data-query')!] = {
        progressJson: s.querySelector('pre.progress-json')?.textContent ?? null,
        table: s.querySelector('.summary')?.getAttribute('data-table') ?? null,
      };
    }
    return JSON.parse(JSON.stringify({ updates: t.updates, charts: t.charts, state: t.state, sections }));
  });
}

/** The charts hold exactly these progress entries: batch ids, rates, rows, versions, phase durations. */
function expectCharts(c: Charts, progress: Progress[]) {
  const ids = progress.map((p) => p.batchId);
  expect(c.rows[0]).toEqual(ids);
  expect(c.rows[1]).toEqual(progress.map((p) => p.numInputRows));
  expect(c.rates[1]).toEqual(progress.map((p) => p.inputRowsPerSecond));
  expect(c.rates[2]).toEqual(progress.map((p) => p.processedRowsPerSecond));
  expect(c.version[1]).toEqual(progress.map((p) => p.deltaVersion));
  // latestOffset, walCommit, getBatch, addBatch, commitOffsets, total.
  expect(c.duration).toHaveLength(7);
  expect(c.duration[4]).toEqual(progress.map((p) => p.durationMs.addBatch ?? 0));
  expect(c.duration[6]).toEqual(progress.map((p) => p.durationMs.triggerExecution));
}

describe('the dashboard in headless Chromium', () => {
  it('of a running query: live updates over server-sent events, charts matching the progress JSON, the table summary', async () => {
    const dir = tmp();
    const run = serve(['run', '--format', 'rate', '--option', 'rowsPerBatch=25', '--checkpoint', path.join(dir, 'cp'), '--query-name', 'rates', '--trigger', 'processingTime=300ms', '--json', '--metrics-port', '0', '--dashboard', path.join(dir, 't')]);
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    try {
      const base = await run.url;
      await run.lines(1);
      await page.goto(base);
      await page.waitForFunction(() => (globalThis as unknown as { __tributary: { state: unknown } }).__tributary.state !== null);
      // Read together: on a busy machine events can arrive before this look, so the wait counts
      // from the updates already seen rather than from zero.
      const seen = await drawn(page);
      const before = seen.state.queries[0].progress.length;
      // Live updates: batches committed after that look arrive as events and are drawn.
      await page.waitForFunction((n) => (globalThis as unknown as { __tributary: { updates: number } }).__tributary.updates >= n, seen.updates + 2, { timeout: 60_000 });
      const d = await drawn(page);
      const q = d.state.queries.find((x) => x.key === 'rates')!;
      expect(q.progress.length).toBeGreaterThanOrEqual(before + 2);
      expectCharts(d.charts.rates, q.progress);
      // What the page holds is what the process committed: each entry equals the line it printed.
      const printed = new Map(run.stdout.map((l) => JSON.parse(l) as Progress).map((p) => [p.batchId, p]));
      for (const p of q.progress) if (printed.has(p.batchId)) expect(p).toEqual(printed.get(p.batchId));
      // The latest progress JSON, the table summary and four uPlot charts are on the page.
      const last = q.progress.at(-1)!;
      expect(JSON.parse(d.sections.rates.progressJson!)).toEqual(last);
      const table = JSON.parse(d.sections.rates.table!);
      expect(table.version).toBeGreaterThanOrEqual(last.deltaVersion!);
      expect(table.numFiles).toBeGreaterThanOrEqual(last.deltaVersion! + 1);
      expect(await page.locator('section[data-query="rates"] .chart canvas').count()).toBe(4);
      // uPlot's files came from this server (no CDN).
      expect((await fetch(new URL('assets/uPlot.iife.min.js', base))).status).toBe(200);
      await page.screenshot({ path: path.join(OUT, 'dashboard-live.png'), fullPage: true });
    } finally {
      await page.close();
      expect(await run.stop()).toBe(0);
    }
  }, 180_000);

  it('of a finished cron-style checkpoint (tributary dashboard): the progress kept across runs, charted', async () => {
    const dir = tmp();
    const cp = path.join(dir, 'cp');
    for (let i = 0; i < 3; i++) {
      const r = await cli(['run', '--format', 'rate', '--option', 'rowsPerBatch=7', '--checkpoint', cp, '--query-name', 'cron', '--trigger', 'availableNow', path.join(dir, 't')]);
      expect(r.code, r.stderr).toBe(0);
    }
    const kept = readdirSync(path.join(cp, 'progress')).sort();
    expect(kept).toEqual(['0.json', '1.json', '2.json']);
    const progress = kept.map((f) => JSON.parse(readFileSync(path.join(cp, 'progress', f), 'utf8')) as Progress & { runId: string });
    // Three runs, three run ids: the history spans runs.
    expect(new Set(progress.map((p) => p.runId)).size).toBe(3);

    const server = serve(['dashboard', cp, '--port', '0']);
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    try {
      const base = await server.url;
      const state = await getJson(base, 'api/state');
      expect(state.body).toMatchObject({ mode: 'checkpoint', queries: [{ key: 'cron', table: { version: 2, numFiles: 3, lastCheckpointVersion: null } }] });
      await page.goto(base);
      await page.waitForFunction(() => (globalThis as unknown as { __tributary: { state: unknown } }).__tributary.state !== null);
      const d = await drawn(page);
      expect(d.state.mode).toBe('checkpoint');
      expectCharts(d.charts.cron, progress);
      expect(d.charts.cron.version[1]).toEqual([0, 1, 2]);
      expect(await page.locator('section[data-query="cron"] .chart canvas').count()).toBe(4);
      expect(await page.locator('#mode').textContent()).toBe('from the checkpoint');
      await page.screenshot({ path: path.join(OUT, 'dashboard-checkpoint.png'), fullPage: true });
    } finally {
      await page.close();
      expect(await server.stop()).toBe(0);
    }
  }, 180_000);
});
