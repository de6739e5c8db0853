import * as arrow from 'apache-arrow';
import { TributaryError } from '../errors.js';
import { columnReader, ValueWriter } from '../expr/arrow-io.js';
import { EvaluationError, ExpressionError } from '../expr/errors.js';
import { compileExpression, describeRow, formatValue, type SqlExpression } from '../expr/evaluate.js';
import { sameType, sqlTypeName } from '../expr/types.js';
import { type StructField, type StructType, struct } from '../schema/schema.js';
import { toArrowSchema } from '../arrow/types.js';
import type { Protocol } from './actions.js';
import { expressionProblem } from './constraints.js';

/**
 * Generated columns (PROTOCOL.md "Generated Columns"): a top-level column whose field metadata
 * holds `delta.generationExpression`, in a table whose protocol supports generatedColumns (without
 * that feature Spark treats the column as a plain one, and so does Tributary). On write, a value
 * the input leaves out (or null) is computed; a value the input gives must equal the computed one
 * (Spark adds the constraint `column <=> expression`), else the batch is refused with
 * CONSTRAINT_VIOLATION, as Spark refuses it.
 */
export const GENERATION_EXPRESSION = 'delta.generationExpression';

export interface GeneratedColumn {
  readonly index: number;
  readonly field: StructField;
  readonly expression: SqlExpression;
}

/** Whether a protocol has the generatedColumns feature (writer 4-6, or listed at writer 7). */
export function supportsGeneratedColumns(p: Protocol): boolean {
  return p.minWriterVersion >= 7 ? (p.writerFeatures ?? []).includes('generatedColumns') : p.minWriterVersion >= 4;
}

export const hasGenerationExpression = (f: StructField): boolean => typeof f.metadata[GENERATION_EXPRESSION] === 'string';

/**
 * The generated columns of a table, compiled, or the first problem with one: an expression that
 * does not parse, uses what Tributary does not evaluate, reads a missing or generated column,
 * or whose type is not the column's (Spark refuses such a table at creation).
 */
export function generatedColumns(protocol: Protocol, schema: StructType): GeneratedColumn[] {
  if (!supportsGeneratedColumns(protocol)) return [];
  const generated = new Set(schema.fields.filter(hasGenerationExpression).map((f) => f.name.toLowerCase()));
  const out: GeneratedColumn[] = [];
  schema.fields.forEach((field, index) => {
    if (!hasGenerationExpression(field)) return;
    const text = field.metadata[GENERATION_EXPRESSION] as string;
    let expression: SqlExpression;
    try {
      expression = compileExpression(text, schema, {
        forbidden: (path) =>
          path[0].toLowerCase() === field.name.toLowerCase()
            ? `a generated column cannot read itself`
            : generated.has(path[0].toLowerCase())
              ? `a generated column cannot read another generated column (${path[0]})`
              : undefined,
      });
    } catch (e) {
      if (e instanceof ExpressionError) throw new GenerationProblem(field.name, text, expressionProblem(e), e.part);
      throw e;
    }
    if (!sameType(expression.type, field.type)) {
      throw new GenerationProblem(field.name, text, `is ${sqlTypeName(expression.type)}, but the column is ${sqlTypeName(field.type)} (Spark requires the same type)`);
    }
    out.push({ index, field, expression });
  });
  return out;
}

/** A generation expression Tributary cannot use; callers choose the code and the wording around it. */
export class GenerationProblem extends Error {
  constructor(
    readonly column: string,
    readonly text: string,
    readonly problem: string,
    readonly part?: string,
  ) {
    super(`generated column ${column} (GENERATED ALWAYS AS (${text})) ${problem}`);
  }
}

/** Problems with a table's generated columns, as phrases for checkWritable's list. */
export function generatedColumnProblems(protocol: Protocol, schema: StructType): string[] {
  try {
    generatedColumns(protocol, schema);
    return [];
  } catch (e) {
    if (e instanceof GenerationProblem) return [`generatedColumns (${e.message})`];
    throw e;
  }
}

/** A new table's generated columns are checked as Spark checks them in CREATE TABLE. */
export function validateGeneratedColumns(protocol: Protocol, schema: StructType): void {
  try {
    generatedColumns(protocol, schema);
  } catch (e) {
    if (e instanceof GenerationProblem) throw new TributaryError('SCHEMA_INVALID', e.message, { column: e.column, expression: e.text, part: e.part });
    throw e;
  }
}

