import type * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { NdjsonRowReader, ndjsonToBatches } from '../../src/cli/input.js';
import { TributaryError } from '../../src/errors.js';
import { NdjsonDecoder } from '../../src/json/ndjson-decoder.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { type DataType, field, struct, type StructType } from '../../src/schema/schema.js';
import { numberToken, timestampCase, tsParts } from '../support/edge-cases.js';
import { defineValueProperties, type Land, params } from '../support/input-edge-properties.js';
import { split } from '../support/bytes.js';

/**
 * The schema-directed NDJSON decoder against the reference path (NdjsonRowReader: the exact
 * parser per line, then rowsToRecordBatch in chunks): for any input, split into chunks anywhere,
 * the same values in the same batches, or the same error (code, message, details).
 */

/** One NDJSON line `{"v": <json>}` through the decoder, read back. */
const landDecoded: Land = (json, type) => {
  const d = new NdjsonDecoder({ schema: parseDdl(`v ${type}`), name: 'prop' });
  try {
    const batches = [...d.push(Buffer.from(`{"v":${json}}\n`)), ...d.end()];
    return { ok: true, value: arrowToRows(batches[0])[0].v };
  } catch (e) {
    if (e instanceof TributaryError && e.code === 'ROW_INVALID') return { ok: false, error: e };
    throw e;
  }
};

describe('the input-edge value properties, through the decoder', () => {
  defineValueProperties(landDecoded);
});

// ---------------------------------------------------------------------------------------------
// The two paths

type Outcome = { ok: true; batches: arrow.RecordBatch[] } | { ok: false; error: TributaryError };

interface Setup {
  schema: StructType;
  invalidUtf8: 'error' | 'replace';
  chunkRows: number;
}

function outcome(run: () => arrow.RecordBatch[]): Outcome {
  try {
    return { ok: true, batches: run() };
  } catch (e) {
    if (e instanceof TributaryError) return { ok: false, error: e };
    throw e;
  }
}

function reference(chunks: readonly Uint8Array[], s: Setup): Outcome {
  return outcome(() => {
    const r = new NdjsonRowReader('in.ndjson', { invalidUtf8: s.invalidUtf8 });
    for (const c of chunks) r.push(c);
    return ndjsonToBatches(r.end(), s.schema, s.chunkRows);
  });
}

function decoded(chunks: readonly Uint8Array[], s: Setup): Outcome {
  return outcome(() => {
    const d = new NdjsonDecoder({ schema: s.schema, name: 'in.ndjson', invalidUtf8: s.invalidUtf8, chunkRows: s.chunkRows });
    const out: arrow.RecordBatch[] = [];
    for (const c of chunks) out.push(...d.push(c));
    out.push(...d.end());
    return out;
  });
}

/** The two outcomes agree: the same rows in batches of the same sizes, or the same error. */
function expectSame(dec: Outcome, ref: Outcome): void {
  if (!ref.ok) {
    expect(dec.ok ? 'accepted' : dec.error.code, ref.error.message).toBe(ref.error.code);
    const e = (dec as { error: TributaryError }).error;
    expect(e.message).toBe(ref.error.message);
    expect(e.details).toEqual(ref.error.details);
    return;
  }
  if (!dec.ok) throw new Error(`the decoder refused what the reference accepts: ${dec.error.message}`);
  expect(dec.batches.map((b) => b.numRows)).toEqual(ref.batches.map((b) => b.numRows));
  for (let i = 0; i < ref.batches.length; i++) {
    expect(dec.batches[i].schema.fields.map(String)).toEqual(ref.batches[i].schema.fields.map(String));
    // Object.is for every value: -0, NaN and the exact bigint all count.
    expect(arrowToRows(dec.batches[i])).toEqual(arrowToRows(ref.batches[i]));
    dec.batches[i].data.children.forEach((c, k) => expect(c.nullCount, `column ${k}`).toBe(ref.batches[i].data.children[k].nullCount));
  }
}


