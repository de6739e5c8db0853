import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstSignificant, JsonArrayLines } from '../../src/json/json-array.js';

/**
 * A JSON array document as NDJSON lines (src/json/json-array.ts): each element on a line of its
 * own, unchanged but for its line breaks, numbered by the line it starts on; the array's own
 * syntax refused naming the line.
 */

/** The lines the transducer gives for `doc` cut into `cuts` pieces, and the transducer. */
function run(doc: Buffer, cuts: number[] = []): { lines: string[]; t: JsonArrayLines } {
  const t = new JsonArrayLines('in.json');
  const outs: Buffer[] = [];
  let from = 0;
  for (const at of [...cuts, doc.length]) {
    outs.push(t.push(doc.subarray(from, at)));
    from = at;
    if (t.error) break;
  }
  if (!t.error) outs.push(t.end());
  const text = Buffer.concat(outs).toString('utf8');
  return { lines: text === '' ? [] : text.replace(/\n$/, '').split('\n'), t };
}

describe('JsonArrayLines', () => {
  it('writes each element on a line of its own, its bytes unchanged but for line breaks, numbered by the line it starts on', () => {
    const doc = Buffer.from('\ufeff [\r\n  {\n    "a": "x, ] } [ { \\" \\\\n",\n    "b": [1,\n 2]\n  },\n\n  {"a":1},{"a":2}\n]\n  \n');
    const { lines, t } = run(doc);
    expect(t.error).toBeUndefined();
    expect(lines).toEqual(['{     "a": "x, ] } [ { \\" \\\\n",     "b": [1,  2]   }', '{"a":1}', '{"a":2}']);
    expect(lines.map((l) => JSON.parse(l))).toEqual(JSON.parse(doc.toString('utf8').slice(1)));
    expect([1, 2, 3].map((n) => t.input(n))).toEqual([2, 8, 8]);
    expect(run(Buffer.from('[]')).lines).toEqual([]);
    // Scalars are elements too (the reader refuses them: not an object).
    expect(run(Buffer.from('[1, "a" ,true,null]')).lines).toEqual(['1', '"a"', 'true', 'null']);
  });

  it('refuses the array’s own syntax naming the line, after the elements before it', () => {
    const refused = (doc: string) => {
      const { lines, t } = run(Buffer.from(doc));
      return [t.error?.message, lines];
    };
    expect(refused('[\n{"a":1},\n]')).toEqual(['in.json, line 3: not valid JSON (a "]" right after a "," (a trailing comma))', ['{"a":1}']]);
    expect(refused('[{"a":1}\n{"a":2}]')).toEqual(['in.json, line 2: not valid JSON ("{" after array element 0 where a "," or "]" should be)', ['{"a":1}']]);
    expect(refused('[{"a":1}]\n\n[]')).toEqual(['in.json, line 3: not valid JSON ("[" after the array\'s closing "]" (the input must be one array))', ['{"a":1}']]);
    expect(refused('[{"a":1},\n{"a":2}')).toEqual(['in.json, line 2: not valid JSON (the input ends inside its array: 2 element(s) read, then no "]")', ['{"a":1}', '{"a":2}']]);
    // An element cut short is given to the reader as a line, which refuses it first (an earlier line).
    expect(refused('[{"a":1},\n{"a":')).toEqual(['in.json, line 2: not valid JSON (the input ends inside its array: 2 element(s) read, then no "]")', ['{"a":1}', '{"a":']]);
    // An empty element (two commas, or one first) is no value: refused, not skipped (it was read as a blank line).
    expect(refused('[{"a":1},\n,{"a":2}]')).toEqual(['in.json, line 2: not valid JSON (a "," where an array element should be (an empty element))', ['{"a":1}']]);
    expect(refused('[ ,{"a":1}]')).toEqual(['in.json, line 1: not valid JSON (a "," where an array element should be (an empty element))', []]);
    expect(refused('[,]')).toEqual(['in.json, line 1: not valid JSON (a "," where an array element should be (an empty element))', []]);
    expect(refused('[1}')).toEqual(['in.json, line 1: not valid JSON ("}" after array element 0 where a "," or "]" should be)', ['1']]);
  });

  it('finds where the first significant byte is (after a byte order mark and whitespace), or that it has not come yet', () => {
    expect(firstSignificant(Buffer.from(' \n\t[1]'))).toBe(3);
    expect(firstSignificant(Buffer.from('\ufeff{'))).toBe(3);
    expect(firstSignificant(Buffer.from(' \r\n'))).toBe(-1);
    expect(firstSignificant(Buffer.from([0xef, 0xbb]))).toBe(-1);
    expect(firstSignificant(Buffer.from([0xef]))).toBe(-1);
    expect(firstSignificant(Buffer.from([0xff]))).toBe(0);
  });

  it('property: any array of objects, printed any way and read in any pieces, gives its elements and their first lines (seeded)', () => {
    const element = fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 });
    const layout = fc.record({ indent: fc.constantFrom(undefined, 0, 1, 2, '\t'), before: fc.constantFrom('', '\n', ' \r\n '), between: fc.constantFrom(',', ', ', ',\n', '\n,\n\n', ' ,\r\n  ') });
    fc.assert(
      fc.property(fc.array(element, { maxLength: 12 }), layout, fc.array(fc.nat(), { maxLength: 6 }), (elements, l, cutsAt) => {
        // The document, and the line each element starts on, counted as it is built.
        let doc = `${l.before}[${l.before}`;
        const starts: number[] = [];
        elements.forEach((e, i) => {
          if (i > 0) doc += l.between;
          starts.push(doc.split('\n').length);
          doc += JSON.stringify(e, null, l.indent);
        });
        doc += `${l.before}]${l.before}`;
        const bytes = Buffer.from(doc, 'utf8');
        const cuts = [...new Set(cutsAt.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const { lines, t } = run(bytes, cuts);
        expect(t.error).toBeUndefined();
        expect(lines.map((x) => JSON.parse(x))).toEqual(JSON.parse(doc));
        expect(lines.every((x) => !x.includes('\r'))).toBe(true);
        expect(starts.map((_, i) => t.input(i + 1))).toEqual(starts);
      }),
      { seed: 20261204, numRuns: 400 },
    );
  });
});
