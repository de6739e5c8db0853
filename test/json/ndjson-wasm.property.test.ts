import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors.js';
import { NdjsonDecoder } from '../../src/json/ndjson-decoder.js';
import { parseDdl } from '../../src/schema/ddl.js';
import type { DataType, StructField, StructType } from '../../src/schema/schema.js';
import { numberToken, timestampCase, tsParts } from '../support/edge-cases.js';
import { split } from '../support/bytes.js';

/**
 * The WebAssembly accelerator inside NdjsonDecoder (accelerate: true) against the JavaScript path
 * alone (accelerate: false), the reference: for any input, split into chunks anywhere, the same
 * batches (every value of every column: doubles by Object.is, decimals by their four words,
 * 64-bit integers exactly, validity and null counts) or the same error (code, message, details),
 * and the same input line for every row. The inputs are mostly valid lines (runs the module
 * takes) with the edge cases of a differential fuzzer between them: numbers of every length and
 * exponent, -0, overflow, decimals at their precision's and 64-bit edges, ISO timestamps and dates
 * and near misses, strings with escapes, non-ASCII, control characters and invalid UTF-8,
 * whitespace and CR, missing, repeated and unknown keys, nested structs and lists, nulls in
 * NOT NULL columns, blank lines. Seeded: TRIBUTARY_PROPERTY_SEED replays a run,
 * TRIBUTARY_PROPERTY_RUNS scales it.
 */
const SEED = Number(process.env.TRIBUTARY_PROPERTY_SEED ?? 20261207);
const RUNS = Number(process.env.TRIBUTARY_PROPERTY_RUNS ?? 800);

// ---------------------------------------------------------------------------------------------
// Both paths, and what is compared

interface Setup {
  schema: StructType;
  chunkRows?: number;
  invalidUtf8: 'error' | 'replace';
  atStart: boolean;
}

interface Outcome {
  /** Every batch handed out, also those before an error (the rows before a bad line). */
  batches: arrow.RecordBatch[];
  error?: TributaryError;
  /** The input line of each row (lineOf), when there was no error. */
  lines: (number | undefined)[];
  /** Rows the module decoded (NdjsonDecoder.accelerated). */
  accelerated: number;
}

type Tamper = (batches: arrow.RecordBatch[]) => void;

function decode(chunks: readonly Uint8Array[], s: Setup, accelerate: boolean, tamper?: Tamper): Outcome {
  const d = new NdjsonDecoder({ schema: s.schema, name: 'in.ndjson', accelerate, invalidUtf8: s.invalidUtf8, atStart: s.atStart, ...(s.chunkRows ? { chunkRows: s.chunkRows } : {}) });
  const batches: arrow.RecordBatch[] = [];
  let error: TributaryError | undefined;
  try {
    for (const c of chunks) batches.push(...d.push(c));
    batches.push(...d.end());
  } catch (e) {
    if (!(e instanceof TributaryError)) throw e;
    error = e;
  }
  tamper?.(batches);
  const lines = error ? [] : Array.from({ length: d.rows }, (_, r) => d.lineOf(r));
  return { batches, error, lines, accelerated: d.accelerated };
}

/** The parts of an Arrow Data this test reads (apache-arrow's own type is generic over the type). */
interface RawData {
  readonly type: { readonly typeId: number; readonly bitWidth?: number };
  readonly offset: number;
  readonly nullCount: number;
  readonly nullBitmap: Uint8Array | undefined;
  readonly values: ArrayLike<number | bigint> & ArrayBufferView;
  readonly valueOffsets: Int32Array;
  readonly children: readonly RawData[];
}

const hex = (b: ArrayBufferView) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
function int64At(v: ArrayLike<number | bigint>, i: number): string {
  if (v instanceof BigInt64Array) return String(v[i]);
  const w = v as Int32Array;
  return String((BigInt(w[2 * i + 1]) << 32n) | BigInt(w[2 * i] >>> 0));
}