// ---------------------------------------------------------------------------------------------
// Random inputs: schemas, values as JSON text (every spelling), lines, damage

const PRIMITIVES = ['STRING', 'BIGINT', 'INT', 'SMALLINT', 'TINYINT', 'DOUBLE', 'FLOAT', 'BOOLEAN', 'DATE', 'TIMESTAMP', 'TIMESTAMP_NTZ', 'BINARY'];
/**
 * Structs and lists whose values the decoder decodes in place (field by field, element by
 * element): fields and elements of every kind, nested in each other, NOT NULL inside; their
 * values are made by inPlaceText from their parts' own generators.
 */
const IN_PLACE: Record<string, { fields?: [name: string, ddl: string, nullable: boolean][]; element?: string }> = {
  'STRUCT<id: BIGINT, name: STRING>': { fields: [['id', 'BIGINT', true], ['name', 'STRING', true]] },
  'STRUCT<x: DOUBLE, n: INT>': { fields: [['x', 'DOUBLE', true], ['n', 'INT', true]] },
  'STRUCT<d: DATE, t: TIMESTAMP, m: DECIMAL(18,4), f: BOOLEAN, s: STRUCT<x: DOUBLE, n: INT>>': {
    fields: [['d', 'DATE', true], ['t', 'TIMESTAMP', true], ['m', 'DECIMAL(18,4)', true], ['f', 'BOOLEAN', true], ['s', 'STRUCT<x: DOUBLE, n: INT>', true]],
  },
  'ARRAY<INT>': { element: 'INT' },
  'ARRAY<ARRAY<INT>>': { element: 'ARRAY<INT>' },
  'STRUCT<k: STRING NOT NULL, v: TIMESTAMP_NTZ>': { fields: [['k', 'STRING', false], ['v', 'TIMESTAMP_NTZ', true]] },
  'ARRAY<STRUCT<k: STRING NOT NULL, v: TIMESTAMP_NTZ>>': { element: 'STRUCT<k: STRING NOT NULL, v: TIMESTAMP_NTZ>' },
};
const NESTED = ['STRUCT<a: INT, b: STRING>', 'ARRAY<BIGINT>', 'ARRAY<STRING>', 'MAP<STRING, INT>', 'STRUCT<x: ARRAY<DOUBLE>, y: MAP<STRING, TIMESTAMP>>', 'ARRAY<STRUCT<n: DECIMAL(5,2)>>', ...Object.keys(IN_PLACE)];
const columnType = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...PRIMITIVES) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 1, max: 38 }), fc.nat(38)).map(([p, s]) => `DECIMAL(${p},${s % (p + 1)})`) },
  { weight: 2, arbitrary: fc.constantFrom(...NESTED) },
);
/** Names as a user might have them: plain, non-ASCII, with a quote or backslash (written escaped in JSON), integer-like, and names every object inherits (`__proto__`, `constructor`: a missing one is a null, not Object.prototype's member). */
const NAMES = ['id', 'price', 'ts', 'coin_name', 'é', 'naïve 名前', 'a"b', 'back\\slash', '7', 'x', '__proto__', 'constructor'];
const typeOf = (ddl: string): DataType => parseDdl(`v ${ddl}`).fields[0].type;

const schemaArb = fc
  .tuple(fc.shuffledSubarray(NAMES, { minLength: 1, maxLength: 7 }), fc.array(fc.tuple(columnType, fc.nat(9)), { minLength: 7, maxLength: 7 }), fc.nat(9))
  .map(([names, cols, wide]) => {
    const ddls = names.map((_, i) => cols[i][0]);
    const fields = names.map((n, i) => field(n, typeOf(ddls[i]), cols[i][1] !== 0));
    // Now and then a wide table (more than 16 columns: keys out of order are looked up by name).
    if (wide === 0) {
      for (let i = 0; i < 14; i++) {
        ddls.push(PRIMITIVES[i % PRIMITIVES.length]);
        fields.push(field(`w${i}`, typeOf(ddls[ddls.length - 1]), true));
      }
    }
    return { schema: struct(fields), ddls };
  });

