import * as arrow from 'apache-arrow';

const SAMPLE = 1024;

/**
 * Columns not worth a dictionary: numeric, decimal and temporal columns whose first values are
 * mostly distinct (prices, amounts, timestamps, ids). arrow-rs would build the dictionary, find
 * it too large and fall back to plain pages, spending a quarter of the encode time for a larger
 * file (three distinct DECIMAL(18,4) columns of the wide bench file: 0.05 s of CPU and 2% of the
 * file). Strings and low-cardinality numbers (status codes, years) keep theirs: distinct strings
 * written plain made the wide file larger and no faster.
 */
export function plainColumns(batch: arrow.RecordBatch): string[] {
  const out: string[] = [];
  const n = Math.min(SAMPLE, batch.numRows);
  if (n < 64) return out;
  batch.schema.fields.forEach((f, i) => {
    const t = f.type.typeId;
    const numeric = t === arrow.Type.Float || t === arrow.Type.Int || t === arrow.Type.Timestamp || t === arrow.Type.Date;
    if (!numeric && t !== arrow.Type.Decimal) return;
    const d = batch.data.children[i];
    const values = d.values as ArrayLike<number | bigint>;
    const seen = new Set<number | bigint | string>();
    if (numeric) for (let k = 0; k < n; k++) seen.add(values[k]);
    else {
      // A decimal is several 32-bit words (four for DECIMAL(p <= 38)): its words are its key.
      const w = (f.type as arrow.Decimal).bitWidth / 32;
      for (let k = 0; k < n; k++) {
        let key = '';
        for (let j = 0; j < w; j++) key += `${values[k * w + j]},`;
        seen.add(key);
      }
    }
    if (seen.size > n / 2) out.push(f.name);
  });
  return out;
}