/** A value as text that tells every difference apart (-0 from 0, a decimal's every word). */
function valueText(d: RawData, j: number): string {
  const i = d.offset + j;
  if (d.nullBitmap && d.nullBitmap.length > 0 && ((d.nullBitmap[i >> 3] >> (i & 7)) & 1) === 0) return 'null';
  const v = d.values;
  switch (d.type.typeId) {
    case arrow.Type.Utf8:
      return `s:${hex(new Uint8Array(v.buffer, v.byteOffset + d.valueOffsets[i], d.valueOffsets[i + 1] - d.valueOffsets[i]))}`;
    case arrow.Type.Float: {
      const x = v[i] as number;
      return `d:${Object.is(x, -0) ? '-0' : String(x)}`;
    }
    case arrow.Type.Int:
      return d.type.bitWidth === 64 ? `l:${int64At(v, i)}` : `i:${String(v[i])}`;
    case arrow.Type.Timestamp:
      return `t:${int64At(v, i)}`;
    case arrow.Type.Date:
      return `e:${String(v[i])}`;
    case arrow.Type.Bool:
      return `b:${((v[i >> 3] as number) >> (i & 7)) & 1}`;
    case arrow.Type.Decimal:
      return `m:${Array.from(new Uint32Array(v.buffer, v.byteOffset + 16 * i, 4), (x) => x.toString(16)).join(',')}`;
    case arrow.Type.Struct:
      return `{${d.children.map((c) => valueText(c, i)).join(';')}}`;
    case arrow.Type.List: {
      const out: string[] = [];
      const c = d.children[0];
      for (let q = d.valueOffsets[i]; q < d.valueOffsets[i + 1]; q++) out.push(valueText(c, q - c.offset));
      return `[${out.join(';')}]`;
    }
  }
  throw new Error(`no comparison for Arrow type ${d.type.typeId}`);
}
const nullCounts = (d: RawData): string => `${d.nullCount}${d.children.length ? `(${d.children.map(nullCounts).join(',')})` : ''}`;
const rawColumn = (b: arrow.RecordBatch, k: number) => {
  const data = b.getChildAt(k)!.data;
  expect(data.length).toBe(1);
  return data[0] as unknown as RawData;
};

/** The accelerated outcome is the reference's: same batches, values, null counts, lines; or the same error. */
function expectSame(acc: Outcome, ref: Outcome): void {
  expect(acc.error?.code, acc.error?.message ?? ref.error?.message).toBe(ref.error?.code);
  if (ref.error) {
    expect(acc.error!.message).toBe(ref.error.message);
    expect(acc.error!.details).toEqual(ref.error.details);
  }
  expect(acc.batches.map((b) => b.numRows)).toEqual(ref.batches.map((b) => b.numRows));
  let row = 0;
  ref.batches.forEach((rb, q) => {
    const ab = acc.batches[q];
    expect(ab.schema.fields.map(String)).toEqual(rb.schema.fields.map(String));
    for (let k = 0; k < rb.numCols; k++) {
      const a = rawColumn(ab, k);
      const r = rawColumn(rb, k);
      for (let j = 0; j < rb.numRows; j++) {
        const x = valueText(a, j);
        const y = valueText(r, j);
        if (x !== y) expect(x, `row ${row + j}, column ${rb.schema.fields[k].name}`).toBe(y);
      }
      expect(nullCounts(a), `null counts, batch ${q}, column ${rb.schema.fields[k].name}`).toBe(nullCounts(r));
    }
    row += rb.numRows;
  });
  expect(acc.lines).toEqual(ref.lines);
}


// ---------------------------------------------------------------------------------------------
// Values as JSON text

/** Stands for an invalid UTF-8 sequence in a line's text (replaced when the line becomes bytes). */
const BAD_UTF8 = '\uF8FF';
const BAD_SEQUENCES = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0x80], [0xf0, 0x9f, 0x98]];

const DOUBLE_EDGES = [
  '0', '-0', '0.0', '-0.0', '-0e0', '-0e-0', '0e5', '-0.000', '1', '-1', '9007199254740993', '9007199254740995', '18014398509481985', '1.7976931348623157e308',
  '1.7976931348623158e308', '1.7976931348623159e308', '-1.7976931348623159e308', '1e308', '1e309', '-1e309', '1e400', '2.2250738585072011e-308', '2.2250738585072012e-308',
  '5e-324', '2.4703282292062327e-324', '2.4703282292062328e-324', '1e-324', '1e-400', '-1e-400', '1e23', '9.999999999999999e22', '1e22', '1e-22', '8.98846567431158e307',
  '0.1', '0.30000000000000004', '1.00000000000000011102230246251565404236316680908203125', '1.000000000000000111022302462515654042363166809082031249',
  '1.000000000000000111022302462515654042363166809082031251', '121.85770929016691610513589694164693355560302734375533', '4503599627370496.5', '4503599627370497.5',
  '123456789012345678901234567890', '1E+2', '1e+0022', '1e-0', '0.00000000000000000000000000000000000001',
];
const INT_EDGES = [
  '0', '-0', '1', '-1', '9223372036854775807', '-9223372036854775808', '9223372036854775808', '-9223372036854775809', '18446744073709551615', '18446744073709551616',
  '99999999999999999999', '10000000000000000000', '9999999999999999999', '-9999999999999999999', '2147483647', '-2147483648', '2147483648', '-2147483649', '4294967296',
  '9007199254740993', '1.0', '1.5', '-1.0', '1e3', '1E3', '10e-1', '0.0', '-0.0', '1e19', '9.223372036854775807e18', '123456789012345678901',
];
const WRONG = ['true', 'false', '"x"', '"1"', '{}', '[]', '[1]', '{"a":1}', '01', '-', '+1', '1.', '.5', 'NaN', 'Infinity', '1e', '--1', '0x10', 'tru', 'nul'];

