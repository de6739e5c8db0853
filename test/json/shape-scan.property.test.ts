import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
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

  it('reads a line within a larger buffer without reading past its end', () => {
    const buf = Buffer.from('{"a":1}\n{"a":1.5,"b":"x"}\n{"a":');
    expect(shapeOfLine(buf, 8, 25)).toEqual({ a: 0.5, b: '' });
    // "{"a":" then the end: the bytes after it (none here; the next line's in a stream) are not the value.
    expect(shapeOfLine(buf, 26, buf.length)).toBeUndefined();
    expect(shapeOfLine(Buffer.from('{"a":12}'), 0, 6)).toBeUndefined();
    expect(shapeOfLine(Buffer.from('{"a":12}9'), 0, 8)).toEqual({ a: 0 });
  });
});
