import { readdirSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { DeltaTable } from '../../src/delta/table.js';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

/**
 * `tributary append --input` with a known schema decodes NDJSON straight into Arrow (the
 * schema-directed decoder); with --merge-schema it decodes into the table's columns first and,
 * when a line brings a new one, infers it in a pass of its own and decodes again (stdin from a
 * copy in TMPDIR). Both report the earliest problem of the input in one line naming row, column,
 * value and input line.
 */
const tmp = tempDir('tributary-decoder-');

const ONE_LINE = /^tributary: error \[[A-Z_]+\]: [^\n]+\n$/;

function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .sort()
    .map((p) => `${p}:${statSync(path.join(dir, p)).isDirectory() ? 'dir' : statSync(path.join(dir, p)).size}`);
}

describe('tributary append through the decoder', () => {
  it('appends more than one 64K-row batch exactly, and names row and line of a bad value in a later batch', async () => {
    const dir = tmp();
    const table = path.join(dir, 't');
    const input = path.join(dir, 'in.ndjson');
    let text = '';
    for (let i = 0; i < 70_000; i++) {
      text += `{"id":${i},"coin":"c${i % 50}","price":${(i * 1.0001).toPrecision(17)},"ts":"2024-05-01T00:00:00.${String(i % 1_000_000).padStart(6, '0')}Z"}\n`;
      if (i % 10_000 === 9_999) text += '\r\n';
    }
    writeFileSync(input, text);
    const a = await cli(['append', table, '--input', input, '--schema', 'id BIGINT NOT NULL, coin STRING, price DOUBLE, ts TIMESTAMP']);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/^appended 70000 rows in \d+ file\(s\) as version 0/);
    const rows = arrowToRows(await (await DeltaTable.open(table)).read()).sort((x, y) => Number((x.id as bigint) - (y.id as bigint)));
    expect(rows).toHaveLength(70_000);
    expect(rows[69_999]).toEqual({ id: 69_999n, coin: 'c49', price: Number((69_999 * 1.0001).toPrecision(17)), ts: 1714521600000000n + 69_999n });

    const before = tree(table);
    writeFileSync(input, text.replace('{"id":66666,"coin":"c16"', '{"id":66666,"coin":["c16"]'));
    const bad = await cli(['append', table, '--input', input]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(ONE_LINE);
    // Six blank lines above row 66666.
    expect(bad.stderr).toBe(`tributary: error [ROW_INVALID]: row 66666, column "coin": value ["c16"] is not a string (column type string) [${input}, line 66673]\n`);
    expect(tree(table)).toEqual(before);
  });

  it('lands a large input exactly when its later chunks are built in the buffers the encoder thread gave back', async () => {
    // From 4 MiB the input's chunks go to the encoder thread as their buffers, which come back
    // for the next chunks (arrow/buffer-pool.ts): every row of every chunk is checked.
    const dir = tmp();
    const table = path.join(dir, 't');
    const input = path.join(dir, 'in.ndjson');
    const n = 4 * 65_536 + 123;
    const expected: Record<string, unknown>[] = [];
    const text: string[] = [];
    for (let i = 0; i < n; i++) {
      const coin = i % 7 === 0 ? null : `coin-${i % 997}-${'x'.repeat(i % 13)}`;
      const price = i % 5 === 0 ? null : (n - i) / 3;
      const ok = i % 3 === 0 ? null : i % 2 === 0;
      text.push(JSON.stringify({ id: i, coin, price, ok, at: { day: i % 11 === 0 ? null : i % 28 } }));
      expected.push({ id: BigInt(i), coin, price, ok, at: { day: i % 11 === 0 ? null : i % 28 } });
    }
    writeFileSync(input, text.join('\n') + '\n');
    expect(statSync(input).size).toBeGreaterThan(4 * 1024 * 1024);
    const a = await cli(['append', table, '--input', input, '--schema', 'id BIGINT NOT NULL, coin STRING, price DOUBLE, ok BOOLEAN, at STRUCT<day: INT>', '--decode-workers', '0']);
    expect(a.stderr).toBe('');
    const rows = arrowToRows(await (await DeltaTable.open(table)).read()).sort((x, y) => Number((x.id as bigint) - (y.id as bigint)));
    expect(rows).toEqual(expected);
  }, 120_000);

  it('reports the earliest problem, through the decoder and through --merge-schema alike', async () => {
    const dir = tmp();
    const table = path.join(dir, 't');
    expect((await cli(['append', table, '--input', '-', '--schema', 'id BIGINT, note STRING'], { input: '{"id":1}\n' })).code).toBe(0);
    const before = tree(table);
    const input = '{"id":2}\n{"id":"two"}\n{"id":3,\n';
    for (const flags of [[], ['--merge-schema']]) {
      const r = await cli(['append', table, '--input', '-', ...flags], { input });
      expect(r.code, flags.join(' ')).toBe(1);
      expect(r.stderr).toBe('tributary: error [ROW_INVALID]: row 1, column "id": value "two" is not an integer (column type long) [stdin, line 2]\n');
      // Without the bad value, the syntax error on line 3.
      const s = await cli(['append', table, '--input', '-', ...flags], { input: input.replace('"two"', '2') });
      expect(s.stderr).toMatch(/^tributary: error \[INPUT_PARSE\]: stdin, line 3: not valid JSON \(/);
    }
    // With --merge-schema, a row before the bad line is checked against the columns it adds.
    const merged = await cli(['append', table, '--input', '-', '--merge-schema'], { input: '{"id":2,"n":1.5}\n{"id":3,"n":1e400}\n{\n' });
    expect(merged.stderr).toBe('tributary: error [ROW_INVALID]: row 1, column "n": value 1e400 is beyond the range of a double (about ±1.8e308) (column type double) [stdin, line 2]\n');
    expect(tree(table)).toEqual(before);
  });

  it('takes an input of one empty line (held back as a possible byte order mark, then split into lines)', async () => {
    const dir = tmp();
    const table = path.join(dir, 't');
    expect((await cli(['append', table, '--input', '-', '--schema', 'id BIGINT'], { input: '{"id":1}\n' })).code).toBe(0);
    for (const flags of [[], ['--merge-schema']]) {
      const r = await cli(['append', table, '--input', '-', ...flags], { input: '\n' });
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^nothing to append/);
    }
  });

  it('decodes on threads (--decode-workers, TRIBUTARY_DECODE_WORKERS) to the same table and the same error as on the main thread', async () => {
    const dir = tmp();
    const input = path.join(dir, 'in.ndjson');
    // About 10 MiB: two 8 MiB ranges, so rows and lines are numbered across ranges and threads.
    let text = '';
    for (let i = 0; i < 80_000; i++) {
      text += `{"id":${i},"coin":"c${i % 50}","price":${(i * 1.0001).toPrecision(17)},"ts":"2024-05-01T00:00:00.${String(i % 1_000_000).padStart(6, '0')}Z","pad":"${'x'.repeat(i % 40)}"}\n`;
      if (i % 10_000 === 9_999) text += '\r\n';
    }
    writeFileSync(input, text);
    const schema = ['--schema', 'id BIGINT NOT NULL, coin STRING, price DOUBLE, ts TIMESTAMP, pad STRING'];
    const tables = { main: path.join(dir, 'w0'), two: path.join(dir, 'w2') };
    const runs = [
      await cli(['append', tables.main, '--input', input, ...schema, '--decode-workers', '0']),
      await cli(['append', tables.two, '--input', input, ...schema, '--decode-workers', '2']),
    ];
    for (const r of runs) {
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^appended 80000 rows in \d+ file\(s\) as version 0/);
    }
    const read = async (t: string) => arrowToRows(await (await DeltaTable.open(t)).read()).sort((x, y) => Number((x.id as bigint) - (y.id as bigint)));
    const want = await read(tables.main);
    expect(want).toHaveLength(80_000);
    expect(await read(tables.two)).toEqual(want);

    // A bad value in the second half (in the second range): the same one line, naming
    // the whole input's row and line, and the table as it was.
    const before = tree(tables.two);
    writeFileSync(input, text.replace('{"id":75000,"coin":"c0"', '{"id":75000,"coin":["c0"]'));
    const errors = [];
    for (const w of ['0', '1', '2']) {
      // One worker through the environment variable.
      const bad = w === '1' ? await cli(['append', tables.two, '--input', input], { env: { TRIBUTARY_DECODE_WORKERS: w } }) : await cli(['append', tables.two, '--input', input, '--decode-workers', w]);
      expect(bad.code, `${w} workers`).toBe(1);
      errors.push(bad.stderr);
    }
    // Seven blank lines above row 75000.
    expect(errors).toEqual(Array(3).fill(`tributary: error [ROW_INVALID]: row 75000, column "coin": value ["c0"] is not a string (column type string) [${input}, line 75008]\n`));
    expect(tree(tables.two)).toEqual(before);

    const refused = await cli(['append', tables.two, '--input', input], { env: { TRIBUTARY_DECODE_WORKERS: 'many' } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^tributary: error \[INVALID_ARGUMENT\]: TRIBUTARY_DECODE_WORKERS must be a whole number from 0 to 64, got "many"\n$/);
  }, 300_000); // six processes of 80,000 lines each, on a shared 2-core machine

  it('checks a new table’s schema before its input', async () => {
    const dir = tmp();
    const r = await cli(['append', path.join(dir, 't'), '--input', '-', '--schema', 'id BIGINT, ID STRING'], { input: '{"id": \n' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tributary: error \[SCHEMA_INVALID\]: /);
  });
});
