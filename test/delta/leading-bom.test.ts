import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { variantToJs } from '../../src/arrow/variant/decode.js';
import { encodeVariant } from '../../src/arrow/variant/encode.js';
import { readCheckpoint } from '../../src/delta/checkpoint.js';
import { engineFor } from '../../src/delta/engine.js';
import { DeltaTable } from '../../src/delta/table.js';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

/**
 * A string that starts with U+FEFF (a byte order mark) is a value like any other. The default
 * TextDecoder (and Arrow JS's, which uses one) drops it: stats said max "z" for "\ufeffz" (readers
 * skipped the file for s = '\ufeffz'), length(s) in a generated column was 1, a CHECK constraint
 * saw "z", and a partition value read back from a checkpoint lost it (the next checkpoint wrote
 * it without). Found by a fuzzing helper.
 */
const tmp = tempDir('tributary-bom-');
const BOM = '\ufeff';
const lines = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

describe('a leading U+FEFF in a string value', () => {
  it('is kept in stats, generated columns, CHECK constraints, and partition values read back from a checkpoint', async () => {
    const dir = tmp();
    const table = path.join(dir, 't');
    const schema = 'rid BIGINT, s STRING, p STRING, n INT GENERATED ALWAYS AS (length(s)), c STRING GENERATED ALWAYS AS (concat(s, \'x\'))';
    const props = ['--property', 'delta.checkpointInterval=1', '--property', "delta.constraints.not_z=s <> 'z'"];
    for (const [rid, s] of [
      [1, `${BOM}z`],
      [2, 'a'],
    ] as const) {
      const r = await cli(['append', table, '--input', '-', '--schema', schema, '--partition-by', 'p', ...props], { input: lines([{ rid, s, p: `${BOM}p${rid}` }]) });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    // Stats of the first file, from its commit.
    const add = readFileSync(path.join(table, '_delta_log', `${'0'.repeat(20)}.json`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((a) => a.add).add;
    expect(JSON.parse(add.stats).maxValues).toMatchObject({ s: `${BOM}z`, c: `${BOM}zx` });
    expect(add.partitionValues).toEqual({ p: `${BOM}p1` });
    // The checkpoint at 1 holds both files with their partition values as written.
    expect(readdirSync(path.join(table, '_delta_log'))).toContain(`${'0'.repeat(19)}1.checkpoint.parquet`);
    const engine = await engineFor(table);
    const actions = await readCheckpoint(engine, `_delta_log/${'0'.repeat(19)}1.checkpoint.parquet`);
    expect(actions.flatMap((a) => ('add' in a ? [a.add.partitionValues.p] : [])).sort()).toEqual([`${BOM}p1`, `${BOM}p2`]);
    // A snapshot loaded from that checkpoint reads the values as written.
    const t = await DeltaTable.open(table);
    expect(t.snapshot.checkpointVersion).toBe(1);
    const rows = arrowToRows(await t.read()).sort((a, b) => Number(a.rid) - Number(b.rid));
    expect(rows).toEqual([
      { rid: 1n, s: `${BOM}z`, p: `${BOM}p1`, n: 2, c: `${BOM}zx` },
      { rid: 2n, s: 'a', p: `${BOM}p2`, n: 1, c: 'ax' },
    ]);
  });

  it('is kept in a VARIANT string', () => {
    const back = (x: unknown) => {
      const v = encodeVariant(x);
      return variantToJs(v.metadata, v.value);
    };
    expect(back({ [`${BOM}k`]: `${BOM}v` })).toEqual({ [`${BOM}k`]: `${BOM}v` });
    expect(back(`${BOM}${'long string '.repeat(8)}`)).toBe(`${BOM}${'long string '.repeat(8)}`);
  });
});
