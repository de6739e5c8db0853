import { readdirSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inferNdjson, readNdjson, RowLines } from '../../src/cli/input.js';
import { parseJsonExact } from '../../src/json/exact-parse.js';
import { struct } from '../../src/schema/schema.js';
import { cli } from '../support/cli.js';
import { columnName, nameAllowed, numberToken, sampleOf, timestampCase, tsParts } from '../support/edge-cases.js';
import { compare, doubleEven, exponentOf, FLOAT_OVERFLOW, floatEven, INT64_MAX, INT64_MIN, isInteger, isNearest, nextDouble, nextFloat, prevDouble, prevFloat, rationalOf, unscaledAt, DOUBLE_OVERFLOW } from '../support/exact.js';
import { tempDir } from '../support/tmp.js';

/**
 * The input-edge properties through the real CLI process: values sampled (seeded) from the same
 * generators as the property tests land exactly in a table that `tributary read` gives back, and
 * values the oracle refuses each fail one append with one line and an unchanged table.
 */
const tmp = tempDir('tributary-edge-');
const SEED = Number(process.env.TRIBUTARY_PROPERTY_SEED ?? 20261201);

const SCHEMA = 'id BIGINT NOT NULL, l BIGINT, d38 DECIMAL(38,18), d9 DECIMAL(9,2), x DOUBLE, f FLOAT, ts TIMESTAMP';

type Verdict = { lands: true; expect: (read: unknown) => void } | { lands: false };

function verdict(token: string, column: string): Verdict {
  const e = exponentOf(token);
  if (e <= -2000n || e >= 2000n) return { lands: false };
  const r = rationalOf(token);
  const mag = { n: r.n < 0n ? -r.n : r.n, d: r.d };
  switch (column) {
    case 'l': {
      const v = isInteger(r) ? r.n / r.d : undefined;
      return v !== undefined && v >= INT64_MIN && v <= INT64_MAX ? { lands: true, expect: (x) => expect(BigInt(String(x))).toBe(v) } : { lands: false };
    }
    case 'd38':
    case 'd9': {
      const [p, s] = column === 'd38' ? [38, 18] : [9, 2];
      const u = unscaledAt(r, s);
      if (u === undefined || (u < 0n ? -u : u) >= 10n ** BigInt(p)) return { lands: false };
      return { lands: true, expect: (x) => expect(unscaledAt(rationalOf(String(x)), s)).toBe(u) };
    }
    case 'x':
      return compare(mag, DOUBLE_OVERFLOW) >= 0 ? { lands: false } : { lands: true, expect: (x) => expect(isNearest(r, Number(String(x)), prevDouble, nextDouble, doubleEven), `${token} read as ${x}`).toBe(true) };
    case 'f':
      return compare(mag, FLOAT_OVERFLOW) >= 0 ? { lands: false } : { lands: true, expect: (x) => expect(isNearest(r, Math.fround(Number(String(x))), prevFloat, nextFloat, floatEven), `${token} read as ${x}`).toBe(true) };
  }
  throw new Error(column);
}

function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .sort()
    .map((p) => `${p}:${statSync(path.join(dir, p)).isDirectory() ? 'dir' : statSync(path.join(dir, p)).size}`);
}

const ONE_LINE = /^tributary: error \[[A-Z_]+\]: [^\n]+\n$/;

