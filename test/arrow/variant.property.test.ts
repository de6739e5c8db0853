import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { variantProblem, variantToJs, variantToJson } from '../../src/arrow/variant/decode.js';
import { encodeVariant } from '../../src/arrow/variant/encode.js';
import { Variant, VariantInputError } from '../../src/arrow/variant/variant.js';
import { parseJsonExact } from '../../src/json/exact-parse.js';
import { JsonNumber } from '../../src/json/json-number.js';
import { numberToken } from '../support/edge-cases.js';
import { params } from '../support/input-edge-properties.js';

/**
 * The Variant binary encoding (src/arrow/variant/) against an independent model: JSON documents
 * are generated as trees, rendered to text, parsed by the exact parser and encoded; a reference
 * decoder written here from apache/parquet-format's VariantEncoding.md (not the one in src/)
 * reads the bytes back into a typed tree, which must equal what Spark's parse_json makes of the
 * text (the model below: the smallest integer that holds it, a decimal with the token's exact
 * digits and scale, else a double), with every layout rule of the spec checked on the way.
 */

// ---------------------------------------------------------------------------------------------
// Generated documents

type Doc = { k: 'null' } | { k: 'bool'; v: boolean } | { k: 'num'; t: string } | { k: 'str'; v: string } | { k: 'arr'; items: Doc[] } | { k: 'obj'; fields: [string, Doc][] };

const key = fc.oneof(
  { weight: 4, arbitrary: fc.string({ minLength: 0, maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 4 }) },
  // Keys on both sides of the UTF-16 / UTF-8 order difference, and ones JavaScript reorders.
  { weight: 1, arbitrary: fc.constantFrom('\uff01', '\u{1f600}', '\ue000', '10', '2', '__proto__', 'toJSON', 'a'.repeat(300)) },
);
const text = fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 20 }) }, { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 60, maxLength: 70 }) });

const { doc } = fc.letrec<{ doc: Doc }>((tie) => ({
  doc: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant<Doc>({ k: 'null' }),
    fc.boolean().map<Doc>((v) => ({ k: 'bool', v })),
    numberToken.map<Doc>((t) => ({ k: 'num', t })),
    text.map<Doc>((v) => ({ k: 'str', v })),
    fc.array(tie('doc'), { maxLength: 6 }).map<Doc>((items) => ({ k: 'arr', items })),
    fc.uniqueArray(fc.tuple(key, tie('doc')), { selector: ([k]) => k, maxLength: 6 }).map<Doc>((fields) => ({ k: 'obj', fields })),
  ),
}));

function render(d: Doc): string {
  switch (d.k) {
    case 'null':
      return 'null';
    case 'bool':
      return String(d.v);
    case 'num':
      return d.t;
    case 'str':
      return JSON.stringify(d.v);
    case 'arr':
      return `[${d.items.map(render).join(',')}]`;
    case 'obj':
      return `{${d.fields.map(([k, v]) => `${JSON.stringify(k)}:${render(v)}`).join(',')}}`;
  }
}

// ---------------------------------------------------------------------------------------------
// The model: what parse_json makes of a document

type Typed =
  | { t: 'null' }
  | { t: 'bool'; v: boolean }
  | { t: 'int'; bytes: number; v: bigint }
  | { t: 'decimal'; bytes: number; unscaled: bigint; scale: number }
  | { t: 'double'; v: number }
  | { t: 'string'; v: string }
  | { t: 'array'; items: Typed[] }
  | { t: 'object'; fields: [string, Typed][] };

class OutOfRange extends Error {}

