import type * as arrow from 'apache-arrow';
import type { EncodeOptions, ParquetFileWriter, ParquetHandler } from './handler.js';
import type { StructType } from '../schema/schema.js';
import type { ColumnExtremes } from '../arrow/extremes.js';

/**
 * A Parquet handler that reports the rows handed to `inner` as they go, for a progress display of
 * a write whose code knows nothing of progress: DeltaTable.append takes any handler for its data
 * files, so the CLI wraps the one it would have used. Rows are counted once the inner writer took
 * them; reading and compaction are the inner handler's.
 */
export function countingHandler(inner: ParquetHandler, onRows: (rows: number) => void): ParquetHandler {
  return {
    name: inner.name,
    compactor: inner.compactor,
    read: (bytes, columns) => inner.read(bytes, columns),
    // Bounded files are the table's own (checkpoints), not the rows being written: not counted.
    openBounded: inner.openBounded?.bind(inner),
    readRowGroups: inner.readRowGroups?.bind(inner),
    prestart: inner.prestart?.bind(inner),
    recycledBuffers: inner.recycledBuffers?.bind(inner),
    async encode(table: arrow.Table, schema: StructType, opts: EncodeOptions): Promise<Uint8Array> {
      const bytes = await inner.encode(table, schema, opts);
      onRows(table.numRows);
      return bytes;
    },
    open(schema: StructType, opts: EncodeOptions, rowsHint: number, extremes?: ColumnExtremes): ParquetFileWriter {
      const writer = inner.open(schema, opts, rowsHint, extremes);
      return {
        addsExtremes: writer.addsExtremes,
        async write(batch: arrow.RecordBatch): Promise<void> {
          await writer.write(batch);
          onRows(batch.numRows);
        },
        finish: () => writer.finish(),
        abort: () => writer.abort(),
        ...(writer.parts ? { parts: () => writer.parts!() } : {}),
      };
    },
  };
}