/** The exact midpoint between a double and the next, written out, then cut short or nudged. */
const doubleMidpoint = fc
  .tuple(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.double({ min: 1e-6, max: 1e25, noNaN: true })), fc.nat(4), fc.integer({ min: 15, max: 40 }), fc.constantFrom(-1n, 0n, 1n), fc.nat(2))
  .map(([x, mode, keep, nudge, form]) => {
    const dv = new DataView(new ArrayBuffer(8));
    dv.setFloat64(0, Math.abs(x));
    const bits = dv.getBigUint64(0);
    let m = bits & ((1n << 52n) - 1n);
    let e = Number((bits >> 52n) & 0x7ffn);
    if (e === 0) e = 1;
    else m |= 1n << 52n;
    if (e === 0x7ff) return '1e309';
    // midpoint = (2m + 1) * 2^(e - 1076) = digits * 10^exp10
    const e2 = e - 1076;
    let digits = e2 >= 0 ? ((2n * m + 1n) << BigInt(e2)).toString() : ((2n * m + 1n) * 5n ** BigInt(-e2)).toString();
    let exp10 = e2 >= 0 ? 0 : e2;
    if (mode === 1 || mode === 2) {
      const cut = Math.max(0, digits.length - keep);
      digits = (BigInt(digits.slice(0, digits.length - cut) || '0') + nudge).toString();
      exp10 += cut;
    } else if (mode === 3) digits += '1';
    if (digits.length > 800) {
      exp10 += digits.length - 800;
      digits = digits.slice(0, 800);
    }
    const sign = x < 0 || Object.is(x, -0) ? '-' : '';
    if (form === 0) return `${sign}${digits}e${exp10}`;
    if (form === 1) return `${sign}${digits[0]}.${digits.slice(1) || '0'}E${exp10 + digits.length - 1 >= 0 ? '+' : ''}${exp10 + digits.length - 1}`;
    if (exp10 >= 0) return sign + digits + '0'.repeat(Math.min(exp10, 400));
    const point = digits.length + exp10;
    return point > 0 ? `${sign}${digits.slice(0, point)}.${digits.slice(point)}` : `${sign}0.${'0'.repeat(-point)}${digits}`;
  });

const doubleClean = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => String(x).replace('e+', 'e')),
  fc.double({ min: -1e7, max: 1e7, noNaN: true }).map(String),
  fc.integer().map(String),
);
const doubleText = fc.oneof(
  { weight: 8, arbitrary: doubleClean },
  { weight: 4, arbitrary: doubleMidpoint },
  { weight: 3, arbitrary: fc.constantFrom(...DOUBLE_EDGES) },
  { weight: 2, arbitrary: numberToken },
);

const integerText = (bits: 32 | 64) => {
  const lim = bits === 32 ? 2n ** 31n : 2n ** 63n;
  return fc.oneof(
    { weight: 8, arbitrary: fc.bigInt({ min: -lim, max: lim - 1n }).map(String) },
    { weight: 4, arbitrary: fc.integer({ min: -100000, max: 100000 }).map(String) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(lim, -lim, lim - 1n, 2n ** 53n, 10n ** 18n, 10n ** 19n), fc.integer({ min: -3, max: 3 })).map(([b, k]) => String(b + BigInt(k))) },
    { weight: 2, arbitrary: fc.constantFrom(...INT_EDGES) },
    { weight: 1, arbitrary: numberToken },
  );
};

