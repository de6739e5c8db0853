import type * as arrow from 'apache-arrow';
import type { StructType } from '../schema/schema.js';
import { JsonNumber } from './json-number.js';
import { NdjsonDecoder } from './ndjson-decoder.js';

/** Pending line text handed to the decoder at a time: large enough to amortise a push, small next to a batch. */
const PUSH_CHARS = 1 << 20;

/**
 * Records taken out of a larger JSON document (an HTTP body: an array under a pointer, columns
 * picked by pointers) -> Arrow record batches, through the NDJSON decoder: the one path by which
 * values enter a table, so they land with the same exactness, the same coercion and the same
 * row/column/value errors as `tributary append --input` (rows numbered from 0 in push order).
 *
 * A record arrives as its column values in schema order, as the exact parser gave them (a number
 * that a double cannot hold is a JsonNumber): each is written back as JSON keeping its digits,
 * one line per record with the table's columns in schema order (the decoder's fast case), and
 * the decoder makes Arrow of the bytes. An absent value (undefined) is a null, as a missing key
 * on a line is. `end()` returns every batch, or throws the first bad row's error.
 */
export class JsonRecordsDecoder {
  private readonly decoder: NdjsonDecoder;
  /** `"name":` per column. */
  private readonly keys: string[];
  private readonly names: string[];
  private text = '';
  private readonly out: arrow.RecordBatch[] = [];

  constructor(schema: StructType, name: string, chunkRows?: number) {
    this.decoder = new NdjsonDecoder({ schema, name, chunkRows, inputLines: false });
    this.names = schema.fields.map((f) => f.name);
    this.keys = this.names.map((n) => `${JSON.stringify(n)}:`);
  }

  /** One record: `values[k]` is column k's value. */
  push(values: readonly unknown[]): void {
    let line = '{';
    for (let k = 0; k < this.keys.length; k++) line += (k ? ',' : '') + this.keys[k] + exactJsonText(values[k]);
    this.text += `${line}}\n`;
    if (this.text.length >= PUSH_CHARS) this.pushText();
  }

  /** One record given by column name (a missing column is a null). */
  pushRecord(record: Readonly<Record<string, unknown>>): void {
    const values = this.names.map((n) => record[n]);
    this.push(values);
  }

  end(): arrow.RecordBatch[] {
    this.pushText();
    for (const b of this.decoder.end()) this.out.push(b);
    return this.out;
  }

  private pushText(): void {
    if (this.text === '') return;
    const bytes = Buffer.from(this.text, 'utf8');
    this.text = '';
    for (const b of this.decoder.push(bytes)) this.out.push(b);
  }
}

/**
 * A parsed JSON value as JSON text, exactly: a JsonNumber as the digits it was written with
 * (JSON.stringify would print the double nearest to them), a number as it prints (the exact
 * parser keeps a JavaScript number only when it prints back as written), strings escaped as
 * JSON.stringify does (a lone surrogate as \uXXXX, which the parser reads back the same), a Date
 * as its ISO-8601 text (milliseconds: all a Date holds).
 */
export function exactJsonText(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (v instanceof JsonNumber) return v.text;
  if (typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  // A Date (a source's own timestamp) as its ISO text; an invalid one as text the column refuses, not a null.
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '"Invalid Date"' : JSON.stringify(v);
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + exactJsonText(v[i]);
    return `${s}]`;
  }
  let s = '{';
  let first = true;
  for (const [k, x] of Object.entries(v)) {
    s += `${first ? '' : ','}${JSON.stringify(k)}:${exactJsonText(x)}`;
    first = false;
  }
  return `${s}}`;
}
