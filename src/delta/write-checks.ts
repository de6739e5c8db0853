import type * as arrow from 'apache-arrow';
import type { StructType } from '../schema/schema.js';
import type { Protocol } from './actions.js';
import { checkConstraints, type TableConstraint, tableConstraints } from './constraints.js';
import { type CharVarcharColumn, charVarcharColumns, checkCharVarchar } from './char-varchar.js';
import { fillGeneratedColumns, type GeneratedColumn, generatedColumns, inputSchema, validateGeneratedColumns } from './generated-columns.js';

/**
 * What every batch written to a table must pass before any of it reaches a data file, in
 * delta-spark's order: generated columns are computed (or their given values checked), then
 * CHECK constraints and invariants (CHAR/VARCHAR lengths among them) are checked on the
 * complete rows. Built once per write.
 */
export class WriteChecks {
  private constructor(
    readonly schema: StructType,
    /** The schema input is read with (generated columns may be missing from it). */
    readonly inputSchema: StructType,
    private readonly generated: readonly GeneratedColumn[],
    private readonly constraints: readonly TableConstraint[],
    private readonly charVarchar: readonly CharVarcharColumn[],
  ) {}

  /**
   * For a table with this protocol, configuration and schema. A table nobody could write (an
   * expression Tributary does not evaluate) was refused by checkWritable or at creation already.
   */
  static for(protocol: Protocol, configuration: Readonly<Record<string, string>>, schema: StructType, tablePath: string): WriteChecks {
    validateGeneratedColumns(protocol, schema);
    const generated = generatedColumns(protocol, schema);
    return new WriteChecks(schema, inputSchema(schema, generated), generated, tableConstraints(configuration, schema, tablePath), charVarcharColumns(schema, tablePath));
  }

  get empty(): boolean {
    return this.generated.length === 0 && this.constraints.length === 0 && this.charVarchar.length === 0;
  }

  /** A batch read with `inputSchema`, complete and checked, as a batch of the table's schema. */
  apply(batch: arrow.RecordBatch, firstRowIndex: number): arrow.RecordBatch {
    if (this.empty) return batch;
    const full = fillGeneratedColumns(this.generated, this.schema, batch, firstRowIndex);
    checkConstraints(this.constraints, this.schema, full, firstRowIndex);
    // Spark's CHAR/VARCHAR lengths: an invariant it checks on every write, after the others.
    checkCharVarchar(this.charVarchar, full, firstRowIndex);
    return full;
  }
}