/** DECIMAL(p,s) text: in range, at 10^(p-s), around 2^64 (and its multiples) over 10^s, every spelling. */
const decimalText = (p: number, s: number) => {
  const lim = 10n ** BigInt(p - s);
  const digits = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });
  const inRange = fc
    .tuple(fc.boolean(), fc.integer({ min: 0, max: Math.min(p - s, 38) }), fc.integer({ min: 0, max: s }), fc.nat(2))
    .chain(([neg, ni, nf, zeros]) => fc.tuple(fc.constant(neg), digits(ni), digits(nf), fc.constant(zeros)))
    .map(([neg, i, f, zeros]) => `${neg ? '-' : ''}${i.replace(/^0+(?=\d)/, '') || '0'}${f || zeros ? `.${f}${'0'.repeat(zeros)}` : ''}`);
  const edge = fc
    .tuple(
      fc.constantFrom(lim, lim - 1n, lim + 1n, 2n ** 64n / 10n ** BigInt(s), 2n ** 63n / 10n ** BigInt(s), 10n ** 18n / 10n ** BigInt(s), 10n ** 19n),
      fc.integer({ min: -2, max: 3 }),
      fc.boolean(),
      fc.option(fc.integer({ min: 1, max: s + 3 }), { nil: undefined }),
      fc.boolean(),
    )
    .map(([b, k, neg, nf, nines]) => `${neg ? '-' : ''}${b + BigInt(k)}${nf ? `.${(nines ? '9' : '5').repeat(nf)}` : ''}`);
  // Values whose unscaled integer wraps a 64-bit word: k * 2^64 / 10^j, for scales around s.
  const wrap = fc
    .tuple(fc.bigInt({ min: 1n, max: 10n ** 9n }), fc.integer({ min: 0, max: 8 }), fc.boolean())
    .map(([k, j, neg]) => {
      const u = (k * 2n ** 64n) / 10n ** BigInt(s + j);
      return `${neg ? '-' : ''}${u}`;
    });
  const exp = fc.tuple(inRange, fc.constantFrom('e', 'E', 'e+', 'e-', 'E-'), fc.nat(5)).map(([t, e, x]) => `${t}${e}${x}`);
  return fc.oneof({ weight: 8, arbitrary: inRange }, { weight: 3, arbitrary: edge }, { weight: 2, arbitrary: wrap }, { weight: 1, arbitrary: exp }, { weight: 1, arbitrary: numberToken });
};

const q = (s: string) => `"${s}"`;
const p2 = (n: number) => String(n).padStart(2, '0');
const dateClean = fc.tuple(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 })).map(([y, m, d]) => `${String(y).padStart(4, '0')}-${p2(m)}-${p2(d)}`);
const timestampText = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(dateClean, fc.constantFrom('T', ' ', 't'), fc.integer({ min: 0, max: 86399 }), fc.constantFrom('', '.5', '.123456', '.1234560', '.000'), fc.constantFrom('Z', '', '+05:30', '-08:00', 'z')).map(([d, sep, sec, f, z]) => q(`${d}${sep}${p2(Math.floor(sec / 3600))}:${p2(Math.floor(sec / 60) % 60)}:${p2(sec % 60)}${f}${z}`)) },
  { weight: 4, arbitrary: tsParts.map((p) => q(timestampCase(p, false).text)) },
  { weight: 1, arbitrary: tsParts.map((p) => q(` ${timestampCase(p, false).text}`)) },
  { weight: 1, arbitrary: tsParts.map((p) => q(`${timestampCase(p, false).text}${'x'}`)) },
  { weight: 1, arbitrary: fc.constantFrom('1700000000', '-1', '253402300799', '9007199254', '9007199255', '1.5', '1e9', '"2024"', '"2024-01"', '"T"', '""', '"2024-02-29T23:59:60Z"', '"2023-02-29T00:00:00Z"', '"0000-01-01T00:00:00Z"', '"9999-12-31T23:59:59.999999-00:01"', '"2024-01-01T00:00:00\\u005a"', '"2024-01-01T00:00:00+18:01"', '"2024-01-01T24:00:00Z"') },
  { weight: 1, arbitrary: integerText(64) },
);
const dateText = fc.oneof(
  { weight: 6, arbitrary: dateClean.map(q) },
  { weight: 3, arbitrary: tsParts.map((p) => q(`${String(p.y).padStart(4, '0')}-${p2(p.mo)}-${p2(p.d)}`)) },
  { weight: 1, arbitrary: fc.constantFrom('"2024-01-01 "', '" 2024-01-01"', '"2024-1-01"', '"20240101"', '"2024-02-30"', '"2023-02-29"', '"2024-02-29"', '"0000-01-01"', '"10000-01-01"', '"2024-01-01T00:00:00Z"', '"2024-01-01Z"', '0', '19000', '1.5') },
);
const stringText = fc
  .array(
    fc.oneof(
      { weight: 100, arbitrary: fc.string({ unit: fc.constantFrom(...'abcXYZ019 -_.:+{}[],'), maxLength: 10 }) },
      { weight: 2, arbitrary: fc.constantFrom('é', 'ß', '日本', '😀', '𝄞', '\u2028', '\u2029', '\ufeff', '\u00a0', '\u0301', '\uffff', '\u007f') },
      { weight: 2, arbitrary: fc.constantFrom('\\n', '\\t', '\\"', '\\\\', '\\/', '\\b', '\\f', '\\r', '\\u0041', '\\u00e9', '\\uD83D\\uDE00', '\\u0000', '\\u001f', '\\u2028') },
      { weight: 1, arbitrary: fc.constantFrom('\\uD800', '\\uDC00', '\\u12', '\\x41', '\\a', '\\U0041', '\t', '\u0001', '\u0000', '\r', BAD_UTF8) },
    ),
    { maxLength: 6 },
  )
  .map((parts) => q(parts.join('')));
