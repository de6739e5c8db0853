import { TributaryError } from '../errors.js';

/**
 * Why an expression cannot be used: it does not parse (`syntax`), it uses something Tributary
 * does not evaluate exactly as Spark does (`unsupported`, naming that part), its types do not fit
 * (`type`), or it names a column the table does not have (`column`). Callers say whose
 * expression it is (a CHECK constraint, a generated column) and pick the error code.
 */
export class ExpressionError extends TributaryError {
  constructor(
    readonly kind: 'syntax' | 'unsupported' | 'type' | 'column',
    readonly reason: string,
    readonly source: string,
    readonly position?: number,
    /** The unsupported function, operator or construct, by name. */
    readonly part?: string,
  ) {
    super('INVALID_ARGUMENT', reason, { part, position });
    this.name = 'ExpressionError';
  }
}

/**
 * A value Spark 4 (ANSI mode, its default) refuses to compute: an overflow, a division by zero,
 * text that is no number or date. Tributary refuses the row the same way, never producing the
 * null or wrapped value Spark 3.5 (without ANSI mode) would. `errorClass` is Spark's name for it.
 */
export class EvaluationError extends Error {
  constructor(
    readonly errorClass: string,
    message: string,
  ) {
    super(message);
    this.name = 'EvaluationError';
  }
}
