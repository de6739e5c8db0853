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
    const decimal = t === arrow.Type.Decimal;
    if (!numeric && !decimal) return;
    const values = batch.data.children[i].values as ArrayLike<number | bigint>;
    // A decimal is several 32-bit words (four for DECIMAL(p <= 38)): all of them are its key.
    const words = decimal ? (f.type as arrow.Decimal).bitWidth / 32 : 1;
    const seen = new Set<number | bigint | string>();
    for (let k = 0; k < n; k++) {
      if (words === 1) seen.add(values[k]);
      else {
        let key = '';
        for (let j = 0; j < words; j++) key += `${values[k * words + j]},`;
        seen.add(key);
      }
    }
    if (seen.size > n / 2) out.push(f.name);
  });
  return out;
}
