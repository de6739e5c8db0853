import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, type CliResult } from '../support/cli.js';
import { deleteRowsWithDv } from '../support/deletion-vectors.js';
import { tempDir } from '../support/tmp.js';

/**
 * Issue 14, item 12, through the real `tributary` command: `read`, `inspect`, `optimize` and
 * `vacuum` refuse, in one line naming the reason, a table whose protocol asks for a reader
 * Tributary is not (version 99, an unknown reader feature) before touching any data file, and a
 * table whose metaData lacks schemaString; `inspect` counts the rows a reader sees in a table
 * with deletion vectors (numRecords less each DV's cardinality), as Spark's count does.
 */
const tmp = tempDir('tributary-protocol-');
const ONE_ERROR_LINE = /^tributary: error \[([A-Z_]+)\]: .+$/;

/** Every file below `dir` with its size: a refused command must leave it exactly so. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const n of readdirSync(path.join(dir, rel)).sort()) {
      const p = rel ? `${rel}/${n}` : n;
      const st = statSync(path.join(dir, p));
      if (st.isDirectory()) walk(p);
      else out.push(`${p} ${st.size}`);
    }
  };
  walk('');
  return out;
}

async function fails(args: string[], dir: string, code: string, message: RegExp): Promise<CliResult> {
  const before = tree(dir);
  const r = await cli(args);
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(ONE_ERROR_LINE);
  expect(ONE_ERROR_LINE.exec(lines[0])![1], lines[0]).toBe(code);
  expect(lines[0]).toMatch(message);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(tree(dir)).toEqual(before);
  return r;
}

const SCHEMA_STRING = JSON.stringify({ type: 'struct', fields: [{ name: 'id', type: 'long', nullable: true, metadata: {} }] });

/**
 * A table written by hand: version 0 with this protocol and metaData, and an add for a data file
 * that does not exist (a reader that tried to read it would fail with DATA_FILE_MISSING instead).
 */
function handMade(protocol: object, metaData: object): string {
  const dir = tmp();
  mkdirSync(path.join(dir, '_delta_log'));
  const actions = [
    { commitInfo: { timestamp: 1, operation: 'WRITE' } },
    { protocol },
    { metaData: { id: 'a8f3c0de-0000-4000-8000-000000000001', format: { provider: 'parquet', options: {} }, partitionColumns: [], configuration: {}, createdTime: 1, ...metaData } },
    { add: { path: 'part-00000-missing.snappy.parquet', partitionValues: {}, size: 100, modificationTime: 1, dataChange: true, stats: '{"numRecords":3}' } },
  ];
  writeFileSync(path.join(dir, '_delta_log', '00000000000000000000.json'), actions.map((a) => JSON.stringify(a)).join('\n') + '\n');
  return dir;
}

describe('tables Tributary cannot read', () => {
  it('refuses a table that needs reader version 99 in read, inspect, optimize, vacuum and append', async () => {
    const dir = handMade({ minReaderVersion: 99, minWriterVersion: 99 }, { schemaString: SCHEMA_STRING });
    for (const args of [['read', dir], ['read', dir, '--version', '0'], ['inspect', dir], ['optimize', dir], ['vacuum', dir, '--dry-run']]) {
      await fails(args, dir, 'UNSUPPORTED_FEATURE', /needs reader version 99; Tributary reads up to 3/);
    }
    const input = path.join(tmp(), 'rows.ndjson');
    writeFileSync(input, '{"id":1}\n');
    await fails(['append', dir, '--input', input], dir, 'UNSUPPORTED_FEATURE', /needs reader version 99/);
  });

  it('refuses a table with a reader feature it does not implement, naming the feature', async () => {
    const dir = handMade({ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['deletionVectors', 'fancyNewReading'], writerFeatures: ['deletionVectors', 'fancyNewReading'] }, { schemaString: SCHEMA_STRING });
    await fails(['read', dir], dir, 'UNSUPPORTED_FEATURE', /uses reader features Tributary does not implement: fancyNewReading$/);
    await fails(['inspect', dir, '--json'], dir, 'UNSUPPORTED_FEATURE', /fancyNewReading/);
  });

  it('names the missing schemaString instead of failing in a JSON parser', async () => {
    const dir = handMade({ minReaderVersion: 1, minWriterVersion: 2 }, {});
    for (const args of [['read', dir], ['inspect', dir], ['history', dir]]) {
      await fails(args, dir, 'LOG_CORRUPT', /version 0: its metaData action has no schemaString \(the table's schema\)/);
    }
  });
});

describe('inspect with deletion vectors', () => {
  it('counts the rows a reader sees: numRecords less what the deletion vectors delete', async () => {
    const dir = tmp();
    const input = path.join(tmp(), 'rows.ndjson');
    for (let a = 0; a < 3; a++) {
      writeFileSync(input, Array.from({ length: 10 }, (_, i) => JSON.stringify({ id: a * 10 + i })).join('\n') + '\n');
      const r = await cli(['append', dir, '--input', input, ...(a === 0 ? ['--schema', 'id BIGINT'] : [])]);
      expect(r.code, r.stderr).toBe(0);
    }
    const adds = (v: number) =>
      readFileSync(path.join(dir, '_delta_log', `${String(v).padStart(20, '0')}.json`), 'utf8')
        .split('\n')
        .filter(Boolean)
        .flatMap((l) => (JSON.parse(l).add ? [JSON.parse(l).add.path as string] : []));
    deleteRowsWithDv(dir, adds(0)[0], [0, 1, 2]);
    deleteRowsWithDv(dir, adds(2)[0], [9], { storage: 'i' });
    const json = JSON.parse((await cli(['inspect', dir, '--json'])).stdout);
    expect(json).toMatchObject({ version: 4, numFiles: 3, numRecords: 26, numDeletedRecords: 4, numDeletionVectors: 2 });
    const text = (await cli(['inspect', dir])).stdout;
    expect(text).toMatch(/^records {8}26 \(4 more deleted by 2 deletion vectors\)$/m);
    // Time travel: before the second delete.
    expect(JSON.parse((await cli(['inspect', dir, '--json', '--version', '3'])).stdout).numRecords).toBe(27);
    const read = (await cli(['read', dir])).stdout.trim().split('\n');
    expect(read).toHaveLength(26);
    expect((await cli(['read', dir, '--version', '3'])).stdout.trim().split('\n')).toHaveLength(27);
  });
});
