import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { TributaryError } from '../../src/errors.js';
import { BodyRecordsPlan, type ColumnPath } from '../../src/json/body-records.js';
import { parseJsonExact } from '../../src/json/exact-parse.js';
import { JsonNumber } from '../../src/json/json-number.js';
import { JsonRecordsDecoder } from '../../src/json/json-records.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { ownProperty, resolvePointer } from '../../src/source/builtins/json-pointer.js';
import { numberToken } from '../support/edge-cases.js';
import { params } from '../support/input-edge-properties.js';

/**
 * The byte path for JSON bodies (BodyRecordsPlan.scan + JsonRecordsDecoder.pushSpans) against
 * the value path it replaced (parseJsonExact, records and columns picked by pointers, each value
 * written back as JSON): on random bodies (nested values, escapes in keys and strings, long
 * numbers, unicode, missing fields, whitespace and line breaks, malformed bodies) the same
 * records found, the same batches, the same errors (code and message).
 */

const SCHEMA = parseDdl('a BIGINT, d DECIMAL(38,18), x DOUBLE, s STRING, t TIMESTAMP, st STRUCT<p: DECIMAL(10,2), q: ARRAY<BIGINT>>, n STRING');
/** Columns: own properties, and pointers through objects and arrays. */
const COLUMNS: ColumnPath[] = [
  { tokens: ['a'], ownProperty: true },
  { tokens: ['d'], ownProperty: true },
  { tokens: ['nested', 'x'], ownProperty: false },
  { tokens: ['arr', '1'], ownProperty: false },
  { tokens: ['t'], ownProperty: true },
  { tokens: ['st'], ownProperty: true },
  { tokens: ['0'], ownProperty: false },
];
const KEYS = ['a', 'd', 'x', 's', 't', 'st', 'nested', 'arr', '0', 'é', '__proto__', 'other'];
const NEXT = ['links', 'next'];

type Json = null | boolean | string | JsonNumber | number | Json[] | { k: string; v: Json }[];

/** A JSON value as the exact parser would give it, objects as key lists (so a key may repeat). */
const scalar: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: numberToken.map((t) => parseJsonExact(t) as number | JsonNumber) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom('2024-05-01T10:00:00.123456Z', '12', '-0.5', '1e3', 'ä\u2028😀') },
  { weight: 1, arbitrary: fc.constantFrom<Json>(null, true, false) },
);
const { value } = fc.letrec<{ value: Json; obj: Json; arr: Json }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, { weight: 6, arbitrary: scalar }, { weight: 1, arbitrary: tie('obj') }, { weight: 1, arbitrary: tie('arr') }),
  obj: fc.array(fc.record({ k: fc.constantFrom(...KEYS, 'p', 'q'), v: tie('value') }), { maxLength: 4 }),
  arr: fc.array(tie('value'), { maxLength: 4 }),
}));
/** Values that land in the columns too, so that batches are compared as well as refusals. */
const good: fc.Arbitrary<Json> = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((b) => parseJsonExact(String(b)) as Json),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => parseJsonExact(JSON.stringify(x)) as Json),
  fc.constant<Json>('2024-05-01T10:00:00.123456Z'),
  fc.tuple(fc.integer({ min: -1e6, max: 1e6 }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })).map(([p, q]) => [
    { k: 'p', v: parseJsonExact(String(p / 100)) as Json },
    { k: 'q', v: [parseJsonExact(String(q)) as Json, null] },
  ]),
);
const member = fc.record({ k: fc.constantFrom(...KEYS), v: fc.oneof({ weight: 3, arbitrary: good }, { weight: 2, arbitrary: value }) });
const record: fc.Arbitrary<Json> = fc.oneof(
  { weight: 8, arbitrary: fc.array(member, { maxLength: 8 }) },
  { weight: 1, arbitrary: fc.array(value, { maxLength: 3 }) },
  { weight: 1, arbitrary: scalar },
);

/** Where the records are, and what the pointer finds there. */
const shape = fc.record({
  path: fc.constantFrom<string[]>([], ['data'], ['data', 'items'], ['pages', '1']),
  found: fc.constantFrom('array', 'array', 'array', 'array', 'null', 'missing', 'other'),
  records: fc.array(record, { maxLength: 6 }),
  next: fc.option(value),
  style: fc.integer(),
  mutation: fc.option(fc.tuple(fc.nat(), fc.constantFrom('delete', 'insert', 'truncate', 'duplicate-key', 'lone-surrogate'), fc.constantFrom(',', ']', '}', '"', '\\', '{', ':', '0', '-', '\u0001', ' ', 'é')), { freq: 4 }),
});