const jsonString = (s: string) => JSON.stringify(s);
/** A JSON string's text from pieces: plain runs, raw non-ASCII, every escape, and now and then a bad one. */
const stringText = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: fc.string({ unit: fc.constantFrom(...'abcXYZ019 -_.:+'), maxLength: 8 }) },
      { weight: 2, arbitrary: fc.constantFrom('é', 'ü', '中文', '😀', '\u2028', '\ufeff', '\u00a0', '\u007f') },
      { weight: 2, arbitrary: fc.constantFrom('\\n', '\\t', '\\"', '\\\\', '\\/', '\\b', '\\f', '\\r', '\\u0041', '\\u00e9', '\\ud83d\\ude00', '\\u0000', '\\u2028') },
      { weight: 1, arbitrary: fc.constantFrom('\\ud800', '\\udc00', '\\x', '\t', '\\u12', '\u0001') },
    ),
    { maxLength: 6 },
  )
  .map((parts) => `"${parts.join('')}"`);

const doubleText = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => String(x).replace('e+', 'e')),
  fc.double({ min: 1e-3, max: 1e7, noNaN: true }).map(String),
  fc.integer().map(String),
);
const numericText = fc.oneof({ weight: 3, arbitrary: numberToken }, { weight: 3, arbitrary: doubleText }, { weight: 1, arbitrary: numberToken.map(jsonString) });
const wrongText = fc.oneof(fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)), fc.constantFrom('true', 'false', '{}', '[]', '"x"', '0', '-1.5'));
const tsText = (ntz: boolean) =>
  fc.oneof(
    { weight: 4, arbitrary: tsParts.map((p) => jsonString(timestampCase(p, ntz).text)) },
    { weight: 1, arbitrary: tsParts.map((p) => jsonString(` ${timestampCase(p, ntz).text}`)) },
    { weight: 2, arbitrary: fc.oneof(fc.integer({ min: -62135596800000, max: 253402300799999 }).map(String), numberToken) },
    // Timestamps that share a minute with others (the decoder remembers the last one), with every kind of tail.
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom('2024-02-29T23:59', '1999-12-31 00:00', '2024-02-30T00:00'), fc.constantFrom('', ':00', ':59.999999', ':60', ':5', ':05.1234567', ':05.1234560', ':07.'), fc.constantFrom('', 'Z', '+18:00', '-01:30', '+18:01', ' UTC', 'z'))
        .map(([m, t, z]) => jsonString(m + t + z)),
    },
    { weight: 1, arbitrary: fc.constantFrom('"2024-01-01T00:00:00Z"', '"2024-02-29 23:59:59.999999+18:00"', '"1600-01-01T00:00:00Z"', '"9999-12-31T23:59:59.999999Z"', '"0001-01-01T00:00:00-00:01"', '"2024-01-01T00:00:00,5z"') },
  );
const dateText = fc.oneof(
  { weight: 4, arbitrary: tsParts.map((p) => jsonString(`${String(p.y).padStart(4, '0')}-${String(p.mo).padStart(2, '0')}-${String(p.d).padStart(2, '0')}`)) },
  { weight: 1, arbitrary: fc.constantFrom('"2024-01-01 "', '"2024-1-01"', '"20240101"', '" 2024-01-01"') },
);
const binaryText = fc.oneof(
  fc.uint8Array({ maxLength: 12 }).map((b) => jsonString(Buffer.from(b).toString('base64'))),
  fc.constantFrom('"abc"', '"YW Jj"', '"===="', '""'),
);
const spaceIn = fc.constantFrom('', '', ' ', '\t', ' \r ');
const escapedKey = (k: string) => `"${[...k].map((ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`;

/**
 * A value of an IN_PLACE column as JSON text, in any spacing, fields in any order and some absent
 * (not a NOT NULL one when clean), a key now and then \u-escaped; unless clean, now and then an
 * unknown or a repeated key, and fields and elements of any kind (valueText's).
 */
