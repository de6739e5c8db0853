import { stringify } from 'lossless-json';
import { arrowToRows } from '../../arrow/to-rows.js';
import { ownField, setField } from '../../arrow/own-fields.js';
import { bytesToBase64, microsToIso } from '../../arrow/values.js';
import { variantToJs } from '../../arrow/variant/decode.js';
import { JsonNumber } from '../../json/json-number.js';
import type { DataType } from '../../schema/schema.js';
import { DeltaTable } from '../../delta/table.js';
import { keyValues } from '../args.js';
import type { CliStdout } from '../output.js';

/** Prints the table (or a version of it) as NDJSON, in the same forms `append` accepts. */
export async function readCommand(tablePath: string, args: { version?: number; limit?: number; storageOption?: string[] }, out: CliStdout): Promise<void> {
  // Opened at the version asked for: its rows are shown with that version's schema (columns
  // added, renamed or dropped since do not apply to it).
  const table = await DeltaTable.open(tablePath, args.version, { storageOptions: keyValues('--storage-option', args.storageOption) });
  const data = await table.read();
  const schema = table.snapshot.schema;
  const limit = args.limit ?? Infinity;
  let n = 0;
  const lines: string[] = [];
  for (const row of arrowToRows(data)) {
    if (n++ >= limit) break;
    const o: Record<string, unknown> = {};
    for (const f of schema.fields) setField(o, f.name, display(ownField(row, f.name), f.type));
    lines.push(stringify(o, undefined, undefined, EXACT_NUMBERS) ?? '');
    // A reader that has gone (`| head -1`) wants no more rows: stop converting them.
    if (lines.length >= 1000 && !out.write(lines.splice(0).join('\n') + '\n')) return;
  }
  if (lines.length) out.write(lines.join('\n') + '\n');
}

/** Variant numbers are JsonNumbers: printed with their exact digits (decimals keep their scale). */
const EXACT_NUMBERS = [{ test: (x: unknown) => x instanceof JsonNumber, stringify: (x: unknown) => (x as JsonNumber).text }];

const NEGATIVE_ZERO = new JsonNumber('-0.0');

function display(v: unknown, t: DataType): unknown {
  if (v === null || v === undefined) return null;
  switch (t.kind) {
    case 'primitive':
      if (t.name === 'timestamp') return microsToIso(v as bigint, true);
      if (t.name === 'timestamp_ntz') return microsToIso(v as bigint, false);
      if (t.name === 'binary') return bytesToBase64(v as Uint8Array);
      // JSON.stringify prints -0 as 0: the sign would be lost on the way back in (an append of this output).
      if (t.name === 'float' || t.name === 'double') return Object.is(v, -0) ? NEGATIVE_ZERO : Number.isFinite(v as number) ? v : String(v);
      return v;
    case 'decimal':
      return v;
    case 'variant': {
      // The variant's JSON (a null inside it prints as null too, like SQL NULL).
      const e = v as { value: Uint8Array; metadata: Uint8Array };
      return variantToJs(e.metadata, e.value);
    }
    case 'array':
      return (v as unknown[]).map((x) => display(x, t.elementType));
    case 'map':
      return Object.fromEntries((v as [unknown, unknown][]).map(([k, x]) => [String(display(k, t.keyType)), display(x, t.valueType)]));
    case 'struct':
      return Object.fromEntries(t.fields.map((f) => [f.name, display((v as Record<string, unknown>)[f.name], f.type)]));
  }
}
