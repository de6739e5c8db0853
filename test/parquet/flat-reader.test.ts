import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { rowsToRecordBatch, type Row } from '../../src/arrow/record-batch.js';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { toArrowSchema } from '../../src/arrow/types.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { defaultKeyValueMetadata } from '../../src/parquet/handler.js';
import { FlatParquetReader } from '../../src/parquet/flat-reader.js';
import { ParquetJsHandler } from '../../src/parquet/parquetjs.js';
import { readParquetToArrow } from '../../src/parquet/reader.js';
import { snappyUncompress } from '../../src/parquet/snappy.js';
import { pw, type PW } from '../../src/parquet/wasm.js';

const SCHEMA = parseDdl(
  'id BIGINT NOT NULL, b BOOLEAN, i8 TINYINT, i16 SMALLINT, i32 INT, i64 BIGINT, f32 FLOAT, f64 DOUBLE, s STRING, bin BINARY, d DATE, ts TIMESTAMP, ts_ntz TIMESTAMP_NTZ, ' +
    'dec9 DECIMAL(9,2), dec18 DECIMAL(18,4), dec38 DECIMAL(38,18), dec20 DECIMAL(20,0), req_s STRING NOT NULL, same STRING, run BIGINT',
);
const ARROW = toArrowSchema(SCHEMA);

/** Deterministic pseudo-random rows with nulls, extremes, negative decimals and non-ASCII text. */
function rows(n: number, seed: number): Row[] {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  const maybe = <T>(v: T) => (rnd() < 0.2 ? null : v);
  const digits = (k: number) => Array.from({ length: k }, () => Math.floor(rnd() * 10)).join('');
  return Array.from({ length: n }, (_, i) => ({
    id: seed * 100_000 + i,
    b: maybe(rnd() < 0.5),
    i8: maybe(Math.floor(rnd() * 256) - 128),
    i16: maybe(Math.floor(rnd() * 65536) - 32768),
    i32: maybe(i % 17 === 0 ? -2147483648 : Math.floor(rnd() * 2 ** 32) - 2 ** 31),
    i64: maybe(i % 13 === 0 ? 9223372036854775807n : BigInt(Math.floor(rnd() * 2 ** 53)) * (rnd() < 0.5 ? -1n : 1n)),
    f32: maybe(Math.fround(rnd() * 1e6 - 5e5)),
    f64: maybe(i % 11 === 0 ? -0.5 : rnd() * 1e12),
    s: maybe(i % 7 === 0 ? '' : ['bitcoin', 'ethereum', 'ünïcødé ✓', `v${Math.floor(rnd() * 50)}`][i % 4]),
    bin: maybe(new Uint8Array([i & 255, 0, 255, Math.floor(rnd() * 256)])),
    d: maybe(new Date(Date.UTC(1500 + Math.floor(rnd() * 600), 0, 1 + Math.floor(rnd() * 365)))),
    ts: maybe(new Date(Date.UTC(2026, 10, 28) + Math.floor(rnd() * 1e10) - 5e9)),
    ts_ntz: maybe(new Date(Date.UTC(1960, 0, 1) + Math.floor(rnd() * 1e12))),
    dec9: maybe(`${rnd() < 0.5 ? '-' : ''}${digits(7)}.${digits(2)}`),
    dec18: maybe(`${rnd() < 0.5 ? '-' : ''}${digits(14)}.${digits(4)}`),
    dec38: maybe(`${rnd() < 0.5 ? '-' : ''}${digits(20)}.${digits(18)}`),
    dec20: maybe(`${rnd() < 0.5 ? '-' : ''}${digits(20)}`),
    req_s: `r${i % 3}`,
    same: 'constant',
    run: 42n,
  }));
}

const batchOf = (r: Row[]) => rowsToRecordBatch(r, SCHEMA);

type Variant = { name: string; props: () => PW.WriterProperties };
const base = () => new pw.WriterPropertiesBuilder().setKeyValueMetadata(new Map(Object.entries(defaultKeyValueMetadata())));
const VARIANTS: Variant[] = [
  { name: 'arrow-rs defaults: dictionary pages, Snappy, pages v1', props: () => base().setCompression(pw.Compression.SNAPPY).build() },
  { name: 'no dictionary, uncompressed', props: () => base().setCompression(pw.Compression.UNCOMPRESSED).setDictionaryEnabled(false).build() },
  { name: 'no dictionary, Snappy (long runs copy their own output)', props: () => base().setCompression(pw.Compression.SNAPPY).setDictionaryEnabled(false).build() },
  {
    name: 'many small pages and row groups',
    props: () => base().setCompression(pw.Compression.SNAPPY).setWriteBatchSize(16).setDataPageSizeLimit(256).setMaxRowGroupSize(300).build(),
  },
  {
    name: 'pages v2 with dictionaries and RLE booleans',
    props: () => base().setCompression(pw.Compression.SNAPPY).setWriterVersion(pw.WriterVersion.V2).setWriteBatchSize(64).setDataPageSizeLimit(2048).build(),
  },
];

function write(batch: arrow.RecordBatch, props: PW.WriterProperties): Uint8Array {
  return pw.writeParquet(pw.Table.fromIPCStream(arrow.tableToIPC(new arrow.Table([batch]), 'stream')), props);
}

/** What parquet-wasm (arrow-rs) reads from the file, as rows: the reference. */
const reference = (file: Uint8Array) => arrowToRows(readParquetToArrow(file));

