import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import thrift from '@dsnp/parquetjs/dist/gen-nodejs/parquet_types.js';
import parquetUtil from '@dsnp/parquetjs/dist/lib/util.js';
import { rowsToRecordBatch, type Row } from '../../src/arrow/record-batch.js';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { array, decimal, field, map, primitive, struct, type DataType, type StructType } from '../../src/schema/schema.js';
import { decimalToString } from '../../src/arrow/values.js';
import { defaultKeyValueMetadata, type EncodeOptions } from '../../src/parquet/handler.js';
import { decimalByteLength, ParquetJsHandler } from '../../src/parquet/parquetjs.js';
import { ParquetWasmHandler } from '../../src/parquet/parquet-wasm.js';
import { readParquetToArrow } from '../../src/parquet/reader.js';

const p = primitive;

const SCHEMA: StructType = struct([
  field('id', p('long'), false),
  field('b', p('boolean')),
  field('i8', p('byte')),
  field('i16', p('short')),
  field('i32', p('integer')),
  field('i64', p('long')),
  field('f32', p('float')),
  field('f64', p('double')),
  field('s', p('string')),
  field('bin', p('binary')),
  field('d', p('date')),
  field('ts', p('timestamp')),
  field('ts_ntz', p('timestamp_ntz')),
  field('dec9', decimal(9, 2)),
  field('dec18', decimal(18, 4)),
  field('dec38', decimal(38, 18)),
  field('dec20', decimal(20, 0)),
  field('req_s', p('string'), false),
  field('req_dec', decimal(38, 18), false),
  field(
    'st',
    struct([
      field('a', p('integer')),
      field('b', p('string'), false),
      field('inner', struct([field('x', p('double')), field('y', array(p('long')))])),
    ]),
  ),
  field('arr', array(p('integer'))),
  field('arr_nn', array(p('string'), false), false),
  field('arr_st', array(struct([field('k', p('string')), field('v', decimal(38, 18))]))),
  field('arr_arr', array(array(p('integer')))),
  field('m', map(p('string'), p('long'))),
  field('m_nn', map(p('integer'), p('date'), false)),
  field('m_arr', map(p('string'), array(p('timestamp')))),
  field('m_st', map(p('string'), struct([field('q', p('date')), field('r', map(p('string'), p('binary')))]))),
]);

