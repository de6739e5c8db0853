import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { inferNdjson, RowLines } from '../../src/cli/input.js';
import { schemaToString, struct, type StructType } from '../../src/schema/schema.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { params } from '../support/input-edge-properties.js';

/**
 * The schema pass with the NDJSON accelerator skipping the lines that add nothing to what it has
 * settled (json/settled-lines.ts) against the pass without it: the same schema, rows, line of
 * every row, first bad line and refusal, on files whose columns are settled, widened, left null,
 * left empty, nested and clashing, read in reads cut anywhere. The accelerator has to have taken
 * lines, or the comparison would be of the JavaScript path with itself.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'tributary-settled-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Pass {
  schema?: string;
  rows?: number;
  error?: string;
  thrown?: string;
  lines: (number | undefined)[];
  accelerated: number;
}

async function pass(file: string, accelerate: boolean, table: StructType = struct([])): Promise<Pass> {
  const lines = new RowLines();
  try {
    const found = await inferNdjson(file, table, lines, { accelerate });
    const at = Array.from({ length: found.rows + 1 }, (_, r) => lines.lineOf(r));
    return { schema: schemaToString(found.schema), rows: found.rows, error: found.error && `${found.error.code} ${found.error.message} ${JSON.stringify(found.error.details)}`, lines: at, accelerated: found.accelerated };
  } catch (e) {
    const err = e as { code?: string; message: string; details?: unknown };
    return { thrown: `${err.code} ${err.message} ${JSON.stringify(err.details)}`, lines: [], accelerated: 0 };
  }
}

async function same(text: string, table?: StructType): Promise<Pass> {
  const file = path.join(dir, 'in.ndjson');
  writeFileSync(file, text);
  const js = await pass(file, false, table);
  const fast = await pass(file, true, table);
  expect(js.accelerated).toBe(0);
  expect({ ...fast, accelerated: 0 }).toEqual(js);
  return fast;
}

// Values of each kind the inference tells apart, with the near misses of the module's types
// (an escape, -0, 1.0, 1e3, past a long, past 38 digits): a column keeps to one kind in a file,
// mostly, so that the file is read to its end and most lines are of settled types.
const KINDS: Record<string, string[]> = {
  long: ['1', '-7', '0', '-0', '12345678901234567', '9223372036854775807', 'null'],
  double: ['1.5', '-2.5e-7', '1e3', '1.0', '3', '1E400', 'null'],
  wide: ['9223372036854775808', '123456789012345678901', '5', `1${'0'.repeat(38)}`],
  string: ['"x"', '"é"', '"a\\"b"', '""', '"2024-05-01T00:00:04.152771Z"', 'null'],
  bool: ['true', 'false', 'null'],
  array: ['[]', '[1,2]', '["x"]', '[null]', '[[1]]', '[3]', '[{"k":1}]', 'null'],
  struct: ['{}', '{"x":1}', '{"x":null}', '{"x":2,"y":[true]}', '{"x":"s"}', 'null'],
  none: ['null'],
};
const ANY = Object.values(KINDS).flat();
const KEYS = ['a', 'b', 'c', 'd'];
const BAD = ['', '  ', '{"a":1', '{"a":1}x', '[1]', '{"a":1,"a":2}', '{"a":1,"A":2}', '{"é":1}'];

/** A file: each key's kind, then lines of some of the keys with values of their kinds, a few of any kind, a few bad. */
// A column only ever null leaves every line with it to the JavaScript path (nothing is settled there): rarer.
const kind = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...Object.keys(KINDS).filter((k) => k !== 'none')) }, { weight: 1, arbitrary: fc.constant('none') });
const file = fc.tuple(fc.array(kind, { minLength: 4, maxLength: 4 }), fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(99)), { minLength: 1, maxLength: 300 })).map(([kinds, picks]) =>
  picks.map(([keys, pick, odd]) => {
    if (odd < 1) return BAD[pick % BAD.length];
    const parts: string[] = [];
    KEYS.forEach((k, i) => {
      if (!((keys >> i) & 1)) return;
      const own = KINDS[kinds[i]];
      parts.push(`"${k}":${odd < 3 ? ANY[(pick + i) % ANY.length] : own[(pick + i) % own.length]}`);
    });
    return `{${parts.join(',')}}`;
  }),
);