function inPlaceText(ddl: string, clean: boolean): fc.Arbitrary<string> {
  const shape = IN_PLACE[ddl];
  const part = (d: string, nullable: boolean) => (!clean ? valueText(d, false) : nullable ? fc.oneof({ weight: 6, arbitrary: validText(d) }, { weight: 1, arbitrary: fc.constant('null') }) : validText(d));
  if (shape.element !== undefined) {
    return fc.tuple(fc.array(part(shape.element, true), { maxLength: 4 }), spaceIn).map(([xs, sp]) => `[${sp}${xs.join(`${sp},${sp}`)}${sp}]`);
  }
  const fields = shape.fields!;
  return fc
    .record({
      values: fc.tuple(...fields.map(([, d, nullable]) => (clean && !nullable ? part(d, false) : fc.option(part(d, nullable), { freq: 5, nil: undefined })))),
      sp: spaceIn,
      twist: clean ? fc.constant(-1) : fc.nat(12),
      rotate: fc.nat(),
      escape: fc.option(fc.nat(4), { freq: 4, nil: undefined }),
    })
    .map(({ values, sp, twist, rotate, escape }) => {
      let parts = fields.flatMap(([name], i) => (values[i] === undefined ? [] : [[name, values[i]!] as const]));
      if (parts.length) parts = [...parts.slice(rotate % parts.length), ...parts.slice(0, rotate % parts.length)];
      if (twist === 0) parts.push(['zz', '1']);
      if (twist === 1 && parts.length) parts.push(parts[0]);
      return `{${sp}${parts.map(([k, v], i) => `${i === escape ? escapedKey(k) : jsonString(k)}${sp}:${sp}${v}`).join(`${sp},${sp}`)}${sp}}`;
    });
}

const nestedText = (ddl: string): fc.Arbitrary<string> => {
  if (ddl in IN_PLACE) return inPlaceText(ddl, false);
  const small = fc.oneof(fc.integer({ min: -200, max: 200 }).map(String), fc.constant('null'), stringText);
  switch (ddl) {
    case 'STRUCT<a: INT, b: STRING>':
      return fc.oneof(
        fc.tuple(small, stringText, fc.boolean()).map(([a, b, extra]) => `{"a":${a},"b":${b}${extra ? ',"z":1' : ''}}`),
        fc.constant('{}'),
        fc.constant('{ "b" : "only" }'),
      );
    case 'ARRAY<BIGINT>':
      return fc.array(fc.oneof(numberToken, fc.constant('null')), { maxLength: 4 }).map((xs) => `[${xs.join(',')}]`);
    case 'ARRAY<STRING>':
      return fc.array(fc.oneof(stringText, fc.constant('null')), { maxLength: 4 }).map((xs) => `[${xs.join(' , ')}]`);
    case 'MAP<STRING, INT>':
      return fc.oneof(
        fc.array(fc.tuple(fc.constantFrom('k', 'l', 'é'), small), { maxLength: 3 }).map((kv) => `{${kv.map(([k, v]) => `"${k}":${v}`).join(',')}}`),
        fc.array(fc.tuple(fc.constantFrom('k', 'l'), small), { maxLength: 3 }).map((kv) => `[${kv.map(([k, v]) => `["${k}",${v}]`).join(',')}]`),
      );
    case 'STRUCT<x: ARRAY<DOUBLE>, y: MAP<STRING, TIMESTAMP>>':
      return fc.tuple(fc.array(doubleText, { maxLength: 3 }), tsText(false)).map(([xs, t]) => `{"x":[${xs.join(',')}],"y":{"t":${t}}}`);
    default:
      return fc.array(fc.oneof(numericText, fc.constant('null')), { maxLength: 3 }).map((xs) => `[${xs.map((x) => `{"n":${x}}`).join(',')}]`);
  }
};