const boolText = fc.oneof({ weight: 30, arbitrary: fc.constantFrom('true', 'false') }, { weight: 1, arbitrary: fc.constantFrom('"true"', '1', '0', 'True', 'FALSE', 'truex', 'tru') });

// ---------------------------------------------------------------------------------------------
// Lines

const space = fc.oneof({ weight: 300, arbitrary: fc.constant('') }, { weight: 100, arbitrary: fc.constantFrom(' ', '\t', '\r', ' \r ', '  ') }, { weight: 1, arbitrary: fc.constantFrom('\u000b', '\f', '\u00a0', '\ufeff') });
/** Rarely: `fc.option`'s `freq` is the inverse of the chance of its nil. */
const rarely = <T>(a: fc.Arbitrary<T>, oneIn: number) => fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: a });
const keyText = (name: string) =>
  fc.oneof(
    { weight: 100, arbitrary: fc.constant(JSON.stringify(name)) },
    { weight: 1, arbitrary: fc.nat().map((i) => { const k = i % Math.max(1, name.length); return name ? q(`${name.slice(0, k)}\\u${name.charCodeAt(k).toString(16).padStart(4, '0')}${name.slice(k + 1)}`) : '""'; }) },
    { weight: 1, arbitrary: fc.constant(JSON.stringify(name.toUpperCase())) },
  );

/** A struct's (or a line's) object: fields absent, null, shuffled, repeated, unknown keys; spaces anywhere. */
function objectText(fields: readonly StructField[]): fc.Arbitrary<string> {
  const member = (f: StructField) =>
    fc.oneof(
      { weight: 60, arbitrary: fc.tuple(keyText(f.name), valueOf(f.type)) },
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.tuple(keyText(f.name), fc.constant('null')) },
    );
  const extra = rarely(fc.tuple(fc.constantFrom('"zz"', '"A"', '""', '"a "', '"na\\u006de"', ...fields.map((f) => JSON.stringify(f.name))), fc.constantFrom('1', 'null', '"x"', '{}', '[1,2]', '-0', '1e400')), 50);
  return fc
    .tuple(fc.tuple(...fields.map(member)), extra, fc.nat(), fc.array(space, { minLength: 8, maxLength: 8 }), rarely(fc.constant(','), 100))
    .map(([members, ex, order, sp, trailing]) => {
      const ms = members.filter((m): m is [string, string] => m !== undefined);
      if (ex) ms.splice(order % (ms.length + 1), 0, ex);
      if (order % 4 === 0) ms.reverse();
      let i = 0;
      const s = () => sp[i++ % sp.length];
      return `{${s()}${ms.map(([k, v]) => `${k}${s()}:${s()}${v}`).join(`${s()},${s()}`)}${trailing ?? ''}${s()}}`;
    });
}

