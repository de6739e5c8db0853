import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';
import type { StructType } from '../delta/schema.js';
import type { EncodeOptions, ParquetEncoder } from './encoder.js';

const CODECS: Record<EncodeOptions['compression'], pw.Compression> = {
  snappy: pw.Compression.SNAPPY,
  zstd: pw.Compression.ZSTD,
  uncompressed: pw.Compression.UNCOMPRESSED,
};

/**
 * The arrow-rs Parquet writer (the one delta-rs uses) compiled to WASM. Arrow data crosses into
 * WASM memory as an IPC stream, which costs a copy but keeps the two Arrow implementations
 * decoupled.
 */
export class ParquetWasmEncoder implements ParquetEncoder {
  readonly name = 'parquet-wasm' as const;

  async encode(table: arrow.Table, _schema: StructType, opts: EncodeOptions): Promise<Uint8Array> {
    const ipc = arrow.tableToIPC(table, 'stream');
    const wasmTable = pw.Table.fromIPCStream(ipc);
    let builder = new pw.WriterPropertiesBuilder()
      .setCompression(CODECS[opts.compression])
      .setMaxRowGroupSize(opts.rowGroupRows)
      .setWriterVersion(pw.WriterVersion.V1)
      .setCreatedBy('tributary (parquet-wasm / arrow-rs)');
    if (opts.keyValueMetadata) builder = builder.setKeyValueMetadata(new Map(Object.entries(opts.keyValueMetadata)));
    const props = builder.build();
    // writeParquet consumes the table and the properties.
    return pw.writeParquet(wasmTable, props);
  }
}
