import { TributaryError } from '../errors.js';
import type { StructField } from './schema.js';

/**
 * Identity columns in the schema (PROTOCOL.md "Identity Columns"): the field metadata keys Spark
 * writes for `GENERATED { ALWAYS | BY DEFAULT } AS IDENTITY`. What writers do with them is in
 * src/delta/identity-columns.ts.
 */
export const IDENTITY_START = 'delta.identity.start';
export const IDENTITY_STEP = 'delta.identity.step';
export const IDENTITY_ALLOW_EXPLICIT_INSERT = 'delta.identity.allowExplicitInsert';
export const IDENTITY_HIGH_WATER_MARK = 'delta.identity.highWaterMark';
/** commitInfo tag of a commit whose metadata change is the identity high-water mark (Spark's). */
export const IDENTITY_SCHEMA_UPDATE_TAG: Readonly<Record<string, string>> = { 'delta.identity.schemaUpdate': 'true' };

export const isIdentityField = (f: StructField): boolean => IDENTITY_START in f.metadata;

/**
 * The field metadata of a new identity column, keys in the order Spark writes them. `start` and
 * `step` default to 1 (Spark's defaults).
 */
export function identityMetadata(opts: { always: boolean; start?: number; step?: number }): Record<string, unknown> {
  const start = opts.start ?? 1;
  const step = opts.step ?? 1;
  for (const [k, v] of [['START WITH', start], ['INCREMENT BY', step]] as const) {
    if (!Number.isSafeInteger(v)) throw new TributaryError('SCHEMA_PARSE', `identity ${k} ${v}: Tributary takes whole numbers up to 2^53 - 1 in magnitude`);
  }
  if (step === 0) throw new TributaryError('SCHEMA_PARSE', 'identity INCREMENT BY cannot be 0');
  return { [IDENTITY_STEP]: step, [IDENTITY_ALLOW_EXPLICIT_INSERT]: !opts.always, [IDENTITY_START]: start };
}

