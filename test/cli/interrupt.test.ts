import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

/**
 * SIGINT or SIGTERM during `tributary append`: the default would end the process at once, leaving
 * the data files written so far in the table's directories (uncommitted, so unseen by readers,
 * but there). The append stops at its next batch instead, removes its files and exits with one
 * `INTERRUPTED` line and the shell's code for the signal. The input is a pipe this test feeds, so
 * the signal is sent at a known point (a data file written, the input still open), not after a delay.
 */
const tmp = tempDir('tributary-interrupt-');

function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((p) => statSync(path.join(dir, p)).isFile())
    .sort();
}

const line = (i: number) => JSON.stringify({ id: i, name: `item-${i}`, price: i / 7 }) + '\n';

describe('tributary append, interrupted', () => {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    it(`${sig} while the input is read: its data files are removed, the table is as it was, one INTERRUPTED line, exit ${sig === 'SIGINT' ? 130 : 143}`, async () => {
      const table = path.join(tmp(), 't');
      const created = await cli(['append', table, '--input', '-', '--schema', 'id BIGINT, name STRING, price DOUBLE'], { input: line(-1) });
      expect(created.code, created.stderr).toBe(0);
      const before = tree(table);
      const p = spawn(process.execPath, [BIN, 'append', table, '--input', '-', '--target-file-size', '64KiB'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      p.stderr.on('data', (d) => (stderr += d));
      // Writes after the signal meet a closed pipe (EPIPE): expected, not a failure of the test.
      p.stdin.on('error', () => undefined);
      const exited = new Promise<number | null>((r) => p.on('close', (code) => r(code)));
      // Enough lines for a decoded chunk (65,536 rows) and so a data file; the pipe stays open.
      let fed = 0;
      const feed = () => {
        let block = '';
        for (let i = 0; i < 10_000; i++) block += line(fed++);
        p.stdin.write(block);
      };
      const written = () => tree(table).filter((f) => f.endsWith('.parquet') && !before.includes(f));
      for (let polls = 0; written().length === 0; polls++) {
        if (p.exitCode !== null) throw new Error(`append ended early: ${stderr}`);
        if (fed < 200_000) feed();
        await new Promise((r) => setTimeout(r, 50));
        if (polls > 2_000) throw new Error('no data file was written');
      }
      p.kill(sig);
      const code = await exited;
      const lines = stderr.split('\n').filter(Boolean);
      expect(lines, stderr).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^tributary: error \\[INTERRUPTED\\]: ${sig} while reading stdin: nothing was appended; .* is as it was$`));
      expect(code).toBe(sig === 'SIGINT' ? 130 : 143);
      expect(tree(table)).toEqual(before);
      const read = await cli(['read', table]);
      expect(read.stdout.trim().split('\n')).toHaveLength(1);
    }, 120_000);
  }

  /** A new table without --schema from stdin (read twice: copied to TMPDIR=spools), the pipe kept open once the copy has bytes in it. */
  async function copying(table: string, spools: string) {
    const p = spawn(process.execPath, [BIN, 'append', table, '--input', '-'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: spools } });
    const out = { stderr: '' };
    p.stderr.on('data', (d) => (out.stderr += d));
    p.stdin.on('error', () => undefined);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => p.on('close', (code, signal) => r({ code, signal })));
    let fed = 0;
    for (let polls = 0; tree(spools).every((f) => statSync(path.join(spools, f)).size === 0); polls++) {
      if (p.exitCode !== null) throw new Error(`append ended early: ${out.stderr}`);
      let block = '';
      for (let i = 0; i < 1_000; i++) block += line(fed++);
      p.stdin.write(block);
      await new Promise((r) => setTimeout(r, 50));
      if (polls > 2_000) throw new Error('stdin was not copied');
    }
    return { p, out, exited };
  }

  it('SIGINT while stdin is copied to a file (a new table without --schema reads it twice): the copy is removed, no table, one INTERRUPTED line, exit 130', async () => {
    const dir = tmp();
    const table = path.join(dir, 't');
    const spools = path.join(dir, 'spools');
    mkdirSync(spools);
    const { p, out, exited } = await copying(table, spools);
    p.kill('SIGINT');
    expect((await exited).code).toBe(130);
    expect(out.stderr).toMatch(/^tributary: error \[INTERRUPTED\]: SIGINT while reading stdin: nothing was appended; .* is as it was\n$/);
    expect(tree(spools)).toEqual([]);
    expect(existsSync(table)).toBe(false);
  }, 120_000);

  it('SIGKILL while stdin is copied leaves the copy; the next append that copies stdin removes it (not a running process\'s, nor another host\'s)', async () => {
    const dir = tmp();
    const spools = path.join(dir, 'spools');
    mkdirSync(spools);
    const { p, exited } = await copying(path.join(dir, 'killed'), spools);
    p.kill('SIGKILL');
    expect((await exited).signal).toBe('SIGKILL');
    const left = readdirSync(spools);
    expect(left).toHaveLength(1);
    const m = /^tributary-stdin-([0-9a-f]{8})-(\d+)-\w{6}$/.exec(left[0]);
    expect(m, left[0]).not.toBeNull();
    expect(Number(m![2])).toBe(p.pid);
    // Copies the next append must keep: one of a running process (this test's), one of another host.
    const tag = m![1];
    const otherHost = `${tag.slice(0, 7)}${tag[7] === '0' ? '1' : '0'}`;
    const kept = [`tributary-stdin-${tag}-${process.pid}-aaaaaa`, `tributary-stdin-${otherHost}-${p.pid}-bbbbbb`];
    for (const k of kept) mkdirSync(path.join(spools, k));
    const table = path.join(dir, 't');
    const r = await cli(['append', table, '--input', '-'], { input: line(1) + line(2), env: { TMPDIR: spools } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(spools).sort()).toEqual(kept.sort());
    expect((await cli(['read', table])).stdout.trim().split('\n')).toHaveLength(2);
  }, 120_000);
});
