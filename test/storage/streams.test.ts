import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { DeltaTable } from '../../src/delta/table.js';
import { CheckpointDir } from '../../src/engine/checkpoint-dir.js';
import { parseDdl } from '../../src/schema/ddl.js';
import type { Storage } from '../../src/storage/storage.js';
import { BIN, cli, type CliResult } from '../support/cli.js';
import { REMOTE, closeAll, ensureBuckets, locationOn, secretValues, storageArgs, sub, type Location } from '../support/object-stores.js';
import { tempDir } from '../support/tmp.js';

/**
 * Streams whose table and checkpoint are on an object store, next to other writers: the
 * checkpoint lock keeps a second run of the same query out, and a stream, a batch appender,
 * OPTIMIZE and VACUUM running at once lose and duplicate nothing.
 */
const tmp = tempDir('tributary-streams-');
const opened: Storage[] = [];
beforeAll(() => ensureBuckets(REMOTE));
afterAll(() => closeAll(opened));

interface Running {
  proc: ChildProcessWithoutNullStreams;
  stdout: string;
  stderr: string;
  exit: Promise<number | null>;
}

function start(args: string[]): Running {
  const proc = spawn(process.execPath, [BIN, ...args]);
  const r: Running = { proc, stdout: '', stderr: '', exit: new Promise((resolve) => proc.on('close', resolve)) };
  proc.stdout.on('data', (d) => (r.stdout += d));
  proc.stderr.on('data', (d) => (r.stderr += d));
  proc.stdin.end();
  return r;
}

/** Resolves when `pred` holds for the process's stdout, or with false when it exits first. */
function until(r: Running, pred: (stdout: string) => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const check = () => {
      if (pred(r.stdout)) resolve(true);
    };
    r.proc.stdout.on('data', check);
    check();
    void r.exit.then(() => resolve(pred(r.stdout)));
  });
}

const batches = (stdout: string) => stdout.split('\n').filter((l) => /^batch \d+/.test(l)).length;
const rateArgs = (table: Location, cp: Location, trigger: string, rowsPerBatch: number) => ['run', '--format', 'rate', '--option', `rowsPerBatch=${rowsPerBatch}`, '--checkpoint', cp.uri, '--trigger', trigger, table.uri, ...storageArgs(table.options)];

const values = async (table: Location) => {
  const t = await DeltaTable.open(table.uri, undefined, { storageOptions: table.options });
  opened.push(t.storage);
  return arrowToRows(await t.read())
    .map((r) => Number(r.value))
    .sort((a, b) => a - b);
};

describe.each(REMOTE)('the checkpoint lock on %s', (backend) => {
  it('two tributary run of one query on one checkpoint, started together: one runs, the other exits 1 with one CHECKPOINT_LOCKED line naming it', async () => {
    const loc = locationOn(backend);
    const table = sub(loc, 'table');
    const cp = sub(loc, 'cp');
    const runs = [0, 1].map(() => start(rateArgs(table, cp, 'processingTime=1h', 5)));
    // Each either runs its first batch (and then holds the checkpoint for an hour) or exits.
    const ran = await Promise.all(runs.map((r) => until(r, (out) => batches(out) >= 1)));
    expect(ran.filter(Boolean)).toHaveLength(1);
    const winner = runs[ran.indexOf(true)];
    const loser = runs[ran.indexOf(false)];
    expect(await loser.exit).toBe(1);
    expect(loser.stdout).toBe('');
    expect(loser.stderr.trim().split('\n')).toHaveLength(1);
    expect(loser.stderr).toMatch(new RegExp(`^tributary: error \\[CHECKPOINT_LOCKED\\]: checkpoint \\S+/cp is in use by another query \\(pid ${winner.proc.pid} on ${hostname().replace(/\./g, '\\.')}, running since `));
    for (const s of secretValues()) expect(loser.stderr).not.toContain(s);
    winner.proc.kill('SIGTERM');
    expect(await winner.exit).toBe(0);
    expect(await values(table)).toEqual([0, 1, 2, 3, 4]);
    // The lock went with the winner: the next run takes the checkpoint and continues it.
    const next = await cli(rateArgs(table, cp, 'once', 5));
    expect(next.code).toBe(0);
    expect(await values(table)).toEqual(Array.from({ length: 10 }, (_, i) => i));
  }, 120_000);
});

