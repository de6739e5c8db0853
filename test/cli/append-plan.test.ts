import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePlan } from '../../src/cli/commands/append.js';
import { DeltaTable } from '../../src/delta/table.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { schemaToString } from '../../src/schema/schema.js';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-plan-');

/**
 * How `tributary append` reads its input: decoded into Arrow batches of a known schema, or rows.
 * --merge-schema from a file is decoded into the table's columns first (inferred again only if a
 * line brings a new column: test/cli/append.test.ts runs both ways through the CLI).
 */
describe('decodePlan', () => {
  it('decodes a file into the table\'s own columns under --merge-schema, a pass over the file as the fallback; --merge-schema with --schema into the merged columns; only a pipe under --merge-schema without --schema reads rows', async () => {
    const dir = tmp();
    const ddl = 'id BIGINT, s STRING, st STRUCT<a: BIGINT>';
    await cli(['append', dir, '--input', '-', '--schema', ddl], { input: '' });
    const table = await DeltaTable.forPath(dir);
    const plan = (args: { input: string; mergeSchema?: boolean; schema?: string }) => {
      const p = decodePlan(table, args.schema === undefined ? undefined : parseDdl(args.schema), [], args, false);
      return p && { schema: schemaToString(p.schema), orMerge: p.orMerge };
    };
    const own = schemaToString(table.snapshot.schema);
    const file = path.join(dir, 'in.ndjson');
    expect(plan({ input: file, mergeSchema: true })).toEqual({ schema: own, orMerge: true });
    expect(plan({ input: file })).toEqual({ schema: own, orMerge: false });
    expect(plan({ input: '-' })).toEqual({ schema: own, orMerge: false });
    expect(plan({ input: '-', mergeSchema: true })).toBeUndefined();
    // --merge-schema with --schema, file or stdin: decoded into the merged columns (read once).
    expect(plan({ input: file, mergeSchema: true, schema: ddl })).toEqual({ schema: own, orMerge: false });
    expect(plan({ input: '-', mergeSchema: true, schema: 'extra STRING, id BIGINT' })).toEqual({ schema: schemaToString(parseDdl(`${ddl}, extra STRING`)), orMerge: false });
    // Types the merge refuses: the append words it.
    expect(plan({ input: file, mergeSchema: true, schema: 'id STRING' })).toBeUndefined();
    expect(plan({ input: file, schema: 'id BIGINT' })).toEqual({ schema: own, orMerge: false });
    // Columns the table does not have, without --merge-schema: the append refuses the input as a whole.
    expect(plan({ input: file, schema: `${ddl}, extra STRING` })).toBeUndefined();
  });
});
