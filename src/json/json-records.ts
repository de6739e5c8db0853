import type * as arrow from 'apache-arrow';
import type { StructType } from '../schema/schema.js';
import type { ScannedBody } from './body-records.js';
import { JsonNumber } from './json-number.js';
import { NdjsonDecoder } from './ndjson-decoder.js';

/** Pending line bytes handed to the decoder at a time: large enough to amortise a push, small next to a batch. */
const PUSH_CHARS = 1 << 20;
const NULL = Buffer.from('null');

/**
 * Records taken out of a larger JSON document (an HTTP body: an array under a pointer, columns
 * picked by pointers) -> Arrow record batches, through the NDJSON decoder: the one path by which
 * values enter a table, so they land with the same exactness, the same coercion and the same
 * row/column/value errors as `tributary append --input` (rows numbered from 0 in push order).
 *
 * A record of a body scanned in bytes (body-records.ts) arrives as its values' byte spans
 * (pushSpans): the line is those bytes copied, so digits, escapes and nested values reach the
 * decoder as the body wrote them. That is the path for HTTP bodies.
 *
 * A source that makes values itself (a Date, a row it assembles from a keyed object) pushes them
 * as JavaScript values (push, pushRecord): each is its column values in schema order, as the exact parser gave them (a number
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
  /** `{"name":`, `,"name":` per column, as bytes (pushSpans). */
  private readonly keyBytes: Buffer[];
  private lines = Buffer.allocUnsafe(PUSH_CHARS + 4096);
  private linesLen = 0;
  private readonly out: arrow.RecordBatch[] = [];

  constructor(schema: StructType, name: string, chunkRows?: number) {
    this.decoder = new NdjsonDecoder({ schema, name, chunkRows, inputLines: false });
    this.names = schema.fields.map((f) => f.name);
    this.keys = this.names.map((n) => `${JSON.stringify(n)}:`);
    this.keyBytes = this.keys.map((k, i) => Buffer.from(`${i ? ',' : '{'}${k}`, 'utf8'));
  }

  /**
   * Record `r` of a scanned body: each column's bytes copied as they are in the body (an absent
   * value is a null). A nested value may span lines in a pretty-printed body; its line breaks are
   * whitespace between tokens (a string cannot hold a raw one), so they become spaces.
   */
  pushSpans(body: ScannedBody, r: number): void {
    const b = body.bytes;
    const spans = body.spans;
    const n = this.keyBytes.length;
    const base = 2 * r * body.columns;
    let need = 2;
    for (let k = 0; k < n; k++) {
      const s = spans[base + 2 * k];
      need += this.keyBytes[k].length + (s < 0 ? 4 : spans[base + 2 * k + 1] - s);
    }
    if (n === 0) need++;
    this.room(need);
    const out = this.lines;
    let at = this.linesLen;
    if (n === 0) out[at++] = 0x7b;
    for (let k = 0; k < n; k++) {
      at += this.keyBytes[k].copy(out, at);
      const s = spans[base + 2 * k];
      if (s < 0) {
        at += NULL.copy(out, at);
        continue;
      }
      const e = spans[base + 2 * k + 1];
      const c = b[s];
      b.copy(out, at, s, e);
      if (c === 0x7b || c === 0x5b) {
        for (let i = at, end = at + e - s; i < end; i++) if (out[i] === 10 || out[i] === 13) out[i] = 32;
      }
      at += e - s;
    }
    out[at++] = 0x7d;
    out[at++] = 10;
    this.linesLen = at;
    if (this.linesLen >= PUSH_CHARS) this.flushLines();
  }

  /** One record: `values[k]` is column k's value. */
  push(values: readonly unknown[]): void {
    let line = '{';
    for (let k = 0; k < this.keys.length; k++) line += (k ? ',' : '') + this.keys[k] + exactJsonText(values[k]);
    line += '}\n';
    // The same pending bytes as pushSpans: one buffer, lines in push order.
    const need = Buffer.byteLength(line, 'utf8');
    this.room(need);
    this.linesLen += this.lines.write(line, this.linesLen, 'utf8');
    if (this.linesLen >= PUSH_CHARS) this.flushLines();
  }

  /** One record given by column name (a missing column is a null). */
  pushRecord(record: Readonly<Record<string, unknown>>): void {
    const values = this.names.map((n) => record[n]);
    this.push(values);
  }

  end(): arrow.RecordBatch[] {
    this.flushLines();
    for (const b of this.decoder.end()) this.out.push(b);
    return this.out;
  }

  /** Room for `need` more bytes of lines: the pending ones go to the decoder first if they would not fit. */
  private room(need: number): void {
    if (this.linesLen + need <= this.lines.length) return;
    this.flushLines();
    if (need > this.lines.length) this.lines = Buffer.allocUnsafe(need);
  }

  private flushLines(): void {
    if (this.linesLen === 0) return;
    // The decoder keeps no reference to a pushed chunk past push() (it copies an incomplete
    // line, and every line here is complete), so the buffer is reused.
    const chunk = this.lines.subarray(0, this.linesLen);
    this.linesLen = 0;
    for (const b of this.decoder.push(chunk)) this.out.push(b);
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