const ROWS: Row[] = [
  {
    id: 9223372036854775807n,
    b: true,
    i8: 127,
    i16: 32767,
    i32: 2147483647,
    i64: 9223372036854775807n,
    f32: 3.4028234663852886e38,
    f64: 1.7976931348623157e308,
    s: 'héllo 日本語 😀',
    bin: new Uint8Array([0, 255, 1, 128]),
    d: '1969-07-20',
    ts: '1969-12-31T23:59:59.999999Z',
    ts_ntz: '2024-02-29T12:34:56.123456',
    dec9: '9999999.99',
    dec18: '99999999999999.9999',
    dec38: '99999999999999999999.999999999999999999',
    dec20: '99999999999999999999',
    req_s: '',
    req_dec: '0.000000000000000001',
    st: { a: 1, b: 'x', inner: { x: 1.5, y: [1n, 9223372036854775807n, null] } },
    arr: [1, null, 3],
    arr_nn: ['a', 'b'],
    arr_st: [{ k: 'k1', v: '-12.3' }, null, { k: null, v: null }],
    arr_arr: [[1, 2], [], null, [null, 4]],
    m: [
      ['a', 1n],
      ['b', null],
    ],
    m_nn: [[1, '2000-01-01']],
    m_arr: [['t', [1700000000123456n, null, -1n]], ['e', []], ['n', null]],
    m_st: [['x', { q: '0001-01-01', r: [['z', new Uint8Array([1, 2])], ['w', null]] }], ['y', null]],
  },
  {
    id: -9223372036854775808n,
    b: null,
    i8: null,
    i16: null,
    i32: null,
    i64: null,
    f32: null,
    f64: null,
    s: null,
    bin: null,
    d: null,
    ts: null,
    ts_ntz: null,
    dec9: null,
    dec18: null,
    dec38: null,
    dec20: null,
    req_s: 'required',
    req_dec: '-99999999999999999999.999999999999999999',
    st: null,
    arr: null,
    arr_nn: [],
    arr_st: null,
    arr_arr: null,
    m: null,
    m_nn: null,
    m_arr: null,
    m_st: null,
  },
  {
    id: 0n,
    b: false,
    i8: -128,
    i16: -32768,
    i32: -2147483648,
    i64: -9223372036854775808n,
    f32: -1.25,
    f64: -0,
    s: '',
    bin: new Uint8Array([]),
    d: '1582-10-15',
    ts: -1234567890123457n,
    ts_ntz: '1900-01-01T00:00:00.000001',
    dec9: '-9999999.99',
    dec18: '-99999999999999.9999',
    dec38: '-99999999999999999999.999999999999999999',
    dec20: '-99999999999999999999',
    req_s: 'z',
    req_dec: '0',
    st: { a: null, b: '', inner: null },
    arr: [],
    arr_nn: ['only'],
    arr_st: [],
    arr_arr: [],
    m: [],
    m_nn: [],
    m_arr: [],
    m_st: [],
  },
  {
    id: 3n,
    b: true,
    i8: -1,
    i16: 1,
    i32: 0,
    i64: 9007199254740993n,
    f32: NaN,
    f64: Infinity,
    s: 'x'.repeat(1000),
    bin: new Uint8Array(300).fill(7),
    d: '9999-12-31',
    ts: '2024-06-01T10:00:00.5Z',
    ts_ntz: '1969-12-31T23:59:59.999999',
    dec9: '-0.01',
    dec18: '0.0001',
    dec38: '-0.000000000000000001',
    dec20: '1',
    req_s: 'ß',
    req_dec: '12345678901234567890.123456789012345678',
    st: { a: -5, b: 'y', inner: { x: null, y: [] } },
    arr: [null],
    arr_nn: [''],
    arr_st: [{ k: 'only', v: '1' }],
    arr_arr: [[null]],
    m: [['k', -9223372036854775808n]],
    m_nn: [
      [-1, '1970-01-01'],
      [2, '1969-12-31'],
    ],
    m_arr: [['u', [null]]],
    m_st: [['q', { q: null, r: null }], ['r', { q: '2020-02-02', r: [] }]],
  },
  {
    id: 4n,
    b: false,
    i8: 0,
    i16: -2,
    i32: 42,
    i64: -1n,
    f32: -Infinity,
    f64: NaN,
    s: 'last',
    bin: new Uint8Array([42]),
    d: '1970-01-01',
    ts: 0n,
    ts_ntz: 0n,
    dec9: '0',
    dec18: '-0.0001',
    dec38: '0',
    dec20: '0',
    req_s: 'end',
    req_dec: '-1.5',
    st: { a: 7, b: 'z', inner: { x: -0.5, y: [null, -9223372036854775808n] } },
    arr: [5, 6],
    arr_nn: ['p', 'q', 'r'],
    arr_st: [null, null],
    arr_arr: [null],
    m: [['z', 0n]],
    m_nn: [[0, '1600-03-01']],
    m_arr: [['v', [-62135596800000000n]]],
    m_st: [['s', { q: '1969-01-01', r: [['', new Uint8Array([])]] }]],
  },
];

