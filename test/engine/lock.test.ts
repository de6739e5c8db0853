import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { DeltaTable } from '../../src/delta/table.js';
import { CheckpointLock, type LockRecord } from '../../src/engine/lock.js';
import { TributaryError } from '../../src/errors.js';
import { Tributary } from '../../src/session.js';
import { LocalStorage } from '../../src/storage/local.js';
import { currentProcess, processStatus } from '../../src/storage/process-identity.js';
import { BIN, cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-lock-');

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** A lock record as a query would write it; `over` replaces any field. */
async function record(over: Partial<LockRecord> = {}): Promise<LockRecord> {
  const now = iso(Date.now());
  return { ...(await currentProcess()), runId: 'someone-else', startedAt: now, heartbeatAt: now, renewIntervalMs: 10_000, ...over };
}

function plant(cp: string, r: LockRecord | string): string {
  mkdirSync(cp, { recursive: true });
  const text = typeof r === 'string' ? r : JSON.stringify(r);
  // Written aside and renamed, as a query writes it: a renewal never reads half a record.
  writeFileSync(path.join(cp, '.lock.planted'), text);
  renameSync(path.join(cp, '.lock.planted'), path.join(cp, 'lock'));
  return text;
}

const readLock = (cp: string) => JSON.parse(readFileSync(path.join(cp, 'lock'), 'utf8')) as LockRecord;

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const p = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => p.on('close', r));
  return p.pid!;
}

async function lockError(p: Promise<unknown>): Promise<TributaryError> {
  const e = await p.then(
    () => undefined,
    (x) => x,
  );
  expect(e).toBeInstanceOf(TributaryError);
  return e as TributaryError;
}

const rateArgs = (cp: string, table: string, trigger = 'once') => ['run', '--format', 'rate', '--option', 'rowsPerBatch=5', '--checkpoint', cp, '--trigger', trigger, table];

const values = async (table: string) =>
  arrowToRows(await (await DeltaTable.open(table)).read())
    .map((r) => Number(r.value))
    .sort((a, b) => a - b);

describe('process identity', () => {
  it('tells this process from a reused pid, a dead pid and another host', async () => {
    const me = await currentProcess();
    expect(me.pid).toBe(process.pid);
    expect(me.host).toBe(hostname());
    expect(me.startTime).toMatch(/^\d+$/);
    expect(me.bootId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await processStatus(me)).toBe('running');
    expect(await processStatus({ ...me, startTime: '1' })).toBe('gone'); // same pid, another process
    expect(await processStatus({ ...me, bootId: '00000000-0000-0000-0000-000000000000' })).toBe('gone'); // rebooted since
    expect(await processStatus({ ...me, pid: await deadPid() })).toBe('gone');
    expect(await processStatus({ ...me, host: 'elsewhere.example' })).toBe('unknown');
    // Without a recorded start time a live pid cannot be told from a reused one.
    expect(await processStatus({ pid: me.pid, host: me.host })).toBe('unknown');
  });
});