describe('the input edge through the CLI', () => {
  it('numbers and timestamps that the oracle accepts land exactly; what it refuses fails one line each, leaving the table as it was', async () => {
    const dir = tmp();
    const table = path.join(dir, 't');
    const tokens = sampleOf(numberToken, 400, SEED);
    const stamps = sampleOf(tsParts, 200, SEED + 1).map((p) => timestampCase(p, false));
    const columns = ['l', 'd38', 'd9', 'x', 'f'];
    const lines: string[] = [];
    const checks: { id: number; col: string; check: (v: unknown) => void }[] = [];
    const refused: { col: string; text: string }[] = [];
    let id = 0;
    tokens.forEach((token, i) => {
      const col = columns[i % columns.length];
      const v = verdict(token, col);
      if (!v.lands) return void refused.push({ col, text: token });
      lines.push(`{"id":${id},"${col}":${token}}`);
      checks.push({ id, col, check: v.expect });
      id++;
    });
    for (const s of stamps) {
      if (s.micros === undefined) {
        refused.push({ col: 'ts', text: JSON.stringify(s.text) });
        continue;
      }
      lines.push(`{"id":${id},"ts":${JSON.stringify(s.text)}}`);
      const micros = s.micros;
      checks.push({ id, col: 'ts', check: (x) => expect(isoToMicros(String(x))).toBe(micros) });
      id++;
    }
    const input = path.join(dir, 'in.ndjson');
    writeFileSync(input, lines.join('\n') + '\n');
    const a = await cli(['append', table, '--input', input, '--schema', SCHEMA]);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    const read = await cli(['read', table]);
    const byId = new Map<number, Record<string, unknown>>();
    for (const line of read.stdout.trim().split('\n')) {
      const row = parseJsonExact(line) as Record<string, unknown>;
      byId.set(Number(String(row.id)), row);
    }
    expect(byId.size).toBe(id);
    for (const c of checks) c.check(byId.get(c.id)![c.col]);

    // Refusals: a sample of each kind, each one append that must leave the table untouched.
    const before = tree(table);
    const pickRefused = [...refused.filter((r) => r.col !== 'ts').slice(0, 8), ...refused.filter((r) => r.col === 'ts').slice(0, 6)];
    expect(pickRefused.length).toBeGreaterThanOrEqual(10);
    for (const r of pickRefused) {
      const bad = await cli(['append', table, '--input', '-'], { input: `{"id":1}\n{"id":2,"${r.col}":${r.text}}\n` });
      expect(bad.code, `${r.col}=${r.text} should be refused`).toBe(1);
      expect(bad.stderr).toMatch(ONE_LINE);
      expect(bad.stderr).toContain(`row 1, column "${r.col}"`);
      expect(bad.stderr).toContain('[stdin, line 2]');
      expect(tree(table)).toEqual(before);
    }
  });

  it('refuses invalid UTF-8 naming the line, skips a leading BOM, and shows an inner BOM visibly', async () => {
    const dir = tmp();
    const table = path.join(dir, 't');
    const ok = await cli(['append', table, '--input', '-', '--schema', 'id BIGINT, s STRING'], { input: '\ufeff{"id":1,"s":"a"}\n' });
    expect(ok.stderr).toBe('');
    const before = tree(table);
    const file = path.join(dir, 'bad.ndjson');
    writeFileSync(file, Buffer.concat([Buffer.from('{"id":2,"s":"ok"}\n{"id":3,"s":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]));
    const bad = await cli(['append', table, '--input', file]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(ONE_LINE);
    expect(bad.stderr).toMatch(/line 2: not valid UTF-8 \(byte 0xC3 at byte 17 of the line\)/);
    expect(tree(table)).toEqual(before);
    const inner = await cli(['append', table, '--input', '-'], { input: '{"id":4,\ufeff"s":"x"}\n' });
    expect(inner.code).toBe(1);
    expect(inner.stderr).toMatch(ONE_LINE);
    expect(inner.stderr).toContain('U+FEFF');
    expect(inner.stderr).not.toContain('\ufeff');
    // With the explicit option, the bad bytes become U+FFFD.
    const replaced = await cli(['append', table, '--input', file, '--invalid-utf8', 'replace']);
    expect(replaced.code).toBe(0);
    expect((await cli(['read', table])).stdout).toContain('"caf\ufffd("');
  });

  it('the schema pass of a new table without --schema checks UTF-8 as the decoder does: a bad byte named by its line (first line, a later read\'s middle), a character split between two reads taken whole', async () => {
    const dir = tmp();
    const lineOf = (i: number, s = 'x') => `{"id":${i},"s":"${s}"}\n`;
    // Lines up to a point past the first 1 MiB read, then `tail`.
    const upTo = (bytes: number) => {
      let text = '';
      for (let i = 0; text.length < bytes; i++) text += lineOf(i);
      return Buffer.from(text);
    };
    const bad = Buffer.concat([Buffer.from('{"id":-1,"s":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]);
    const head = upTo(1_500_000);
    const lines = head.toString().split('\n').length - 1;
    const cases: [string, Buffer, RegExp][] = [
      ['first', Buffer.concat([bad, Buffer.from(lineOf(1))]), /line 1: not valid UTF-8 \(byte 0xC3 at byte 18 of the line\)/],
      ['later', Buffer.concat([head, bad, Buffer.from(lineOf(1))]), new RegExp(`line ${lines + 1}: not valid UTF-8 \\(byte 0xC3 at byte 18 of the line\\)`)],
    ];
    for (const [name, bytes, message] of cases) {
      const file = path.join(dir, `${name}.ndjson`);
      writeFileSync(file, bytes);
      const r = await cli(['append', path.join(dir, name), '--input', file]);
      expect(r.code, name).toBe(1);
      expect(r.stderr).toMatch(ONE_LINE);
      expect(r.stderr).toMatch(message);
      // The readers themselves (the append's decoder would refuse the line after them too): the
      // schema pass and the row reader stop at that line with that error, the rows before it read.
      const passed = await inferNdjson(file, struct([]), new RowLines());
      const read = await readNdjson(file);
      expect([passed.error?.message, read.error?.message]).toEqual([expect.stringMatching(message), expect.stringMatching(message)]);
      expect([passed.rows, read.rows.length]).toEqual(name === 'first' ? [0, 0] : [lines, lines]);
    }
    // "é" (two bytes) across the boundary of the first 1 MiB read: one character, not refused.
    const before = upTo(1_048_576 - 100);
    const pad = 1_048_576 - before.length - '{"id":-2,"s":"'.length - 1;
    const split = Buffer.concat([before, Buffer.from(`{"id":-2,"s":"${'a'.repeat(pad)}é"}\n`), Buffer.from(lineOf(1))]);
    expect(split[1_048_575]).toBe(0xc3);
    const file = path.join(dir, 'split.ndjson');
    writeFileSync(file, split);
    const r = await cli(['append', path.join(dir, 'split'), '--input', file]);
    expect(r.stderr).toBe('');
    expect((await cli(['read', path.join(dir, 'split')])).stdout).toContain(`"id":-2,"s":"${'a'.repeat(pad)}é"`);
  });

  it('column names: --schema and --merge-schema accept exactly what the rule allows', async () => {
    const names = sampleOf(columnName, 40, SEED + 2).filter((n) => n.toLowerCase() !== 'id' && !n.includes('\u0000'));
    const allowed = names.filter(nameAllowed).slice(0, 5);
    const refusedNames = names.filter((n) => !nameAllowed(n)).slice(0, 5);
    expect(allowed.length).toBeGreaterThanOrEqual(3);
    expect(refusedNames.length).toBeGreaterThanOrEqual(3);
    const quoted = (n: string) => '`' + n.replace(/`/g, '``') + '`';
    for (const n of [...allowed, ...refusedNames]) {
      const dir = tmp();
      const created = await cli(['append', path.join(dir, 'c'), '--input', '-', '--schema', `id BIGINT, ${quoted(n)} STRING`], { input: JSON.stringify({ id: 1, [n]: 'v' }) + '\n' });
      const base = path.join(dir, 'm');
      await cli(['append', base, '--input', '-', '--schema', 'id BIGINT'], { input: '{"id":1}\n' });
      const before = tree(base);
      const merged = await cli(['append', base, '--input', '-', '--merge-schema'], { input: JSON.stringify({ id: 2, [n]: 'v' }) + '\n' });
      if (nameAllowed(n)) {
        expect(created.code, `${JSON.stringify(n)}: ${created.stderr}`).toBe(0);
        expect(merged.code, `${JSON.stringify(n)}: ${merged.stderr}`).toBe(0);
        const insp = JSON.parse((await cli(['inspect', base, '--json'])).stdout);
        expect(insp.schema.fields.map((f: { name: string }) => f.name)).toEqual(['id', n]);
      } else {
        for (const r of [created, merged]) {
          expect(r.code, JSON.stringify(n)).toBe(1);
          expect(r.stderr).toMatch(ONE_LINE);
          expect(r.stderr).toContain('[SCHEMA_INVALID]');
        }
        expect(tree(base)).toEqual(before);
        expect(() => readdirSync(path.join(dir, 'c', '_delta_log'))).toThrow();
      }
    }
  });
});

/** "YYYY-MM-DDTHH:MM:SS.ffffffZ" (the reader's form) -> microseconds, by Date.UTC. */
function isoToMicros(s: string): bigint {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})Z$/.exec(s);
  if (!m) throw new Error(`unexpected timestamp form ${s}`);
  const d = new Date(0);
  d.setUTCFullYear(+m[1], +m[2] - 1, +m[3]);
  d.setUTCHours(+m[4], +m[5], +m[6], 0);
  return BigInt(d.getTime()) * 1000n + BigInt(m[7]);
}
