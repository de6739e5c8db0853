/**
 * Progress bars through real processes: under a real pseudo-terminal (`script` from util-linux
 * gives the command a pty for stdin, stdout and stderr, and copies everything the command draws
 * to its own stdout), and the same commands with stdout and stderr piped, where not one control
 * character may appear.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeltaTable } from '../../src/delta/table.js';
import { progressWanted, type Terminals } from '../../src/cli/progress.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { type Simulator, startSimulator } from '../../simulator/coingecko.js';
import { BIN, cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-progress-');
const SLOW = 180_000;
const ESC = '\u001b';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs `tributary <args>` on a pseudo-terminal 200 columns wide; `shellTail` is appended to the
 * command line (a redirection). Returns everything the terminal received.
 */
function onTerminal(args: string[], cwd: string, shellTail = ''): Promise<{ code: number | null; screen: string }> {
  const command = `stty cols 200 rows 50; exec ${[process.execPath, BIN, ...args].map(quote).join(' ')}${shellTail}`;
  return new Promise((resolve, reject) => {
    const p = spawn('script', ['-qec', command, '/dev/null'], { cwd, env: { ...process.env, TERM: 'xterm-256color' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let screen = '';
    p.stdout.on('data', (d) => (screen += d));
    p.stderr.on('data', (d) => (screen += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, screen }));
  });
}

/** What stays on the screen once the bar is cleared: the text after the bar's last erase. */
function afterBar(screen: string): string {
  const clear = `${ESC}[0J`;
  expect(screen).toContain(clear);
  return screen.slice(screen.lastIndexOf(clear) + clear.length);
}

function expectPlain(...outputs: string[]) {
  for (const o of outputs) {
    expect(o).not.toContain(ESC);
    expect(o).not.toContain('\r');
  }
}

/** A table of `n` small files, one append each (in this process: a file per append, quickly). */
async function smallFileTable(dir: string, n: number): Promise<void> {
  const t = await DeltaTable.forPath(dir);
  for (let i = 0; i < n; i++) await t.append([{ id: i, s: `row ${i}` }, { id: -i, s: null }], { create: { schema: parseDdl('id BIGINT, s STRING'), partitionColumns: [] } });
}

describe('progress bars on a terminal', () => {
  it('are drawn only when stdout and stderr are terminals, without --json or --no-progress, and TERM is not dumb', () => {
    const io = (stdout: boolean, stderr: boolean, TERM = 'xterm'): Terminals => ({ stdout: { isTTY: stdout }, stderr: Object.assign(new PassThrough(), { isTTY: stderr }), env: { TERM } });
    expect(progressWanted({}, io(true, true))).toBe(true);
    expect(progressWanted({}, io(false, true))).toBe(false); // tributary optimize t | cat
    expect(progressWanted({}, io(true, false))).toBe(false); // 2> log
    expect(progressWanted({ json: true }, io(true, true))).toBe(false);
    expect(progressWanted({ progress: false }, io(true, true))).toBe(false);
    expect(progressWanted({}, io(true, true, 'dumb'))).toBe(false);
  });

  it('optimize: a bar of files and bytes on the terminal, cleared before the result; piped, --json, a redirected stdout and --no-progress draw nothing', async () => {
    const dir = tmp();
    const table = path.join(dir, 't');
    await smallFileTable(table, 120);
    const copy = path.join(dir, 'copy');
    await smallFileTable(copy, 120);

    const shown = await onTerminal(['optimize', table], dir);
    expect(shown.code).toBe(0);
    expect(shown.screen).toMatch(/optimize \[-+\] 0% \| 0\/120 files, 0 B\/[\d.]+ KiB/);
    expect(shown.screen).toMatch(/optimize \[=+\] 100% \| 120\/120 files, ([\d.]+ KiB)\/\1/);
    expect(afterBar(shown.screen)).toMatch(/^optimized 1 partition\(s\): 120 files \([\d.]+ KiB\) -> 1 files \([\d.]+ KiB\) as version 120\r\n$/);

    // The same command piped (stdout and stderr): the result line and nothing else.
    const piped = await cli(['optimize', copy]);
    expect(piped).toMatchObject({ code: 0, stderr: '' });
    expect(piped.stdout).toMatch(/^optimized 1 partition\(s\): 120 files \([\d.]+ KiB\) -> 1 files \([\d.]+ KiB\) as version 120\n$/);
    expectPlain(piped.stdout, piped.stderr);

    // On a terminal but with --json, with stdout redirected (`> file`, as `| jq` would take it),
    // or with --no-progress: no bar, no control character.
    const other = path.join(dir, 'other');
    await smallFileTable(other, 30);
    const json = await onTerminal(['optimize', other, '--json'], dir);
    expect(json.code).toBe(0);
    expect(json.screen).not.toContain(ESC);
    expect(JSON.parse(json.screen).numFilesRemoved).toBe(30);
    await smallFileTable(other, 30);
    const redirected = await onTerminal(['optimize', other], dir, ` > ${quote(path.join(dir, 'out.txt'))}`);
    expect(redirected).toEqual({ code: 0, screen: '' });
    expect(readFileSync(path.join(dir, 'out.txt'), 'utf8')).toMatch(/^optimized 1 partition\(s\): 31 files .* as version 61\n$/);
    await smallFileTable(other, 30);
    const off = await onTerminal(['optimize', other, '--no-progress'], dir);
    expect(off.code).toBe(0);
    expect(off.screen).not.toContain(ESC);
    expect(off.screen).toMatch(/^optimized 1 partition\(s\): 31 files .* as version 92\r\n$/);
  }, SLOW);

  it('vacuum: files listed, then deleted of the total; piped: plain lines', async () => {
    const dir = tmp();
    const table = path.join(dir, 't');
    await smallFileTable(table, 40);
    const copy = path.join(dir, 'copy');
    await smallFileTable(copy, 40);
    for (const t of [table, copy]) expect((await cli(['optimize', t])).code).toBe(0);

    const shown = await onTerminal(['vacuum', table, '--retention', '0h', '--force'], dir);
    expect(shown.code).toBe(0);
    expect(shown.screen).toContain('vacuum: listing files: reading the table directory');
    expect(shown.screen).toMatch(/vacuum: deleting \[-+\] 0% \| 0\/40 files deleted, \d+ listed/);
    expect(shown.screen).toMatch(/vacuum: deleting \[=+\] 100% \| 40\/40 files deleted, \d+ listed/);
    expect(afterBar(shown.screen)).toMatch(/^(deleted part-\S+\r\n){40}deleted 40 file\(s\), .*\r\n$/);

    const piped = await cli(['vacuum', copy, '--retention', '0h', '--force']);
    expect(piped).toMatchObject({ code: 0, stderr: '' });
    expect(piped.stdout.trim().split('\n')).toHaveLength(41);
    expectPlain(piped.stdout, piped.stderr);
  }, SLOW);

  it('append of a large file: bytes and rows read of the file, then rows written; from a pipe, counts without a bar; piped output: plain', async () => {
    const dir = tmp();
    const input = path.join(dir, 'big.ndjson');
    const rows = 100_000;
    writeFileSync(input, Array.from({ length: rows }, (_, i) => JSON.stringify({ id: i, name: `name ${i}`, v: i / 4 })).join('\n') + '\n');
    const schema = 'id BIGINT NOT NULL, name STRING, v DOUBLE';

    const shown = await onTerminal(['append', path.join(dir, 't'), '--input', input, '--schema', schema], dir);
    expect(shown.code).toBe(0);
    expect(shown.screen).toMatch(/append: reading \S+big\.ndjson \[=+\] 100% \| ([\d.]+ MiB)\/\1, 100,000 rows/);
    expect(shown.screen).toMatch(/append: writing \[=+\] 100% \| 100,000\/100,000 rows/);
    // Reading comes first, writing after it.
    expect(shown.screen.indexOf('append: reading')).toBeLessThan(shown.screen.indexOf('append: writing'));
    expect(afterBar(shown.screen)).toMatch(/^appended 100000 rows in 1 file\(s\) as version 0 of \S+\r\n$/);

    // From a pipe the size is unknown: the counts, no bar and no percentage.
    const fromPipe = await onTerminal(['append', path.join(dir, 't'), '--input', '-'], dir, ` < ${quote(input)}`);
    expect(fromPipe.code).toBe(0);
    // (stdin redirected from a file is a file: its size is known.)
    expect(fromPipe.screen).toMatch(/append: reading stdin \[=+\] 100% \| ([\d.]+ MiB)\/\1, 100,000 rows/);
    const catPipe = await new Promise<{ code: number | null; screen: string }>((resolve, reject) => {
      const command = `stty cols 200 rows 50; cat ${quote(input)} | exec ${[process.execPath, BIN, 'append', path.join(dir, 't'), '--input', '-'].map(quote).join(' ')}`;
      const p = spawn('script', ['-qec', command, '/dev/null'], { cwd: dir, env: { ...process.env, TERM: 'xterm-256color' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let screen = '';
      p.stdout.on('data', (d) => (screen += d));
      p.on('error', reject);
      p.on('close', (code) => resolve({ code, screen }));
      });
    expect(catPipe.code).toBe(0);
    expect(catPipe.screen).toMatch(/append: reading stdin: [\d.]+ MiB, 100,000 rows/);
    expect(catPipe.screen).not.toMatch(/append: reading stdin \[/);
    expect(afterBar(catPipe.screen)).toMatch(/^appended 100000 rows in 1 file\(s\) as version 2 of \S+\r\n$/);

    const piped = await cli(['append', path.join(dir, 'p'), '--input', input, '--schema', schema]);
    expect(piped).toMatchObject({ code: 0, stderr: '' });
    expect(piped.stdout).toMatch(/^appended 100000 rows in 1 file\(s\) as version 0 of \S+\n$/);
    expectPlain(piped.stdout, piped.stderr);
  }, SLOW);

  describe('run with the CoinGecko backfill (real HTTP to the simulator)', () => {
    let sim: Simulator;
    beforeAll(async () => {
      sim = await startSimulator({ seed: 11 });
    });
    afterAll(async () => {
      await sim.close();
    });
    const backfill = (dir: string) => ['--format', 'coingecko', '--option', `baseUrl=${sim.baseUrl}`, '--option', 'mode=backfill', '--option', 'coins=bitcoin', '--option', 'from=2026-11-01T00:00:00Z', '--option', 'to=2026-11-06T00:00:00Z', '--option', 'chunkDays=1', '--option', 'callsPerMinute=6000', '--checkpoint', path.join(dir, 'cp'), '--trigger', 'availableNow', '--query-name', 'history', path.join(dir, 't')];

    it('draws chunks done of the total between the batch lines; piped --json: NDJSON only, with the progress in the metrics', async () => {
      const dir = tmp();
      const shown = await onTerminal(['run', ...backfill(dir)], dir);
      expect(shown.code).toBe(0);
      expect(shown.screen).toMatch(/run history \[=+-*\] 20% \| 1\/5 chunks/);
      expect(shown.screen).toMatch(/run history \[=+\] 100% \| 5\/5 chunks/);
      // Every batch line is on the screen whole, on a line of its own: the first before any bar,
      // the others where the bar's line was cleared for them.
      expect(shown.screen).toMatch(/(^|\n)batch 0: \d+ rows in \d+ ms -> version 0; offset [^\u001b\r\n]+\r\n/);
      for (let b = 1; b < 5; b++) expect(shown.screen).toMatch(new RegExp(`\\r\\u001b\\[Kbatch ${b}: \\d+ rows in \\d+ ms -> version ${b}; offset [^\\u001b\\r\\n]+\\r\\n`));
      expect(afterBar(shown.screen)).toMatch(/^tributary: query \S+ stopped\r\n$/);

      const other = tmp();
      const piped = await cli(['run', ...backfill(other), '--json']);
      expect(piped).toMatchObject({ code: 0, stderr: '' });
      expectPlain(piped.stdout, piped.stderr);
      const progress = piped.stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(progress.map((p) => [p.batchId, p.sources[0].metrics.progressDone, p.sources[0].metrics.progressTotal, p.sources[0].metrics.progressUnit])).toEqual(
        [1, 2, 3, 4, 5].map((n) => [n - 1, String(n), '5', 'chunks']),
      );
    }, SLOW);
  });
});
