import type * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { NdjsonRowReader, ndjsonToBatches } from '../../src/cli/input.js';
import { TributaryError } from '../../src/errors.js';
import { NdjsonDecoder } from '../../src/json/ndjson-decoder.js';
import { parseDdl } from '../../src/schema/ddl.js';

const SCHEMA = parseDdl('id BIGINT NOT NULL, name STRING, price DOUBLE, ts TIMESTAMP, amount DECIMAL(10,2)');

function decode(input: string | Uint8Array | Uint8Array[], schema = SCHEMA, chunkRows?: number): { batches: arrow.RecordBatch[]; decoder: NdjsonDecoder } {
  const d = new NdjsonDecoder({ schema, name: 'in.ndjson', chunkRows });
  const chunks = Array.isArray(input) ? input : [typeof input === 'string' ? Buffer.from(input) : input];
  const batches: arrow.RecordBatch[] = [];
  for (const c of chunks) batches.push(...d.push(c));
  batches.push(...d.end());
  return { batches, decoder: d };
}

function reference(input: string, schema = SCHEMA): arrow.RecordBatch[] {
  const r = new NdjsonRowReader('in.ndjson');
  r.push(Buffer.from(input));
  return ndjsonToBatches(r.end(), schema);
}

function errorOf(f: () => unknown): TributaryError {
  try {
    f();
  } catch (e) {
    if (e instanceof TributaryError) return e;
    throw e;
  }
  throw new Error('no error');
}

/** Both paths refuse the input with this message (and the same error). */
function bothRefuse(input: string, message: string, schema = SCHEMA): void {
  const dec = errorOf(() => decode(input, schema));
  const ref = errorOf(() => reference(input, schema));
  expect(dec.message).toBe(message);
  expect(ref.message).toBe(message);
  expect(dec.details).toEqual(ref.details);
}

const rows = (batches: arrow.RecordBatch[]) => batches.flatMap((b) => arrowToRows(b));