/** A tiny seeded generator for the writer's choices (escape a character, add whitespace). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** JSON text for a value, with random (valid) escapes and whitespace: the bytes a server might send. */
function write(v: Json, r: () => number): string {
  const ws = () => (r() < 0.2 ? [' ', '\n', '\r\n  ', '\t'][Math.floor(r() * 4)] : '');
  if (v === null || typeof v === 'boolean' || typeof v === 'number') return String(v === null ? 'null' : v);
  if (v instanceof JsonNumber) return v.text;
  if (typeof v === 'string') return writeString(v, r);
  if (isObj(v)) {
    return `{${ws()}${(v as { k: string; v: Json }[]).map((m) => `${writeString(m.k, r)}${ws()}:${ws()}${write(m.v, r)}`).join(`,${ws()}`)}${ws()}}`;
  }
  return `[${ws()}${(v as Json[]).map((x) => write(x, r)).join(`${ws()},${ws()}`)}${ws()}]`;
}
const objects = new WeakSet<object>();
const isObj = (v: Json) => typeof v === 'object' && v !== null && objects.has(v);
const asObject = (members: { k: string; v: Json }[]) => {
  objects.add(members);
  return members;
};

function writeString(s: string, r: () => number): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\' || c < 0x20 || (c >= 0xd800 && c <= 0xdfff) || r() < 0.15) {
      for (let i = 0; i < ch.length; i++) {
        const u = ch.charCodeAt(i);
        out += u === 0x22 ? '\\"' : u === 0x5c ? (r() < 0.5 ? '\\\\' : '\\u005C') : u === 0x0a && r() < 0.5 ? '\\n' : u === 0x2f ? '\\/' : `\\u${u.toString(16).padStart(4, '0')}`;
      }
    } else out += ch;
  }
  return `${out}"`;
}

/** Objects from the generators are member lists; mark them so the writer knows them from arrays. */
function mark(v: Json, isObject: boolean): Json {
  if (!Array.isArray(v)) return v;
  if (isObject) return asObject((v as { k: string; v: Json }[]).map((m) => ({ k: m.k, v: markAny(m.v) })));
  return (v as Json[]).map(markAny);
}
function markAny(v: Json): Json {
  if (!Array.isArray(v)) return v;
  const looksObject = v.length > 0 && v.every((m) => typeof m === 'object' && m !== null && !Array.isArray(m) && !(m instanceof JsonNumber) && 'k' in m);
  return mark(v, looksObject); // an empty list is an array
}

type Shape = typeof shape extends fc.Arbitrary<infer T> ? T : never;

function bodyText(c: Shape): string {
  const r = rng(c.style);
  const records = c.records.map(markAny);
  let at: Json = c.found === 'array' ? records : c.found === 'null' ? null : c.found === 'other' ? asObject([{ k: 'x', v: 1 }]) : 0;
  const members = (k: string, v: Json) => asObject([{ k: 'before', v: 1 }, { k, v }, ...(c.next !== null ? [{ k: 'links', v: asObject([{ k: 'next', v: markAny(c.next) }]) }] : [])]);
  const path = c.path;
  let doc: Json;
  if (path.length === 0) doc = c.found === 'missing' ? asObject([]) : at;
  else {
    for (let i = path.length - 1; i >= 1; i--) at = path[i] === '1' ? [null, at] : asObject([{ k: path[i], v: at }]);
    doc = c.found === 'missing' ? members('elsewhere', at) : members(path[0], at);
  }
  let text = write(doc, r);
  if (c.mutation) {
    const [n, kind, ch] = c.mutation;
    const i = n % (text.length + 1);
    if (kind === 'delete') text = text.slice(0, i) + text.slice(i + 1);
    else if (kind === 'insert') text = text.slice(0, i) + ch + text.slice(i);
    else if (kind === 'truncate') text = text.slice(0, i);
    else if (kind === 'duplicate-key') text = text.replace(/\{"(a|before)":/, (m, k: string) => `{"${k}":0,"${k === 'a' ? '\\u0061' : k}":`);
    else text = text.replace(/"(\w)/, '"\\ud800$1');
  }
  return text;
}

type Outcome = { ok: true; found: string; foundValue?: unknown; next: unknown; rows: unknown[] } | { ok: false; code: string; message: string };

function settle(f: () => Outcome): Outcome {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof TributaryError)) throw e;
    return { ok: false, code: e.code, message: e.message };
  }
}

/** The value path: the body parsed, records and columns picked by pointers, values written back as JSON. */
function reference(bytes: Buffer, path: string[], chunkRows: number): Outcome {
  return settle(() => {
    const doc = parseJsonExact(bytes.toString('utf8'));
    const v = resolvePointer(doc, path);
    const next = resolvePointer(doc, NEXT);
    if (!Array.isArray(v)) return { ok: true, found: v === null ? 'null' : v === undefined ? 'missing' : 'other', foundValue: v ?? undefined, next, rows: [] };
    const d = new JsonRecordsDecoder(SCHEMA, 'test', chunkRows);
    for (const r of v) d.push(COLUMNS.map((c) => (c.ownProperty ? ownProperty(r, c.tokens[0]) : resolvePointer(r, c.tokens))));
    return { ok: true, found: 'array', next, rows: d.end().flatMap((b) => arrowToRows(b)) };
  });
}

