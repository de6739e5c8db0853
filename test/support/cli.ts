import { spawn } from 'node:child_process';
import * as path from 'node:path';

export const BIN = path.resolve('bin/tributary.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `tributary` command in a child process. */
export function cli(args: string[], opts: { input?: string; cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    // A process that ends before reading all its input (a refusal, a crash) closes the pipe: not this helper's error.
    p.stdin.on('error', () => undefined);
    p.stdin.end(opts.input ?? '');
  });
}