/** Deterministic random rows for any schema (mulberry32). */
function randomRows(schema: StructType, n: number, seed: number): Row[] {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const big = (bits: number) => BigInt.asIntN(bits, (BigInt(int(0, 0xffffffff)) << 32n) | BigInt(int(0, 0xffffffff)));
  const chars = ['a', 'b', 'é', '日', '😀', ' ', 'Z'];
  const value = (t: DataType, nullable: boolean): unknown => {
    if (nullable && rnd() < 0.2) return null;
    switch (t.kind) {
      case 'struct':
        return Object.fromEntries(t.fields.map((f) => [f.name, value(f.type, f.nullable)]));
      case 'array':
        return Array.from({ length: int(0, 4) }, () => value(t.elementType, t.containsNull));
      case 'map': {
        const keys = new Set<unknown>();
        for (let k = int(0, 4); k > 0; k--) keys.add(value(t.keyType, false));
        return [...keys].map((k) => [k, value(t.valueType, t.valueContainsNull)]);
      }
      case 'decimal': {
        const digits = Array.from({ length: int(1, t.precision) }, () => int(0, 9)).join('');
        return decimalToString(BigInt(digits) * (rnd() < 0.5 ? -1n : 1n), t.scale);
      }
      case 'primitive':
        switch (t.name) {
          case 'boolean':
            return rnd() < 0.5;
          case 'byte':
            return int(-128, 127);
          case 'short':
            return int(-32768, 32767);
          case 'integer':
            return int(-2147483648, 2147483647);
          case 'long':
            return big(64);
          case 'float':
            return Math.fround((rnd() - 0.5) * 1e6);
          case 'double':
            return (rnd() - 0.5) * 1e300;
          case 'string':
            return Array.from({ length: int(0, 12) }, () => chars[int(0, chars.length - 1)]).join('');
          case 'binary':
            return new Uint8Array(Array.from({ length: int(0, 9) }, () => int(0, 255)));
          case 'date':
            return new Date(int(-719162, 2932896) * 86_400_000);
          case 'timestamp':
          case 'timestamp_ntz':
            return big(56);
        }
    }
    throw new Error('unreachable');
  };
  return Array.from({ length: n }, () => value(schema, false) as Row);
}

const OPTS: EncodeOptions = { compression: 'snappy', rowGroupRows: 1_000_000, keyValueMetadata: defaultKeyValueMetadata() };

function inputTable(): arrow.Table {
  return new arrow.Table([rowsToRecordBatch(ROWS, SCHEMA)]);
}

/** The Thrift footer of a Parquet file, decoded with parquetjs's own classes. */
function footer(bytes: Uint8Array): InstanceType<typeof thrift.FileMetaData> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(buf.subarray(0, 4).toString()).toBe('PAR1');
  expect(buf.subarray(buf.length - 4).toString()).toBe('PAR1');
  const len = buf.readUInt32LE(buf.length - 8);
  const md = new thrift.FileMetaData();
  parquetUtil.decodeThrift(md, buf.subarray(buf.length - 8 - len, buf.length - 8));
  return md;
}

/** Schema elements reduced to what defines the physical layout. */
function layout(bytes: Uint8Array) {
  const md = footer(bytes);
  return md.schema.slice(1).map((e) => ({
    name: e.name,
    type: e.type ?? null,
    type_length: e.type_length ?? null,
    repetition: e.repetition_type ?? null,
    num_children: e.num_children ?? null,
    converted: e.converted_type ?? null,
    scale: e.scale ?? null,
    precision: e.precision ?? null,
    logical: e.logicalType ? JSON.parse(JSON.stringify(e.logicalType, (_k, v) => (v === null ? undefined : v))) : null,
  }));
}

function dump(name: string, bytes: Uint8Array) {
  // For manual inspection (pyarrow, Spark): PARQUETJS_DUMP_DIR=/some/dir npx vitest run ...
  const dir = process.env.PARQUETJS_DUMP_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), bytes);
}