describe('FlatParquetReader', () => {
  for (const v of VARIANTS) {
    it(`reads every flat type as arrow-rs does: ${v.name}`, () => {
      const file = write(batchOf(rows(1000, 3)), v.props());
      const reader = FlatParquetReader.for(ARROW)!;
      const ok = reader.append(file);
      expect(reader.lastRefusal).toBe('');
      expect(ok).toBe(true);
      const got = reader.flush();
      expect(got.schema.fields.map(String)).toEqual(ARROW.fields.map(String));
      expect(arrowToRows(got)).toEqual(reference(file));
    });
  }

  it('reads files written by the parquetjs engine', async () => {
    const batch = batchOf(rows(500, 5));
    const file = await new ParquetJsHandler().encode(new arrow.Table([batch]), SCHEMA, { compression: 'snappy', rowGroupRows: 200 });
    const reader = FlatParquetReader.for(ARROW)!;
    expect(reader.append(file), reader.lastRefusal).toBe(true);
    expect(arrowToRows(reader.flush())).toEqual(reference(file));
  });

  it('appends many files into one batch and starts over after a flush', () => {
    const files = [1, 2, 3, 4].map((s, k) => write(batchOf(rows(100 + s * 37, s)), VARIANTS[k % VARIANTS.length].props()));
    const reader = FlatParquetReader.for(ARROW, 64)!;
    for (const f of files.slice(0, 3)) expect(reader.append(f)).toBe(true);
    expect(reader.rows).toBe(137 + 174 + 211);
    expect(arrowToRows(reader.flush())).toEqual(files.slice(0, 3).flatMap(reference));
    expect(reader.rows).toBe(0);
    expect(reader.append(files[3])).toBe(true);
    expect(arrowToRows(reader.flush())).toEqual(reference(files[3]));
    expect(reader.filesRead).toBe(4);
  });

  it('refuses, leaving nothing behind, what it does not read: other codecs, encodings and types, damaged files', () => {
    const good = write(batchOf(rows(50, 7)), VARIANTS[0].props());
    const refused: Record<string, Uint8Array> = {
      zstd: write(batchOf(rows(50, 8)), base().setCompression(pw.Compression.ZSTD).build()),
      // arrow-rs writes DELTA_BINARY_PACKED integers in pages v2 without a dictionary.
      delta: write(batchOf(rows(50, 9)), base().setWriterVersion(pw.WriterVersion.V2).setDictionaryEnabled(false).build()),
      truncated: good.subarray(0, good.length - 100),
      notParquet: new TextEncoder().encode('{"not": "parquet"}'),
      // A damaged page header in the middle of the first column chunk.
      damaged: (() => {
        const d = good.slice();
        d.fill(0xff, 4, 40);
        return d;
      })(),
    };
    const otherTypes = toArrowSchema(parseDdl(SCHEMA.fields.map((f) => `${f.name} ${f.name === 'i32' ? 'BIGINT' : ddlType(f.type)}`).join(', ')));
    const reader = FlatParquetReader.for(ARROW)!;
    expect(reader.append(good)).toBe(true);
    for (const [name, f] of Object.entries(refused)) {
      expect(reader.append(f), name).toBe(false);
      expect(reader.rows, name).toBe(50);
    }
    expect(reader.lastRefusal).not.toBe('');
    expect(arrowToRows(reader.flush())).toEqual(reference(good));
    expect(reader.filesRefused).toBe(Object.keys(refused).length);
    // A column whose Parquet type is not the table's type is refused, not converted.
    const strict = FlatParquetReader.for(otherTypes)!;
    expect(strict.append(good)).toBe(false);
    expect(strict.lastRefusal).toContain('i32');
    // Nested tables are not for this reader at all.
    expect(FlatParquetReader.for(toArrowSchema(parseDdl('id BIGINT, tags ARRAY<STRING>')))).toBeUndefined();
  });
});

describe('snappyUncompress', () => {
  it('expands literals and copies, including copies that overlap their own output', () => {
    // "abc" as a literal, then a copy of 9 bytes from 3 back: a run that repeats "abc".
    const stream = new Uint8Array([12, (3 - 1) << 2, 97, 98, 99, ((9 - 4) << 2) | 1, 3]);
    expect(new TextDecoder().decode(snappyUncompress(stream, 12))).toBe('abcabcabcabc');
  });

  it('throws on a copy from before the start, a wrong length, or a truncated literal', () => {
    expect(() => snappyUncompress(new Uint8Array([4, ((4 - 4) << 2) | 1, 1]), 4)).toThrow(/copy out of range/);
    expect(() => snappyUncompress(new Uint8Array([3, 8, 97, 98, 99]), 4)).toThrow(/page says 4/);
    expect(() => snappyUncompress(new Uint8Array([3, 8, 97]), 3)).toThrow(/literal/);
  });
});

function ddlType(t: (typeof SCHEMA.fields)[number]['type']): string {
  if (t.kind === 'decimal') return `DECIMAL(${t.precision},${t.scale})`;
  if (t.kind !== 'primitive') throw new Error('flat only');
  return { string: 'STRING', long: 'BIGINT', integer: 'INT', short: 'SMALLINT', byte: 'TINYINT', double: 'DOUBLE', float: 'FLOAT', boolean: 'BOOLEAN', binary: 'BINARY', date: 'DATE', timestamp: 'TIMESTAMP', timestamp_ntz: 'TIMESTAMP_NTZ' }[t.name]!;
}
