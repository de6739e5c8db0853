import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DeltaTable } from '../../src/delta/table.js';
import { BIN } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';
import { IDS, MICROS } from '../fixtures/jobs/arrow-batches.js';

/**
 * How bin/tributary.js starts (scripts/bundle-cli.mjs): every command but `run` from the bundle,
 * which loads apache-arrow as part of a few files instead of its ~150 module files; `run` from
 * dist/cli/, because the user's job must share the library's module instances; and never a
 * bundle older than what tsc built. Checked by the modules a real process loads, not by the clock.
 */
const tmp = tempDir('tributary-startup-');

/** Runs `node bin/tributary.js args` with a module hook that lists every ES module the process loads. */
function runListingModules(args: string[], dir: string): Promise<{ code: number | null; stderr: string; modules: string[] }> {
  const log = path.join(dir, `modules-${Math.random().toString(36).slice(2)}.txt`);
  const hook = path.join(dir, 'hook.mjs');
  const register = path.join(dir, 'register.mjs');
  writeFileSync(hook, `import { appendFileSync } from 'node:fs';\nexport async function load(url, ctx, next) { appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, ctx); }\n`);
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`);
  writeFileSync(log, '');
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', pathToFileURL(register).href, BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stderr, modules: readFileSync(log, 'utf8').split('\n').filter(Boolean) }));
  });
}

const fromArrowFiles = (modules: string[]) => modules.filter((u) => u.includes('/node_modules/apache-arrow/'));

describe('how the CLI starts', () => {
  it('append runs from the bundle: none of apache-arrow module files, none of dist/ outside the bundle', async () => {
    const dir = tmp();
    const input = path.join(dir, 'in.ndjson');
    writeFileSync(input, '{"coin":"btc","price":1.5}\n{"coin":"eth","price":2.25}\n');
    const r = await runListingModules(['append', path.join(dir, 't'), '--input', input, '--schema', 'coin STRING, price DOUBLE'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.modules.some((u) => u.includes('/dist/cli-bundle/bin.js'))).toBe(true);
    expect(fromArrowFiles(r.modules)).toEqual([]);
    // The encoder thread is not started for two rows; nothing of the unbundled CLI is loaded.
    expect(r.modules.filter((u) => u.includes('/dist/') && !u.includes('/dist/cli-bundle/'))).toEqual([]);
    const t = await DeltaTable.forPath(path.join(dir, 't'));
    expect(t.version).toBe(0);
  }, 60_000);

  it('run takes the unbundled dist/: a job that reads Arrow batches of its own apache-arrow lands them exactly', async () => {
    const dir = tmp();
    const table = path.join(dir, 't');
    const job = path.resolve('test/fixtures/jobs/arrow-batches.ts');
    const r = await runListingModules(['run', job, table, path.join(dir, 'cp')], dir);
    expect(r.stderr).not.toMatch(/error|warning/);
    expect(r.code).toBe(0);
    expect(r.modules.some((u) => u.includes('/dist/cli-bundle/'))).toBe(false);
    expect(r.modules.some((u) => u.endsWith('/dist/cli/bin.js'))).toBe(true);
    const rows = (await (await DeltaTable.forPath(table)).read()).toArray().map((x) => x.toJSON());
    expect(rows.map((x) => x.id)).toEqual(IDS);
    // Arrow JS reads microseconds back as fractional milliseconds.
    expect(rows.map((x) => x.at)).toEqual(MICROS.map((m) => Number(m) / 1000));
  }, 60_000);

  it('a bundle older than dist/cli/bin.js is not used, nor one that is missing', async () => {
    // bin/tributary.js in a tree of its own, with stand-ins for the two entry points.
    const root = tmp();
    mkdirSync(path.join(root, 'bin'));
    mkdirSync(path.join(root, 'dist/cli'), { recursive: true });
    copyFileSync(BIN, path.join(root, 'bin/tributary.js'));
    writeFileSync(path.join(root, 'dist/cli/bin.js'), "process.stdout.write('dist ' + process.argv[2]);\n");
    const bin = path.join(root, 'bin/tributary.js');
    const entry = (args: string[]) =>
      new Promise<string>((resolve, reject) => {
        const p = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        p.stdout.on('data', (d) => (out += d));
        p.on('error', reject);
        p.on('close', () => resolve(out));
      });
    expect(await entry(['append'])).toBe('dist append');
    mkdirSync(path.join(root, 'dist/cli-bundle'));
    writeFileSync(path.join(root, 'dist/cli-bundle/bin.js'), "process.stdout.write('bundle ' + process.argv[2]);\n");
    const at = (file: string, seconds: number) => utimesSync(path.join(root, file), seconds, seconds);
    at('dist/cli/bin.js', 1_000_000);
    at('dist/cli-bundle/bin.js', 1_000_000); // as npm pack leaves them: the same time
    expect(await entry(['append'])).toBe('bundle append');
    expect(await entry(['run'])).toBe('dist run');
    at('dist/cli/bin.js', 2_000_000); // tsc ran again, the bundler did not
    expect(await entry(['append'])).toBe('dist append');
  }, 60_000);
});
