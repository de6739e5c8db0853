import * as arrow from 'apache-arrow';

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