/** The byte path. */
function scanned(bytes: Buffer, path: string[], chunkRows: number): Outcome {
  return settle(() => {
    const body = new BodyRecordsPlan(path, COLUMNS, [NEXT]).scan(bytes);
    if (body.found !== 'array') return { ok: true, found: body.found, foundValue: body.foundValue() ?? undefined, next: body.extra(0), rows: [] };
    const d = new JsonRecordsDecoder(SCHEMA, 'test', chunkRows);
    for (let r = 0; r < body.count; r++) d.pushSpans(body, r);
    return { ok: true, found: 'array', next: body.extra(0), rows: d.end().flatMap((b) => arrowToRows(b)) };
  });
}

describe('JSON bodies read from their bytes', () => {
  it('give the records, batches and errors of parse-then-reserialise on random bodies', () => {
    const seen = { landed: 0, refusedBody: 0, refusedRow: 0, notArray: 0 };
    fc.assert(
      fc.property(shape, fc.integer({ min: 1, max: 4 }), (c, chunkRows) => {
        const bytes = Buffer.from(bodyText(c), 'utf8');
        const want = reference(bytes, c.path, chunkRows);
        expect(scanned(bytes, c.path, chunkRows)).toEqual(want);
        if (!want.ok) {
          if (want.code === 'INPUT_PARSE') seen.refusedBody++;
          else seen.refusedRow++;
        } else if (want.found === 'array' && want.rows.length) seen.landed++;
        else if (want.found !== 'array') seen.notArray++;
      }),
      params(1500),
    );
    // Every kind of outcome was compared, not only one.
    expect(seen.landed).toBeGreaterThan(30);
    expect(seen.refusedBody).toBeGreaterThan(30);
    expect(seen.refusedRow).toBeGreaterThan(30);
    expect(seen.notArray).toBeGreaterThan(30);
  });

  it('read a pointer that lands inside the records array as well as the records (plans merged per element)', () => {
    const plan = new BodyRecordsPlan([], [{ tokens: ['a'], ownProperty: true }, { tokens: ['0'], ownProperty: false }], [['1', 'next'], ['0']]);
    const body = plan.scan(Buffer.from('[{"a":1,"next":"no"}, [7, 8], {"a":3,"n\\u0065xt":"page-3"}]'.replace('[7, 8], {', '{"next":"u2","a":2}, {')));
    expect(body.count).toBe(3);
    expect([0, 1, 2].map((r) => [body.value(r, 0), body.value(r, 1)])).toEqual([
      [1, undefined],
      [2, undefined],
      [3, undefined],
    ]);
    expect(body.extra(0)).toBe('u2');
    expect(body.extra(1)).toEqual(parseJsonExact('{"a":1,"next":"no"}'));
    const arrays = new BodyRecordsPlan([], [{ tokens: ['0'], ownProperty: true }, { tokens: ['0'], ownProperty: false }]).scan(Buffer.from('[[5], {"0": 6}]'));
    // An array record has no own property "0"; a pointer /0 reads its first element.
    expect([0, 1].map((r) => [arrays.value(r, 0), arrays.value(r, 1)])).toEqual([
      [undefined, 5],
      [6, 6],
    ]);
  });

  it('keep long numbers, escapes and nested values as written, and a pretty-printed nested value on one line', () => {
    const schema = parseDdl('a DECIMAL(38,0), s STRING, st STRUCT<p: DECIMAL(10,2), q: ARRAY<BIGINT>>');
    const text = '{"data":[\n  {"a": 12345678901234567890123456789012345678,\n   "s": "\\u00e9\\ud83d\\ude00\\"x\\n",\n   "st": {\n     "p": 1.10,\n     "q": [9223372036854775807,\r\n null]\n   }\n  },\n  {"s":"only"}\n]}';
    const body = new BodyRecordsPlan(['data'], [{ tokens: ['a'], ownProperty: true }, { tokens: ['s'], ownProperty: true }, { tokens: ['st'], ownProperty: true }]).scan(Buffer.from(text));
    const d = new JsonRecordsDecoder(schema, 'test');
    for (let r = 0; r < body.count; r++) d.pushSpans(body, r);
    expect(d.end().flatMap((b) => arrowToRows(b))).toEqual([
      { a: '12345678901234567890123456789012345678', s: 'é😀"x\n', st: { p: '1.10', q: [9223372036854775807n, null] } },
      { a: null, s: 'only', st: null },
    ]);
  });
});