describe('checkpoint lock (through the checkpoint Storage)', () => {
  it('records who holds it, refuses a second query of the same process, and releases only its own lock', async () => {
    const cp = tmp();
    const storage = new LocalStorage(cp);
    const lock = await CheckpointLock.acquire(storage, 'run-1');
    const held = readLock(cp);
    expect(held).toMatchObject({ ...(await currentProcess()), runId: 'run-1', renewIntervalMs: 10_000 });
    expect(held.heartbeatAt).toBe(held.startedAt);
    const e = await lockError(CheckpointLock.acquire(new LocalStorage(cp), 'run-2'));
    expect(e.code).toBe('CHECKPOINT_LOCKED');
    expect(e.message).toMatch(new RegExp(`checkpoint ${cp} is in use by another query \\(pid ${process.pid} on ${hostname()}, running since `));
    await lock.release();
    expect(existsSync(path.join(cp, 'lock'))).toBe(false);
    // A lock that names another query by now is left alone on release.
    const again = await CheckpointLock.acquire(storage, 'run-3');
    const other = plant(cp, await record({ host: 'elsewhere.example' }));
    await again.release();
    expect(readFileSync(path.join(cp, 'lock'), 'utf8')).toBe(other);
  });

  it('takes over a lock whose owner is gone on this host: dead pid, reused pid, another boot, this process without heartbeat, unreadable', async () => {
    const me = await currentProcess();
    const stale = [
      await record({ pid: await deadPid() }),
      await record({ startTime: '1' }), // our own pid, an earlier process (a restarted container)
      await record({ bootId: '00000000-0000-0000-0000-000000000000' }),
      await record({ heartbeatAt: iso(Date.now() - HOUR) }), // a query of this process that ended without releasing
      '{"pid": 12', // torn by hand
    ];
    for (const r of stale) {
      const cp = tmp();
      plant(cp, r);
      const lock = await CheckpointLock.acquire(new LocalStorage(cp), 'newcomer');
      expect(readLock(cp)).toMatchObject({ pid: me.pid, startTime: me.startTime, runId: 'newcomer' });
      expect(readdirSync(cp).sort()).toEqual(['lock', 'lock-takeovers']);
      expect(readdirSync(path.join(cp, 'lock-takeovers'))).toEqual([]); // its takeover marker is gone
      await lock.release();
    }
  });

  it('judges a lock from another host by its heartbeat: taken over after 6 missed renewals, not before', async () => {
    const t0 = Date.UTC(2026, 10, 28, 10);
    const cp = tmp();
    const foreign = plant(cp, await record({ pid: 4242, host: 'elsewhere.example', heartbeatAt: iso(t0), renewIntervalMs: 10_000 }));
    const at = (ms: number) => ({ now: () => ms });
    const e = await lockError(CheckpointLock.acquire(new LocalStorage(cp), 'newcomer', at(t0 + 60_000)));
    expect(e.code).toBe('CHECKPOINT_LOCKED');
    expect(e.message).toMatch(/is in use by another query \(pid 4242 on elsewhere.example, running since .*, last heartbeat 2026-11-28T10:00:00.000Z\); .* taken over once its heartbeat is 60 s old/);
    expect(readFileSync(path.join(cp, 'lock'), 'utf8')).toBe(foreign);
    // The owner's own interval sets the expiry: one that renews every 2 s is gone after 12 s.
    const cp2 = tmp();
    plant(cp2, await record({ pid: 4242, host: 'elsewhere.example', heartbeatAt: iso(t0), renewIntervalMs: 2_000 }));
    await expect(CheckpointLock.acquire(new LocalStorage(cp2), 'newcomer', at(t0 + 12_000))).rejects.toThrow(/CHECKPOINT_LOCKED|in use/);
    await (await CheckpointLock.acquire(new LocalStorage(cp2), 'newcomer', at(t0 + 12_001))).release();
    // A renewed heartbeat keeps it alive past the lock's own time.
    mkdirSync(path.join(cp, 'lock-heartbeats'));
    writeFileSync(path.join(cp, 'lock-heartbeats', 'someone-else'), iso(t0 + 50_000));
    const renewed = await lockError(CheckpointLock.acquire(new LocalStorage(cp), 'newcomer', at(t0 + 100_000)));
    expect(renewed.message).toMatch(/last heartbeat 2026-11-28T10:00:50.000Z/);
    const lock = await CheckpointLock.acquire(new LocalStorage(cp), 'newcomer', at(t0 + 110_001));
    expect(readLock(cp)).toMatchObject({ runId: 'newcomer', pid: process.pid, heartbeatAt: iso(t0 + 110_001) });
    expect(readdirSync(path.join(cp, 'lock-heartbeats'))).toEqual([]); // the old owner's heartbeat went with it
    await lock.release();
  });

  it('lets exactly one of many racing newcomers take over a stale lock', async () => {
    for (let round = 0; round < 5; round++) {
      const cp = tmp();
      plant(cp, await record({ pid: await deadPid() }));
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => CheckpointLock.acquire(new LocalStorage(cp), `newcomer-${i}`)));
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect((r.reason as TributaryError).code).toBe('CHECKPOINT_LOCKED');
      const winner = (won[0] as PromiseFulfilledResult<CheckpointLock>).value;
      expect(readLock(cp).runId).toMatch(/^newcomer-\d$/);
      await winner.release();
    }
  });

  it('moves past the marker of a newcomer that died in the middle of a takeover', async () => {
    const cp = tmp();
    const stale = plant(cp, await record({ pid: await deadPid() }));
    const key = createHash('sha256').update(stale).digest('hex').slice(0, 32);
    mkdirSync(path.join(cp, 'lock-takeovers'));
    writeFileSync(path.join(cp, 'lock-takeovers', `${key}.0`), JSON.stringify(await record({ pid: await deadPid(), runId: 'died-taking-over' })));
    writeFileSync(path.join(cp, 'lock-takeovers', `${'0'.repeat(32)}.0`), '{}'); // of an older stale lock
    // Another newcomer in the middle of writing its marker: its staging file is its own (deleting
    // it failed that newcomer with IO "cannot create ... ENOENT" instead of CHECKPOINT_LOCKED; CI).
    const staging = `.${key}.0.${'1'.repeat(8)}-2222-3333-4444-${'5'.repeat(12)}.tmp`;
    writeFileSync(path.join(cp, 'lock-takeovers', staging), '{}');
    const lock = await CheckpointLock.acquire(new LocalStorage(cp), 'newcomer');
    expect(readLock(cp).runId).toBe('newcomer');
    expect(readdirSync(path.join(cp, 'lock-takeovers'))).toEqual([staging]);
    rmSync(path.join(cp, 'lock-takeovers', staging));
    await lock.release();
    // A newcomer still alive in the middle of its takeover is not overtaken.
    const stale2 = plant(cp, await record({ pid: await deadPid() }));
    const key2 = createHash('sha256').update(stale2).digest('hex').slice(0, 32);
    writeFileSync(path.join(cp, 'lock-takeovers', `${key2}.0`), JSON.stringify(await record({ runId: 'taking-over-now', pid: 4343, host: 'elsewhere.example' })));
    const e = await lockError(CheckpointLock.acquire(new LocalStorage(cp), 'newcomer'));
    expect(e.message).toMatch(/is being taken over by another query \(pid 4343 on elsewhere.example/);
  });

  it('renews its heartbeat, and stops (fenced) once the lock names another query', async () => {
    const cp = tmp();
    let clock = Date.UTC(2026, 10, 28, 10);
    const lost: TributaryError[] = [];
    const lock = await CheckpointLock.acquire(new LocalStorage(cp), 'mine', { now: () => clock, renewIntervalMs: HOUR, onLost: (e) => lost.push(e) });
    const lockBytes = readFileSync(path.join(cp, 'lock'), 'utf8');
    clock += 10_000;
    await lock.renew();
    // The heartbeat goes to a file of its own; the lock itself is never rewritten by its owner.
    expect(readFileSync(path.join(cp, 'lock-heartbeats', 'mine'), 'utf8')).toBe(iso(clock));
    expect(readFileSync(path.join(cp, 'lock'), 'utf8')).toBe(lockBytes);
    lock.assertHeld();
    const thief = plant(cp, await record({ runId: 'thief', pid: 4444, host: 'elsewhere.example' }));
    await lock.renew();
    expect(lost).toHaveLength(1);
    expect(() => lock.assertHeld()).toThrow(/checkpoint .* was taken over by another query while this one held it; this query stops without writing more \(pid 4444 on elsewhere.example/);
    expect(lost[0].code).toBe('CHECKPOINT_LOCKED');
    clock += 10_000;
    await lock.renew(); // never writes once fenced
    expect(readFileSync(path.join(cp, 'lock-heartbeats', 'mine'), 'utf8')).toBe(iso(clock - 10_000));
    await lock.release();
    expect(readFileSync(path.join(cp, 'lock'), 'utf8')).toBe(thief);
    expect(readdirSync(path.join(cp, 'lock-heartbeats'))).toEqual([]);
  });
});

