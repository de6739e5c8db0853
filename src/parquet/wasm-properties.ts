import * as arrow from 'apache-arrow';
import { pw } from './wasm.js';
import type { EncodeOptions } from './handler.js';

const CODECS: Record<EncodeOptions['compression'], pw.Compression> = {
  snappy: pw.Compression.SNAPPY,
  zstd: pw.Compression.ZSTD,
  uncompressed: pw.Compression.UNCOMPRESSED,
};

/** What a parquet-wasm writer is configured with; plain data, so it can cross to a worker. */
export interface WasmWriterConfig extends EncodeOptions {
  /** Top-level columns written without dictionary encoding. */
  plainColumns: string[];
}

export function writerProperties(c: WasmWriterConfig): pw.WriterProperties {
  let b = new pw.WriterPropertiesBuilder()
    .setCompression(CODECS[c.compression])
    .setMaxRowGroupSize(c.rowGroupRows)
    .setWriterVersion(pw.WriterVersion.V1)
    .setCreatedBy('tributary (parquet-wasm / arrow-rs)');
  if (c.keyValueMetadata) b = b.setKeyValueMetadata(new Map(Object.entries(c.keyValueMetadata)));
  for (const col of c.plainColumns) b = b.setColumnDictionaryEnabled(col, false);
  return b.build();
}

const SAMPLE = 1024;

/**
 * Columns not worth a dictionary: numeric and temporal columns whose first values are mostly
 * distinct (prices, timestamps, ids). arrow-rs would build the dictionary, find it too large and
 * fall back to plain pages, spending a quarter of the encode time for a larger file. Strings and
 * low-cardinality numbers (status codes, years) keep theirs.
 */
export function plainColumns(batch: arrow.RecordBatch): string[] {
  const out: string[] = [];
  const n = Math.min(SAMPLE, batch.numRows);
  if (n < 64) return out;
  batch.schema.fields.forEach((f, i) => {
    const t = f.type.typeId;
    const numeric = t === arrow.Type.Float || t === arrow.Type.Int || t === arrow.Type.Timestamp || t === arrow.Type.Date;
    if (!numeric) return;
    const d = batch.data.children[i];
    const values = d.values as ArrayLike<number | bigint>;
    const seen = new Set<number | bigint>();
    for (let k = 0; k < n; k++) seen.add(values[k]);
    if (seen.size > n / 2) out.push(f.name);
  });
  return out;
}
