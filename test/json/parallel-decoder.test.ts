import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { TributaryError } from '../../src/errors.js';
import { NdjsonDecoder } from '../../src/json/ndjson-decoder.js';
import { DecodeThreads, ParallelNdjsonDecoder } from '../../src/json/parallel-decoder.js';
import { parseDdl } from '../../src/schema/ddl.js';

/**
 * Decoding on threads (ParallelNdjsonDecoder) against one decoder on the whole input: for any
 * input cut into ranges of any size and fed in chunks of any size, the same rows in the same
 * order, the same line for every row, or the same error (code, message, details: the whole
 * input's row and line).
 */
const SCHEMA = parseDdl('id BIGINT NOT NULL, coin STRING, price DOUBLE, ts TIMESTAMP');

type Outcome = { rows: unknown[]; lines: (number | undefined)[]; error?: { code: string; message: string; details: unknown } };

const show = (v: unknown) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x));

function single(input: Buffer, chunk: number): Outcome {
  const d = new NdjsonDecoder({ schema: SCHEMA, name: 'in.ndjson', chunkRows: 7 });
  const rows: unknown[] = [];
  let error: Outcome['error'];
  try {
    for (let i = 0; i < input.length; i += chunk) for (const b of d.push(input.subarray(i, i + chunk))) rows.push(...arrowToRows(b));
    for (const b of d.end()) rows.push(...arrowToRows(b));
  } catch (e) {
    if (!(e instanceof TributaryError)) throw e;
    error = { code: e.code, message: e.message, details: e.details };
  }
  return { rows, lines: rows.map((_, i) => d.lineOf(i)), error };
}

async function parallel(input: Buffer, chunk: number, rangeBytes: number, threads: DecodeThreads, alsoHere = false): Promise<Outcome> {
  const p = new ParallelNdjsonDecoder({ schema: SCHEMA, name: 'in.ndjson', chunkRows: 7, threads, rangeBytes, alsoHere });
  async function* chunks() {
    for (let i = 0; i < input.length; i += chunk) yield input.subarray(i, i + chunk);
  }
  const rows: unknown[] = [];
  let error: Outcome['error'];
  try {
    for await (const b of p.decode(chunks())) rows.push(...arrowToRows(b));
  } catch (e) {
    if (!(e instanceof TributaryError)) throw e;
    error = { code: e.code, message: e.message, details: e.details };
  }
  return { rows, lines: rows.map((_, i) => p.lineOf(i)), error };
}

const goodLine = (i: number) => `{"id":${i},"coin":"c${i % 3}","price":${(i * 1.1).toPrecision(17)},"ts":"2024-05-01T00:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(6, '0').slice(-6)}Z"}`;

/** Lines of every kind a range boundary may fall between: rows, blank lines, CRLF, bad values, bad JSON. */
const lineArb = fc.oneof(
  { weight: 12, arbitrary: fc.nat(999_999).map((i) => `${goodLine(i)}\n`) },
  { weight: 2, arbitrary: fc.constantFrom('\n', '\r\n', '  \n') },
  { weight: 2, arbitrary: fc.nat(999).map((i) => `${goodLine(i)}\r\n`) },
  { weight: 1, arbitrary: fc.constantFrom('{"id":null}\n', '{"id":1,"coin":["x"]}\n', '{"id":1,\n', '{"id":1,"ts":"yesterday"}\n', '{"id":2,"nope":1}\n', '[1]\n') },
);

describe('parallel NDJSON decoding', () => {
  // Started once for the file (a thread under tsx takes a while to load): one and two threads.
  const one = new DecodeThreads(1);
  const two = new DecodeThreads(2);
  afterAll(() => Promise.all([one.close(), two.close()]));

  it('gives one decoder’s rows, lines and first error for any input, range size and chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(lineArb, { maxLength: 80 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 16, max: 3000 }),
        fc.boolean(),
        fc.boolean(),
        async (lines, bom, lastNewline, chunk, rangeBytes, both, alsoHere) => {
          let text = lines.join('');
          if (!lastNewline && text.endsWith('\n')) text = text.slice(0, -1);
          const input = Buffer.concat([bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(text)]);
          const want = single(input, 64);
          const got = await parallel(input, chunk, rangeBytes, both ? two : one, alsoHere);
          expect(show(got.error)).toBe(show(want.error));
          if (want.error) {
            // Before an error, each hands out some of the rows before the bad line (as many as
            // its batches or ranges had finished): the same rows, numbered the same.
            const n = Math.min(got.rows.length, want.rows.length);
            expect(show(got.rows.slice(0, n))).toBe(show(want.rows.slice(0, n)));
            expect(got.lines.slice(0, n)).toEqual(want.lines.slice(0, n));
          } else {
            expect(show(got.rows)).toBe(show(want.rows));
            expect(got.lines).toEqual(want.lines);
          }
        },
      ),
      { seed: 20261202, numRuns: 200 },
    );
  });

  for (const alsoHere of [false, true]) {
    it(`numbers rows and lines across many ranges and two threads${alsoHere ? ' and this one' : ''}, a bad value far in`, async () => {
      let text = '';
      for (let i = 0; i < 5000; i++) text += `${goodLine(i)}\n${i % 1000 === 999 ? '\n' : ''}`;
      text += '{"id":5000,"coin":"c","price":"cheap"}\n';
      for (let i = 5001; i < 6000; i++) text += `${goodLine(i)}\n`;
      const got = await parallel(Buffer.from(text), 65_536, 10_000, two, alsoHere);
      expect(got.rows).toHaveLength(5000);
      expect(got.lines[4999]).toBe(5004);
      expect(got.error?.message).toBe('row 5000, column "price": value "cheap" is not a number (column type double) [in.ndjson, line 5006]');
    });
  }

  it('with alsoHere, decodes one range in every threads + 1 on the calling thread', async () => {
    let text = '';
    for (let i = 0; i < 3000; i++) text += `${goodLine(i)}\n`;
    const input = Buffer.from(text);
    const posted = (t: DecodeThreads) => (t as unknown as { nextId: number }).nextId;
    const before = posted(one);
    const got = await parallel(input, 4096, 10_000, one, true);
    expect(show(got.rows)).toBe(show(single(input, 65_536).rows));
    // A range is cut once 10,000 bytes have come: three chunks of 4,096 bytes (less the part
    // line after the last newline). Every second range is posted to the thread.
    const sent = posted(one) - before;
    expect(sent).toBeGreaterThanOrEqual(Math.floor(input.length / 12_288 / 2) - 1);
    expect(sent).toBeLessThanOrEqual(Math.ceil(input.length / 8192 / 2) + 1);
  });
});