describe('checkpoint lock of running queries', () => {
  it('two queries of one process on one checkpoint: the second fails with CHECKPOINT_LOCKED', async () => {
    const dir = tmp();
    const t = new Tributary();
    t.onWarning = () => undefined;
    const start = () => t.readStream.format('rate').option('rowsPerBatch', 2).load().writeStream.option('checkpointLocation', `${dir}/cp`).trigger({ processingTime: '1 hour' }).start(`${dir}/t`);
    const first = start();
    await first.started;
    const second = start();
    await expect(second.awaitTermination()).rejects.toThrow(/CHECKPOINT_LOCKED|is in use by another query \(pid \d+/);
    expect(second.exception()).toMatchObject({ code: 'CHECKPOINT_LOCKED' });
    expect(first.isActive).toBe(true);
    await first.stop();
    expect(first.exception()).toBeNull();
  });

  it('a query whose lock is taken over stops with CHECKPOINT_LOCKED and writes nothing more', async () => {
    const dir = tmp();
    const t = new Tributary();
    t.onWarning = () => undefined;
    const q = t.readStream.format('rate').option('rowsPerBatch', 2).load().writeStream.option('checkpointLocation', `${dir}/cp`)
      .option('checkpointLock.renewInterval', '20ms').trigger({ processingTime: '1 hour' }).start(`${dir}/t`);
    while (!q.lastProgress) {
      if (!q.isActive) throw q.exception();
      await new Promise((r) => setTimeout(r, 20));
    }
    const thief = plant(`${dir}/cp`, await record({ runId: 'thief', pid: 4545, host: 'elsewhere.example' }));
    await expect(q.awaitTermination()).rejects.toThrow(/was taken over by another query while this one held it; this query stops without writing more \(pid 4545 on elsewhere.example/);
    expect(q.exception()).toMatchObject({ code: 'CHECKPOINT_LOCKED' });
    expect(readFileSync(`${dir}/cp/lock`, 'utf8')).toBe(thief);
    expect(readdirSync(`${dir}/cp/offsets`)).toEqual(['0']);
  });

  it('tributary run takes over a lock naming its own pid from an earlier process (a restarted container)', async () => {
    const dir = tmp();
    const r = await cli(['run', path.resolve('test/fixtures/jobs/own-pid-lock.ts'), `${dir}/t`, `${dir}/cp`]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(await values(`${dir}/t`)).toEqual([0, 1, 2, 3]);
    expect(existsSync(`${dir}/cp/lock`)).toBe(false);
  }, 60_000);

  it('tributary run takes over a lock naming a live pid whose process start time differs (the pid was reused)', async () => {
    const dir = tmp();
    // This test process is alive, but is not the process that lock names.
    plant(`${dir}/cp`, await record({ startTime: '1', runId: 'pid-reused' }));
    const r = await cli(rateArgs(`${dir}/cp`, `${dir}/t`));
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(await values(`${dir}/t`)).toEqual([0, 1, 2, 3, 4]);
  }, 60_000);

  it('tributary run takes over a lock from another host whose heartbeat expired, and refuses one whose heartbeat is fresh', async () => {
    const dir = tmp();
    plant(`${dir}/cp`, await record({ pid: 777, host: 'other-host.example', heartbeatAt: iso(Date.now() - HOUR), startedAt: iso(Date.now() - 2 * HOUR) }));
    const taken = await cli(rateArgs(`${dir}/cp`, `${dir}/t`));
    expect(taken.stderr).not.toMatch(/error/);
    expect(taken.code).toBe(0);
    expect(await values(`${dir}/t`)).toEqual([0, 1, 2, 3, 4]);

    const fresh = plant(`${dir}/cp`, await record({ pid: 778, host: 'other-host.example' }));
    const listing = () => JSON.stringify([readdirSync(`${dir}/cp`).sort(), readdirSync(`${dir}/cp/offsets`), readdirSync(`${dir}/cp/commits`)]);
    const before = listing();
    const refused = await cli(rateArgs(`${dir}/cp`, `${dir}/t`));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^tributary: error \[CHECKPOINT_LOCKED\]: checkpoint .*cp is in use by another query \(pid 778 on other-host.example, /);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(readFileSync(`${dir}/cp/lock`, 'utf8')).toBe(fresh);
    expect(listing()).toBe(before);
    expect(await values(`${dir}/t`)).toEqual([0, 1, 2, 3, 4]);
  }, 60_000);

  it('of several tributary run processes started at once on a stale lock, exactly one takes it', async () => {
    const dir = tmp();
    plant(`${dir}/cp`, await record({ pid: await deadPid() }));
    const procs = Array.from({ length: 4 }, () => spawn(process.execPath, [BIN, ...rateArgs(`${dir}/cp`, `${dir}/t`, 'processingTime=1h')], { stdio: ['ignore', 'pipe', 'pipe'] }));
    // Each one either exits (refused) or runs its first batch and then holds the checkpoint.
    const outcomes = await Promise.all(
      procs.map(
        (p: ChildProcess) =>
          new Promise<{ ran: boolean; code?: number | null; stderr: string }>((resolve) => {
            let stderr = '';
            p.stderr!.on('data', (d) => (stderr += d));
            p.stdout!.once('data', () => resolve({ ran: true, stderr }));
            p.on('close', (code) => resolve({ ran: false, code, stderr }));
          }),
      ),
    );
    const running = outcomes.filter((o) => o.ran);
    expect(running).toHaveLength(1);
    for (const o of outcomes.filter((x) => !x.ran)) {
      expect(o.code).toBe(1);
      expect(o.stderr).toMatch(/error \[CHECKPOINT_LOCKED\]: checkpoint .* (is in use by|is being taken over by) another query \(pid \d+/);
    }
    const winner = procs[outcomes.findIndex((o) => o.ran)];
    winner.kill('SIGTERM');
    expect(await new Promise((r) => (winner.exitCode !== null ? r(winner.exitCode) : winner.on('close', r)))).toBe(0);
    expect(await values(`${dir}/t`)).toEqual([0, 1, 2, 3, 4]);
  }, 60_000);
});