/** Values every column of `ddl` takes (for inputs meant to land, so that values get compared). */
function validText(ddl: string): fc.Arbitrary<string> {
  if (ddl in IN_PLACE) return inPlaceText(ddl, true);
  const dec = /^DECIMAL\((\d+),(\d+)\)$/.exec(ddl);
  if (dec) {
    const [p, sc] = [Number(dec[1]), Number(dec[2])];
    return fc.tuple(fc.bigInt({ min: -(10n ** BigInt(p)) + 1n, max: 10n ** BigInt(p) - 1n }), fc.boolean()).map(([u, quoted]) => {
      const t = (u < 0n ? -u : u).toString().padStart(sc + 1, '0');
      const text = `${u < 0n ? '-' : ''}${sc ? `${t.slice(0, -sc)}.${t.slice(-sc)}` : t}`;
      return quoted ? jsonString(text) : text;
    });
  }
  const int = (bits: number) => fc.integer({ min: -(2 ** (bits - 1)), max: 2 ** (bits - 1) - 1 }).map(String);
  switch (ddl) {
    case 'STRING':
      return stringText.filter((t) => {
        try {
          JSON.parse(t);
          return !/\\u[dD][89abAB]..(?!\\u)|\\u[dD][c-fC-F]/.test(t);
        } catch {
          return false;
        }
      });
    case 'BIGINT':
      return fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String), fc.maxSafeInteger().map(String), int(16));
    case 'INT':
      return int(32);
    case 'SMALLINT':
      return int(16);
    case 'TINYINT':
      return int(8);
    case 'DOUBLE':
      return fc.oneof(doubleText, fc.constantFrom('"NaN"', '"-Infinity"', '-0', '0.1', '1e-320'));
    case 'FLOAT':
      return fc.oneof(fc.float({ noNaN: true, noDefaultInfinity: true }).map((x) => String(x).replace('e+', 'e')), fc.double({ min: -1e30, max: 1e30, noNaN: true }).map((x) => String(x).replace('e+', 'e')));
    case 'BOOLEAN':
      return fc.constantFrom('true', 'false');
    case 'DATE':
      return fc.integer({ min: -719162, max: 2932896 }).map((d) => jsonString(new Date(d * 86_400_000).toISOString().slice(0, 10).replace(/^\+0*/, '').padStart(10, '0')));
    case 'TIMESTAMP':
    case 'TIMESTAMP_NTZ':
      return fc.oneof(
        tsParts.map((p) => timestampCase(p, ddl === 'TIMESTAMP_NTZ')).filter((c) => c.micros !== undefined).map((c) => jsonString(c.text)),
        fc.integer({ min: -62135596800000, max: 253402300799999 }).map(String),
      );
    case 'BINARY':
      return fc.uint8Array({ maxLength: 12 }).map((b) => jsonString(Buffer.from(b).toString('base64')));
    case 'STRUCT<a: INT, b: STRING>':
      return fc.tuple(int(32), fc.constantFrom('"x"', '"é\\n"', 'null')).map(([a, b]) => `{"b":${b},"a":${a}}`);
    case 'ARRAY<BIGINT>':
      return fc.array(fc.oneof(int(32), fc.constant('null')), { maxLength: 4 }).map((xs) => `[${xs.join(',')}]`);
    case 'ARRAY<STRING>':
      return fc.array(fc.constantFrom('"a"', '""', 'null', '"\\u00e9"'), { maxLength: 4 }).map((xs) => `[${xs.join(',')}]`);
    case 'MAP<STRING, INT>':
      return fc.uniqueArray(fc.tuple(fc.constantFrom('k', 'l', 'é'), int(32)), { maxLength: 3, selector: ([k]) => k }).map((kv) => `{${kv.map(([k, v]) => `"${k}":${v}`).join(',')}}`);
    case 'STRUCT<x: ARRAY<DOUBLE>, y: MAP<STRING, TIMESTAMP>>':
      return fc.array(doubleText, { maxLength: 3 }).map((xs) => `{"x":[${xs.join(',')}],"y":{"t":"2024-01-01T00:00:00Z"}}`);
    default:
      return fc.array(fc.integer({ min: -99999, max: 99999 }).map((u) => (u / 100).toFixed(2)), { maxLength: 3 }).map((xs) => `[${xs.map((x) => `{"n":${x}}`).join(',')}]`);
  }
}

