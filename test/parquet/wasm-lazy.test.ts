import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.js';

/**
 * parquet-wasm is compiled on first use (src/parquet/wasm.ts), not when imported: a large append
 * encodes on the encoder thread only, and the main thread's compile held up its first chunk. Run
 * in a fresh process (the built dist/, as the CLI runs it), where nothing has touched it yet.
 */
const dist = (p: string) => JSON.stringify(new URL(`../../dist/${p}`, import.meta.url).href);

const tmp = tempDir('tributary-wasm-lazy-');

/** The script as a module file of its own (`node -e` would pass its flags on to the encoder thread, which then fails to start). */
function run(script: string): unknown {
  const file = path.join(tmp(), 'script.mjs');
  writeFileSync(file, script);
  return JSON.parse(execFileSync(process.execPath, [file], { encoding: 'utf8' }));
}

describe('parquet-wasm on first use', () => {
  it('is not compiled by importing the handler; its first use compiles it', () => {
    const r = run(`
      const w = await import(${dist('parquet/wasm.js')});
      await import(${dist('parquet/parquet-wasm.js')});
      const before = w.compiledWasmModule() !== undefined;
      const snappy = w.pw.Compression.SNAPPY;
      console.log(JSON.stringify({ before, after: w.compiledWasmModule() !== undefined, snappy: typeof snappy }));
    `);
    expect(r).toEqual({ before: false, after: true, snappy: 'number' });
  });

  it('a large file encodes on the encoder thread, which compiles its own when this thread has none', () => {
    const r = run(`
      const w = await import(${dist('parquet/wasm.js')});
      const { ParquetWasmHandler } = await import(${dist('parquet/parquet-wasm.js')});
      const { parseDdl } = await import(${dist('schema/ddl.js')});
      const { rowsToRecordBatch } = await import(${dist('arrow/record-batch.js')});
      const schema = parseDdl('id BIGINT, s STRING');
      const handler = new ParquetWasmHandler({ thread: 'own' });
      const writer = handler.open(schema, { compression: 'snappy', rowGroupRows: 1000 }, 1_000_000);
      await writer.write(rowsToRecordBatch(Array.from({ length: 3000 }, (_, i) => ({ id: i, s: 'r' + i })), schema));
      const bytes = await writer.finish();
      await handler.close();
      const head = Buffer.from(bytes.subarray(0, 4)).toString('latin1');
      const here = w.compiledWasmModule() !== undefined;
      const rows = handler.read(bytes).numRows;
      console.log(JSON.stringify({ onThread: handler.filesOnThread, head, compiledHereBeforeReading: here, rows }));
    `);
    expect(r).toEqual({ onThread: 1, head: 'PAR1', compiledHereBeforeReading: false, rows: 3000 });
  });
});
