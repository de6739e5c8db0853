import { execFileSync } from 'node:child_process';
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArrowRsFile, ArrowRsWriteError, concatBytes, writeParquetFile } from '../../src/parquet/arrow-rs.js';
import { CREATED_BY, type WasmWriterConfig } from '../../src/parquet/wasm-properties.js';
import { pw, type PW } from '../../src/parquet/wasm.js';
import { readParquetToArrow } from '../../src/parquet/reader.js';
import { rowsToRecordBatch } from '../../src/arrow/record-batch.js';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { parseDdl } from '../../src/schema/ddl.js';

/**
 * The project's build of arrow-rs's Parquet writer (native/parquet-encode, src/parquet/arrow-rs.ts)
 * writes every file. It is the arrow-rs of parquet-wasm 0.8.0, built for speed: given the same
 * chunks and settings, it must write the same bytes as parquet-wasm's writer, which wrote every
 * file before (and which Spark, delta-rs and the interop suite read) - for every column type,
 * codec and writer setting the project uses.
 */

const SCHEMA = parseDdl(
  'id LONG NOT NULL, ts TIMESTAMP, ntz TIMESTAMP_NTZ, d DATE, x DOUBLE, f FLOAT, i INT, sh SHORT, by BYTE, s STRING, b BINARY, ok BOOLEAN, ' +
    'amount DECIMAL(20,4), small DECIMAL(9,2), pt STRUCT<n: LONG, tags: ARRAY<STRING>>, m MAP<STRING, LONG>, l ARRAY<LONG>',
);

const date = fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true });
const decimal = (digits: bigint, scale: number) =>
  fc.bigInt({ min: -digits + 1n, max: digits - 1n }).map((u) => {
    const a = u < 0n ? -u : u;
    const p = 10n ** BigInt(scale);
    return `${u < 0n ? '-' : ''}${a / p}.${String(a % p).padStart(scale, '0')}`;
  });
const row = fc.record({
  id: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  ts: fc.option(date),
  ntz: fc.option(date.map((t) => t.toISOString().slice(0, 23))),
  d: fc.option(date.map((t) => new Date(Math.floor(t.getTime() / 86_400_000) * 86_400_000))),
  x: fc.option(fc.double()),
  f: fc.option(fc.float({ noDefaultInfinity: false })),
  i: fc.option(fc.integer()),
  sh: fc.option(fc.integer({ min: -32768, max: 32767 })),
  by: fc.option(fc.integer({ min: -128, max: 127 })),
  s: fc.option(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom('usd', 'eur', 'bitcoin'))),
  b: fc.option(fc.uint8Array({ maxLength: 20 })),
  ok: fc.option(fc.boolean()),
  amount: fc.option(decimal(10n ** 20n, 4)),
  small: fc.option(decimal(10n ** 9n, 2)),
  pt: fc.option(fc.record({ n: fc.option(fc.integer()), tags: fc.option(fc.array(fc.option(fc.string({ maxLength: 8 })), { maxLength: 4 })) })),
  m: fc.option(fc.dictionary(fc.string({ maxLength: 6 }), fc.option(fc.integer()), { maxKeys: 4 })),
  l: fc.option(fc.array(fc.option(fc.integer()), { maxLength: 5 })),
});

const settings = fc.record({
  compression: fc.constantFrom('snappy' as const, 'zstd' as const, 'uncompressed' as const),
  rowGroupRows: fc.integer({ min: 1, max: 400 }),
  chunkStatisticsOnly: fc.boolean(),
  keyValueMetadata: fc.option(fc.dictionary(fc.constantFrom('a', 'delta.x', 'k'), fc.string({ maxLength: 10 }), { maxKeys: 1 }), { nil: undefined }),
  plainColumns: fc.subarray(['id', 'x', 'ts', 'amount', 's', 'i']),
});