/** A value for a column of `ddl`, as JSON text: mostly its own kind, now and then a null or another kind. */
function valueText(ddl: string, clean: boolean): fc.Arbitrary<string> {
  if (clean) return fc.oneof({ weight: 12, arbitrary: validText(ddl) }, { weight: 1, arbitrary: fc.constant('null') });
  let own: fc.Arbitrary<string>;
  if (ddl.startsWith('DECIMAL')) own = fc.oneof(numericText, fc.integer({ min: -99999, max: 99999 }).map((u) => jsonString((u / 100).toFixed(2))));
  else if (NESTED.includes(ddl)) own = nestedText(ddl);
  else
    switch (ddl) {
      case 'STRING':
        own = stringText;
        break;
      case 'BIGINT':
      case 'INT':
      case 'SMALLINT':
      case 'TINYINT':
        own = fc.oneof(fc.integer({ min: -130, max: 130 }).map(String), fc.maxSafeInteger().map(String), numericText);
        break;
      case 'DOUBLE':
      case 'FLOAT':
        own = fc.oneof({ weight: 4, arbitrary: numericText }, { weight: 1, arbitrary: fc.constantFrom('"NaN"', '"Infinity"', '"-inf"', '" 1.5 "', '"1e400"') });
        break;
      case 'BOOLEAN':
        own = fc.constantFrom('true', 'false', '"true"', '"false"', '1');
        break;
      case 'DATE':
        own = dateText;
        break;
      case 'TIMESTAMP':
        own = tsText(false);
        break;
      case 'TIMESTAMP_NTZ':
        own = tsText(true);
        break;
      default:
        own = binaryText;
    }
  return fc.oneof({ weight: 12, arbitrary: own }, { weight: 1, arbitrary: fc.constant('null') }, { weight: 1, arbitrary: wrongText });
}

const ws = fc.constantFrom('', '', '', ' ', '\t', ' \r ');