describe('a stream, a batch appender, OPTIMIZE and VACUUM at once on s3', () => {
  it('no row lost or duplicated; every process succeeds; the log holds their commits', async () => {
    const loc = locationOn('s3');
    const table = sub(loc, 'table');
    const cp = sub(loc, 'cp');
    // The table the stream would create, made first so the appender never races to create it.
    const created = await DeltaTable.forPath(table.uri, { storageOptions: table.options });
    opened.push(created.storage);
    await created.append([], { create: { schema: parseDdl('timestamp TIMESTAMP, value BIGINT') } });

    const APPENDS = 12;
    const ROWS = 50;
    const OPTIMIZES = 4;
    const VACUUMS = 3;
    const MIN_BATCHES = 60;
    const BASE = 1_000_000_000;
    const stream = start(rateArgs(table, cp, 'processingTime=0', 10));
    expect(await until(stream, (out) => batches(out) >= 1)).toBe(true);

    const results: { what: string; r: CliResult }[] = [];
    const appender = (async () => {
      for (let k = 0; k < APPENDS; k++) {
        const f = path.join(tmp(), `batch-${k}.ndjson`);
        writeFileSync(f, Array.from({ length: ROWS }, (_, i) => JSON.stringify({ timestamp: '2026-11-28T00:00:00Z', value: BASE + k * ROWS + i })).join('\n') + '\n');
        results.push({ what: `append ${k}`, r: await cli(['append', table.uri, '--input', f, ...storageArgs(table.options)]) });
      }
    })();
    const optimizer = (async () => {
      for (let k = 0; k < OPTIMIZES; k++) results.push({ what: `optimize ${k}`, r: await cli(['optimize', table.uri, '--json', ...storageArgs(table.options)]) });
    })();
    const vacuumer = (async () => {
      for (let k = 0; k < VACUUMS; k++) results.push({ what: `vacuum ${k}`, r: await cli(['vacuum', table.uri, '--json', ...storageArgs(table.options)]) });
    })();
    await Promise.all([appender, optimizer, vacuumer]);
    // The stream keeps going until it has committed enough batches alongside the others.
    expect(await until(stream, (out) => batches(out) >= MIN_BATCHES)).toBe(true);
    stream.proc.kill('SIGTERM');
    expect(await stream.exit).toBe(0);
    expect(stream.stderr).not.toMatch(/error|warning/i);

    for (const { what, r } of results) {
      expect(r.stderr, what).toBe('');
      expect(r.code, what).toBe(0);
    }
    const optimized = results.filter((x) => x.what.startsWith('optimize')).map((x) => JSON.parse(x.r.stdout) as { version?: number });
    expect(optimized.filter((m) => m.version !== undefined).length).toBeGreaterThan(0);

    const ckpt = await CheckpointDir.at(cp.uri, cp.options);
    opened.push(ckpt.storage);
    const last = (await ckpt.latestOffsets())!;
    expect(await ckpt.latestCommit()).toBe(last.batchId);
    const n = Number(last.end.value);
    const want = [...Array.from({ length: n }, (_, i) => i), ...Array.from({ length: APPENDS * ROWS }, (_, i) => BASE + i)];
    expect(await values(table)).toEqual(want);

    const t = await DeltaTable.open(table.uri, undefined, { storageOptions: table.options });
    opened.push(t.storage);
    const ops = (await t.history()).map((h) => h.operation);
    expect(ops.filter((o) => o === 'STREAMING UPDATE').length).toBe(last.batchId + 1);
    expect(ops.filter((o) => o === 'WRITE').length).toBe(APPENDS + 1);
    expect(ops.filter((o) => o === 'OPTIMIZE').length).toBe(optimized.filter((m) => m.version !== undefined).length);
    expect(ops.filter((o) => o === 'VACUUM START').length).toBe(VACUUMS);
    expect(ops.filter((o) => o === 'VACUUM END').length).toBe(VACUUMS);
    console.log(`s3 mixed workload: ${last.batchId + 1} stream batches (${n} rows), ${APPENDS} appends, ${optimized.filter((m) => m.version !== undefined).length} OPTIMIZE commits, ${VACUUMS} VACUUMs; table version ${t.version}`);
  }, 600_000);
});
