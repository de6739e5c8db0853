import type * as arrow from 'apache-arrow';
import type { EncodeOptions, ParquetEncoder, ParquetFileWriter } from './encoder.js';
import type { StructType } from '../schema/schema.js';

/**
 * An encoder that reports the rows handed to `inner` as they go, for a progress display of a
 * write whose code knows nothing of progress: DeltaTable.append takes any ParquetEncoder, so the
 * CLI wraps the one it would have used. The rows are counted once the inner writer took them.
 */
export function countingEncoder(inner: ParquetEncoder, onRows: (rows: number) => void): ParquetEncoder {
  return {
    name: inner.name,
    async encode(table: arrow.Table, schema: StructType, opts: EncodeOptions): Promise<Uint8Array> {
      const bytes = await inner.encode(table, schema, opts);
      onRows(table.numRows);
      return bytes;
    },
    open(schema: StructType, opts: EncodeOptions, rowsHint: number): ParquetFileWriter {
      const writer = inner.open(schema, opts, rowsHint);
      return {
        async write(batch: arrow.RecordBatch): Promise<void> {
          await writer.write(batch);
          onRows(batch.numRows);
        },
        finish: () => writer.finish(),
        abort: () => writer.abort(),
      };
    },
  };
}
