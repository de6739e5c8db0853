import { describe, expect, it } from 'vitest';
import { decimal, primitive } from '../../src/schema/schema.js';
import { decodeAddPath, encodeAddPath, hiveEscape, partitionDirectory, partitionValueText } from '../../src/delta/partitions.js';

describe('partitions', () => {
  it('escape directory names like Spark and encode add.path once more as a URI', () => {
    // The examples of PROTOCOL.md / kernel's partition tests.
    expect(encodeAddPath(partitionDirectory(['p'], { p: 'a:b' }))).toBe('p=a%253Ab');
    expect(encodeAddPath(partitionDirectory(['p'], { p: 'hello world' }))).toBe('p=hello%20world');
    expect(encodeAddPath(partitionDirectory(['p'], { p: '2024-06-15 12:30:45' }))).toBe('p=2024-06-15%2012%253A30%253A45');
    expect(hiveEscape('a/b%c=d#e?f\\g{h[i]j^k*l\'m"n\tz')).toBe('a%2Fb%25c%3Dd%23e%3Ff%5Cg%7Bh%5Bi%5Dj%5Ek%2Al%27m%22n%09z');
    expect(hiveEscape('ünï }')).toBe('ünï }');
    expect(partitionDirectory(['a', 'b'], { a: null, b: '' })).toBe('a=__HIVE_DEFAULT_PARTITION__/b=__HIVE_DEFAULT_PARTITION__');
    const dir = partitionDirectory(['p'], { p: '50% off/ü' });
    expect(decodeAddPath(encodeAddPath(`${dir}/f.parquet`), '/t')).toBe(`${dir}/f.parquet`);
  });

  it('serialise values per the protocol', () => {
    expect(partitionValueText(primitive('string'), '')).toBeNull();
    expect(partitionValueText(primitive('string'), 'US/East')).toBe('US/East');
    expect(partitionValueText(primitive('long'), 9007199254740993n)).toBe('9007199254740993');
    expect(partitionValueText(primitive('double'), 1e10)).toBe('1.0E10');
    expect(partitionValueText(primitive('double'), 2.5)).toBe('2.5');
    expect(partitionValueText(primitive('float'), 1)).toBe('1.0');
    expect(partitionValueText(decimal(38, 18), '1.23')).toBe('1.230000000000000000');
    expect(partitionValueText(primitive('date'), '0001-01-01')).toBe('0001-01-01');
    expect(partitionValueText(primitive('timestamp'), '2024-06-15T12:30:45-07:00')).toBe('2024-06-15T19:30:45.000000Z');
    expect(partitionValueText(primitive('timestamp_ntz'), '2013-07-05T17:01:00.123456')).toBe('2013-07-05 17:01:00.123456');
    expect(partitionValueText(primitive('boolean'), true)).toBe('true');
    expect(partitionValueText(primitive('integer'), null)).toBeNull();
  });
});
