import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { DeltaTable } from '../../src/delta/table.js';
import { CheckpointDir } from '../../src/engine/checkpoint-dir.js';
import { DataSource, type Offset, OffsetRangeRefused, Tributary } from '../../src/index.js';
import { batchBudget } from '../../src/source/row-budget.js';
import type { DataSourceStreamReader } from '../../src/source/source.js';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-options-');

/** Every file under a directory with its bytes: "exactly as it was" means this is unchanged. */
function contents(dir: string): string {
  if (!existsSync(dir)) return 'absent';
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
  return JSON.stringify(files.map((f) => [path.relative(dir, f), readFileSync(f, 'base64')]));
}

const values = async (table: string, col = 'value') =>
  arrowToRows(await (await DeltaTable.open(table)).read())
    .map((r) => Number(r[col]))
    .sort((a, b) => a - b);

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Replayable rows n = start..end-1; `maxRange` (an option) is how many one read may return. */
class BoundedSource extends DataSource {
  static override formatName = 'bounded';
  static available = 0;
  schema() {
    return 'n BIGINT NOT NULL';
  }
  override streamReader(): DataSourceStreamReader {
    const maxRange = Number(this.options.maxRange ?? '1000');
    return {
      initialOffset: () => ({ n: 0 }),
      latestOffset: (start: Offset) => ({ n: Math.min(BoundedSource.available, Number(start.n) + maxRange) }),
      read: (start: Offset, end: Offset) => {
        const count = Number(end.n) - Number(start.n);
        if (count > maxRange) throw new OffsetRangeRefused(`bounded: ${count} rows is more than maxRange=${maxRange}`);
        return Array.from({ length: count }, (_, i) => ({ n: Number(start.n) + i }));
      },
    };
  }
}

function session(warnings: string[] = []) {
  const t = new Tributary();
  t.dataSource.register(BoundedSource);
  t.onWarning = (m) => warnings.push(m);
  return t;
}

