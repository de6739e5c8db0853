import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.js';

/**
 * The WebAssembly modules are compiled on first use, not when imported: a large append encodes on
 * the encoder thread only, and a compile on the main thread held up its first chunk. The writer
 * (src/parquet/arrow-rs.ts) writes every file; parquet-wasm (src/parquet/wasm.ts) only reads, and
 * writing loads it nowhere. Run in a fresh process (the built dist/, as the CLI runs it), where
 * nothing has touched either yet.
 */
const dist = (p: string) => JSON.stringify(new URL(`../../dist/${p}`, import.meta.url).href);

const tmp = tempDir('tributary-wasm-lazy-');

/** The script as a module file of its own (`node -e` would pass its flags on to the encoder thread, which then fails to start). */
function run(script: string): unknown {
  const file = path.join(tmp(), 'script.mjs');
  writeFileSync(file, script);
  return JSON.parse(execFileSync(process.execPath, [file], { encoding: 'utf8' }));
}

describe('the Parquet modules on first use', () => {
  it('importing the handler compiles neither; writing compiles the writer only, reading loads parquet-wasm', () => {
    const r = run(`
      const w = await import(${dist('parquet/wasm.js')});
      const a = await import(${dist('parquet/arrow-rs.js')});
      const { ParquetWasmHandler } = await import(${dist('parquet/parquet-wasm.js')});
      const { parseDdl } = await import(${dist('schema/ddl.js')});
      const { rowsToRecordBatch } = await import(${dist('arrow/record-batch.js')});
      const state = () => ({ writer: a.compiledArrowRsModule() !== undefined, reader: w.parquetWasmLoaded() });
      const imported = state();
      const schema = parseDdl('id BIGINT, s STRING');
      const handler = new ParquetWasmHandler({ thread: 'never' });
      const writer = handler.open(schema, { compression: 'snappy', rowGroupRows: 1000 }, 1);
      await writer.write(rowsToRecordBatch([{ id: 1, s: 'a' }], schema));
      const bytes = await writer.finish();
      const written = state();
      const rows = handler.read(bytes).numRows;
      console.log(JSON.stringify({ imported, written, read: state(), rows }));
    `);
    expect(r).toEqual({ imported: { writer: false, reader: false }, written: { writer: true, reader: false }, read: { writer: true, reader: true }, rows: 1 });
  });

  it('a large file encodes on the encoder thread, which compiles its own when this thread has none', () => {
    const r = run(`
      const a = await import(${dist('parquet/arrow-rs.js')});
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
      const here = a.compiledArrowRsModule() !== undefined;
      const rows = handler.read(bytes).numRows;
      console.log(JSON.stringify({ onThread: handler.filesOnThread, head, compiledHereBeforeReading: here, rows }));
    `);
    expect(r).toEqual({ onThread: 1, head: 'PAR1', compiledHereBeforeReading: false, rows: 3000 });
  });
});
