import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cli, type CliResult } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

/**
 * Class 7 of issue 10: every CLI failure is one line `tributary: error [CODE]: ...` with a
 * non-zero exit, nothing is left behind (no new file or directory, not even an empty one), and a
 * closed stdout ends a command quietly.
 */
const tmp = tempDir('tributary-failures-');

const ndjson = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

/** Every file and directory below `dir` (with file sizes), or [] if it does not exist. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    let names: string[];
    try {
      names = readdirSync(path.join(dir, rel)).sort();
    } catch {
      return;
    }
    for (const n of names) {
      const p = rel ? `${rel}/${n}` : n;
      const st = statSync(path.join(dir, p));
      if (st.isDirectory()) {
        out.push(`${p}/`);
        walk(p);
      } else out.push(`${p} ${st.size}`);
    }
  };
  walk('');
  return out;
}

/** Each case runs up to ~50 real processes: generous limits for a loaded 2-core CI machine. */
const SLOW = 300_000;

const ONE_ERROR_LINE = /^tributary: error \[([A-Z_]+)\]: .+$/;

/** Runs a command that must fail: one error line with `code`, the exit status, and `dir` untouched. */
async function fails(args: string[], dir: string, want: { exit: number; code: string; message?: RegExp; input?: string }): Promise<CliResult> {
  const before = tree(dir);
  const r = await cli(args, { input: want.input });
  const what = `tributary ${args.map((a) => JSON.stringify(a)).join(' ')}`;
  expect(r.stderr.endsWith('\n'), `${what}: stderr ${JSON.stringify(r.stderr)}`).toBe(true);
  const lines = r.stderr.slice(0, -1).split('\n');
  expect(lines, what).toHaveLength(1);
  expect(lines[0], what).toMatch(ONE_ERROR_LINE);
  expect(ONE_ERROR_LINE.exec(lines[0])![1], `${what}: ${lines[0]}`).toBe(want.code);
  if (want.message) expect(lines[0], what).toMatch(want.message);
  expect(r.code, `${what}: ${lines[0]}`).toBe(want.exit);
  expect(r.stdout, what).toBe('');
  expect(tree(dir), `${what} left the directory changed`).toEqual(before);
  return r;
}

const SCHEMA = 'id BIGINT, p STRING';