function valueOf(t: DataType): fc.Arbitrary<string> {
  let v: fc.Arbitrary<string>;
  if (t.kind === 'decimal') v = decimalText(t.precision, t.scale);
  else if (t.kind === 'struct') v = objectText(t.fields);
  else if (t.kind === 'array') {
    const el = fc.oneof({ weight: 12, arbitrary: valueOf(t.elementType) }, { weight: 1, arbitrary: fc.constant('null') });
    v = fc.tuple(fc.array(el, { maxLength: 5 }), space, space).map(([xs, a, b]) => `[${a}${xs.join(`${b},${a}`)}${b}]`);
  } else if (t.kind === 'primitive') {
    switch (t.name) {
      case 'double':
        v = doubleText;
        break;
      case 'long':
        v = integerText(64);
        break;
      case 'integer':
        v = integerText(32);
        break;
      case 'timestamp':
        v = timestampText;
        break;
      case 'date':
        v = dateText;
        break;
      case 'boolean':
        v = boolText;
        break;
      default:
        v = stringText;
    }
  } else v = fc.constant('null');
  return fc.oneof({ weight: 100, arbitrary: v }, { weight: 2, arbitrary: fc.constant('null') }, { weight: 1, arbitrary: fc.constantFrom(...WRONG) });
}

const lineText = (schema: StructType) =>
  fc.oneof(
    { weight: 60, arbitrary: fc.tuple(space, objectText(schema.fields), space, rarely(fc.constant('\r'), 30)).map(([a, o, b, cr]) => a + o + b + (cr ?? '')) },
    { weight: 2, arbitrary: fc.constantFrom('', '', ' ', '\t', '\r', ' \r') },
    { weight: 1, arbitrary: fc.constantFrom('[]', 'null', '1', '"x"', '{', '}', '{}{}', '[{}]', 'true', '{"a":1}x', '{} 1', '\f', '\u000b', '\u00a0') },
  );

/** A line's bytes: its text as UTF-8, each BAD_UTF8 an invalid sequence (chosen by `pick`). */
function bytesOf(line: string, pick: number): Buffer {
  const parts = line.split(BAD_UTF8);
  return Buffer.concat(parts.flatMap((s, i) => (i < parts.length - 1 ? [Buffer.from(s), Buffer.from(BAD_SEQUENCES[(pick + i) % BAD_SEQUENCES.length])] : [Buffer.from(s)])));
}

// ---------------------------------------------------------------------------------------------
// Schemas: every type the module decodes, nested, NOT NULL at every level

/** `ARRAY<T NOT NULL>` is not DDL: the arrays at these paths (a.b for a struct's field) get containsNull false. */
function schemaOf(ddl: string, notNullElements: readonly string[] = []): StructType {
  const fix = (fields: readonly StructField[], pre: string): StructField[] =>
    fields.map((f) => {
      let t = f.type;
      if (t.kind === 'array' && notNullElements.includes(pre + f.name)) t = { ...t, containsNull: false };
      if (t.kind === 'struct') t = { ...t, fields: fix(t.fields, `${pre}${f.name}.`) };
      return { ...f, type: t };
    });
  const s = parseDdl(ddl);
  return { ...s, fields: fix(s.fields, '') };
}

const SCHEMAS: StructType[] = [
  schemaOf('k BIGINT, a DOUBLE, s STRING'),
  schemaOf('a DOUBLE NOT NULL, b DOUBLE, c DOUBLE'),
  schemaOf('a BIGINT, b INT NOT NULL, c BOOLEAN, d BIGINT NOT NULL'),
  schemaOf('a TIMESTAMP, d DATE NOT NULL, t TIMESTAMP NOT NULL, e DATE'),
  schemaOf('a DECIMAL(10,2), b DECIMAL(18,4) NOT NULL, c DECIMAL(38,6)'),
  schemaOf('a DECIMAL(38,20), b DECIMAL(19,0), c DECIMAL(5,5) NOT NULL, d DECIMAL(1,0), e DECIMAL(18,0)'),
  schemaOf('a STRING NOT NULL, b STRING, c BOOLEAN NOT NULL'),
  schemaOf('a BIGINT, ab BIGINT, abc DOUBLE, `éü` STRING, a_very_long_column_name_that_is_longer_than_forty_eight_bytes_x STRING'),
  schemaOf('id BIGINT, name STRING, v STRUCT<id: BIGINT, name: STRING>, tags ARRAY<STRING>, x DOUBLE'),
  schemaOf('v STRUCT<d: DECIMAL(10,2), t: TIMESTAMP, n: INT>, l ARRAY<DOUBLE>, m ARRAY<BIGINT>, q ARRAY<DATE>'),
  schemaOf('a DOUBLE NOT NULL, b BIGINT NOT NULL, c INT NOT NULL, d TIMESTAMP NOT NULL, e DATE NOT NULL, f DECIMAL(18,4) NOT NULL, g STRING NOT NULL, h BOOLEAN NOT NULL'),
  schemaOf('id BIGINT NOT NULL, v STRUCT<id: BIGINT NOT NULL, name: STRING> NOT NULL, tags ARRAY<STRING> NOT NULL, l ARRAY<DOUBLE>', ['tags', 'l']),
  // NOT NULL fields inside a struct or list element that may itself be null (or absent).
  schemaOf('w STRUCT<d: DECIMAL(10,2) NOT NULL, t: TIMESTAMP, n: INT NOT NULL>, x DOUBLE'),
  schemaOf('s STRUCT<a: ARRAY<STRUCT<x: DOUBLE NOT NULL, y: STRING>>, b: STRUCT<c: DATE NOT NULL> NOT NULL>, ll ARRAY<ARRAY<BIGINT>>', ['ll']),
];

