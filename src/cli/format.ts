import type { DataType, StructType } from '../schema/schema.js';

/** Spark-style DDL text for display ("coin STRING, price DOUBLE NOT NULL"). */
export function schemaToDdl(s: StructType): string {
  return s.fields.map((f) => `${quote(f.name)} ${typeDdl(f.type)}${f.nullable ? '' : ' NOT NULL'}`).join(', ');
}

function quote(n: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(n) ? n : '`' + n.replace(/`/g, '``') + '`';
}

function typeDdl(t: DataType): string {
  switch (t.kind) {
    case 'primitive':
      return { long: 'BIGINT', integer: 'INT', short: 'SMALLINT', byte: 'TINYINT' }[t.name as string] ?? t.name.toUpperCase();
    case 'variant':
      return 'VARIANT';
    case 'decimal':
      return `DECIMAL(${t.precision},${t.scale})`;
    case 'array':
      return `ARRAY<${typeDdl(t.elementType)}>`;
    case 'map':
      return `MAP<${typeDdl(t.keyType)}, ${typeDdl(t.valueType)}>`;
    case 'struct':
      return `STRUCT<${t.fields.map((f) => `${quote(f.name)}: ${typeDdl(f.type)}${f.nullable ? '' : ' NOT NULL'}`).join(', ')}>`;
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let x = n;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${x.toFixed(1)} ${units[i]}`;
}