describe('the NDJSON decoder', () => {
  it('cuts its rows into batches of 16K, 32K, then 64K rows, numbering rows and lines across them', () => {
    // A blank line every 1000 lines: lines and rows drift apart.
    let text = '';
    for (let i = 0; i < 120_000; i++) {
      text += `{"id":${i},"name":"n${i % 7}","price":${i / 8},"ts":"2024-05-01T00:00:${String(i % 60).padStart(2, '0')}.000001Z","amount":"${(i % 1000) / 100}"}\n`;
      if (i % 1000 === 999) text += '\n';
    }
    const { batches, decoder } = decode(text);
    // The first batches small (the encoder thread starts sooner), then 64K rows each.
    expect(batches.map((b) => b.numRows)).toEqual([16_384, 32_768, 65_536, 5_312]);
    const all = rows(batches);
    expect(all[69_999]).toEqual({ id: 69_999n, name: 'n6', price: 69_999 / 8, ts: BigInt(Date.UTC(2024, 4, 1, 0, 0, 69_999 % 60)) * 1000n + 1n, amount: '9.99' });
    for (const at of [16_383, 16_384, 49_151, 49_152, 114_687, 114_688, 119_999]) expect(all[at].id).toBe(BigInt(at));
    expect(all).toEqual(rows(reference(text)));
    expect(decoder.rows).toBe(120_000);
    expect(decoder.lineOf(0)).toBe(1);
    expect(decoder.lineOf(999)).toBe(1000);
    expect(decoder.lineOf(1000)).toBe(1002);
    expect(decoder.lineOf(69_999)).toBe(70_069);
    expect(decoder.lineOf(119_999)).toBe(120_119);
    expect(decoder.lineOf(120_000)).toBeUndefined();

    // A chunk size set by the caller is every batch's; a first size set too starts the doubling there.
    expect(decode(text, SCHEMA, 50_000).batches.map((b) => b.numRows)).toEqual([50_000, 50_000, 20_000]);
    const first = new NdjsonDecoder({ schema: SCHEMA, name: 'in.ndjson', chunkRows: 50_000, firstChunkRows: 10_000 });
    expect([...first.push(Buffer.from(text)), ...first.end()].map((b) => b.numRows)).toEqual([10_000, 20_000, 40_000, 50_000]);
    expect(() => new NdjsonDecoder({ schema: SCHEMA, name: 'in.ndjson', firstChunkRows: 0 })).toThrow('firstChunkRows must be a whole number of at least 1, got 0');

    // A bad value in the second batch: its row and its line (70 blank lines above it).
    const bad = text.replace('{"id":68000,"name":"n2"', '{"id":68000,"name":2');
    const e = errorOf(() => decode(bad));
    expect(e.message).toBe('row 68000, column "name": value 2 is not a string (column type string) [in.ndjson, line 68069]');
    expect(e.details).toMatchObject({ row: 68_000, line: 68_069, column: 'name' });
    expect(errorOf(() => reference(bad)).message).toBe(e.message);
  });

  it('gives the same result for every split of the input into two chunks (BOM, CRLF, characters and tokens cut anywhere)', () => {
    const text = '\ufeff{"id":1,"name":"caf\\u00e9 😀 中","price":-1.5e-7,"ts":"2024-02-29T23:59:59.123456+05:30","amount":"-12.30"}\r\n  \r\n{"name":"\\"q\\"","id":2,"amount":7}';
    const bytes = Buffer.from(text);
    const whole = rows(decode(bytes).batches);
    expect(whole).toEqual(rows(reference(text)));
    expect(whole[0].name).toBe('café 😀 中');
    for (let i = 0; i <= bytes.length; i++) {
      for (const j of [i, Math.min(bytes.length, i + 1), Math.min(bytes.length, i + 2)]) {
        expect(rows(decode([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]).batches), `cut at ${i}, ${j}`).toEqual(whole);
      }
    }
  });

  it('reads timestamp columns whose minutes differ from one another row after row (each column remembers its own last minute)', () => {
    const schema = parseDdl('a TIMESTAMP, b TIMESTAMP, c TIMESTAMP_NTZ');
    const lines: string[] = [];
    for (let i = 0; i < 40; i++) {
      const s = String(i % 60).padStart(2, '0');
      // Now and then b's first 16 bytes are no minute (a leading space, which the general parser
      // takes; or February 30th, refused): the next line's minute must not be taken for it.
      const b = i % 7 === 3 ? '2024-02-30T00:00' : i % 5 === 2 ? ' 2024-02-29T23:59' : '2024-02-29T23:59';
      lines.push(`{"a":"2024-05-01T00:0${i % 2}:${s}.25Z","b":"${b}:${s}+01:30","c":"1999-12-31 23:5${i % 3}:${s}.000001"}`);
    }
    const ok = lines.filter((_, i) => i % 7 !== 3).join('\n');
    expect(rows(decode(ok, schema).batches)).toEqual(rows(reference(ok, schema)));
    expect(rows(decode(ok, schema).batches)[3].b).toBe(BigInt(Date.parse('2024-02-29T22:29:04Z')) * 1000n);
    expect(rows(decode(ok, schema).batches)[1].a).toBe(BigInt(Date.parse('2024-05-01T00:01:01.250Z')) * 1000n);
    // The refused line: the same message from both paths.
    bothRefuse(lines.slice(0, 5).join('\n'), errorOf(() => reference(lines.slice(0, 5).join('\n'), schema)).message, schema);
  });

  it('reads the integer -0 into DOUBLE and FLOAT as 0.0, and -0.0 and -0e0 as -0.0, as Spark\'s reader does (both paths)', () => {
    // Spark (Jackson) reads "-0" as the integer 0; test_json_values_spark.py found Tributary landing -0.0.
    const schema = parseDdl('d DOUBLE, f FLOAT');
    const text = ['-0', '-0.0', '-0e0', '0', '-0E+2', '-0.000'].map((t) => `{"d":${t},"f":${t}}`).join('\n');
    const want = [0, -0, -0, 0, -0, -0];
    for (const got of [rows(decode(text, schema).batches), rows(reference(text, schema))]) {
      expect(got).toHaveLength(want.length);
      for (const [i, r] of got.entries()) {
        expect(Object.is(r.d, want[i]), `d of line ${i + 1}`).toBe(true);
        expect(Object.is(r.f, want[i]), `f of line ${i + 1}`).toBe(true);
      }
    }
  });

  it('takes input shorter than a byte order mark, newlines included (as the reference now does)', () => {
    for (const text of ['', '\n', '\r\n', ' \n', '\n\n']) {
      expect(decode(text).batches, JSON.stringify(text)).toEqual([]);
      expect(reference(text), JSON.stringify(text)).toEqual([]);
    }
    expect(rows(decode('{}', parseDdl('a INT')).batches)).toEqual([{ a: null }]);
    // Counted as the lines they are (the parallel decoder numbers the next range from this count).
    for (const [text, lines] of [['', 0], ['\n', 1], ['\r\n', 1], ['\n\n', 2], ['{}', 1]] as const) {
      const d = new NdjsonDecoder({ schema: parseDdl('a INT'), name: 'in.ndjson' });
      d.push(Buffer.from(text));
      d.end();
      expect(d.line, JSON.stringify(text)).toBe(lines);
    }
  });

  describe('reports the earliest problem in input order', () => {
    it('a bad value on line 2 before a syntax error on line 4', () => {
      bothRefuse('{"id":1}\n{"id":"x"}\n{"id":3}\n{"id":\n', 'row 1, column "id": value "x" is not an integer (column type long) [in.ndjson, line 2]');
    });

    it('a bad value on line 2 before invalid UTF-8 on line 3', () => {
      const dec = errorOf(() => decode([Buffer.from('{"id":1}\n{"id":1.5}\n{"name":"'), Buffer.from([0xff]), Buffer.from('"}\n')]));
      expect(dec.message).toBe('row 1, column "id": value 1.5 is not an integer (column type long) [in.ndjson, line 2]');
    });

    it('a bad value in row 1 before an unknown key in row 3 of the same batch', () => {
      bothRefuse('{"id":1}\n{"id":2,"price":"cheap"}\n{"id":3}\n{"id":4,"colour":"red"}\n', 'row 1, column "price": value "cheap" is not a number (column type double) [in.ndjson, line 2]');
    });

    it('in a row, an unknown key first, then the first bad column in schema order', () => {
      bothRefuse('{"amount":"x","id":"y"}\n', 'row 0, column "id": value "y" is not an integer (column type long) [in.ndjson, line 1]');
      bothRefuse('{"amount":"x","id":"y","zz":1}\n', 'row 0, column "zz": not a column of the table (columns: id, name, price, ts, amount); use mergeSchema to add columns [in.ndjson, line 1]');
      // Among unknown keys, the order JavaScript enumerates them: integer-like keys first.
      bothRefuse('{"id":1,"zz":1,"5":2}\n', 'row 0, column "5": not a column of the table (columns: id, name, price, ts, amount); use mergeSchema to add columns [in.ndjson, line 1]');
      bothRefuse('{"name":"a"}\n', 'row 0, column "id": null in a column that is NOT NULL [in.ndjson, line 1]');
      // A key that differs from a column only in case can never be added (Delta names are case-insensitive): mergeSchema is no help.
      bothRefuse('{"id":1,"Price":2}\n', 'row 0, column "Price": not a column of the table (columns: id, name, price, ts, amount); the table has "price" (names differing only in case are the same column in Delta; write it as "price") [in.ndjson, line 1]');
      // The same for a field of a struct, at any depth (it said only "unknown field").
      const nested = parseDdl('id BIGINT, s STRUCT<a: BIGINT, t: ARRAY<STRUCT<x: STRING>>>');
      bothRefuse('{"id":1,"s":{"A":5}}\n', 'row 0, column "s.A": unknown field (struct fields: a, t); the struct has "a" (names differing only in case are the same field in Delta; write it as "a") [in.ndjson, line 1]', nested);
      bothRefuse('{"id":1,"s":{"a":5,"t":[{"x":"1"},{"X":"2"}]}}\n', 'row 0, column "s.t[1].X": unknown field (struct fields: x); the struct has "x" (names differing only in case are the same field in Delta; write it as "x") [in.ndjson, line 1]', nested);
      bothRefuse('{"id":1,"s":{"b":5}}\n', 'row 0, column "s.b": unknown field (struct fields: a, t) [in.ndjson, line 1]', nested);
    });

    it("a syntax error is its line's problem, whatever else the line holds", () => {
      bothRefuse('{"id":"x","zz":1,"id":2}\n', 'in.ndjson, line 1: not valid JSON (the key "id" appears twice in one object at position 17: {"id":"x","zz":1,"id":2})');
    });
  });

  it('bounds nesting as the exact parser does, counting from the line', () => {
    const schema = parseDdl('id BIGINT, v STRING');
    // The row is depth 1: 511 arrays inside it reach depth 512, allowed (and not a string)...
    bothRefuse(`{"id":1,"v":${'['.repeat(511)}${']'.repeat(511)}}\n`, `row 0, column "v": value ${showNested(511)} is not a string (column type string) [in.ndjson, line 1]`, schema);
    // ... one more is refused as JSON.
    const e = errorOf(() => decode(`{"id":1,"v":${'['.repeat(512)}${']'.repeat(512)}}\n`, schema));
    expect(e.message).toMatch(/^in\.ndjson, line 1: not valid JSON \(nesting deeper than 512 levels/);
    expect(errorOf(() => reference(`{"id":1,"v":${'['.repeat(512)}${']'.repeat(512)}}\n`, schema)).message).toBe(e.message);
  });

  it('stays failed after an error', () => {
    const d = new NdjsonDecoder({ schema: SCHEMA, name: 'in.ndjson' });
    const e = errorOf(() => d.push(Buffer.from('{"id":null}\n')));
    expect(e.message).toBe('row 0, column "id": null in a column that is NOT NULL [in.ndjson, line 1]');
    expect(() => d.push(Buffer.from('{"id":1}\n'))).toThrow(e);
    expect(() => d.end()).toThrow(e);
  });

  it('reads keys in any order, written with escapes, and names a wide table keys out of order', () => {
    const wide = parseDdl(Array.from({ length: 20 }, (_, i) => `c${i} INT`).join(', ') + ', `a"b` STRING, `é` STRING');
    const line = `{"c19":19,"\\u0063\\u0030":0,"a\\"b":"q","é":"e","c7":7}\n`;
    const [row] = rows(decode(line, wide).batches);
    expect(row).toMatchObject({ c0: 0, c7: 7, c19: 19, c1: null, 'a"b': 'q', é: 'e' });
    expect(rows(decode(line, wide).batches)).toEqual(rows(reference(line, wide)));
  });
});

/** showValue of nested empty arrays: cut at 80 characters. */
function showNested(n: number): string {
  const s = '['.repeat(n) + ']'.repeat(n);
  return `${s.slice(0, 77)}...`;
}
