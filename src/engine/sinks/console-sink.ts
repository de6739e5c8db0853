import * as arrow from 'apache-arrow';
import { TributaryError } from '../../errors.js';
import { type Row, rowsToRecordBatch } from '../../arrow/record-batch.js';
import { arrowToRows } from '../../arrow/to-rows.js';
import { javaDoubleToString, javaFloatToString, microsToIso } from '../../arrow/values.js';
import { variantToJson } from '../../arrow/variant/decode.js';
import type { DataType, StructType } from '../../schema/schema.js';
import type { BatchData, Sink, SinkResult } from './sink.js';

export interface ConsoleSinkOptions {
  /** Rows printed per batch (Spark's `numRows`, default 20). */
  numRows?: number;
  /** Cut cells at 20 characters and right-align them (Spark's `truncate`, default true). */
  truncate?: boolean;
  /** Where the text goes; process.stdout by default. Called once per batch with the whole block. */
  write?: (text: string) => void;
}

const RULE = '-------------------------------------------';

/**
 * Spark's console sink (`format('console')`): prints every micro-batch as
 *
 *     -------------------------------------------
 *     Batch: 0
 *     -------------------------------------------
 *     +---+
 *     ...Dataset.show() table...
 *
 * Cells are rendered like Spark 4's show(): NULL for nulls, timestamps in UTC as
 * `yyyy-MM-dd HH:mm:ss[.fraction]`, decimals with their full scale, binary as `[01 AB]`, arrays
 * `[a, b]`, maps `{k -> v}`, structs `{a, b}`. For debugging: it writes nothing durable, so a
 * re-run batch is simply printed again.
 */
export class ConsoleSink implements Sink {
  readonly description: string;
  private readonly numRows: number;
  private readonly truncate: boolean;
  private readonly write: (text: string) => void;

  constructor(opts: ConsoleSinkOptions = {}) {
    const n = opts.numRows ?? 20;
    if (!Number.isInteger(n) || n < 0) throw new TributaryError('INVALID_ARGUMENT', `console sink: numRows must be a non-negative integer, got ${n}`);
    this.numRows = n;
    this.truncate = opts.truncate ?? true;
    this.write = opts.write ?? ((s) => void process.stdout.write(s));
    this.description = `ConsoleWriter[numRows=${this.numRows}, truncate=${this.truncate}]`;
  }

  async addBatch(batch: BatchData): Promise<SinkResult> {
    // One row more than shown tells show() whether to print the "only showing" footer.
    const rows = headRows(batch, this.numRows + 1);
    const text = `${RULE}\nBatch: ${batch.batchId}\n${RULE}\n` + showString(batch.schema, rows, this.numRows, this.truncate ? 20 : 0) + '\n';
    this.write(text);
    return { numOutputRows: batch.numRows };
  }
}

/** Builds a ConsoleSink from `.option(...)` strings (numRows, truncate; names case-insensitive). */
export function consoleSinkFromOptions(options: Record<string, string>, write?: (text: string) => void): ConsoleSink {
  const get = (k: string) => Object.entries(options).find(([key]) => key.toLowerCase() === k.toLowerCase())?.[1];
  const rawRows = get('numRows');
  let numRows: number | undefined;
  if (rawRows !== undefined) {
    numRows = Number(rawRows);
    if (rawRows.trim() === '' || !Number.isInteger(numRows) || numRows < 0) {
      throw new TributaryError('INVALID_ARGUMENT', `console sink: option numRows=${JSON.stringify(rawRows)} must be a non-negative integer`);
    }
  }
  const rawTruncate = get('truncate');
  let truncate: boolean | undefined;
  if (rawTruncate !== undefined) {
    const t = rawTruncate.trim().toLowerCase();
    if (t !== 'true' && t !== 'false') throw new TributaryError('INVALID_ARGUMENT', `console sink: option truncate=${JSON.stringify(rawTruncate)} must be true or false`);
    truncate = t === 'true';
  }
  return new ConsoleSink({ numRows, truncate, write });
}

/** The first `n` rows of a batch, in the arrowToRows value conventions. */
function headRows(batch: BatchData, n: number): Row[] {
  const data = batch.data;
  if (data instanceof arrow.Table) {
    // Whole record batches only (never slices), until there are enough rows.
    const out: Row[] = [];
    for (const b of data.batches) {
      if (out.length >= n) break;
      out.push(...arrowToRows(b));
    }
    return out.slice(0, n);
  }
  // Rows straight from a source: coerce them the way the Delta writer would, so every value
  // has its canonical form (BigInt micros for timestamps, exact decimal text...).
  return arrowToRows(rowsToRecordBatch(data.slice(0, n), batch.schema));
}

// ---------------------------------------------------------------------------------------------
// Dataset.showString

/**
 * Spark's `Dataset.showString(numRows, truncate)` for rows already in the arrowToRows value
 * conventions. `rows` may hold one row more than `numRows`: that row only triggers the
 * "only showing top N rows" footer. `truncate` > 0 cuts cells to that many characters and
 * right-aligns them; 0 leaves them whole and left-aligned.
 */