/**
 * The schema input is read with: generated columns may be left out of it, so they are nullable
 * there until they are computed (their NOT NULL is checked on the computed values).
 */
export function inputSchema(schema: StructType, generated: readonly GeneratedColumn[]): StructType {
  if (generated.length === 0 || generated.every((g) => g.field.nullable)) return schema;
  const names = new Set(generated.map((g) => g.index));
  return struct(schema.fields.map((f, i) => (names.has(i) && !f.nullable ? { ...f, nullable: true } : f)));
}

/**
 * The schema to decode input with before the table's protocol is looked at (the CLI's NDJSON
 * decoder): every column with a generation expression nullable. Harmless when the column turns
 * out not to be generated: the append checks NOT NULL again on its own input schema.
 */
export function relaxGeneratedColumns(schema: StructType): StructType {
  if (!schema.fields.some((f) => hasGenerationExpression(f) && !f.nullable)) return schema;
  return struct(schema.fields.map((f) => (hasGenerationExpression(f) ? { ...f, nullable: true } : f)));
}

/**
 * A batch of the table's schema (read with inputSchema) with its generated columns filled in and
 * checked: nulls are computed, given values must equal the expression's (NULL-safe, as `<=>`).
 * Rows are numbered from `firstRowIndex` in messages.
 */
export function fillGeneratedColumns(generated: readonly GeneratedColumn[], schema: StructType, batch: arrow.RecordBatch, firstRowIndex: number): arrow.RecordBatch {
  if (generated.length === 0) return batch;
  const children = [...batch.data.children];
  const n = batch.numRows;
  for (const g of generated) {
    const given = columnReader(batch, [g.index], g.field.type);
    const compute = g.expression.bind(batch);
    const same = equality(g);
    const writer = new ValueWriter(g.field.type, g.field.name);
    writer.reserve(n);
    for (let r = 0; r < n; r++) {
      let v;
      try {
        v = compute(r);
      } catch (e) {
        if (!(e instanceof EvaluationError)) throw e;
        throw problem(g, schema, batch, r, firstRowIndex, `cannot be computed: ${e.message} (Spark 4 fails the write with ${e.errorClass})`);
      }
      const supplied = given(r);
      if (supplied !== null && !same(supplied, v)) {
        throw problem(g, schema, batch, r, firstRowIndex, `gives ${formatValue(v, g.field.type)}, but the row has ${formatValue(supplied, g.field.type)}; leave the column out (or null) to have it computed`);
      }
      if (v === null && !g.field.nullable) throw problem(g, schema, batch, r, firstRowIndex, 'gives NULL, but the column is NOT NULL');
      writer.append(supplied ?? v, firstRowIndex + r);
    }
    children[g.index] = writer.finish();
  }
  const target = toArrowSchema(schema);
  return new arrow.RecordBatch(target, arrow.makeData({ type: new arrow.Struct(target.fields), length: n, nullCount: 0, children }));
}

/** `column <=> expression` for non-null given values: doubles compare as Spark orders them (NaN = NaN, -0.0 = 0.0). */
function equality(g: GeneratedColumn): (a: unknown, b: unknown) => boolean {
  const t = g.field.type;
  if (t.kind === 'primitive' && (t.name === 'double' || t.name === 'float')) return (a, b) => b !== null && (a === b || (a !== a && b !== b));
  if (t.kind === 'primitive' && t.name === 'binary') return (a, b) => b instanceof Uint8Array && Buffer.compare(a as Uint8Array, b) === 0;
  return (a, b) => a === b;
}

function problem(g: GeneratedColumn, schema: StructType, batch: arrow.RecordBatch, r: number, first: number, what: string): TributaryError {
  const row = first + r;
  const values = describeRow(g.expression, schema, batch, r);
  return new TributaryError(
    'CONSTRAINT_VIOLATION',
    `row ${row}, column "${g.field.name}": its generation expression ${g.expression.text}${values ? ` (with ${values})` : ''} ${what}; nothing was written`,
    { row, column: g.field.name, expression: g.expression.text, values },
  );
}