describe('options are checked before anything is written to the checkpoint', () => {
  it('tributary run refuses a bad rate option with one line naming option, value and bound, creating nothing', async () => {
    const dir = tmp();
    const cp = path.join(dir, 'cp');
    const table = path.join(dir, 't');
    const run = (...extra: string[]) => cli(['run', '--format', 'rate', ...extra, '--checkpoint', cp, '--trigger', 'once', table]);
    const huge = await run('--option', 'rowsPerBatch=1e22');
    const max = Number(/must be an integer from 1 to (\d+) /.exec(huge.stderr)?.[1]);
    expect(max).toBeGreaterThan(1_000_000); // the child's heap holds millions of rate rows, not 1e22
    const cases: [string[], RegExp][] = [
      [['--option', 'rowsPerBatch=1e22'], /source "rate": option rowsPerBatch="1e22" must be an integer from 1 to \d+ \(one batch's rows, about 96 bytes each in memory, may take at most half of this process's \d+ MiB heap; node --max-old-space-size=<MiB> raises it\)/],
      [['--option', `rowsPerBatch=${max + 1}`], new RegExp(`option rowsPerBatch="${max + 1}" must be an integer from 1 to ${max} \\(one batch's rows`)],
      [['--option', 'rowsPerBatch=1000000000'], /option rowsPerBatch="1000000000" must be an integer from 1 to \d+ \(/],
      [['--option', 'rowsPerBatch=9007199254740993'], /option rowsPerBatch="9007199254740993" must be an integer from 1 to/],
      [['--option', 'rowsPerBatch=2.5'], /option rowsPerBatch="2.5" must be an integer/],
      [['--option', 'rowsPerBatch=0'], /option rowsPerBatch="0" must be an integer from 1 to/],
      [['--option', 'rowsPerBatch=lots'], /option rowsPerBatch="lots" must be an integer/],
      [['--option', 'rowsPerSecond=1e22'], /option rowsPerSecond="1e22" must be a number from 0 to \d+ \(a second's rows must fit in one batch/],
      [['--option', 'startTimestamp=1e300'], /option startTimestamp="1e300" must be an integer/],
      // Flags the CLI parses as numbers first, then the budget checks what they ask for.
      [['--option', 'rowsPerBatch=5', '--max-rows-per-batch', '1e22'], /--max-rows-per-batch expects a whole number of at least 1, got "1e22"/],
      [['--option', 'rowsPerBatch=5', '--max-rows-per-batch', '1000000000000'], /option maxRowsPerBatch="1000000000000" must be an integer from 1 to \d+ \(one batch's rows/],
      [['--option', 'rowsPerBatch=5', '--max-bytes-per-batch', '999GB'], /option maxBytesPerBatch="\d+" must be a size from 1 to \d+ \(one batch's rows/],
      [['--option', 'rowsPerBatch=5', '--max-bytes-per-batch', 'a lot'], /--max-bytes-per-batch expects a size in bytes/],
    ];
    for (const [args, re] of cases) {
      const r = await run(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/^tributary: error \[INVALID_ARGUMENT\]: /);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(cp)).toBe(false);
      expect(existsSync(table)).toBe(false);
    }
    // An existing checkpoint stays byte for byte as it was.
    expect((await run('--option', 'rowsPerBatch=5')).code).toBe(0);
    const before = contents(cp);
    for (const [args] of [cases[0], cases[7], cases[9]]) expect((await run(...args)).code).toBe(1);
    expect(contents(cp)).toBe(before);
    expect(await values(table)).toEqual(range(5));
  }, 120_000);

  it('writeStream refuses bad engine and writer options at start(), and a bad source option fails the query, creating nothing', async () => {
    const dir = tmp();
    const t = session();
    const writer = () => t.readStream.format('rate').option('rowsPerBatch', 3).load().writeStream.option('checkpointLocation', `${dir}/cp`);
    const cases: [Record<string, string>, RegExp][] = [
      [{ minBatchesToRetain: '0' }, /writeStream: option minBatchesToRetain="0" must be an integer from 1 to 9007199254740991/],
      [{ minBatchesToRetain: '1e22' }, /option minBatchesToRetain="1e22" must be an integer/],
      [{ minBatchesToRetain: '2.5' }, /option minBatchesToRetain="2.5" must be an integer/],
      [{ maxRowsPerBatch: '1e22' }, /writeStream: option maxRowsPerBatch="1e22" must be an integer from 1 to \d+ \(one batch's rows, about 96 bytes each/],
      [{ targetFileSize: 'huge' }, /writeStream: option targetFileSize: cannot read size "huge"/],
      [{ targetFileSize: '0' }, /option targetFileSize="0" must be a size from 1 to/],
      [{ targetFileSize: '99999999999999999999GB' }, /option targetFileSize="99999999999999999999GB" must be a size/],
      [{ 'autoCompact.everyCommits': '1e22' }, /option autoCompact.everyCommits="1e22" must be an integer/],
      [{ 'autoCompact.maxSmallFiles': '-3' }, /option autoCompact.maxSmallFiles="-3" must be an integer from 1/],
      [{ 'autoCompact.targetFileSize': '1e22' }, /option autoCompact.targetFileSize: cannot read size "1e22"/],
      [{ autoCompact: 'yes' }, /option autoCompact="yes" must be true or false/],
      [{ mergeSchema: 'yes' }, /option mergeSchema="yes" must be true or false/],
      [{ engine: 'fast' }, /option engine="fast" must be one of parquet-wasm, parquetjs/],
      [{ compression: 'lz4' }, /option compression="lz4" must be one of snappy, zstd, uncompressed/],
      [{ engine: 'parquetjs', compression: 'zstd' }, /compression="zstd" needs engine parquet-wasm/],
      [{ 'checkpointLock.renewInterval': '0ms' }, /option checkpointLock.renewInterval="0ms" must be a duration from 10 to 2147483647/],
      [{ 'checkpointLock.renewInterval': 'often' }, /option checkpointLock.renewInterval: cannot read duration "often"/],
    ];
    for (const [opts, re] of cases) {
      expect(() => writer().options(opts).start(`${dir}/t`)).toThrow(re);
      expect(readdirSync(dir)).toEqual([]);
    }
    // Source options are read when the query opens its reader, still before the checkpoint.
    const q = t.readStream.format('rate').option('rowsPerBatch', '1e22').load().writeStream.option('checkpointLocation', `${dir}/cp`).start(`${dir}/t`);
    await expect(q.awaitTermination()).rejects.toThrow(/source "rate": option rowsPerBatch="1e22" must be an integer from 1 to/);
    expect(q.exception()).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('sizes the batch budget from the heap limit and the columns', () => {
    const rate = parseDdl('timestamp TIMESTAMP, value BIGINT');
    expect(batchBudget(rate, 64 * 2 ** 20)).toMatchObject({ maxRows: Math.floor((32 * 2 ** 20) / 96), maxBytes: 32 * 2 ** 20 });
    expect(batchBudget(parseDdl('a STRING, b STRUCT<c: INT, d: DOUBLE>, e DATE'), 64 * 2 ** 20).maxRows).toBe(Math.floor((32 * 2 ** 20) / (32 + 4 * 32)));
    expect(batchBudget(rate, 64 * 2 ** 20).reason).toMatch(/about 96 bytes each in memory, may take at most half of this process's 64 MiB heap/);
  });
});

describe('a checkpoint holding a batch planned with a bad option recovers once the option is corrected', () => {
  it('tributary run replaces a pending rate plan of 1e22 rows the table does not hold, and the table gets 0..N-1 once', async () => {
    const dir = tmp();
    const cp = path.join(dir, 'cp');
    const table = path.join(dir, 't');
    // What the old code logged for --option rowsPerBatch=1e22 before dying on it, every run.
    const ckpt = await CheckpointDir.at(cp);
    await ckpt.queryId();
    await ckpt.writeOffsets({ batchId: 0, start: { startMs: 0, value: 0 }, end: { startMs: 0, value: 1e22 }, timestampMs: Date.now() });
    expect(readFileSync(path.join(cp, 'offsets', '0'), 'utf8')).toMatch(/"value":1e\+22/);

    const r = await cli(['run', '--format', 'rate', '--option', 'rowsPerBatch=5', '--checkpoint', cp, '--trigger', 'availableNow', table]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: batch 0 was planned by an earlier run as \{"startMs":0,"value":0\}\.\.\{"startMs":0,"value":1e\+22\}, which the source refuses under the current options \(rate: cannot read the range .*: 1e\+22 rows is more than one batch may hold .*\); DeltaSink\[.*\] does not hold batch 0, so that plan is discarded and the batch is planned again/);
    expect(r.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^batch 0: 5 rows .*"value":5\}$/), expect.stringMatching(/^batch 1: 5 rows .*"value":10\}$/)]);
    expect(await values(table)).toEqual(range(10));
    expect((await ckpt.readOffsets(0)).end).toEqual({ startMs: 0, value: 5 });
    expect(await ckpt.latestCommit()).toBe(1);
    // And it goes on normally from there.
    expect((await cli(['run', '--format', 'rate', '--option', 'rowsPerBatch=5', '--checkpoint', cp, '--trigger', 'once', table])).code).toBe(0);
    expect(await values(table)).toEqual(range(15));
  }, 60_000);

  it('marks a refused pending batch committed when the table already holds it, and keeps the plan when the sink cannot tell', async () => {
    const dir = tmp();
    const cp = `${dir}/cp`;
    const warnings: string[] = [];
    BoundedSource.available = 10;
    const start = (maxRange: string) => session(warnings).readStream.format('bounded').option('maxRange', maxRange).load().writeStream.option('checkpointLocation', cp).trigger({ once: true }).start(`${dir}/t`);
    await start('10').awaitTermination();
    // Killed after the Delta commit, before commits/0: the table holds batch 0, the log does not say so.
    rmSync(`${cp}/commits/0`);
    BoundedSource.available = 13;
    const q = start('5');
    await q.awaitTermination();
    expect(warnings.join('\n')).toMatch(/batch 0 \(\{"n":0\}\.\.\{"n":10\}\) cannot be read under the current options \(bounded: 10 rows is more than maxRange=5\), but DeltaSink\[.*\] already holds it: marked committed/);
    // That was the trigger's one batch, as re-running it would have been; the next run goes on.
    expect(q.recentProgress).toEqual([]);
    expect(await values(`${dir}/t`, 'n')).toEqual(range(10));
    const next = start('5');
    await next.awaitTermination();
    expect(next.recentProgress.map((p) => [p.batchId, p.numInputRows])).toEqual([[1, 3]]);
    expect(await values(`${dir}/t`, 'n')).toEqual(range(13));
    expect(readdirSync(`${cp}/commits`).sort()).toEqual(['0', '1']);

    // A sink that cannot tell whether it holds the batch: the plan and the error stay.
    const dir2 = tmp();
    const fb = () => session().readStream.format('bounded').option('maxRange', '3').load().writeStream.option('checkpointLocation', `${dir2}/cp`).foreachBatch(() => undefined).trigger({ once: true });
    const ckpt = await CheckpointDir.at(`${dir2}/cp`);
    await ckpt.queryId();
    await ckpt.writeOffsets({ batchId: 0, start: { n: 0 }, end: { n: 10 }, timestampMs: 0 });
    const before = contents(`${dir2}/cp`);
    const kept = fb().start();
    await expect(kept.awaitTermination()).rejects.toThrow(/bounded: 10 rows is more than maxRange=3\. Batch 0 was planned with that range by an earlier run \(offsets\/0 in .*\), and ForeachBatchSink cannot tell whether it already holds it, so the plan is kept/);
    expect(contents(`${dir2}/cp`)).toBe(before);
  });

  it('never discards the write-ahead rows of a non-replayable source', async () => {
    // Its pending batch re-runs from the logged rows, without asking the source at all.
    const dir = tmp();
    const t = session();
    let reads = 0;
    class Once extends DataSource {
      static override formatName = 'once-only';
      schema() {
        return 'n BIGINT';
      }
      override get replayable() {
        return false;
      }
      override streamReader(): DataSourceStreamReader {
        return {
          initialOffset: () => ({ n: 0 }),
          latestOffset: (start: Offset) => ({ n: Number(start.n) === 0 ? 4 : Number(start.n) }),
          read: (start: Offset, end: Offset) => {
            reads++;
            if (reads > 1) throw new OffsetRangeRefused('once-only: cannot read again');
            return Array.from({ length: Number(end.n) - Number(start.n) }, (_, i) => ({ n: Number(start.n) + i }));
          },
        };
      }
    }
    t.dataSource.register(Once);
    const q = t.readStream.format('once-only').load().writeStream.option('checkpointLocation', `${dir}/cp`).trigger({ once: true }).start(`${dir}/t`);
    await q.awaitTermination();
    rmSync(`${dir}/cp/commits/0`);
    rmSync(`${dir}/t`, { recursive: true });
    const q2 = t.readStream.format('once-only').load().writeStream.option('checkpointLocation', `${dir}/cp`).trigger({ once: true }).start(`${dir}/t`);
    await q2.awaitTermination();
    expect(reads).toBe(1);
    expect(await values(`${dir}/t`, 'n')).toEqual(range(4));
    expect(readdirSync(`${dir}/cp/offsets`)).toEqual(['0']);
  });
});