/** The same batch, with Parquet field ids on its top-level and struct fields (column mapping's physical schema). */
function withFieldIds(batch: arrow.RecordBatch): arrow.RecordBatch {
  let next = 1;
  const field = (f: arrow.Field): arrow.Field => {
    const type = f.type instanceof arrow.Struct ? new arrow.Struct(f.type.children.map(field)) : f.type;
    return new arrow.Field(f.name, type, f.nullable, new Map([['PARQUET:field_id', String(next++)]]));
  };
  return new arrow.RecordBatch(new arrow.Schema(batch.schema.fields.map(field)), batch.data);
}

/** parquet-wasm's writer, as the project configured it before (wasm-properties.ts, parquet-wasm 0.8.0). */
function parquetWasmProperties(c: WasmWriterConfig): PW.WriterProperties {
  let b = new pw.WriterPropertiesBuilder()
    .setCompression({ snappy: pw.Compression.SNAPPY, zstd: pw.Compression.ZSTD, uncompressed: pw.Compression.UNCOMPRESSED }[c.compression])
    .setMaxRowGroupSize(c.rowGroupRows)
    .setWriterVersion(pw.WriterVersion.V1)
    .setCreatedBy(CREATED_BY);
  if (c.chunkStatisticsOnly) b = b.setStatisticsEnabled(pw.EnabledStatistics.Chunk);
  if (c.keyValueMetadata) b = b.setKeyValueMetadata(new Map(Object.entries(c.keyValueMetadata)));
  for (const col of c.plainColumns) b = b.setColumnDictionaryEnabled(col, false);
  return b.build();
}

/** The chunks written through parquet-wasm's stream writer, as the encoder thread did. */
async function parquetWasmFile(c: WasmWriterConfig, chunks: Uint8Array[]): Promise<Uint8Array> {
  let k = 0;
  const input = new ReadableStream<PW.RecordBatch>(
    {
      pull(controller) {
        if (k >= chunks.length) return controller.close();
        const table = pw.Table.fromIPCStream(chunks[k++]);
        for (const rb of table.recordBatches()) controller.enqueue(rb);
        table.free();
      },
    },
    { highWaterMark: 0 },
  );
  const parts: Uint8Array[] = [];
  for await (const p of (await pw.transformParquetStream(input, parquetWasmProperties(c))) as ReadableStream<Uint8Array>) parts.push(p);
  return concatBytes(parts);
}

const ipc = (batch: arrow.RecordBatch) => arrow.tableToIPC(new arrow.Table([batch]), 'stream');