interface Case {
  schema: StructType;
  lines: string[];
  /** Drop the lines the reference refuses alone (0), all but the last such (1), or keep them all (2). */
  keep: number;
  newlineAtEnd: boolean;
  cuts: number[];
  chunkRows: number | undefined;
  invalidUtf8: 'error' | 'replace';
  /** Chooses the invalid UTF-8 sequences, a BOM at the start (1 in 16), atStart false (1 in 7). */
  pick: number;
}

const caseArb: fc.Arbitrary<Case> = fc.nat(SCHEMAS.length - 1).chain((k) =>
  fc.record({
    schema: fc.constant(SCHEMAS[k]),
    lines: fc.array(lineText(SCHEMAS[k]), { minLength: 1, maxLength: 80, size: 'max' }),
    keep: fc.constantFrom(0, 0, 0, 1, 1, 2),
    newlineAtEnd: fc.boolean(),
    cuts: fc.array(fc.nat(), { maxLength: 8 }),
    chunkRows: fc.constantFrom(undefined, 1, 2, 3, 7, 1000),
    invalidUtf8: fc.constantFrom('error' as const, 'error' as const, 'replace' as const),
    pick: fc.nat(),
  }),
);

/** Whether the reference refuses a line on its own (as a line in the middle of an input). */
function refusedAlone(line: Buffer, c: Case): boolean {
  const d = new NdjsonDecoder({ schema: c.schema, name: 'in.ndjson', accelerate: false, atStart: false, invalidUtf8: c.invalidUtf8 });
  try {
    d.push(Buffer.concat([line, Buffer.from('\n')]));
    d.end();
    return false;
  } catch {
    return true;
  }
}

function inputOf(c: Case): Buffer {
  let lines = c.lines.map((l) => bytesOf(l, c.pick));
  if (c.keep < 2) {
    const bad = lines.map((l) => refusedAlone(l, c));
    const last = bad.lastIndexOf(true);
    lines = lines.filter((_, i) => !bad[i] || (c.keep === 1 && i === last));
  }
  const text = Buffer.concat(lines.flatMap((l, i) => (i < lines.length - 1 || c.newlineAtEnd ? [l, Buffer.from('\n')] : [l])));
  return c.pick % 16 === 0 ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text]) : text;
}

/** Checks one case; returns the rows the reference decoded and those the module decoded. */
function check(c: Case, tamper?: Tamper): { rows: number; accelerated: number } {
  const input = inputOf(c);
  const chunks = split(input, c.cuts);
  const s: Setup = { schema: c.schema, chunkRows: c.chunkRows, invalidUtf8: c.invalidUtf8, atStart: c.pick % 7 !== 0 };
  const ref = decode(chunks, s, false);
  const acc = decode(chunks, s, true, tamper);
  expectSame(acc, ref);
  return { rows: ref.batches.reduce((n, b) => n + b.numRows, 0), accelerated: acc.accelerated };
}

// ---------------------------------------------------------------------------------------------

