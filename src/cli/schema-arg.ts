import { existsSync, readFileSync } from 'node:fs';
import { parseSchema } from '../schema/ddl.js';
import type { StructType } from '../schema/schema.js';

/** --schema takes a StructType JSON file, a DDL file, or the DDL/JSON text itself. */
export function schemaArg(value: string): StructType {
  const text = !value.trim().startsWith('{') && existsSync(value) ? readFileSync(value, 'utf8') : value;
  return parseSchema(text);
}
