import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

/**
 * src/arrow/detach-early.ts: the first ArrayBuffer a thread detaches throws away every optimised
 * function that assumed none would be, so the modules that detach buffers detach an empty one
 * when they load, before anything is optimised. Both tests run in a fresh process (on the built
 * dist/, as the CLI runs), where nothing has been detached yet.
 */
const dist = (p: string) => JSON.stringify(new URL(`../../dist/${p}`, import.meta.url).href);

const tmp = tempDir('tributary-detach-');

describe('detaching a buffer early', () => {
  it('keeps typed-array code optimised through the first transfer once a module that transfers is loaded', () => {
    // V8's own test hooks: optimise a typed-array loop now, detach a buffer, ask whether it survived.
    const script = (load: boolean) => `
      ${load ? `await import(${dist('arrow/transfer.js')});` : ''}
      function sum(a) { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]; return s; }
      const a = new Uint8Array(64).fill(1);
      %PrepareFunctionForOptimization(sum);
      sum(a); sum(a);
      %OptimizeFunctionOnNextCall(sum);
      sum(a);
      const optimised = () => (%GetOptimizationStatus(sum) & 16) !== 0;
      const before = optimised();
      const ab = new ArrayBuffer(1024);
      structuredClone(ab, { transfer: [ab] });
      console.log(JSON.stringify({ before, after: optimised(), sum: sum(a) }));
    `;
    const run = (load: boolean) => {
      const file = path.join(tmp(), 'script.mjs');
      writeFileSync(file, script(load));
      return JSON.parse(execFileSync(process.execPath, ['--allow-natives-syntax', file], { encoding: 'utf8' }));
    };
    // Without the module, the transfer throws the function's optimised code away: what the module prevents.
    expect(run(false)).toEqual({ before: true, after: false, sum: 64 });
    expect(run(true)).toEqual({ before: true, after: true, sum: 64 });
  });

  it('a large append (its chunks transferred to the encoder thread) throws no decoder code away', () => {
    const dir = tmp();
    const input = path.join(dir, 'in.ndjson');
    // Over 4 MiB (the CLI's size for encoding on the encoder thread) of lines the decoder is optimised on.
    const lines: string[] = [];
    for (let i = 0; i < 60_000; i++) lines.push(JSON.stringify({ id: i, coin: `coin-${i % 50}`, price: 1000 + i / 7, ts: `2024-05-01T00:${String(i % 60).padStart(2, '0')}:01.123456Z` }));
    writeFileSync(input, `${lines.join('\n')}\n`);
    // Compiled synchronously, so the decoder is optimised before the first chunk goes to the encoder thread however busy the machine is.
    const out = execFileSync(process.execPath, ['--trace-deopt', '--no-concurrent-recompilation', BIN, 'append', path.join(dir, 't'), '--input', input, '--schema', 'id BIGINT, coin STRING, price DOUBLE, ts TIMESTAMP'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(out).toContain('appended 60000 rows');
    // V8 prints a line per function it throws away for a broken assumption ("code dependencies").
    const thrownAway = out.split('\n').filter((l) => l.includes('reason: code dependencies'));
    expect(thrownAway).toEqual([]);
  });
});
