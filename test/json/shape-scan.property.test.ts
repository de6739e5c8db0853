import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { inferNdjson, RowLines } from '../../src/cli/input.js';
import { inferSchema } from '../../src/delta/infer.js';
import { parseNdjsonLine } from '../../src/json/ndjson.js';
import { shapeOfLine } from '../../src/json/shape-scan.js';
import { schemaToString, struct } from '../../src/schema/schema.js';
import { params } from '../support/input-edge-properties.js';

/**
 * The schema pass reads a line's shape (shape-scan.ts) instead of the exact parser's row: the
 * schema inferred from the shapes of any lines must be the one inferred from their rows (or the
 * same refusal), and a line the exact parser refuses has no shape (so the parser words its error).
 */

/** JSON number texts of every form the inference tells apart: short and long integers (past 64 bits, past 38 digits), -0, fractions, exponents, 1.0. */
const numberText = fc.oneof(
  fc.bigInt({ min: -(10n ** 45n), max: 10n ** 45n }).map(String),
  fc.integer().map(String),
  // A long's bounds and just past them.
  fc.constantFrom('9223372036854775807', '9223372036854775808', '-9223372036854775808', '-9223372036854775809', '1000000000000000000'),
  // 19 to 40 digits: DECIMAL(n, 0) from 20 (19 past a long's range), double past 38.
  fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 18, max: 39 })).map(([neg, lead, n]) => `${neg ? '-' : ''}${lead}${'7'.repeat(n)}`),
  fc.constantFrom('-0', '0', '1.0', '1e3', '-2.5E-7', '0.1', '9223372036854775807', '9223372036854775808', '-9223372036854775809', '1E400', '12345678901234567'),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
);
const ws = fc.constantFrom('', ' ', '\t', '  ', ' \r ');
const keyText = fc.constantFrom('a', 'b', 'c', 'A', 'ü', 'key with space', 'x"y', 'e\\u0301', 'toString', '__proto__', 'a');

const valueText: fc.Arbitrary<string> = fc.letrec<{ v: string }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    numberText,
    fc.constantFrom('true', 'false', 'null', '""', '"text"', '"é\\n\\"q\\" \\u00e9"', '"\\ud83d\\ude00"'),
    fc.array(tie('v'), { maxLength: 3 }).chain((items) => ws.map((w) => `[${w}${items.join(`,${w}`)}]`)),
    fc.array(fc.tuple(keyText, tie('v')), { maxLength: 4 }).chain((kv) => ws.map((w) => `{${kv.map(([k, v]) => `${w}${JSON.stringify(k).replace('\\\\u', '\\u')}${w}:${w}${v}`).join(',')}${w}}`)),
  ),
})).v;

/** A line: mostly an object (keys from a small set, so that rows share and clash on columns), sometimes anything. */
const lineText = fc.oneof(
  { weight: 5, arbitrary: fc.array(fc.tuple(keyText, valueText), { maxLength: 5 }).chain((kv) => ws.map((w) => `${w}{${kv.map(([k, v]) => `${JSON.stringify(k)}:${w}${v}`).join(',')}}${w}`)) },
  { weight: 1, arbitrary: valueText },
);

/** Lines with the same keys (in the same order), each value a number of any form or any value. */
const sameKeys = fc
  .uniqueArray(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 1, maxLength: 3 })
  .chain((keys) => fc.array(fc.tuple(...keys.map(() => fc.oneof(numberText, numberText, valueText))), { minLength: 2, maxLength: 4 }).map((rows) => rows.map((vs) => `{${keys.map((k, i) => `"${k}":${vs[i]}`).join(',')}}`)));

/** A line's text cut, doubled or changed at one place: mostly not JSON any more. */
const damaged = fc.tuple(lineText, fc.nat(), fc.constantFrom('', ',', '}', '"', '\\', '01', '-', '.', 'e', '\u0001', ' ', '{"a":1}')).map(([t, at, ins]) => {
  const i = t.length ? at % t.length : 0;
  return t.slice(0, i) + ins + t.slice(i + (at % 2));
});

/** The schema of rows, or the refusal's message. */
function inferred(rows: Record<string, unknown>[]): string {
  try {
    return schemaToString(inferSchema(rows, struct([])));
  } catch (e) {
    return `refused: ${(e as Error).message}`;
  }
}

function exact(text: string): Record<string, unknown> | Error {
  try {
    return parseNdjsonLine(text, 'in', 1);
  } catch (e) {
    return e as Error;
  }
}

