import type * as arrow from 'apache-arrow';
import { decimalToString, javaDoubleToString, javaFloatToString, microsToIso } from '../arrow/values.js';
import { showValue } from '../errors.js';
import type { DataType, StructType } from '../schema/schema.js';
import { columnReader, type RowFn, type Value } from './arrow-io.js';
import { columnsOf, type Expr } from './ast.js';
import { type CompileOptions, compileAst } from './compile.js';
import { dateToString } from './datetime.js';
import { EvaluationError, ExpressionError } from './errors.js';
import { toBigInt } from './numeric.js';
import { parseExpression } from './parser.js';
import type { SqlType } from './types.js';

/**
 * A Spark SQL expression compiled against a table schema: its type, the columns it reads, and a
 * per-row evaluator over Arrow batches of that schema (bind once per batch, call per row; no
 * object per row). Evaluation throws EvaluationError where Spark 4 raises an error.
 */
export interface SqlExpression {
  /** The text as the table stores it. */
  readonly text: string;
  readonly ast: Expr;
  readonly type: SqlType;
  /** The columns it reads, as the schema names them, with their types (for messages). */
  readonly columns: readonly { path: string[]; type: DataType }[];
  bind(batch: arrow.RecordBatch): RowFn;
}

export function compileExpression(text: string, schema: StructType, opts: CompileOptions = {}): SqlExpression {
  const ast = parseExpression(text);
  const n = compileAst(ast, schema, text, opts);
  return { text, ast, type: n.type, columns: resolveColumns(ast, schema), bind: (b) => n.bind(b) };
}

/** The columns an expression reads, resolved like the compiler does, once each. */
function resolveColumns(ast: Expr, schema: StructType): { path: string[]; type: DataType; indices: number[] }[] {
  const out: { path: string[]; type: DataType; indices: number[] }[] = [];
  const seen = new Set<string>();
  for (const p of columnsOf(ast)) {
    let t: DataType = schema;
    const path: string[] = [];
    const indices: number[] = [];
    for (const part of p) {
      if (t.kind !== 'struct') break;
      const i: number = t.fields.findIndex((f) => f.name.toLowerCase() === part.toLowerCase());
      if (i < 0) break;
      path.push(t.fields[i].name);
      indices.push(i);
      t = t.fields[i].type;
    }
    const key = JSON.stringify(path);
    if (path.length === p.length && !seen.has(key)) {
      seen.add(key);
      out.push({ path, type: t, indices });
    }
  }
  return out;
}

/** The values of the columns an expression reads, in one row, for a message: `a = 1, b.c = "x"`. */
export function describeRow(expr: SqlExpression, schema: StructType, batch: arrow.RecordBatch, row: number): string {
  return resolveColumns(expr.ast, schema)
    .map((c) => `${c.path.join('.')} = ${formatValue(columnReader(batch, c.indices, c.type)(row), c.type)}`)
    .join(', ');
}

/** A value for a message, in the text form Spark casts it to (dates, timestamps in UTC, decimals plainly). */
export function formatValue(v: Value, t: SqlType): string {
  if (v === null) return 'NULL';
  if (t.kind === 'decimal') return decimalToString(toBigInt(v as number | bigint), t.scale);
  if (t.kind !== 'primitive') return showValue(v);
  switch (t.name) {
    case 'date':
      return safe(() => dateToString(v as number), String(v));
    case 'timestamp':
      return microsToIso(toBigInt(v as number | bigint));
    case 'timestamp_ntz':
      return microsToIso(toBigInt(v as number | bigint), false);
    case 'double':
      return javaDoubleToString(v as number);
    case 'float':
      return javaFloatToString(v as number);
    case 'binary':
      return `X'${Buffer.from(v as Uint8Array).toString('hex').toUpperCase()}'`;
    case 'string':
      return showValue(v);
    default:
      return String(v);
  }
}

function safe(f: () => string, fallback: string): string {
  try {
    return f();
  } catch {
    return fallback;
  }
}

export { EvaluationError, ExpressionError, type RowFn, type Value };
