import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { readFooter } from '../../src/parquet/footer.js';
import { ParquetWasmHandler } from '../../src/parquet/parquet-wasm.js';
import { plainColumns } from '../../src/parquet/plain-columns.js';
import { parseDdl } from '../../src/schema/ddl.js';

const ROWS = 2048;

/** DECIMAL(18,4) values as arrow-js holds them: four little-endian 32-bit words each. */
function decimals(unscaled: (i: number) => bigint): arrow.Data<arrow.Decimal> {
  const words = new Uint32Array(ROWS * 4);
  for (let i = 0; i < ROWS; i++) {
    const u = BigInt.asUintN(128, unscaled(i));
    for (let j = 0; j < 4; j++) words[i * 4 + j] = Number((u >> BigInt(32 * j)) & 0xffffffffn);
  }
  return arrow.makeData({ type: new arrow.Decimal(4, 18, 128), length: ROWS, nullCount: 0, data: words });
}

function batch(): arrow.RecordBatch {
  const cols: Record<string, arrow.Data> = {
    // Distinct in their first word only; in their second word only (negative, 18 digits at most).
    amount: decimals((i) => BigInt(i) * 10_000n + 1234n),
    big: decimals((i) => -(BigInt(i) << 33n) - 1n),
    // Few values: a dictionary pays.
    fee: decimals((i) => BigInt(i % 8) * 2500n),
    price: arrow.makeData({ type: new arrow.Float64(), length: ROWS, nullCount: 0, data: Float64Array.from({ length: ROWS }, (_, i) => i / 3) }),
    level: arrow.makeData({ type: new arrow.Int32(), length: ROWS, nullCount: 0, data: Int32Array.from({ length: ROWS }, (_, i) => i % 5) }),
    name: arrow.vectorFromArray(Array.from({ length: ROWS }, (_, i) => `name-${i}`), new arrow.Utf8()).data[0],
  };
  const fields = Object.entries(cols).map(([name, d]) => new arrow.Field(name, d.type, false));
  const schema = new arrow.Schema(fields);
  return new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct(fields), length: ROWS, nullCount: 0, children: Object.values(cols) }));
}

describe('plainColumns', () => {
  it('names the mostly distinct numeric and decimal columns, not the repetitive ones or strings', () => {
    expect(plainColumns(batch())).toEqual(['amount', 'big', 'price']);
  });

  it('the encoder writes those columns without a dictionary and keeps the others', async () => {
    const b = batch();
    const handler = new ParquetWasmHandler();
    try {
      const bytes = await handler.encode(new arrow.Table([b]), parseDdl('amount DECIMAL(18,4), big DECIMAL(18,4), fee DECIMAL(18,4), price DOUBLE, level INT, name STRING'), { compression: 'snappy', rowGroupRows: ROWS });
      const columns = readFooter(bytes).rowGroups[0].columns;
      const dictionary = Object.fromEntries(columns.map((c) => [c.path.join('.'), c.dictionaryPageOffset !== undefined]));
      expect(dictionary).toEqual({ amount: false, big: false, fee: true, price: false, level: true, name: true });
      // The values are what went in.
      const back = handler.read(bytes);
      expect(back.getChild('big')!.get(ROWS - 1)).toEqual(b.getChild('big')!.get(ROWS - 1));
      expect(back.getChild('fee')!.get(7)).toEqual(b.getChild('fee')!.get(7));
    } finally {
      await handler.close();
    }
  });
});
