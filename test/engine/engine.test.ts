import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { DeltaTable } from '../../src/delta/table.js';
import { nextTick } from '../../src/engine/trigger.js';
import { parseDuration } from '../../src/units.js';
import { DataSource, type Offset, type StreamingQueryListener, Tributary } from '../../src/index.js';
import type { DataSourceStreamReader } from '../../src/source/source.js';
import { BIN, cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-engine-');

/** A controllable source: the test decides how many rows exist. */
class CounterSource extends DataSource {
  static override formatName = 'counter';
  static available = 0;
  static failOnRead = false;
  schema() {
    return 'n BIGINT NOT NULL';
  }
  override streamReader(): DataSourceStreamReader {
    return {
      initialOffset: () => ({ n: 0 }),
      latestOffset: (start: Offset, limit) => {
        let end = Math.max(Number(start.n), CounterSource.available);
        if (limit.kind === 'maxRows') end = Math.min(end, Number(start.n) + limit.maxRows);
        return { n: end };
      },
      read: (start: Offset, end: Offset) => {
        if (CounterSource.failOnRead) throw new Error('upstream went away');
        return Array.from({ length: Number(end.n) - Number(start.n) }, (_, i) => ({ n: Number(start.n) + i }));
      },
    };
  }
}

function session() {
  const t = new Tributary();
  t.dataSource.register(CounterSource);
  t.onWarning = () => undefined;
  return t;
}

const values = async (table: string) =>
  arrowToRows(await (await DeltaTable.open(table)).read())
    .map((r) => Number(r.n ?? r.value))
    .sort((a, b) => a - b);

describe('streaming engine', () => {
  it('parses durations and aligns processing-time ticks to interval boundaries', () => {
    expect(parseDuration('30 seconds')).toBe(30_000);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1 minute')).toBe(60_000);
    expect(() => parseDuration('soon')).toThrow(/cannot read duration/);
    expect(nextTick(61_000, 30_000)).toBe(90_000);
    expect(nextTick(60_000, 30_000)).toBe(90_000);
  });

  it('lists registered sources when the format is unknown', () => {
    expect(() => session().readStream.format("kafka").load()).toThrow(/unknown source format "kafka" \(registered: .*counter.*rate/);
  });

  it('runs no batch and writes no table version while there is no new data', async () => {
    const dir = tmp();
    const t = session();
    CounterSource.available = 3;
    const idle: string[] = [];
    t.streams.addListener({ onQueryIdle: (e) => idle.push(e.id) });
    const q = t.readStream.format('counter').load().writeStream.option('checkpointLocation', `${dir}/cp`).trigger({ processingTime: '50ms' }).start(`${dir}/t`);
    await new Promise((r) => setTimeout(r, 600));
    expect(q.recentProgress).toHaveLength(1);
    expect((await DeltaTable.open(`${dir}/t`)).version).toBe(0);
    expect(readdirSync(`${dir}/cp/offsets`)).toEqual(['0']);
    expect(q.status.message).toMatch(/Waiting/);
    expect(idle.length).toBeGreaterThanOrEqual(1);
    CounterSource.available = 5;
    await new Promise((r) => setTimeout(r, 300));
    await q.stop();
    expect(q.recentProgress.map((p) => p.numInputRows)).toEqual([3, 2]);
    expect(await values(`${dir}/t`)).toEqual([0, 1, 2, 3, 4]);
    expect(q.isActive).toBe(false);
  });

  it('availableNow drains up to the offset seen at start in bounded batches, then stops', async () => {
    const dir = tmp();
    const t = session();
    CounterSource.available = 25;
    const q = t.readStream.format('counter').option('maxRowsPerBatch', 10).load().writeStream.option('checkpointLocation', `${dir}/cp2`).trigger({ availableNow: true }).start(`${dir}/t2`);
    // The counter source has no prepareForTriggerAvailableNow: one batch of everything.
    expect(await q.awaitTermination(10_000)).toBe(true);
    expect(q.recentProgress.map((p) => p.numInputRows)).toEqual([25]);
    // The rate source pins its end: bounded batches up to it.
    const r2 = await cli(['run', '--format', 'rate', '--option', 'rowsPerBatch=25', '--checkpoint', `${dir}/cp3`, '--trigger', 'availableNow', '--max-rows-per-batch', '10', '--json', `${dir}/t3`]);
    expect(r2.code).toBe(0);
    const progress = r2.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(progress.map((p: { numInputRows: number }) => p.numInputRows)).toEqual([10, 10, 5]);
    expect(await values(`${dir}/t3`)).toEqual(Array.from({ length: 25 }, (_, i) => i));
  }, 60_000);

  it('reports Spark-shaped progress and calls every listener', async () => {
    const dir = tmp();
    const t = session();
    CounterSource.available = 4;
    const events: string[] = [];
    const l: StreamingQueryListener = {
      onQueryStarted: () => events.push('started'),
      onQueryProgress: () => events.push('progress'),
      onQueryTerminated: (e) => events.push(`terminated:${e.exception}`),
    };
    t.streams.addListener(l);
    const q = t.readStream.format('counter').load().writeStream.option('checkpointLocation', `${dir}/cp`).queryName('counts').trigger({ once: true }).start(`${dir}/t`);
    await q.awaitTermination();
    expect(events).toEqual(['started', 'progress', 'terminated:null']);
    const p = q.lastProgress!;
    expect(p).toMatchObject({ id: q.id, runId: q.runId, name: 'counts', batchId: 0, numInputRows: 4, deltaVersion: 0, sink: { description: `DeltaSink[${dir}/t]`, numOutputRows: 4 } });
    expect(p.sources[0]).toMatchObject({ description: 'counter', startOffset: { n: 0 }, endOffset: { n: 4 }, numInputRows: 4 });
    expect(Object.keys(p.durationMs).sort()).toEqual(['addBatch', 'commitOffsets', 'getBatch', 'latestOffset', 'triggerExecution', 'walCommit']);
    expect(typeof p.inputRowsPerSecond).toBe('number');
    expect(typeof p.processedRowsPerSecond).toBe('number');
    // The Delta commit carries txn(queryId, batchId) and Spark's STREAMING UPDATE shape.
    const log = readFileSync(`${dir}/t/_delta_log/00000000000000000000.json`, 'utf8').split('\n').filter(Boolean).map((x) => JSON.parse(x));
    expect(log[0].commitInfo).toMatchObject({ operation: 'STREAMING UPDATE', operationParameters: { outputMode: 'Append', queryId: q.id, epochId: '0' } });
    expect(log.find((a) => a.txn).txn).toMatchObject({ appId: q.id, version: 0 });
    // Same query id after a restart; a new run id.
    const q2 = session().readStream.format('counter').load().writeStream.option('checkpointLocation', `${dir}/cp`).trigger({ once: true }).start(`${dir}/t`);
    await q2.awaitTermination();
    expect(q2.id).toBe(q.id);
    expect(q2.runId).not.toBe(q.runId);
    expect(q2.recentProgress).toHaveLength(0);
  });

  it('ends the query with the source error, leaving nothing half-written', async () => {
    const dir = tmp();
    const t = session();
    CounterSource.available = 2;
    await t.readStream.format('counter').load().writeStream.option('checkpointLocation', `${dir}/cp`).trigger({ once: true }).start(`${dir}/t`).awaitTermination();
    CounterSource.available = 5;
    CounterSource.failOnRead = true;
    try {
      const q = t.readStream.format('counter').load().writeStream.option('checkpointLocation', `${dir}/cp`).trigger({ once: true }).start(`${dir}/t`);
      await expect(q.awaitTermination()).rejects.toThrow(/upstream went away/);
      expect(q.exception()?.message).toMatch(/upstream went away/);
      expect(q.isActive).toBe(false);
      expect((await DeltaTable.open(`${dir}/t`)).version).toBe(0);
      // The planned batch re-runs on restart with the same offsets and lands exactly once.
      CounterSource.failOnRead = false;
      const q2 = t.readStream.format('counter').load().writeStream.option('checkpointLocation', `${dir}/cp`).trigger({ once: true }).start(`${dir}/t`);
      await q2.awaitTermination();
      expect(q2.lastProgress?.sources[0]).toMatchObject({ startOffset: { n: 2 }, endOffset: { n: 5 }, metrics: { recovered: 'true' } });
      expect(await values(`${dir}/t`)).toEqual([0, 1, 2, 3, 4]);
    } finally {
      CounterSource.failOnRead = false;
    }
  });

  it('refuses a second process on the same checkpoint and takes over a dead one\'s lock', async () => {
    const dir = tmp();
    const args = ['run', '--format', 'rate', '--option', 'rowsPerBatch=5', '--checkpoint', `${dir}/cp`, '--trigger', 'processingTime=100ms', `${dir}/t`];
    const first = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve) => first.stdout.once('data', () => resolve()));
    const second = await cli(args);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/CHECKPOINT_LOCKED.*in use by another query \(pid \d+/);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    first.kill('SIGKILL');
    await new Promise((r) => first.on('close', r));
    expect(existsSync(`${dir}/cp/lock`)).toBe(true); // left behind by the dead process
    const third = await cli(['run', '--format', 'rate', '--option', 'rowsPerBatch=5', '--checkpoint', `${dir}/cp`, '--trigger', 'once', `${dir}/t`]);
    expect(third.code).toBe(0);
    expect(existsSync(`${dir}/cp/lock`)).toBe(false);
  }, 30_000);

  it('stops gracefully on SIGTERM (the batch in flight commits) and at once on a second signal', async () => {
    const dir = tmp();
    const args = ['run', '--format', 'rate', '--option', 'rowsPerBatch=5', '--checkpoint', `${dir}/cp`, '--trigger', 'processingTime=200ms', `${dir}/t`];
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    await new Promise<void>((resolve) => p.stdout.once('data', () => resolve()));
    p.kill('SIGTERM');
    const code = await new Promise((r) => p.on('close', r));
    expect(code).toBe(0);
    expect(err).toMatch(/SIGTERM: stopping after the current batch/);
    const batches = out.trim().split('\n').length;
    expect(readdirSync(`${dir}/cp/commits`).length).toBe(readdirSync(`${dir}/cp/offsets`).length);
    expect(await values(`${dir}/t`)).toEqual(Array.from({ length: batches * 5 }, (_, i) => i));

    // A slow trigger keeps the process waiting: two signals end it at once.
    const slow = spawn(process.execPath, [BIN, 'run', '--format', 'rate', '--option', 'rowsPerBatch=5', '--checkpoint', `${dir}/cp2`, '--trigger', 'processingTime=1h', `${dir}/t2`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err2 = '';
    slow.stderr.on('data', (d) => (err2 += d));
    await new Promise<void>((resolve) => slow.stdout.once('data', () => resolve()));
    slow.kill('SIGINT');
    const code2 = await new Promise((r) => slow.on('close', r));
    expect(code2).toBe(0); // the sleep is cut short by stop()
    expect(err2).toMatch(/SIGINT: stopping/);
  }, 30_000);

  it('runs a job file, with the CLI trigger overriding the job\'s', async () => {
    const dir = tmp();
    const job = path.join(dir, 'job.mjs');
    writeFileSync(
      job,
      `export default (t, { args }) => t.readStream.format('rate').option('rowsPerBatch', '3').load()
        .writeStream.format('delta').option('checkpointLocation', args[1]).trigger({ processingTime: '1 hour' }).start(args[0]);\n`,
    );
    const r = await cli(['run', job, '--trigger', 'once', `${dir}/t`, `${dir}/cp`]);
    expect(r.stderr).toMatch(/stopped/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^batch 0: 3 rows in \d+ ms -> version 0; offset \{"startMs":0,"value":3\}/);
    expect(await values(`${dir}/t`)).toEqual([0, 1, 2]);
  });
});
