import { TributaryError } from '../../errors.js';

/**
 * The partition filters OPTIMIZE accepts: `col = 'value'` (or a number, or NULL via IS NULL)
 * joined by AND, on partition columns only. Values compare with the partition value text.
 */
export interface PartitionPredicate {
  matches(values: Record<string, string | null>): boolean;
}

export function parsePartitionPredicate(where: string | undefined, partitionColumns: readonly string[]): PartitionPredicate {
  if (!where || !where.trim()) return { matches: () => true };
  const conds: { col: string; value: string | null }[] = [];
  for (const part of where.split(/\s+AND\s+/i)) {
    // A name in backquotes may hold any character (column mapping allows spaces, dots...); `` is one `.
    const m = /^\s*(?:`((?:[^`]|``)+)`|([A-Za-z_][A-Za-z0-9_]*))\s*(?:=\s*(?:'((?:[^']|'')*)'|(-?\d+(?:\.\d+)?)|(true|false))|(IS\s+NULL))\s*$/i.exec(part);
    if (!m) throw new TributaryError('INVALID_ARGUMENT', `cannot read the condition "${part.trim()}" (use col = 'value' [AND ...] on partition columns)`);
    const col = m[1] !== undefined ? m[1].replace(/``/g, '`') : m[2];
    if (!partitionColumns.includes(col)) {
      throw new TributaryError('INVALID_ARGUMENT', `"${col}" is not a partition column (partition columns: ${partitionColumns.join(', ') || 'none'}); --where filters partitions only`);
    }
    conds.push({ col, value: m[6] ? null : (m[3]?.replace(/''/g, "'") ?? m[4] ?? m[5]!.toLowerCase()) });
  }
  return { matches: (values) => conds.every((c) => (values[c.col] ?? null) === c.value) };
}
