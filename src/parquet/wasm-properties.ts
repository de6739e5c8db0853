import { pw, type PW } from './wasm.js';
import type { EncodeOptions } from './handler.js';

/** Looked up when a writer is configured: touching `pw` instantiates parquet-wasm (wasm.ts). */
const codec = (c: EncodeOptions['compression']): PW.Compression => ({ snappy: pw.Compression.SNAPPY, zstd: pw.Compression.ZSTD, uncompressed: pw.Compression.UNCOMPRESSED })[c];

/**
 * What a parquet-wasm writer is configured with; plain data, so it can cross to a worker. This
 * file is all the encoder thread loads besides parquet-wasm: without apache-arrow (plainColumns
 * is in plain-columns.ts), whose hundreds of modules took a large part of the thread's start.
 */
export interface WasmWriterConfig extends EncodeOptions {
  /** Top-level columns written without dictionary encoding. */
  plainColumns: string[];
}

export function writerProperties(c: WasmWriterConfig): PW.WriterProperties {
  let b = new pw.WriterPropertiesBuilder()
    .setCompression(codec(c.compression))
    .setMaxRowGroupSize(c.rowGroupRows)
    .setWriterVersion(pw.WriterVersion.V1)
    .setCreatedBy('tributary (parquet-wasm / arrow-rs)');
  if (c.chunkStatisticsOnly) b = b.setStatisticsEnabled(pw.EnabledStatistics.Chunk);
  if (c.keyValueMetadata) b = b.setKeyValueMetadata(new Map(Object.entries(c.keyValueMetadata)));
  for (const col of c.plainColumns) b = b.setColumnDictionaryEnabled(col, false);
  return b.build();
}