function model(d: Doc): Typed {
  switch (d.k) {
    case 'null':
      return { t: 'null' };
    case 'bool':
      return { t: 'bool', v: d.v };
    case 'str':
      return { t: 'string', v: d.v };
    case 'arr':
      return { t: 'array', items: d.items.map(model) };
    case 'obj': {
      // Listed in key order: Spark's, UTF-16 code units (the spec says UTF-8 bytes; see compareKeys).
      const fields = d.fields.map(([k, v]): [string, Typed] => [k, model(v)]);
      return { t: 'object', fields: fields.sort(([a], [b]) => utf16Order(a, b)) };
    }
    case 'num': {
      const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(d.t);
      if (m && m[3] === undefined) {
        const v = BigInt(d.t);
        for (const bytes of [1, 2, 4, 8]) if (v >= -(2n ** BigInt(bytes * 8 - 1)) && v < 2n ** BigInt(bytes * 8 - 1)) return { t: 'int', bytes, v };
      }
      if (m) {
        const scale = (m[3] ?? '').length;
        const magnitude = BigInt(m[2] + (m[3] ?? ''));
        const precision = magnitude === 0n ? 1 : magnitude.toString().length;
        const fits = (p: number) => scale <= p && precision <= p;
        if (fits(38)) return { t: 'decimal', bytes: fits(9) ? 4 : fits(18) ? 8 : 16, unscaled: m[1] ? -magnitude : magnitude, scale };
      }
      const x = Number(d.t);
      if (!Number.isFinite(x)) throw new OutOfRange();
      return { t: 'double', v: x };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The reference decoder, from the spec, checking its layout rules as it reads

/** Java's String.compareTo: UTF-16 code units, then length. */
function utf16Order(a: string, b: string): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return a.charCodeAt(i) - b.charCodeAt(i);
  return a.length - b.length;
}

function le(b: Uint8Array, pos: number, n: number): number {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + b[pos + i];
  return v;
}
function leSigned(b: Uint8Array, pos: number, n: number): bigint {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[pos + i]);
  return BigInt.asIntN(n * 8, v);
}
const minBytes = (v: number) => (v < 256 ? 1 : v < 65536 ? 2 : v < 2 ** 24 ? 3 : 4);

function dictionary(m: Uint8Array): string[] {
  expect(m[0] & 0x0f).toBe(1); // version 1
  expect((m[0] >> 4) & 1).toBe(0); // not marked sorted (as Spark writes it)
  const os = (m[0] >> 6) + 1;
  const n = le(m, 1, os);
  const offsets = Array.from({ length: n + 1 }, (_, i) => le(m, 1 + os + i * os, os));
  const start = 1 + os + (n + 1) * os;
  expect(offsets[0]).toBe(0);
  expect(start + offsets[n]).toBe(m.length);
  expect(os).toBe(minBytes(Math.max(offsets[n], n)));
  const keys = offsets.slice(0, -1).map((o, i) => Buffer.from(m.subarray(start + o, start + offsets[i + 1])).toString('utf8'));
  expect(new Set(keys).size).toBe(keys.length); // each key once
  return keys;
}

/** Returns the typed value at `pos` and the position after it. */
function decode(v: Uint8Array, pos: number, keys: string[]): [Typed, number] {
  const h = v[pos];
  const basic = h & 3;
  const hdr = h >> 2;
  if (basic === 1) return [{ t: 'string', v: Buffer.from(v.subarray(pos + 1, pos + 1 + hdr)).toString('utf8') }, pos + 1 + hdr];
  if (basic === 2 || basic === 3) {
    const isObj = basic === 2;
    const large = isObj ? (hdr >> 4) & 1 : (hdr >> 2) & 1;
    const idSize = isObj ? ((hdr >> 2) & 3) + 1 : 0;
    const offSize = (hdr & 3) + 1;
    const n = le(v, pos + 1, large ? 4 : 1);
    expect(large).toBe(n > 255 ? 1 : 0);
    const ids = pos + 1 + (large ? 4 : 1);
    const offs = ids + n * idSize;
    const data = offs + (n + 1) * offSize;
    const end = data + le(v, offs + n * offSize, offSize);
    expect(offSize).toBe(minBytes(end - data));
    const children: Typed[] = [];
    const names: string[] = [];
    let covered = 0;
    for (let i = 0; i < n; i++) {
      const [c, after] = decode(v, data + le(v, offs + i * offSize, offSize), keys);
      expect(after).toBeLessThanOrEqual(end);
      covered += after - (data + le(v, offs + i * offSize, offSize));
      children.push(c);
      if (isObj) names.push(keys[le(v, ids + i * idSize, idSize)]);
    }
    expect(covered).toBe(end - data); // the values fill the data area exactly
    if (!isObj) return [{ t: 'array', items: children }, end];
    const ids_ = Array.from({ length: n }, (_, i) => le(v, ids + i * idSize, idSize));
    expect(idSize).toBe(minBytes(Math.max(0, ...ids_)));
    for (let i = 1; i < n; i++) expect(utf16Order(names[i - 1], names[i])).toBeLessThan(0);
    return [{ t: 'object', fields: names.map((k, i) => [k, children[i]]) }, end];
  }
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  switch (hdr) {
    case 0:
      return [{ t: 'null' }, pos + 1];
    case 1:
    case 2:
      return [{ t: 'bool', v: hdr === 1 }, pos + 1];
    case 3:
    case 4:
    case 5:
    case 6: {
      const bytes = [1, 2, 4, 8][hdr - 3];
      return [{ t: 'int', bytes, v: leSigned(v, pos + 1, bytes) }, pos + 1 + bytes];
    }
    case 7:
      return [{ t: 'double', v: dv.getFloat64(pos + 1, true) }, pos + 9];
    case 8:
    case 9:
    case 10: {
      const bytes = [4, 8, 16][hdr - 8];
      return [{ t: 'decimal', bytes, scale: v[pos + 1], unscaled: leSigned(v, pos + 2, bytes) }, pos + 2 + bytes];
    }
    case 16: {
      const n = le(v, pos + 1, 4);
      expect(n).toBeGreaterThan(63); // shorter strings are short strings
      return [{ t: 'string', v: Buffer.from(v.subarray(pos + 5, pos + 5 + n)).toString('utf8') }, pos + 5 + n];
    }
    default:
      throw new Error(`type ${hdr} is not one parse_json writes`);
  }
}

function reference(x: Variant): Typed {
  const [t, end] = decode(x.value, 0, dictionary(x.metadata));
  expect(end).toBe(x.value.length);
  return t;
}

// ---------------------------------------------------------------------------------------------

/**
 * Checks JSON text printed for a variant against the model, leaf by leaf: integers and decimals
 * as their exact text (decimals with their scale), doubles as a floating-point literal of the same
 * value, strings, booleans and nulls as they are.
 */
function matchesShown(t: Typed, shown: unknown): void {
  const numText = (x: unknown) => (x instanceof JsonNumber ? x.text : typeof x === 'number' ? String(x) : undefined);
  switch (t.t) {
    case 'int':
      expect(numText(shown)).toBe(String(t.v));
      return;
    case 'decimal': {
      const neg = t.unscaled < 0n;
      const d = (neg ? -t.unscaled : t.unscaled).toString().padStart(t.scale + 1, '0');
      expect(numText(shown)).toBe(`${neg ? '-' : ''}${t.scale ? `${d.slice(0, -t.scale)}.${d.slice(-t.scale)}` : d}`);
      return;
    }
    case 'double': {
      const text = numText(shown)!;
      expect(text).toMatch(/[.e]/);
      expect(Number(text)).toBe(t.v);
      return;
    }
    case 'array':
      expect(Array.isArray(shown)).toBe(true);
      expect((shown as unknown[]).length).toBe(t.items.length);
      t.items.forEach((x, i) => matchesShown(x, (shown as unknown[])[i]));
      return;
    case 'object': {
      const o = shown as Record<string, unknown>;
      expect(Object.keys(o).sort()).toEqual(t.fields.map(([k]) => k).sort());
      for (const [k, v] of t.fields) matchesShown(v, o[k]);
      return;
    }
    case 'null':
      expect(shown).toBeNull();
      return;
    default:
      expect(shown).toBe(t.v);
  }
}

describe('Variant encoding', () => {
  it('encodes what parse_json makes of any JSON document, in the layout the spec prescribes', () => {
    fc.assert(
      fc.property(doc, (d) => {
        const json = render(d);
        let expected: Typed | undefined;
        try {
          expected = model(d);
        } catch (e) {
          if (!(e instanceof OutOfRange)) throw e;
        }
        const value = parseJsonExact(json);
        if (expected === undefined) {
          // A number beyond a double's range is refused, never stored as an infinity.
          expect(() => encodeVariant(value)).toThrow(VariantInputError);
          return;
        }
        const v = encodeVariant(value);
        expect(reference(v)).toEqual(expected);
        expect(variantProblem(v.metadata, v.value)).toBeUndefined();
        // A copy (a Variant handed in as bytes) is the same value.
        expect(reference(encodeVariant(v))).toEqual(expected);
      }),
      params(1500),
    );
  });

  it('prints the exact digits it was given (decimals with their scale), doubles as floating-point literals', () => {
    fc.assert(
      fc.property(doc, (d) => {
        let expected: Typed;
        try {
          expected = model(d);
        } catch {
          return;
        }
        const v = encodeVariant(parseJsonExact(render(d)));
        matchesShown(expected, parseJsonExact(variantToJson(v.metadata, v.value)));
      }),
      params(1000),
    );
  });

  it('matches the bytes Spark 4.1 parse_json wrote for a document (read from a Spark-written file)', () => {
    // parse_json('{"a":{"b":1.5},"c":[1,2,"x"],"d":null,"e":12345678901234567890}') in Spark 4.1.1.
    const v = encodeVariant(parseJsonExact('{"a":{"b":1.5},"c":[1,2,"x"],"d":null,"e":12345678901234567890}'));
    expect(Buffer.from(v.value).toString('hex')).toBe('020400020304000b17182a020101000620010f0000000303000204060c010c020578002800d20a1feb8ca954ab0000000000000000');
    expect(Buffer.from(v.metadata).toString('hex')).toBe('01050001020304056162636465');
    // parse_json('null'): a variant null, with an empty dictionary.
    const n = encodeVariant(null);
    expect([Buffer.from(n.value).toString('hex'), Buffer.from(n.metadata).toString('hex')]).toEqual(['00', '010000']);
  });

  it('takes JavaScript values as their JSON text says, and the types JSON lacks', () => {
    const show = (x: unknown) => {
      const v = encodeVariant(x);
      return variantToJson(v.metadata, v.value);
    };
    // A number stands for its shortest text, as the JSON parser made it from a line (2 ** 60 is
    // 1152921504606847000 there); a BigInt for its digits.
    expect(show({ b: 2, a: [1.5, 0.1, 1e21, -0, 2 ** 60, 2n ** 60n, 12345678901234567890n, NaN] })).toBe('{"a":[1.5,0.1,1e+21,0,1152921504606847000,1152921504606846976,12345678901234567890,"NaN"],"b":2}');
    expect(show(new Map([['k', new Uint8Array([1, 2, 255])]]))).toBe('{"k":"AQL/"}');
    expect(show(new Date(Date.UTC(2026, 10, 28, 10, 0, 0, 123)))).toBe('"2026-11-28T10:00:00.123000Z"');
    expect(show({ x: undefined, y: [undefined] })).toBe('{"y":[null]}');
    const byJs = variantToJs(encodeVariant({ __proto__: null, toJSON: 1 }).metadata, encodeVariant({ toJSON: 1 }).value) as Record<string, unknown>;
    expect(Object.keys(byJs)).toEqual(['toJSON']);
  });

  it('refuses what has no variant form, naming where', () => {
    const reason = (x: unknown) => {
      try {
        encodeVariant(x);
        return 'accepted';
      } catch (e) {
        if (e instanceof VariantInputError) return e.message;
        throw e;
      }
    };
    expect(reason({ a: [1, () => 0] })).toBe('a function has no variant form (at $.a[1])');
    expect(reason({ a: new (class Point {})() })).toBe('a Point instance has no variant form (plain objects, arrays and JSON values do) (at $.a)');
    expect(reason(['\ud800'])).toBe('a string contains half of a UTF-16 surrogate pair (at $[0])');
    expect(reason(new JsonNumber('1e400'))).toBe('1e400 is beyond the range of a double (about ±1.8e308)');
    expect(reason(new Map([[1, 2]]))).toMatch(/Map key \(1\) is not a string/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(reason(cyclic)).toMatch(/nests deeper than 512 levels/);
    // Spark reads no variant above 16 MiB.
    expect(reason('x'.repeat(16 * 1024 * 1024))).toMatch(/more than 16 MiB/);
    expect(reason(new Variant(new Uint8Array([1, 0, 0]), new Uint8Array([0x3c, 1])))).toMatch(/not a well-formed variant/);
  });

  it('finds what is wrong with bytes that are not a variant', () => {
    const ok = encodeVariant({ a: 'x', b: [1, 2] });
    expect(variantProblem(ok.metadata, ok.value)).toBeUndefined();
    expect(variantProblem(new Uint8Array([2, 0, 0]), ok.value)).toMatch(/version 2/);
    expect(variantProblem(ok.metadata, ok.value.subarray(0, ok.value.length - 1))).toMatch(/past the end/);
    expect(variantProblem(ok.metadata, new Uint8Array([...ok.value, 0]))).toMatch(/1 bytes after its end/);
    expect(variantProblem(new Uint8Array([1, 0, 0]), ok.value)).toMatch(/not in the dictionary/);
    expect(variantProblem(new Uint8Array([1, 0, 0]), new Uint8Array([(20 << 2) + 0, ...new Array(15).fill(0)]))).toMatch(/past the end/);
    expect(variantProblem(new Uint8Array([1, 0, 0]), new Uint8Array([(8 << 2) + 0, 0, 0x00, 0xca, 0x9a, 0x3b]))).toMatch(/more than 9 digits/);
    expect(variantProblem(new Uint8Array([1, 0, 0]), new Uint8Array([(1 << 2) + 1, 0xff]))).toMatch(/not valid UTF-8/);
  });
});