describe('the schema pass with the NDJSON accelerator (SettledLines)', () => {
  it('infers, counts, numbers and refuses as the pass without it, on any file', async () => {
    let accelerated = 0;
    let refusals = 0;
    await fc.assert(
      fc.asyncProperty(file, fc.boolean(), async (lines: string[], crlf: boolean) => {
        const text = `${lines.join(crlf ? '\r\n' : '\n')}\n`;
        // A file that starts with '[' is a JSON array document, not these lines.
        fc.pre(!/^\s*\[/.test(text));
        const r = await same(text);
        accelerated += r.accelerated;
        if (r.thrown || r.error) refusals++;
      }),
      params(200),
    );
    // Short files that stop at a bad line or a conflict, with columns often null: the module takes
    // some of their lines (183 at this seed); the next tests measure how much of a regular file.
    expect(accelerated).toBeGreaterThan(100);
    expect(refusals).toBeGreaterThan(20);
  });

  it('keeps a conflict with a value the module would have taken unseen: a column null, then text, then a number; an array empty, then of text, then of numbers', async () => {
    const nulls = Array(50).fill('{"a":null,"b":[]}');
    const r = await same([...nulls, '{"a":"x","b":["s"]}', ...Array(50).fill('{"a":"y","b":["t"]}'), '{"a":1,"b":[2]}'].join('\n') + '\n');
    expect(r.thrown).toMatch(/SCHEMA_MISMATCH column "a": row 50 has a string but row 101 a long/);
    const arrays = await same([...nulls, '{"b":["s"]}', ...Array(50).fill('{"b":["t"],"a":null}'), '{"b":[2]}'].join('\n') + '\n');
    expect(arrays.thrown).toMatch(/SCHEMA_MISMATCH column "b.element": row 50 has a string but row 101 a long/);
  });

  it('takes the lines of settled types in runs (most of a regular file), widening and new columns in between', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      if (i === 7_000) lines.push('{"coin":"b","price":1.5,"n":3,"extra":{"k":[1]}}'); // price widens, a new nested column
      else if (i % 1_000 === 999) lines.push(`{"coin":"a\\"q","price":${i}}`); // an escape: the JavaScript path's
      else if (i % 1_500 === 0) lines.push('');
      else lines.push(`{"coin":"c${i % 50}","price":${i},"n":${i % 7}${i > 7_000 ? `,"extra":{"k":[${i % 3}]}` : ''}}`);
    }
    const r = await same(`${lines.join('\n')}\n`);
    expect(r.schema).toBe(schemaToString(parseDdl('coin STRING, price DOUBLE, n BIGINT, extra STRUCT<k: ARRAY<BIGINT>>')));
    expect(r.rows).toBe(20_000 - 14);
    expect(r.accelerated).toBeGreaterThan(19_000);
  });

  it('takes the lines of a column only ever null so far, and leaves the first value there to the JavaScript path', async () => {
    const lines = Array.from({ length: 5_000 }, (_, i) => `{"a":${i},"note":null,"later":${i >= 4_000 ? `"s${i}"` : 'null'},"s":{"x":null}}`);
    const r = await same(`${lines.join('\n')}\n`);
    expect(r.schema).toBe(schemaToString(parseDdl('a BIGINT, note STRING, later STRING, s STRUCT<x: STRING>')));
    expect(r.accelerated).toBeGreaterThan(4_900);
    // A value the module would have taken as null-only's news: the conflict names the first string's row.
    const clash = await same(`${[...lines, '{"a":1,"later":7}', '{"s":{"x":[1]}}'].join('\n')}\n`);
    expect(clash.thrown).toMatch(/SCHEMA_MISMATCH column "later": row 4000 has a string but row 5000 a long/);
  });

  it('with a table\'s columns (--merge-schema): their types are settled from the start', async () => {
    const table = parseDdl('coin STRING NOT NULL, price DOUBLE, tags ARRAY<STRING>, m MAP<STRING, BIGINT>');
    const lines = Array.from({ length: 3_000 }, (_, i) => (i === 2_000 ? '{"coin":"z","price":1,"new":true}' : `{"coin":"c","price":${i}.5,"tags":["t"]${i % 10 === 0 ? ',"m":{"k":1}' : ''}}`));
    const r = await same(`${lines.join('\n')}\n`, table);
    expect(r.schema).toContain('"new"');
    expect(r.accelerated).toBeGreaterThan(2_000);
  });
});