describe('class 7: one line, a non-zero exit, nothing left behind', () => {
  it('refuses partition values whose escaped directory name is over 255 bytes before writing anything', async () => {
    const dir = tmp();
    const table = path.join(dir, 't');
    expect((await cli(['append', table, '--input', '-', '--schema', SCHEMA, '--partition-by', 'p'], { input: ndjson([{ id: 0, p: 'a' }]) })).code).toBe(0);
    // Seven fine partitions first: before the fix, their directories stayed behind.
    const fine = Array.from({ length: 7 }, (_, i) => ({ id: i + 1, p: `v${i}` }));
    const long: [string, string][] = [
      ['x'.repeat(300), '300 ASCII bytes'],
      ['x'.repeat(256), '256 ASCII bytes'],
      ['x'.repeat(254), '"p=" + 254 bytes = 256'],
      ['é'.repeat(128), '128 characters, 256 UTF-8 bytes'],
      ['€'.repeat(100), '100 characters, 300 UTF-8 bytes'],
      ['/'.repeat(86), '86 bytes, 258 once Hive-escaped to %2F'],
      [':'.repeat(100), '100 bytes, 300 once Hive-escaped to %3A'],
      ['a%'.repeat(70), '140 bytes, 280 once % is escaped'],
    ];
    for (const [value, why] of long) {
      const r = await fails(['append', table, '--input', '-'], dir, {
        input: ndjson([...fine, { id: 99, p: value }]),
        exit: 1,
        code: 'PARTITION_INVALID',
        message: /row 7, column "p": value ".{10,}\.\.\. \(\d+ characters\) makes a partition directory name of \d+ bytes after Hive escaping; file systems allow 255 \[stdin, line 8\]/,
      });
      expect(r.stderr.length, why).toBeLessThan(400); // the value is shortened, not dumped
    }
    // Creating a table with such a value leaves no table directory at all.
    await fails(['append', path.join(dir, 'new'), '--input', '-', '--schema', SCHEMA, '--partition-by', 'p'], dir, {
      input: ndjson([...fine, { id: 99, p: 'y'.repeat(300) }]),
      exit: 1,
      code: 'PARTITION_INVALID',
    });
    // The limit is exactly 255 bytes: "p=" and 253 bytes is a valid directory name.
    const edge = await cli(['append', table, '--input', '-'], { input: ndjson([{ id: 100, p: 'z'.repeat(253) }, { id: 101, p: 'é'.repeat(126) + 'z' }]) });
    expect(edge.stderr).toBe('');
    expect(edge.code).toBe(0);
    const rows = (await cli(['read', table])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.p).sort()).toEqual(['a', 'z'.repeat(253), 'é'.repeat(126) + 'z'].sort());
  }, SLOW);

  it('leaves no files and no directories behind when a write fails half-way', async () => {
    const dir = tmp();
    // A file where the fifth partition's directory must go: the first four files are written
    // (and their directories made) before the fifth fails for real.
    writeFileSync(path.join(dir, 'p=v4'), 'in the way');
    const rows = ndjson(Array.from({ length: 7 }, (_, i) => ({ id: i, p: `v${i}` })));
    await fails(['append', dir, '--input', '-', '--schema', SCHEMA, '--partition-by', 'p'], dir, { input: rows, exit: 1, code: 'IO', message: /p=v4/ });
    expect(tree(dir)).toEqual(['p=v4 10']);
    // The same into an existing table, and into a table directory that does not exist yet.
    const table = path.join(dir, 'sub', 't');
    expect((await cli(['append', table, '--input', '-', '--schema', SCHEMA, '--partition-by', 'p'], { input: ndjson([{ id: 0, p: 'v0' }]) })).code).toBe(0);
    writeFileSync(path.join(table, 'p=v4'), 'in the way');
    await fails(['append', table, '--input', '-'], dir, { input: rows, exit: 1, code: 'IO' });
    writeFileSync(path.join(dir, 'sub', 'blocked'), '');
    await fails(['append', path.join(dir, 'sub', 'blocked', 't'), '--input', '-', '--schema', SCHEMA], dir, { input: rows, exit: 1, code: 'IO' });
  }, SLOW);

  it('names a deleted or damaged data file on read and OPTIMIZE, and OPTIMIZE commits and leaves nothing', async () => {
    // A flat table (OPTIMIZE's JavaScript reader) and a nested one (its WebAssembly path, where
    // the first file is read here and the others by the encoder thread). In the flat one the
    // damaged file is in the second partition, so the first one's compacted file has been
    // written when OPTIMIZE fails: it must go again.
    const cases = [
      { schema: 'id BIGINT, s STRING, p STRING', partitionBy: ['--partition-by', 'p'], row: (i: number) => ({ id: i, s: `s${i}`, p: i < 2 ? 'a' : 'b' }), dir: 'p=b', at: 0 },
      { schema: 'id BIGINT, tags ARRAY<STRING>', partitionBy: [], row: (i: number) => ({ id: i, tags: ['a', `t${i}`] }), dir: '', at: 2 },
    ];
    for (const { schema, partitionBy, row, dir: sub, at } of cases) {
      const dir = tmp();
      for (let i = 0; i < 4; i++) expect((await cli(['append', dir, '--input', '-', '--schema', schema, ...partitionBy], { input: ndjson([row(i)]) })).code).toBe(0);
      const name = readdirSync(path.join(dir, sub)).filter((f) => f.endsWith('.parquet')).sort()[at];
      const victim = sub ? `${sub}/${name}` : name;
      const file = path.join(dir, victim);
      const saved = readFileSync(file);
      rmSync(file);
      await fails(['read', dir], dir, { exit: 1, code: 'DATA_FILE_MISSING', message: new RegExp(`data file ${victim} of .* is missing`) });
      await fails(['optimize', dir], dir, { exit: 1, code: 'DATA_FILE_MISSING', message: new RegExp(victim) });
      for (const keep of [20, saved.length - 30]) {
        // Damaged: cut to its first bytes, or its footer cut short.
        writeFileSync(file, saved);
        truncateSync(file, keep);
        await fails(['read', dir], dir, { exit: 1, code: 'IO', message: new RegExp(`cannot read data file ${victim}`) });
        await fails(['optimize', dir], dir, { exit: 1, code: 'IO', message: new RegExp(`cannot read data file ${victim}`) });
      }
      writeFileSync(file, saved);
      // Restored, the table optimizes and reads whole.
      expect((await cli(['optimize', dir])).code).toBe(0);
      expect((await cli(['read', dir])).stdout.trim().split('\n')).toHaveLength(4);
    }
  }, SLOW);

  it('refuses bad numbers in every numeric option, naming the option and the value', async () => {
    const dir = tmp();
    const table = path.join(dir, 't');
    expect((await cli(['append', table, '--input', '-', '--schema', SCHEMA], { input: ndjson([{ id: 1, p: 'a' }, { id: 2, p: 'b' }]) })).code).toBe(0);
    expect((await cli(['append', table, '--input', '-'], { input: ndjson([{ id: 3, p: 'c' }]) })).code).toBe(0);
    const bad = (option: string, value: string) => new RegExp(`^tributary: error \\[INVALID_ARGUMENT\\]: ${option} expects .*, got ${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    const cases: [string[], string, string[]][] = [
      // command, option, values that must be refused (--version 1.5 used to read version 1)
      [['read', table], '--version', ['abc', '1.5', '', '-1', '1e3', '0x1', ' 1']],
      [['inspect', table], '--version', ['abc', '1.5', '']],
      [['read', table], '--limit', ['abc', '-1', '2.5', '']],
      [['history', table], '--limit', ['abc', '-1', '1.5']],
      [['append', table, '--input', '-'], '--row-group-rows', ['0', 'abc', '-5', '1.5', '', '4294967296']],
      [['append', table, '--input', '-'], '--target-file-size', ['0', 'abc', '', '-1MB', '0.1']],
      [['optimize', table], '--target-file-size', ['0', 'abc']],
      [['optimize', table], '--min-files', ['0', 'abc', '1.5', '-2']],
      [['vacuum', table], '--retention', ['abc', '', '-5h', '99999999999999999999h']],
      [['run', '--format', 'rate', '--checkpoint', path.join(dir, 'cp'), path.join(dir, 'stream')], '--max-rows-per-batch', ['0', 'abc', '1.5']],
      [['run', '--format', 'rate', '--checkpoint', path.join(dir, 'cp'), path.join(dir, 'stream')], '--max-bytes-per-batch', ['0', 'lots']],
    ];
    for (const [command, option, values] of cases) {
      for (const value of values) {
        const args = [command[0], option, value, ...command.slice(1)];
        const r = await fails(args, dir, { exit: 1, code: 'INVALID_ARGUMENT', input: ndjson([{ id: 9, p: 'z' }]) });
        expect(r.stderr.trim()).toMatch(bad(option, value));
      }
    }
    // The values that are fine still work.
    expect((await cli(['read', table, '--version', '0'])).stdout.trim().split('\n')).toHaveLength(2);
    expect((await cli(['read', table, '--limit', '1'])).stdout.trim().split('\n')).toHaveLength(1);
    expect((await cli(['append', table, '--input', '-', '--row-group-rows', '1', '--target-file-size', '1MB'], { input: ndjson([{ id: 4, p: 'd' }]) })).code).toBe(0);
  }, SLOW);

  it('refuses an empty struct in a schema and values of the wrong shape for nested columns', async () => {
    const dir = tmp();
    const table = path.join(dir, 't');
    for (const schema of ['id BIGINT, s STRUCT<>', 'id BIGINT, a ARRAY<STRUCT<>>', 'id BIGINT, m MAP<STRING, STRUCT<>>']) {
      await fails(['append', table, '--input', '-', '--schema', schema], dir, { exit: 1, code: 'SCHEMA_INVALID', message: /empty struct/, input: ndjson([{ id: 1 }]) });
    }
    expect((await cli(['append', table, '--input', '-', '--schema', 'id BIGINT, m MAP<STRING, BIGINT>, s STRUCT<x: INT>'], { input: ndjson([{ id: 0, m: { a: 1 } }]) })).code).toBe(0);
    const wrong: [unknown, string, RegExp][] = [
      [[1, 2], 'm', /column "m": value \[1,2\] is not a map/],
      [[['a']], 'm', /is not a map/],
      [[['a', 1, 2]], 'm', /is not a map/],
      ['text', 'm', /is not a map/],
      [5, 's', /column "s": value 5 is not an object/],
      [[{ x: 1 }], 's', /is not an object/],
    ];
    for (const [value, col, message] of wrong) {
      await fails(['append', table, '--input', '-'], dir, { exit: 1, code: 'ROW_INVALID', message, input: ndjson([{ id: 1 }, { id: 2, [col]: value }]) });
    }
    // Arrays of [key, value] pairs are a map's other form and land.
    expect((await cli(['append', table, '--input', '-'], { input: ndjson([{ id: 3, m: [['k', 7]] }]) })).code).toBe(0);
  }, SLOW);

  it('reports usage errors and unexpected errors as one line too', async () => {
    const dir = tmp();
    const usage: [string[], RegExp][] = [
      [['read'], /missing required argument 'table'/],
      [['read', dir, '--bogus'], /unknown option '--bogus'/],
      [['read', dir, '--versoin', '1'], /unknown option '--versoin' \(Did you mean --version\?\)/],
      [['append', dir, '--input', '-', '--engine', 'fast'], /argument 'fast' is invalid\. Allowed choices are parquet-wasm, parquetjs/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    for (const [args, message] of usage) await fails(args, dir, { exit: 2, code: 'INVALID_ARGUMENT', message });
    // A bug (here: a job that throws a plain Error with a multi-line message) is [INTERNAL], on one line.
    const job = path.join(dir, 'job.mjs');
    writeFileSync(job, "export default () => { throw new RangeError('first line\\nsecond line'); };\n");
    await fails(['run', job], dir, { exit: 70, code: 'INTERNAL', message: /: RangeError: first line second line$/ });
    // So is an error that escapes every await: a stray rejected promise, a throw in a timer.
    const stray = path.join(dir, 'stray.mjs');
    writeFileSync(stray, "export default () => { Promise.reject(new TypeError('stray')); return new Promise(() => {}); };\n");
    await fails(['run', stray], dir, { exit: 70, code: 'INTERNAL', message: /: TypeError: stray$/ });
    const timer = path.join(dir, 'timer.mjs');
    writeFileSync(timer, "export default () => { setTimeout(() => { throw new Error('late'); }, 1); return new Promise(() => {}); };\n");
    await fails(['run', timer], dir, { exit: 70, code: 'INTERNAL', message: /: Error: late$/ });
    // ...with the stack when TRIBUTARY_DEBUG asks for it.
    const debug = await cli(['run', job], { env: { TRIBUTARY_DEBUG: '1' } });
    expect(debug.code).toBe(70);
    expect(debug.stderr.split('\n')[0]).toMatch(ONE_ERROR_LINE);
    expect(debug.stderr).toMatch(/\n {4}at .*job\.mjs/);
    // Asking for help or the version is not a failure.
    // The version is package.json's, so npm and the CLI never disagree.
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(await cli(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
  }, SLOW);
});

/** Spawns the CLI with its stdout piped into a reader that goes away after `keep` chunks. */
function closedStdout(args: string[], keep: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; chunks: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let chunks = 0;
    p.stderr.on('data', (d) => (stderr += d));
    if (keep === 0) p.stdout.destroy();
    else p.stdout.on('data', () => ++chunks >= keep && p.stdout.destroy());
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code, signal, stderr, chunks }));
  });
}

describe('class 7: a closed stdout ends the command quietly', () => {
  it('read, history, inspect and run stop with exit 0 and nothing on stderr', async () => {
    const dir = tmp();
    const table = path.join(dir, 't');
    const many = ndjson(Array.from({ length: 50_000 }, (_, i) => ({ id: i, p: `row ${i}` })));
    expect((await cli(['append', table, '--input', '-', '--schema', SCHEMA], { input: many })).code).toBe(0);
    for (let v = 0; v < 3; v++) expect((await cli(['append', table, '--input', '-'], { input: ndjson([{ id: -v, p: 'x' }]) })).code).toBe(0);

    const read = await closedStdout(['read', table], 1);
    expect(read).toMatchObject({ code: 0, signal: null, stderr: '', chunks: 1 });
    for (const args of [['read', table], ['history', table], ['history', table, '--json'], ['inspect', table], ['inspect', table, '--json']]) {
      expect(await closedStdout(args, 0), args.join(' ')).toMatchObject({ code: 0, signal: null, stderr: '' });
    }
    // A real shell pipeline, as users write it.
    const shell = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" read "${table}" | head -1`]);
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(shell).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(shell.stdout)).toHaveProperty('id');

    // A stream whose progress nobody reads any more stops after its batch, like on SIGINT, and
    // what it committed is whole.
    const stream = path.join(dir, 'stream');
    const cp = path.join(dir, 'cp');
    const run = await closedStdout(['run', '--format', 'rate', '--option', 'rowsPerBatch=10', '--checkpoint', cp, '--json', stream], 1);
    expect(run).toMatchObject({ code: 0, signal: null, stderr: '' });
    const values = (await cli(['read', stream])).stdout.trim().split('\n').map((l) => Number(JSON.parse(l).value)).sort((a, b) => a - b);
    expect(values.length).toBeGreaterThan(0);
    expect(values).toEqual(Array.from({ length: values.length }, (_, i) => i));
  }, SLOW);
});