describe('shapeOfLine (the schema pass)', () => {
  it('infers what the exact parser\'s rows infer, over several lines; a line the parser refuses has no shape', () => {
    let shaped = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.array(fc.oneof({ weight: 3, arbitrary: lineText }, { weight: 1, arbitrary: damaged }), { minLength: 1, maxLength: 6 }), (texts) => {
        const rows: Record<string, unknown>[] = [];
        const shapes: Record<string, unknown>[] = [];
        for (const t of texts) {
          const bytes = Buffer.from(t, 'utf8');
          const shape = shapeOfLine(bytes, 0, bytes.length);
          const row = exact(t);
          if (row instanceof Error) {
            expect(shape).toBeUndefined();
            refused++;
            continue;
          }
          if (shape) shaped++;
          rows.push(row);
          shapes.push(shape ?? row);
        }
        expect(inferred(shapes)).toBe(inferred(rows));
      }),
      params(),
    );
    // Both sides of the property were exercised.
    expect(shaped).toBeGreaterThan(params().numRuns / 2);
    expect(refused).toBeGreaterThan(params().numRuns / 5);
  });

  const dir = mkdtempSync(path.join(tmpdir(), 'tributary-shapes-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a schema pass over a file (inferNdjson: lines of a shape seen before skipped, the others read as shapes) infers what the exact parser\'s rows infer, refuses what they refuse with the same message, and stops at the same bad line', async () => {
    let repeats = 0;
    let stopped = 0;
    await fc.assert(
      fc.asyncProperty(
        // A few line texts, used again and again (as a file's lines are), in any order; half the
        // time lines of the same keys with values of any kind (shapes that differ only there).
        fc.oneof(fc.array(fc.oneof({ weight: 4, arbitrary: lineText }, { weight: 1, arbitrary: damaged }), { minLength: 1, maxLength: 4 }), sameKeys).chain((pool) => fc.array(fc.nat({ max: pool.length - 1 }), { minLength: 1, maxLength: 12 }).map((ix) => ix.map((i) => pool[i]))),
        async (texts) => {
          // A file that starts with '[' is a JSON array document (json-array.ts), not these lines.
          fc.pre(!/^\s*\[/.test(texts.join('\n')));
          // The reference: the rows the exact parser reads up to the first bad line, inferred from.
          const rows: Record<string, unknown>[] = [];
          let bad: string | undefined;
          for (const t of texts) {
            const row = exact(t);
            if (row instanceof Error) {
              if (!/^\s*$/.test(t)) bad = row.message.replace(/^in, line 1: /, '');
              if (bad !== undefined) break;
              continue;
            }
            rows.push(row);
          }
          const file = path.join(dir, 'in.ndjson');
          writeFileSync(file, texts.join('\n') + '\n');
          let got: string;
          let gotBad: string | undefined;
          try {
            const found = await inferNdjson(file, struct([]), new RowLines());
            got = found.rows === 0 ? 'no rows' : schemaToString(found.schema);
            gotBad = found.error?.message.replace(/^.*?, line \d+: /, '');
          } catch (e) {
            got = `refused: ${(e as Error).message}`;
          }
          const want = rows.length === 0 ? 'no rows' : inferred(rows);
          expect(got).toBe(want);
          if (!want.startsWith('refused')) expect(gotBad).toBe(bad);
          if (new Set(texts).size < texts.length) repeats++;
          if (bad !== undefined) stopped++;
        },
      ),
      params(Math.max(50, Math.floor(params().numRuns / 10))),
    );
    expect(repeats).toBeGreaterThan(10);
    expect(stopped).toBeGreaterThan(5);
  });

  it('tells apart every pair of numbers the inference types differently, in both orders (a long\'s bounds, DECIMAL(n, 0) widths, doubles)', async () => {
    const texts = ['0', '-0', '1.0', '1e3', '999999999999999999', '9223372036854775807', '9223372036854775808', '-9223372036854775808', '-9223372036854775809', '10000000000000000000', '123456789012345678901', `1${'0'.repeat(37)}`, `1${'0'.repeat(38)}`];
    const file = path.join(dir, 'pairs.ndjson');
    for (const x of texts) {
      for (const y of texts) {
        const lines = [`{"a":${x}}`, `{"a":${y}}`];
        writeFileSync(file, lines.join('\n') + '\n');
        const found = await inferNdjson(file, struct([]), new RowLines());
        expect(`${x}, ${y}: ${schemaToString(found.schema)}`).toBe(`${x}, ${y}: ${inferred(lines.map((l) => exact(l) as Record<string, unknown>))}`);
      }
    }
  });

  it('reads a line within a larger buffer without reading past its end', () => {
    const buf = Buffer.from('{"a":1}\n{"a":1.5,"b":"x"}\n{"a":');
    expect(shapeOfLine(buf, 8, 25)).toEqual({ a: 0.5, b: '' });
    // "{"a":" then the end: the bytes after it (none here; the next line's in a stream) are not the value.
    expect(shapeOfLine(buf, 26, buf.length)).toBeUndefined();
    expect(shapeOfLine(Buffer.from('{"a":12}'), 0, 6)).toBeUndefined();
    expect(shapeOfLine(Buffer.from('{"a":12}9'), 0, 8)).toEqual({ a: 0 });
  });
});