describe('ParquetJsHandler', () => {
  it('round-trips every Delta type, nulls at every level, through parquet-wasm', async () => {
    const input = inputTable();
    const bytes = await new ParquetJsHandler().encode(input, SCHEMA, OPTS);
    dump('parquetjs.parquet', bytes);
    dump('parquet-wasm.parquet', await new ParquetWasmHandler().encode(inputTable(), SCHEMA, OPTS));
    const back = readParquetToArrow(bytes);
    expect(back.numRows).toBe(ROWS.length);
    expect(back.schema.fields.map((f) => f.name)).toEqual(SCHEMA.fields.map((f) => f.name));
    const expected = arrowToRows(input);
    const actual = arrowToRows(back);
    for (let r = 0; r < expected.length; r++) {
      for (const f of SCHEMA.fields) expect({ row: r, column: f.name, value: actual[r][f.name] }).toEqual({ row: r, column: f.name, value: expected[r][f.name] });
    }
    // Spot checks that the comparison itself sees exact values.
    expect(actual[0].i64).toBe(9223372036854775807n);
    expect(actual[1].id).toBe(-9223372036854775808n);
    expect(actual[2].ts).toBe(-1234567890123457n);
    expect(actual[0].dec38).toBe('99999999999999999999.999999999999999999');
    expect(actual[2].dec9).toBe('-9999999.99');
    expect(actual[0].d).toBe('1969-07-20');
    expect(Object.is(actual[2].f64, -0)).toBe(true);
  });

  it('writes the same physical schema as the parquet-wasm (arrow-rs) encoder', async () => {
    const js = await new ParquetJsHandler().encode(inputTable(), SCHEMA, OPTS);
    const wasm = await new ParquetWasmHandler().encode(inputTable(), SCHEMA, OPTS);
    // Arrow JS renames a map's entries field to "entries" (ARROW-8716), so the arrow-rs file names
    // the repeated group of a MAP "entries"; this encoder uses the Parquet spec's "key_value".
    const wasmLayout = layout(wasm).map((e) => (e.name === 'entries' && e.repetition === thrift.FieldRepetitionType.REPEATED ? { ...e, name: 'key_value' } : e));
    expect(layout(js)).toEqual(wasmLayout);

    const els = footer(js).schema;
    const byName = (n: string) => els.find((e) => e.name === n)!;
    expect(byName('id').repetition_type).toBe(thrift.FieldRepetitionType.REQUIRED);
    expect(byName('i64').repetition_type).toBe(thrift.FieldRepetitionType.OPTIONAL);
    expect(byName('ts').type).toBe(thrift.Type.INT64);
    expect(byName('ts').logicalType?.TIMESTAMP?.isAdjustedToUTC).toBe(true);
    expect(byName('ts').logicalType?.TIMESTAMP?.unit.MICROS).toBeDefined();
    expect(byName('ts_ntz').logicalType?.TIMESTAMP?.isAdjustedToUTC).toBe(false);
    expect(byName('dec9').type).toBe(thrift.Type.INT32);
    expect(byName('dec18').type).toBe(thrift.Type.INT64);
    expect(byName('dec38').type).toBe(thrift.Type.FIXED_LEN_BYTE_ARRAY);
    expect(byName('dec38').type_length).toBe(16);
    expect(byName('dec20').type_length).toBe(9);
    expect(byName('i8').logicalType?.INTEGER).toEqual(expect.objectContaining({ bitWidth: 8, isSigned: true }));
  });

  it('writes footer metadata, row groups and compression as asked', async () => {
    for (const compression of ['snappy', 'uncompressed'] as const) {
      const bytes = await new ParquetJsHandler().encode(inputTable(), SCHEMA, { compression, rowGroupRows: 2, keyValueMetadata: { a: '1', 'org.apache.spark.version': '3.5.0' } });
      dump(`parquetjs-${compression}-rg2.parquet`, bytes);
      const md = footer(bytes);
      expect(md.row_groups.map((g) => Number(g.num_rows))).toEqual([2, 2, 1]);
      expect(Number(md.num_rows)).toBe(ROWS.length);
      const codec = compression === 'snappy' ? thrift.CompressionCodec.SNAPPY : thrift.CompressionCodec.UNCOMPRESSED;
      for (const g of md.row_groups) for (const c of g.columns) expect(c.meta_data?.codec).toBe(codec);
      expect(Object.fromEntries((md.key_value_metadata ?? []).map((kv) => [kv.key, kv.value]))).toEqual({ a: '1', 'org.apache.spark.version': '3.5.0' });
      expect(arrowToRows(readParquetToArrow(bytes))).toEqual(arrowToRows(inputTable()));
    }
  });

  it('shreds from Arrow buffers exactly as parquetjs shreds records (byte-identical files)', async () => {
    const rows = randomRows(SCHEMA, 700, 42);
    // Two batches, the second one sliced: 650 rows.
    const table = new arrow.Table([rowsToRecordBatch(rows.slice(0, 300), SCHEMA), rowsToRecordBatch(rows.slice(300), SCHEMA).slice(0, 350)]);
    const expected = arrowToRows(new arrow.Table([rowsToRecordBatch(rows.slice(0, 650), SCHEMA)]));
    for (const [pageRows, rowGroupRows, n] of [
      [8192, 1_000_000, 650],
      [7, 1_000_000, 650],
      [7, 50, 650],
      [16, 7, 650],
      [3, 1, 40],
    ] as const) {
      const input = n === 650 ? table : table.slice(0, n);
      const opts = { ...OPTS, rowGroupRows };
      const columnar = await new ParquetJsHandler({ pageRows }).encode(input, SCHEMA, opts);
      const reference = await new ParquetJsHandler({ pageRows, shredding: 'rows' }).encode(input, SCHEMA, opts);
      expect(Buffer.from(columnar).equals(Buffer.from(reference)), `pageRows ${pageRows}, rowGroupRows ${rowGroupRows}`).toBe(true);
      expect(footer(columnar).row_groups.length).toBe(Math.ceil(n / rowGroupRows));
      expect(arrowToRows(readParquetToArrow(columnar))).toEqual(expected.slice(0, n));
    }
  });

  it('refuses zstd with a clear error', async () => {
    await expect(new ParquetJsHandler().encode(inputTable(), SCHEMA, { ...OPTS, compression: 'zstd' })).rejects.toThrow(/parquetjs engine cannot write zstd/);
  });

  it('encodes sliced batches and tables of several batches', async () => {
    const batch = rowsToRecordBatch(ROWS, SCHEMA);
    const expected = arrowToRows(batch);
    const sliced = batch.slice(1, 4);
    const bytes = await new ParquetJsHandler().encode(new arrow.Table([sliced]), SCHEMA, OPTS);
    expect(arrowToRows(readParquetToArrow(bytes))).toEqual(expected.slice(1, 4));

    const two = new arrow.Table([rowsToRecordBatch(ROWS.slice(0, 2), SCHEMA), rowsToRecordBatch(ROWS.slice(2), SCHEMA)]);
    const bytes2 = await new ParquetJsHandler().encode(two, SCHEMA, { ...OPTS, rowGroupRows: 3 });
    expect(arrowToRows(readParquetToArrow(bytes2))).toEqual(expected);
  });

  it('writes an empty file that readers accept', async () => {
    const bytes = await new ParquetJsHandler().encode(new arrow.Table([rowsToRecordBatch([], SCHEMA)]), SCHEMA, OPTS);
    const back = readParquetToArrow(bytes);
    expect(back.numRows).toBe(0);
    expect(back.schema.fields.map((f) => f.name)).toEqual(SCHEMA.fields.map((f) => f.name));
  });

  it('keeps column order for integer-like column names', async () => {
    const s = struct([field('b', p('integer')), field('1', p('string')), field('a', struct([field('z', p('long')), field('0', p('long'))]))]);
    const rows = [{ b: 1, '1': 'one', a: { z: 2n, '0': 3n } }, { b: null, '1': null, a: null }];
    const bytes = await new ParquetJsHandler().encode(new arrow.Table([rowsToRecordBatch(rows, s)]), s, OPTS);
    const back = readParquetToArrow(bytes);
    expect(back.schema.fields.map((f) => f.name)).toEqual(['b', '1', 'a']);
    expect(arrowToRows(back)).toEqual(rows);
  });

  it('keeps min/max statistics only where they are exact', async () => {
    const bytes = await new ParquetJsHandler().encode(inputTable(), SCHEMA, OPTS);
    const cols = footer(bytes).row_groups[0].columns;
    const stats = (name: string) => cols.find((c) => c.meta_data?.path_in_schema.join('.') === name)!.meta_data!.statistics;
    const i64 = stats('i64')!;
    expect(Buffer.from(i64.min_value!).readBigInt64LE()).toBe(-9223372036854775808n);
    expect(Buffer.from(i64.max_value!).readBigInt64LE()).toBe(9223372036854775807n);
    expect(Number(i64.null_count)).toBe(1);
    expect(Buffer.from(stats('d')!.min_value!).readInt32LE()).toBe(-141427); // 1582-10-15
    for (const name of ['s', 'bin', 'f32', 'f64', 'dec38']) expect(stats(name)?.min_value ?? null).toBeNull();
  });

  it('computes minimal decimal byte lengths like arrow-rs', () => {
    expect([1, 2, 9, 10, 18, 19, 20, 28, 38].map(decimalByteLength)).toEqual([1, 1, 4, 5, 8, 9, 9, 12, 16]);
  });
});