/** A line: the columns in any order (some missing), sometimes an unknown or repeated key, sometimes damaged. */
function lineArb(names: string[], ddls: string[], nullable: boolean[], clean: boolean): fc.Arbitrary<Uint8Array> {
  // Clean lines have every NOT NULL column, and no unknown key, repeated key or damage.
  const entries = fc.tuple(...names.map((_, i) => (clean && !nullable[i] ? validText(ddls[i]) : fc.option(valueText(ddls[i], clean), { freq: 8, nil: undefined }))));
  // Present once in `odds` lines.
  const rarely = <T>(a: fc.Arbitrary<T>, odds: number) => (clean ? fc.constant(undefined) : fc.oneof({ weight: odds - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: a }));
  return fc
    .record({
      values: entries,
      order: fc.array(fc.nat(), { minLength: names.length, maxLength: names.length }),
      space: ws,
      extra: rarely(fc.tuple(fc.constantFrom('zz', '5', 'ID', '__proto__', 'é'), wrongText), 12),
      repeat: rarely(fc.nat(), 15),
      escapeKey: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat() }),
      damage: rarely(
        fc.oneof(
          fc.tuple(fc.constant('cut'), fc.nat()),
          fc.tuple(fc.constant('insert'), fc.nat(), fc.constantFrom('x', '"', ',', '}', '\u0000', '\ufeff', ' ')),
          fc.tuple(fc.constant('bytes'), fc.nat(), fc.constantFrom([0xc3, 0x28], [0xff], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc0, 0xaf])),
          fc.tuple(fc.constant('replace'), fc.constantFrom('[1]', 'null', '"row"', '1', '{"a":1}{}', `{"deep":${'['.repeat(600)}${']'.repeat(600)}}`)),
          fc.tuple(fc.constant('blank'), fc.constantFrom('', ' ', '\t \t', '\r')),
        ),
        10,
      ),
    })
    .map(({ values, order, space, extra, repeat, escapeKey, damage }) => {
      const parts: { key: string; text: string; at: number }[] = [];
      names.forEach((n, i) => {
        if (values[i] !== undefined) parts.push({ key: jsonString(n), text: values[i]!, at: order[i] });
      });
      parts.sort((a, b) => a.at - b.at);
      if (escapeKey !== undefined && parts.length) {
        // The same key written with \u escapes.
        const p = parts[escapeKey % parts.length];
        p.key = `"${[...JSON.parse(p.key) as string].map((ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`;
      }
      if (repeat !== undefined && parts.length) parts.push({ ...parts[repeat % parts.length] });
      if (extra) parts.splice(Math.min(parts.length, 1), 0, { key: jsonString(extra[0]), text: extra[1], at: 0 });
      let text = `{${space}${parts.map((p) => `${p.key}${space}:${space}${p.text}`).join(`${space},${space}`)}${space}}`;
      let bytes = Buffer.from(text);
      if (damage) {
        const [kind, a, b] = damage as [string, number | string, unknown];
        if (kind === 'cut') bytes = bytes.subarray(0, (a as number) % bytes.length);
        else if (kind === 'insert') {
          const at = (a as number) % (text.length + 1);
          text = text.slice(0, at) + (b as string) + text.slice(at);
          bytes = Buffer.from(text);
        } else if (kind === 'bytes') {
          const at = (a as number) % (bytes.length + 1);
          bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(b as number[]), bytes.subarray(at)]);
        } else if (kind === 'replace') bytes = Buffer.from(a as string);
        else bytes = Buffer.from(a as string);
      }
      return bytes;
    });
}

const inputArb = fc.tuple(schemaArb, fc.boolean()).chain(([{ schema, ddls }, clean]) => {
  const names = schema.fields.map((f) => f.name);
  const nullable = schema.fields.map((f) => f.nullable);
  return fc.record({
    schema: fc.constant(schema),
    lines: fc.array(lineArb(names, ddls, nullable, clean), { minLength: 0, maxLength: 12 }),
    bom: fc.boolean(),
    crlf: fc.boolean(),
    finalNewline: fc.boolean(),
    cuts: fc.array(fc.nat(), { maxLength: 12 }),
    invalidUtf8: fc.constantFrom('error' as const, 'replace' as const),
    chunkRows: fc.constantFrom(1, 2, 3, 5, 65_536),
  });
});

function inputBytes(i: { lines: Uint8Array[]; bom: boolean; crlf: boolean; finalNewline: boolean }): Uint8Array {
  const nl = Buffer.from(i.crlf ? '\r\n' : '\n');
  const parts: Uint8Array[] = i.bom ? [Buffer.from([0xef, 0xbb, 0xbf])] : [];
  i.lines.forEach((l, k) => {
    parts.push(l);
    if (k < i.lines.length - 1 || i.finalNewline) parts.push(nl);
  });
  return Buffer.concat(parts);
}

describe('the decoder and the reference path agree', () => {
  it('on random inputs over rich schemas, split into chunks anywhere: the same batches, or the same error', () => {
    let refused = 0;
    let accepted = 0;
    fc.assert(
      fc.property(inputArb, (i) => {
        const bytes = inputBytes(i);
        const setup = { schema: i.schema, invalidUtf8: i.invalidUtf8, chunkRows: i.chunkRows };
        const ref = reference([bytes], setup);
        expectSame(decoded(split(bytes, i.cuts), setup), ref);
        if (ref.ok) accepted++;
        else refused++;
      }),
      params(),
    );
    // Both kinds of outcome were exercised (a generator that only produced errors would prove little).
    expect(accepted).toBeGreaterThan(params().numRuns / 5);
    expect(refused).toBeGreaterThan(params().numRuns / 5);
  });
});
