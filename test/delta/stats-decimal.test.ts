import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rowsToRecordBatch } from '../../src/arrow/record-batch.js';
import { decimalToString } from '../../src/arrow/values.js';
import { computeStats } from '../../src/delta/stats.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { params } from '../support/input-edge-properties.js';

/**
 * A decimal column's min and max: values within ±2^53 are compared as doubles, larger ones by
 * their 128-bit words; either way the stats are the exact smallest and largest value.
 */
describe('per-file stats of decimals', () => {
  it('are the exact extremes, whatever the mix of small and large values and nulls', () => {
    const TWO53 = 2n ** 53n;
    const edges = [0n, 1n, TWO53 - 1n, TWO53, TWO53 + 1n, 2n ** 64n, 10n ** 37n, 10n ** 38n - 1n];
    const unscaled = fc.oneof(
      fc.constantFrom(...edges, ...edges.map((x) => -x)),
      fc.bigInt({ min: -3n, max: 3n }),
      fc.bigInt({ min: -(2n ** 54n), max: 2n ** 54n }),
      fc.bigInt({ min: -(10n ** 38n) + 1n, max: 10n ** 38n - 1n }),
    );
    fc.assert(
      fc.property(fc.nat(38), fc.array(fc.option(unscaled, { freq: 6, nil: null }), { minLength: 1, maxLength: 6 }), (scale, values) => {
        const schema = parseDdl(`d DECIMAL(38,${scale})`);
        const batch = rowsToRecordBatch(
          values.map((v) => ({ d: v === null ? null : decimalToString(v, scale) })),
          schema,
        );
        const present = values.filter((v): v is bigint => v !== null);
        const stats = JSON.parse(computeStats(batch.data, schema).replace(/("d":)(-?[\d.]+)/g, '$1"$2"')) as { minValues: { d?: string }; maxValues: { d?: string } };
        if (present.length === 0) {
          expect(stats.minValues.d).toBeUndefined();
          return;
        }
        const min = present.reduce((a, b) => (b < a ? b : a));
        const max = present.reduce((a, b) => (b > a ? b : a));
        expect(stats.minValues.d).toBe(decimalToString(min, scale));
        expect(stats.maxValues.d).toBe(decimalToString(max, scale));
      }),
      params(),
    );
  });
});
