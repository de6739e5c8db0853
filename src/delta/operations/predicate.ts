import { showValue, TributaryError } from '../../errors.js';
import { Reject } from '../../arrow/coerce.js';
import { typeToString, type DataType } from '../../schema/schema.js';
import { partitionValueText } from '../partitions.js';

/**
 * The partition filters OPTIMIZE accepts: `col = 'value'` (or a number, or NULL via IS NULL)
 * joined by AND, on partition columns only. Values compare as the column's type, as Spark
 * compares them (`id = 01` is the partition `id=1`, `price = 1.50` is `1.5`): the literal and
 * each partition value go through the same coercion to the canonical partition text. A literal
 * the column's type cannot hold is refused, as Spark's ANSI cast refuses it, rather than
 * matching nothing.
 */
export interface PartitionPredicate {
  matches(values: Record<string, string | null>): boolean;
}

export function parsePartitionPredicate(where: string | undefined, partitionColumns: readonly string[], typeOf: (col: string) => DataType): PartitionPredicate {
  if (!where || !where.trim()) return { matches: () => true };
  // IS NULL has no value to compare, so no canonical form.
  const conds: ({ col: string; value: null } | { col: string; value: string; canonical: (text: string) => string | null | Reject })[] = [];
  for (const part of where.split(/\s+AND\s+/i)) {
    // A name in backquotes may hold any character (column mapping allows spaces, dots...); `` is one `.
    const m = /^\s*(?:`((?:[^`]|``)+)`|([A-Za-z_][A-Za-z0-9_]*))\s*(?:=\s*(?:'((?:[^']|'')*)'|(-?\d+(?:\.\d+)?)|(true|false))|(IS\s+NULL))\s*$/i.exec(part);
    if (!m) throw new TributaryError('INVALID_ARGUMENT', `cannot read the condition "${part.trim()}" (use col = 'value' [AND ...] on partition columns)`);
    const col = m[1] !== undefined ? m[1].replace(/``/g, '`') : m[2];
    if (!partitionColumns.includes(col)) {
      throw new TributaryError('INVALID_ARGUMENT', `"${col}" is not a partition column (partition columns: ${partitionColumns.join(', ') || 'none'}); --where filters partitions only`);
    }
    const type = typeOf(col);
    if (m[6]) {
      conds.push({ col, value: null });
      continue;
    }
    const literal = m[3]?.replace(/''/g, "'") ?? m[4] ?? m[5]!.toLowerCase();
    const canonical = canonicalText(type);
    const value = canonical(type.kind === 'primitive' && type.name === 'boolean' ? literal.toLowerCase() : literal);
    if (value instanceof Reject) {
      throw new TributaryError('INVALID_ARGUMENT', `cannot compare partition column "${col}" (${typeToString(type)}) with ${showValue(literal)}: ${value.reason}`);
    }
    // An empty string is a null partition value (Spark writes it so); IS NULL asks for it.
    if (value === null) throw new TributaryError('INVALID_ARGUMENT', `"${col}" = ${showValue(literal)} matches no partition: a null partition value is written for it; use ${col} IS NULL`);
    conds.push({ col, value, canonical });
  }
  return {
    matches: (values) =>
      conds.every((c) => {
        // An empty partition value is a null one (PROTOCOL.md, Partition Value Serialization).
        const v = values[c.col] || null;
        if (v === null || c.value === null) return v === c.value;
        const canon = c.canonical(v);
        // A value that does not read as its type (another writer's form) compares as written.
        return (canon instanceof Reject ? v : canon) === c.value;
      }),
  };
}

/** The canonical partition text of a value given as text, per column type; memoized (one call per file). */
function canonicalText(t: DataType): (text: string) => string | null | Reject {
  const seen = new Map<string, string | null | Reject>();
  return (text) => {
    if (!seen.has(text)) seen.set(text, partitionValueText(t, text));
    return seen.get(text) as string | null | Reject;
  };
}
