import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Reject } from '../../src/arrow/coerce.js';
import { DeltaTable } from '../../src/delta/table.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { decimal, primitive } from '../../src/schema/schema.js';
import { decodeAddPath, encodeAddPath, hiveEscape, parsePartitionValue, partitionDirectory, partitionValueText } from '../../src/delta/partitions.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-partitions-');

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
    // Float.toString, as Spark writes a float partition value (the double's digits were 0.10000000149011612).
    expect(partitionValueText(primitive('float'), 0.1)).toBe('0.1');
    expect(partitionValueText(primitive('float'), 3.4028234663852886e38)).toBe('3.4028235E38');
    expect(partitionValueText(decimal(38, 18), '1.23')).toBe('1.230000000000000000');
    expect(partitionValueText(primitive('date'), '0001-01-01')).toBe('0001-01-01');
    expect(partitionValueText(primitive('timestamp'), '2024-06-15T12:30:45-07:00')).toBe('2024-06-15T19:30:45.000000Z');
    expect(partitionValueText(primitive('timestamp_ntz'), '2013-07-05T17:01:00.123456')).toBe('2013-07-05 17:01:00.123456');
    expect(partitionValueText(primitive('boolean'), true)).toBe('true');
    expect(partitionValueText(primitive('integer'), null)).toBeNull();
  });

  it('quote in add.path what java.net.URI quotes beyond ASCII (space characters, controls), as Hadoop does; other letters stay raw', () => {
    // Raw, Spark's new URI(add.path) refused these: "Illegal character in path".
    expect(encodeAddPath('p=a\u00a0b/f.parquet')).toBe('p=a%C2%A0b/f.parquet');
    expect(encodeAddPath('p=x\u2028y\u3000z\u0085/f')).toBe('p=x%E2%80%A8y%E3%80%80z%C2%85/f');
    expect(encodeAddPath('p=ünï名✓/f')).toBe('p=ünï名✓/f');
    for (const rel of ['p=a\u00a0b/f.parquet', 'p=x\u2028y\u3000z\u0085/f', 'p=\u2009 \u00a0%/f']) expect(decodeAddPath(encodeAddPath(rel), '/t')).toBe(rel);
  });

  it('write a BINARY value as the UTF-8 text of its bytes (what Spark and kernel read back), and refuse bytes that are not UTF-8', () => {
    const bytes = new Uint8Array([0xc3, 0xa9, 0xe5, 0x90, 0x8d, 0x68]);
    expect(partitionValueText(primitive('binary'), bytes)).toBe('é名h');
    expect([...(parsePartitionValue(primitive('binary'), 'é名h') as Uint8Array)]).toEqual([...bytes]);
    // Before: latin1 text ("Ã©..."), whose UTF-8 bytes (what Spark's cast to binary gives) are other bytes.
    expect(partitionValueText(primitive('binary'), new Uint8Array([0xff]))).toBeInstanceOf(Reject);
    expect(partitionValueText(primitive('binary'), new Uint8Array([0x00, 0x01]))).toBe('\u0000\u0001');
  });

  it('a table partitioned by a BINARY column: the log holds UTF-8 text, bytes read back exactly, and a value that is not UTF-8 is refused with the table unchanged', async () => {
    const t = await DeltaTable.forPath(path.join(tmp(), 't'));
    const schema = parseDdl('id INT, b BINARY');
    await t.append([{ id: 1, b: new Uint8Array([0xc3, 0xa9]) }, { id: 2, b: new Uint8Array([0x68, 0x69]) }], { create: { schema, partitionColumns: ['b'] } });
    expect([...t.snapshot.state.files.values()].map((f) => f.partitionValues.b).sort()).toEqual(['hi', 'é']);
    const back = await t.read();
    const rows = back.toArray().map((r) => ({ id: r.id, b: [...(r.b as Uint8Array)] })).sort((a, b) => a.id - b.id);
    expect(rows).toEqual([{ id: 1, b: [0xc3, 0xa9] }, { id: 2, b: [0x68, 0x69] }]);
    await expect(t.append([{ id: 3, b: new Uint8Array([0x61, 0xff]) }])).rejects.toThrow(/PARTITION_INVALID|row 0, column "b": value .* is not UTF-8/);
    expect(t.version).toBe(0);
  });

  it('a table partitioned by a FLOAT column: Spark\'s text in the log, the same float read back', async () => {
    const t = await DeltaTable.forPath(path.join(tmp(), 't'));
    await t.append([{ id: 1, f: 0.1 }, { id: 2, f: -2.5e-7 }], { create: { schema: parseDdl('id INT, f FLOAT'), partitionColumns: ['f'] } });
    expect([...t.snapshot.state.files.values()].map((x) => x.partitionValues.f).sort()).toEqual(['-2.5E-7', '0.1']);
    const rows = (await t.read()).toArray().map((r) => [r.id, r.f]).sort((a, b) => a[0] - b[0]);
    expect(rows).toEqual([[1, Math.fround(0.1)], [2, Math.fround(-2.5e-7)]]);
  });

  it('an empty string or binary in a NOT NULL partition column is refused, as Spark refuses it, and the table stays as it was', async () => {
    const t = await DeltaTable.forPath(path.join(tmp(), 't'));
    await t.append([{ id: 'a', v: 1 }], { create: { schema: parseDdl('id STRING NOT NULL, v INT'), partitionColumns: ['id'] } });
    // Stored as null before: delta-rs could not open the table, Spark's scan failed.
    await expect(t.append([{ id: 'b', v: 2 }, { id: '', v: 3 }])).rejects.toThrow(/row 1, column "id": an empty value in a NOT NULL partition column/);
    expect(t.version).toBe(0);
    const b = await DeltaTable.forPath(path.join(tmp(), 'b'));
    await expect(b.append([{ k: new Uint8Array(0), v: 1 }], { create: { schema: parseDdl('k BINARY NOT NULL, v INT'), partitionColumns: ['k'] } })).rejects.toThrow(/column "k": an empty value/);
    // A nullable column takes it as null, as Spark does.
    const n = await DeltaTable.forPath(path.join(tmp(), 'n'));
    await n.append([{ id: '', v: 1 }], { create: { schema: parseDdl('id STRING, v INT'), partitionColumns: ['id'] } });
    expect([...n.snapshot.state.files.values()][0].partitionValues.id).toBeNull();
  });
});