describe('the Parquet writer (native/parquet-encode)', () => {
  it('writes the bytes parquet-wasm wrote, for every column type, codec and setting, in chunks across row groups (seeded)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(row, { minLength: 0, maxLength: 150 }), { minLength: 1, maxLength: 4 }), settings, fc.boolean(), async (chunkRows, s, ids) => {
        const config: WasmWriterConfig = { ...s };
        const chunks = chunkRows.map((rows) => {
          const batch = rowsToRecordBatch(rows, SCHEMA);
          return ipc(ids ? withFieldIds(batch) : batch);
        });
        const ours = writeParquetFile(config, chunks);
        const theirs = await parquetWasmFile(config, chunks);
        expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
        const rows = chunkRows.flat();
        const back = readParquetToArrow(ours);
        expect(back.numRows).toBe(rows.length);
        if (rows.length) expect(arrowToRows(back.batches[0]).map((r) => r.id)).toEqual(rows.slice(0, back.batches[0].numRows).map((r) => r.id));
      }),
      { seed: 20261206, numRuns: 60 },
    );
  }, 300_000);

  it('hands its bytes out as it makes them: the header and each full row group before the footer', () => {
    const config: WasmWriterConfig = { compression: 'snappy', rowGroupRows: 100, plainColumns: [] };
    const file = new ArrowRsFile(config);
    const rows = Array.from({ length: 250 }, (_, i) => ({ id: BigInt(i) }));
    const schema = parseDdl('id LONG NOT NULL');
    const parts: Uint8Array[] = [];
    const taken: boolean[] = [];
    for (const from of [0, 120, 240]) {
      file.writeIpc(ipc(rowsToRecordBatch(rows.slice(from, from + 120), schema)));
      const p = file.take();
      taken.push(p !== undefined);
      if (p) parts.push(p);
      expect(file.take()).toBeUndefined(); // taken once
    }
    // 120 rows in: the header and the first row group; 240: the second; 250: the third still open.
    expect(taken).toEqual([true, true, false]);
    expect(Buffer.from(parts[0].subarray(0, 4)).toString('latin1')).toBe('PAR1');
    parts.push(file.finish());
    const bytes = concatBytes(parts);
    expect(file.rows).toBe(250);
    const back = readParquetToArrow(bytes);
    expect(back.numRows).toBe(250);
    expect(Number(back.getChild('id')!.get(249))).toBe(249);
  });

  it('refuses a chunk whose Arrow schema is not the first chunk\'s (SCHEMA_MISMATCH), and a finished file', () => {
    const file = new ArrowRsFile({ compression: 'snappy', rowGroupRows: 100, plainColumns: [] });
    file.writeIpc(ipc(rowsToRecordBatch([{ a: 1 }], parseDdl('a INT'))));
    let err: unknown;
    try {
      file.writeIpc(ipc(rowsToRecordBatch([{ a: 1n }], parseDdl('a LONG'))));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArrowRsWriteError);
    expect((err as ArrowRsWriteError).code).toBe('SCHEMA_MISMATCH');
    expect(file.rows).toBe(1);
    file.finish();
    const other = new ArrowRsFile({ compression: 'snappy', rowGroupRows: 100, plainColumns: [] });
    other.close();
    expect(() => other.writeIpc(ipc(rowsToRecordBatch([{ a: 1 }], parseDdl('a INT'))))).toThrow(/no open file/);
    expect(() => new ArrowRsFile({ compression: 'lz4' as never, rowGroupRows: 100, plainColumns: [] })).toThrow(/unknown compression lz4/);
  });

  it('writes a chunk of no rows as a file with the columns and no rows (as parquet-wasm did)', async () => {
    const config: WasmWriterConfig = { compression: 'snappy', rowGroupRows: 100, plainColumns: [] };
    const empty = arrow.tableToIPC(new arrow.Table(new arrow.Schema([new arrow.Field('a', new arrow.Int32(), true)])), 'stream');
    const ours = writeParquetFile(config, [empty]);
    expect(Buffer.from(ours).equals(Buffer.from(pw.writeParquet(pw.Table.fromIPCStream(empty), parquetWasmProperties(config))))).toBe(true);
    const back = readParquetToArrow(ours);
    expect(back.numRows).toBe(0);
    expect(back.schema.fields.map((f) => f.name)).toEqual(['a']);
  });

  it('appends the rows of whole Parquet files (OPTIMIZE), read with the Arrow schema their writer stored', () => {
    const config: WasmWriterConfig = { compression: 'zstd', rowGroupRows: 1000, plainColumns: [] };
    const schema = parseDdl('id LONG NOT NULL, s STRING, m MAP<STRING, LONG>');
    const a = writeParquetFile(config, [ipc(rowsToRecordBatch([{ id: 1n, s: 'x', m: { k: 1 } }], schema))]);
    const b = writeParquetFile(config, [ipc(rowsToRecordBatch([{ id: 2n, s: null, m: null }], schema))]);
    const file = new ArrowRsFile(config);
    file.writeParquet(a);
    file.writeParquet(b);
    const back = arrowToRows(readParquetToArrow(concatBytes([file.take() ?? new Uint8Array(0), file.finish()])).batches[0]);
    expect(back).toEqual([
      { id: 1n, s: 'x', m: [['k', 1n]] },
      { id: 2n, s: null, m: null },
    ]);
  });

  it('its committed module is what native/parquet-encode builds (scripts/build-wasm.mjs parquet-encode --check; needs cargo, the wasm32-unknown-unknown target and clang)', () => {
    const out = execFileSync(process.execPath, ['scripts/build-wasm.mjs', 'parquet-encode', '--check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toMatch(/parquet-encode\.wasm is the crate's build/);
  }, 900_000);
});
