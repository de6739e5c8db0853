import type * as arrow from 'apache-arrow';
import { TributaryError } from '../errors.js';
import { EvaluationError, ExpressionError } from '../expr/errors.js';
import { compileExpression, describeRow, type SqlExpression } from '../expr/evaluate.js';
import { isPrimitive, sqlTypeName } from '../expr/types.js';
import type { StructField, StructType } from '../schema/schema.js';

/**
 * CHECK constraints (PROTOCOL.md "CHECK Constraints": `delta.constraints.<name>` in the table's
 * configuration) and SQL invariants (PROTOCOL.md "Column Invariants": `delta.invariants` in a
 * field's metadata, `{"expression": {"expression": "<sql>"}}`), checked on every batch before it
 * is written. A row passes only when every expression is TRUE: Delta refuses FALSE and NULL alike
 * (delta-spark's CheckDeltaInvariant), and a row whose expression Spark 4 cannot evaluate
 * (overflow, division by zero, malformed text in a CAST) is refused too.
 */
export interface TableConstraint {
  /** `CHECK constraint <name>` or `invariant on column <path>`, for messages. */
  readonly label: string;
  readonly expression: SqlExpression;
}

export const CONSTRAINT_PREFIX = 'delta.constraints.';

interface Declared {
  label: string;
  text: string;
}

/** The constraints a table declares, in the order Spark checks them (CHECK, then invariants). */
function declared(configuration: Readonly<Record<string, string>>, schema: StructType): Declared[] {
  const out: Declared[] = [];
  for (const [key, text] of Object.entries(configuration)) {
    if (key.toLowerCase().startsWith(CONSTRAINT_PREFIX)) out.push({ label: `CHECK constraint ${key.slice(CONSTRAINT_PREFIX.length)}`, text });
  }
  // Invariants of struct fields at any depth, not inside arrays or maps (Invariants.getFromSchema).
  const walk = (fields: readonly StructField[], prefix: string) => {
    for (const f of fields) {
      const path = prefix + f.name;
      const raw = f.metadata['delta.invariants'];
      if (raw !== undefined) out.push({ label: `invariant on column ${path}`, text: invariantText(raw, path) });
      if (f.type.kind === 'struct') walk(f.type.fields, `${path}.`);
    }
  };
  walk(schema.fields, '');
  return out;
}

/** The SQL of a persisted invariant: `{"expression": {"expression": "<sql>"}}`, as JSON text. */
function invariantText(raw: unknown, column: string): string {
  let rule: unknown = raw;
  if (typeof raw === 'string') {
    try {
      rule = JSON.parse(raw);
    } catch {
      rule = undefined;
    }
  }
  const text = (rule as { expression?: { expression?: unknown } } | undefined)?.expression?.expression;
  if (typeof text !== 'string') {
    throw new TributaryError('UNSUPPORTED_FEATURE', `column ${column} has an invariant Tributary does not recognise: ${JSON.stringify(raw)} (expected {"expression": {"expression": "<sql>"}})`);
  }
  return text;
}

/** Why a constraint expression cannot be used, for the refusal that names it. */
export function expressionProblem(e: ExpressionError): string {
  switch (e.kind) {
    case 'unsupported':
      return `uses ${e.reason}, which Tributary does not evaluate`;
    case 'syntax':
      return `does not parse: ${e.reason}`;
    default:
      return `cannot be resolved: ${e.reason}`;
  }
}

/**
 * Every constraint of a table, compiled; a table with one Tributary cannot evaluate exactly as
 * Spark does is refused (UNSUPPORTED_FEATURE), naming the constraint, its text and the part.
 */
export function tableConstraints(configuration: Readonly<Record<string, string>>, schema: StructType, tablePath: string): TableConstraint[] {
  return declared(configuration, schema).map((d) => {
    let expression: SqlExpression;
    try {
      expression = compileExpression(d.text, schema);
    } catch (e) {
      if (e instanceof ExpressionError) {
        throw new TributaryError('UNSUPPORTED_FEATURE', `cannot write to ${tablePath}: its ${d.label} (${d.text}) ${expressionProblem(e)}`, { constraint: d.label, expression: d.text, part: e.part });
      }
      throw e;
    }
    if (!isPrimitive(expression.type, 'boolean') && expression.type.kind !== 'null') {
      throw new TributaryError('UNSUPPORTED_FEATURE', `cannot write to ${tablePath}: its ${d.label} (${d.text}) is ${sqlTypeName(expression.type)}, not BOOLEAN (Spark refuses such a table's writes too)`, { constraint: d.label });
    }
    return { label: d.label, expression };
  });
}

/** Problems with a table's constraints, as phrases for checkWritable's list (empty when fine). */
export function constraintProblems(configuration: Readonly<Record<string, string>>, schema: StructType, tablePath: string): string[] {
  try {
    tableConstraints(configuration, schema, tablePath);
    return [];
  } catch (e) {
    if (e instanceof TributaryError && e.code === 'UNSUPPORTED_FEATURE') return [`checkConstraints (${e.message.replace(`cannot write to ${tablePath}: its `, '')})`];
    throw e;
  }
}

/**
 * Checks a batch of the table's schema against every constraint; the first row (in input order)
 * that is not TRUE for one of them is refused with CONSTRAINT_VIOLATION, naming the constraint,
 * the row and the values of the columns it reads.
 */
export function checkConstraints(constraints: readonly TableConstraint[], schema: StructType, batch: arrow.RecordBatch, firstRowIndex: number): void {
  if (constraints.length === 0 || batch.numRows === 0) return;
  const fns = constraints.map((c) => c.expression.bind(batch));
  const n = batch.numRows;
  if (fns.length === 1) {
    const f = fns[0];
    for (let r = 0; r < n; r++) {
      let v;
      try {
        v = f(r);
      } catch (e) {
        throw violation(constraints[0], schema, batch, r, firstRowIndex, evaluationError(e));
      }
      if (v !== true) throw violation(constraints[0], schema, batch, r, firstRowIndex, v);
    }
    return;
  }
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < fns.length; c++) {
      let v;
      try {
        v = fns[c](r);
      } catch (e) {
        throw violation(constraints[c], schema, batch, r, firstRowIndex, evaluationError(e));
      }
      if (v !== true) throw violation(constraints[c], schema, batch, r, firstRowIndex, v);
    }
  }
}

/** Errors other than Spark's evaluation errors are bugs: they go on as they are. */
function evaluationError(e: unknown): EvaluationError {
  if (e instanceof EvaluationError) return e;
  throw e;
}

function violation(c: TableConstraint, schema: StructType, batch: arrow.RecordBatch, r: number, first: number, result: unknown): TributaryError {
  const row = first + r;
  const values = describeRow(c.expression, schema, batch, r);
  const what =
    result instanceof EvaluationError
      ? `cannot be evaluated: ${result.message} (Spark 4 fails the write with ${result.errorClass})`
      : result === null
        ? 'is NULL, which Delta counts as violated'
        : 'is violated';
  return new TributaryError('CONSTRAINT_VIOLATION', `row ${row}: ${c.label} (${c.expression.text}) ${what}${values ? ` by ${values}` : ''}; nothing was written`, {
    row,
    constraint: c.label,
    expression: c.expression.text,
    values,
  });
}