describe('NdjsonDecoder with the WebAssembly accelerator against the JavaScript path', () => {
  it('gives the same batches, values, lines, or the same error, for inputs split anywhere', () => {
    let rows = 0;
    let accelerated = 0;
    fc.assert(
      fc.property(caseArb, (c) => {
        const r = check(c);
        rows += r.rows;
        accelerated += r.accelerated;
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    // The inputs reach the module (most of their rows), not only the JavaScript fallback.
    expect(accelerated).toBeGreaterThan(rows / 2);
  });

  /** Lines where the two paths once differed (differential fuzzing): each alone, then all in one input. */
  const REGRESSIONS: [ddl: string, lines: string[]][] = [
    // a double beyond the range (refused, not ±Infinity); an integer -0 (is +0.0 by the reference); rounding
    ['a DOUBLE', ['{"a":-0}', '{"a":-0.0}', '{"a":-0e0}', '{"a":-1e-400}', '{"a":1e309}', '{"a":-1e309}', '{"a":1.7976931348623159e308}', '{"a":1.7976931348623158e308}']],
    ['a ARRAY<DOUBLE>', ['{"a":[-0]}', '{"a":[-0, 1e309]}', '{"a":[1e309]}', '{"a":[0,-0]}', '{"a":[121.85770929016691610513589694164693355560302734375533]}']],
    ['a STRUCT<x: DOUBLE>', ['{"a":{"x":-0}}', '{"a":{"x":1e400}}']],
    // decimals beyond their precision (refused), and 64-bit wraps of the unscaled integer
    ['a DECIMAL(10,2)', ['{"a":100000000}', '{"a":99999999.99}', '{"a":99999999.995}', '{"a":1844674407370956}', '{"a":184467440737095.52}', '{"a":-1844674407370956}', '{"a":12}', '{"a":1}', '{"a":0.5}', '{"a":"1.5"}']],
    ['a DECIMAL(18,2)', ['{"a":184467440737095517}']],
    ['v STRUCT<d: DECIMAL(10,2), t: TIMESTAMP, n: INT>', ['{"v":{"d":100000000}}']],
    ['a DECIMAL(38,6)', ['{"a":18446744073711}', '{"a":-18446744073710}', '{"a":1844674407370956}']],
    ['a DECIMAL(38,20)', ['{"a":-20.29278393534}', '{"a":240}', '{"a":32.1}']],
    // NOT NULL fields of a struct that is null or absent, or a null list element
    ['w STRUCT<d: BIGINT NOT NULL>', ['{"w":null}', '{}', '{"w":{"d":1}}']],
    ['w ARRAY<STRUCT<d: BIGINT NOT NULL>>', ['{"w":[null]}', '{"w":[{"d":1},null]}']],
    ['w STRUCT<d: STRUCT<e: INT NOT NULL> NOT NULL>', ['{"w":null}']],
  ];
  it.each(REGRESSIONS)('%s: the lines where the paths once differed', (ddl, lines) => {
    const schema = parseDdl(ddl);
    const s: Setup = { schema, invalidUtf8: 'error', atStart: true };
    const same = (text: string) => {
      const chunks = [Buffer.from(text)];
      expectSame(decode(chunks, s, true), decode(chunks, s, false));
    };
    for (const l of lines) same(`${l}\n`);
    same(lines.map((l) => `${l}\n`).join(''));
  });

  it('fails when an accelerated value differs (self-check of the comparison)', () => {
    // One value of the accelerated batches changed after decoding: the first valid value of row 0
    // in a fixed-width column (doubles, integers, decimals, dates, timestamps), which the
    // comparison always reads. Every such change must be caught.
    const FIXED = new Set<number>([arrow.Type.Float, arrow.Type.Int, arrow.Type.Decimal, arrow.Type.Date, arrow.Type.Timestamp]);
    let flipped = 0;
    const flip: Tamper = (batches) => {
      for (const b of batches) {
        if (b.numRows === 0) continue;
        for (let k = 0; k < b.numCols; k++) {
          const d = rawColumn(b, k);
          const valid = !d.nullBitmap || d.nullBitmap.length === 0 || (d.nullBitmap[d.offset >> 3] >> (d.offset & 7)) & 1;
          if (FIXED.has(d.type.typeId) && valid) {
            const width = d.values.byteLength / d.values.length;
            new Uint8Array(d.values.buffer, d.values.byteOffset + d.offset * width * (d.type.typeId === arrow.Type.Decimal ? 4 : 1), 1)[0] ^= 1;
            flipped++;
            return;
          }
        }
        return;
      }
    };
    let caught = 0;
    let agreeing = 0;
    for (const c of fc.sample(caseArb, { seed: SEED, numRuns: 100 })) {
      const input = inputOf(c);
      const s: Setup = { schema: c.schema, chunkRows: c.chunkRows, invalidUtf8: c.invalidUtf8, atStart: true };
      const ref = decode([input], s, false);
      try {
        expectSame(decode([input], s, true), ref);
      } catch {
        continue; // the paths differ without a change (a divergence the property reports)
      }
      agreeing++;
      const before = flipped;
      const tampered = decode([input], s, true, flip);
      if (flipped === before) continue;
      try {
        expectSame(tampered, ref);
      } catch {
        caught++;
      }
    }
    expect(agreeing).toBeGreaterThan(50);
    expect(flipped).toBeGreaterThan(20);
    expect(caught).toBe(flipped);
  });
});
