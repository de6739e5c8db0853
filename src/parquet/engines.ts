import * as arrow from 'apache-arrow';
import { TributaryError } from '../errors.js';
import { loadOptional } from '../optional-deps.js';
import type { StructType } from '../schema/schema.js';
import { BufferingFileWriter, checkEncodeOptions, ENGINE_NAMES, type EncodeOptions, type EngineName, type ParquetHandler, type ParquetFileWriter } from './handler.js';
import { ParquetWasmHandler } from './parquet-wasm.js';
import { readParquetToArrow } from './reader.js';

/**
 * Loads @dsnp/parquetjs only when asked for: it is large (it brings the AWS SDK along) and most
 * runs never need it, so it is an optional peer dependency: without it, `--engine parquetjs`
 * fails with one line saying what to install.
 */
class LazyParquetJsHandler implements ParquetHandler {
  readonly name = 'parquetjs' as const;
  private inner: Promise<ParquetHandler> | undefined;
  encode(table: arrow.Table, schema: StructType, opts: EncodeOptions): Promise<Uint8Array> {
    this.inner ??= loadOptional('@dsnp/parquetjs', 'the parquetjs engine', () => import('./parquetjs.js')).then((m) => new m.ParquetJsHandler());
    return this.inner.then((e) => e.encode(table, schema, opts));
  }
  open(schema: StructType, opts: EncodeOptions): ParquetFileWriter {
    checkEncodeOptions(opts);
    return new BufferingFileWriter((t) => this.encode(t, schema, opts));
  }
  read(bytes: Uint8Array, columns?: string[]): arrow.Table {
    return readParquetToArrow(bytes, columns);
  }
}

export function parquetHandler(name: EngineName | string): ParquetHandler {
  switch (name) {
    case 'parquet-wasm':
      return new ParquetWasmHandler();
    case 'parquetjs':
      return new LazyParquetJsHandler();
    default:
      throw new TributaryError('INVALID_ARGUMENT', `unknown Parquet engine "${name}" (engines: ${ENGINE_NAMES.join(', ')})`);
  }
}