export function showString(schema: StructType, rows: readonly Row[], numRows: number, truncate: number): string {
  const header = schema.fields.map((f) => escapeMetaCharacters(f.name));
  const body = rows.slice(0, numRows).map((r) =>
    schema.fields.map((f) => {
      const str = escapeMetaCharacters(formatValue(r[f.name], f.type));
      if (truncate > 0 && str.length > truncate) {
        // No ellipsis for widths under 4 characters.
        return truncate < 4 ? str.substring(0, truncate) : str.substring(0, truncate - 3) + '...';
      }
      return str;
    }),
  );
  const hasMoreData = rows.length > numRows;
  const table = [header, ...body];
  const widths = header.map(() => 3);
  for (const row of table) row.forEach((cell, i) => (widths[i] = Math.max(widths[i], stringHalfWidth(cell))));
  const pad = (cell: string, i: number) => {
    const fill = ' '.repeat(Math.max(0, widths[i] - stringHalfWidth(cell)));
    return truncate > 0 ? fill + cell : cell + fill;
  };
  const sep = '+' + widths.map((w) => '-'.repeat(w)).join('+') + '+\n';
  const line = (row: string[]) => '|' + row.map(pad).join('|') + '|\n';
  let out = sep + line(header) + sep;
  for (const row of body) out += line(row);
  out += sep;
  if (hasMoreData) out += `only showing top ${numRows} ${numRows === 1 ? 'row' : 'rows'}\n`;
  return out;
}

// Characters a terminal shows two columns wide (Spark's Utils.fullWidthRegex).
const FULL_WIDTH = /[\u1100-\u115F\u2E80-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE10-\uFE19\uFE30-\uFE6F\uFF00-\uFF60\uFFE0-\uFFE6]/g;

function stringHalfWidth(s: string): number {
  return s.length + (s.match(FULL_WIDTH)?.length ?? 0);
}

const META: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\f': '\\f', '\b': '\\b', '\u000B': '\\v', '\u0007': '\\a' };

function escapeMetaCharacters(s: string): string {
  return s.replace(/[\n\r\t\f\b\u000B\u0007]/g, (c) => META[c]);
}

// ---------------------------------------------------------------------------------------------
// Spark 4's ToPrettyString

/** One value as Spark 4's show() prints it (NULL for null). `type` undefined: judge by the value. */
export function formatValue(v: unknown, type: DataType | undefined): string {
  if (v === null || v === undefined) return 'NULL';
  if (!type) return formatUntyped(v);
  switch (type.kind) {
    case 'primitive':
      switch (type.name) {
        case 'timestamp':
        case 'timestamp_ntz':
          return typeof v === 'bigint' ? formatTimestamp(v) : formatUntyped(v);
        case 'double':
          return typeof v === 'number' ? javaDoubleToString(v) : String(v);
        case 'float':
          return typeof v === 'number' ? javaFloatToString(v) : String(v);
        case 'binary':
          return v instanceof Uint8Array ? hexBytes(v) : formatUntyped(v);
        default:
          return formatUntyped(v);
      }
    case 'decimal':
      return String(v);
    case 'variant': {
      // As Spark shows a variant: its JSON.
      const e = v as { value?: unknown; metadata?: unknown };
      return e.value instanceof Uint8Array && e.metadata instanceof Uint8Array ? variantToJson(e.metadata, e.value) : formatUntyped(v);
    }
    case 'array':
      return Array.isArray(v) ? '[' + joinElements(v.map((e) => (e === null || e === undefined ? null : formatValue(e, type.elementType)))) + ']' : formatUntyped(v);
    case 'map':
      return '{' + mapEntries(v).map(([k, val]) => `${formatValue(k, type.keyType)} -> ${formatValue(val, type.valueType)}`).join(', ') + '}';
    case 'struct': {
      const o = v as Row;
      return '{' + joinElements(type.fields.map((f) => (o[f.name] === null || o[f.name] === undefined ? null : formatValue(o[f.name], f.type)))) + '}';
    }
  }
}

/** Array and struct elements: ", " between them, NULL for nulls. */
function joinElements(parts: (string | null)[]): string {
  return parts.map((p) => p ?? 'NULL').join(', ');
}

function mapEntries(v: unknown): [unknown, unknown][] {
  if (v instanceof Map) return [...v.entries()];
  if (Array.isArray(v)) return v as [unknown, unknown][];
  return Object.entries(v as object);
}

function formatUntyped(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : javaDoubleToString(v);
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof Uint8Array) return hexBytes(v);
  if (v instanceof Date) return formatTimestamp(BigInt(v.getTime()) * 1000n);
  if (Array.isArray(v)) return '[' + joinElements(v.map((e) => (e === null || e === undefined ? null : formatUntyped(e)))) + ']';
  if (v instanceof Map) return '{' + [...v.entries()].map(([k, val]) => `${formatUntyped(k)} -> ${formatUntyped(val)}`).join(', ') + '}';
  if (typeof v === 'object') return '{' + joinElements(Object.values(v).map((e) => (e === null || e === undefined ? null : formatUntyped(e)))) + '}';
  return String(v);
}

/** Spark's fraction formatter: `yyyy-MM-dd HH:mm:ss` plus the fraction without trailing zeros, in UTC. */
export function formatTimestamp(micros: bigint): string {
  const iso = microsToIso(micros, false, ' ');
  const dot = iso.lastIndexOf('.');
  const frac = iso.slice(dot + 1).replace(/0+$/, '');
  const s = frac ? `${iso.slice(0, dot)}.${frac}` : iso.slice(0, dot);
  // java.time prints years past 9999 with a sign.
  return /^\d{5}/.test(s) ? `+${s}` : s;
}

/** `[01 02 AB]`, like SparkStringUtils.getHexString. */
function hexBytes(b: Uint8Array): string {
  return '[' + Array.from(b, (x) => x.toString(16).toUpperCase().padStart(2, '0')).join(' ') + ']';
}

