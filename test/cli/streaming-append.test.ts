import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

/**
 * `tributary append --input -` streams: data files are stored while the input is still being
 * read (a command that collected its input first could not have stored any before stdin ends),
 * and a bad line after them still leaves the table exactly as it was. Waits are for events (a
 * file appearing, the process exiting), never for a length of time.
 */
const tmp = tempDir('tributary-cli-stream-');

const line = (i: number) => `{"id":${i},"coin":"c${i % 50}","price":${(i * 1.0001).toPrecision(17)}}\n`;
const lines = (from: number, to: number) => {
  let s = '';
  for (let i = from; i < to; i++) s += line(i);
  return s;
};

/** Every file below `dir` ending in .parquet (partition directories included). */
function parquetFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.parquet'));
}

describe('tributary append streams its input', () => {
  it('stores data files while stdin is open; a bad line at the end removes them and commits nothing', async () => {
    const dir = tmp();
    const table = path.join(dir, 't');
    const p = spawn(process.execPath, [BIN, 'append', table, '--input', '-', '--schema', 'id BIGINT NOT NULL, coin STRING, price DOUBLE', '--target-file-size', '1MB'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => p.on('close', resolve));
    const N = 300_000;
    await new Promise<void>((resolve, reject) => p.stdin.write(lines(0, N), (e) => (e ? reject(e) : resolve())));
    // stdin stays open: wait until the command has stored a data file (or has exited, which fails below).
    let running = true;
    void exited.then(() => (running = false));
    while (running && parquetFiles(table).length === 0) await new Promise((r) => setTimeout(r, 50));
    const storedWhileReading = parquetFiles(table).length;
    expect(running, `the command ended early: ${stderr}${stdout}`).toBe(true);
    expect(storedWhileReading).toBeGreaterThan(0);
    p.stdin.end('{"id":"late","coin":"c","price":1}\n');
    expect(await exited).toBe(1);
    expect(stderr).toBe(`tributary: error [ROW_INVALID]: row ${N}, column "id": value "late" is not an integer (column type long) [stdin, line ${N + 1}]\n`);
    expect(parquetFiles(table)).toEqual([]);
    expect(existsSync(path.join(table, '_delta_log')) ? readdirSync(path.join(table, '_delta_log')).filter((f) => f.endsWith('.json')) : []).toEqual([]);
  });
});
