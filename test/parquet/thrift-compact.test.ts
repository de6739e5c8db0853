import { describe, expect, it } from 'vitest';
import { CompactReader, ThriftError } from '../../src/parquet/thrift-compact.js';

// A struct with one field of every kind, encoded by hand in the compact protocol:
// 1: i32 -3, 2: binary "ab", 3: list<bool> [true, false], 4: map<i32, binary> {1: "x"},
// 5: struct {1: i64 7}, 6: bool true, 20 (long-form id): i32 9.
const BYTES = new Uint8Array([
  0x15, 0x05,
  0x18, 0x02, 0x61, 0x62,
  0x19, 0x21, 0x01, 0x02,
  0x1b, 0x01, 0x58, 0x02, 0x01, 0x78,
  0x1c, 0x16, 0x0e, 0x00,
  0x11,
  0x05, 0x28, 0x12,
  0x00,
]);

describe('CompactReader', () => {
  it('reads every kind of field', () => {
    const r = new CompactReader(BYTES);
    const s = r.readStruct();
    expect(s[1]).toBe(-3);
    expect(new TextDecoder().decode(s[2] as Uint8Array)).toBe('ab');
    expect(s[3]).toEqual([true, false]);
    expect(s[4]).toEqual([[1, new Uint8Array([0x78])]]);
    expect((s[5] as number[])[1]).toBe(7);
    expect(s[6]).toBe(true);
    expect(s[20]).toBe(9);
    expect(r.pos).toBe(BYTES.length);
  });

  it('skips the fields a spec leaves out, ending in the same place', () => {
    const r = new CompactReader(BYTES);
    const s = r.readStruct({ 5: { 1: true }, 20: true });
    expect(Object.keys(s)).toEqual(['5', '20']);
    expect((s[5] as number[])[1]).toBe(7);
    expect(s[20]).toBe(9);
    expect(r.pos).toBe(BYTES.length);
    const none = new CompactReader(BYTES);
    expect(Object.keys(none.readStruct({}))).toEqual([]);
    expect(none.pos).toBe(BYTES.length);
  });

  it('throws on truncated input and on lengths longer than the input, read or skipped', () => {
    expect(() => new CompactReader(BYTES.subarray(0, 12)).readStruct()).toThrow(ThriftError);
    expect(() => new CompactReader(BYTES.subarray(0, 12)).readStruct({})).toThrow(ThriftError);
    expect(() => new CompactReader(new Uint8Array([0x18, 0x7f, 0x61])).readStruct({})).toThrow(/binary runs past/);
    expect(() => new CompactReader(new Uint8Array([0x19, 0xf5, 0xff, 0xff, 0x03])).readStruct()).toThrow(/list longer/);
  });
});
