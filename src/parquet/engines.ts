import * as arrow from 'apache-arrow';
import { TributaryError } from '../errors.js';
import type { StructType } from '../schema/schema.js';
import { BufferingFileWriter, checkEncodeOptions, ENGINE_NAMES, type EncodeOptions, type EngineName, type ParquetHandler, type ParquetFileWriter } from './handler.js';
import { ParquetWasmHandler } from './parquet-wasm.js';
import { readParquetToArrow } from './reader.js';

/** Loads @dsnp/parquetjs only when asked for: it is large and most runs never need it. */
class LazyParquetJsHandler implements ParquetHandler {
  readonly name = 'parquetjs' as const;
  private inner: Promise<ParquetHandler> | undefined;
  encode(table: arrow.Table, schema: StructType, opts: EncodeOptions): Promise<Uint8Array> {
    this.inner ??= import('./parquetjs.js').then((m) => new m.ParquetJsHandler());
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
