import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rowsToRecordBatch } from '../../src/arrow/record-batch.js';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { readNdjson, ndjsonToBatches } from '../../src/cli/input.js';
import { NdjsonDecoder } from '../../src/json/ndjson-decoder.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { DeltaTable } from '../../src/delta/table.js';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

/**
 * Columns named like members every object inherits (`__proto__`, `constructor`, `toString`...):
 * a row without the key is a null, never Object.prototype's member (which the row path read
 * before, storing `{}` for a missing `__proto__` struct or refusing a valid row), and rows read
 * back keep the column as data (an assignment to `__proto__` set the prototype instead).
 * Found by differential fuzzing of the NDJSON decoder against the row path, 2026-12-03.
 */
const tmp = tempDir('tributary-ownfields-');

const SCHEMA = parseDdl(
  '`__proto__` INT, `constructor` STRING, `toString` STRUCT<a: INT>, `valueOf` MAP<STRING, INT>, `hasOwnProperty` ARRAY<INT>, s STRUCT<`constructor`: STRING, `__proto__`: INT>, id INT',
);
const FULL = '{"__proto__":5,"constructor":"c","toString":{"a":1},"valueOf":{"k":2},"hasOwnProperty":[3],"s":{"constructor":"d","__proto__":6},"id":1}';
const EMPTY = '{"s":{},"id":2}';

describe('columns named like inherited members', () => {
  it('take a row own key or a null, through rows, the NDJSON decoder and back', () => {
    const parsed = [JSON.parse(FULL), JSON.parse(EMPTY)];
    const fromRows = arrowToRows(rowsToRecordBatch(parsed, SCHEMA));
    const d = new NdjsonDecoder({ schema: SCHEMA, name: 'in' });
    const fromBytes = [...d.push(Buffer.from(`${FULL}\n${EMPTY}\n`)), ...d.end()].flatMap((b) => arrowToRows(b));
    for (const rows of [fromRows, fromBytes]) {
      // Written back as JSON, each row is what went in, absent keys as nulls.
      expect(rows.map((r) => JSON.parse(JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? Number(v) : v))))).toEqual([
        // (Maps read back as their entries.)
        JSON.parse(FULL.replace('{"k":2}', '[["k",2]]')),
        JSON.parse('{"__proto__":null,"constructor":null,"toString":null,"valueOf":null,"hasOwnProperty":null,"s":{"constructor":null,"__proto__":null},"id":2}'),
      ]);
      // Data, not the prototype.
      expect(Object.getPrototypeOf(rows[0])).toBe(Object.prototype);
      expect(Object.hasOwn(rows[1], '__proto__')).toBe(true);
    }
  });

  it('the CLI: an append with --merge-schema (the row path) stores a null for a missing __proto__ struct, and read prints the column', async () => {
    const dir = tmp();
    const table = path.join(dir, 't');
    const first = path.join(dir, 'a.ndjson');
    const second = path.join(dir, 'b.ndjson');
    writeFileSync(first, '{"id":1,"__proto__":{"a":5}}\n');
    writeFileSync(second, '{"id":2}\n');
    expect((await cli(['append', table, '--input', first, '--schema', 'id INT, `__proto__` STRUCT<a: INT>'])).code).toBe(0);
    const merged = await cli(['append', table, '--input', second, '--merge-schema']);
    expect(merged.stderr).toBe('');
    expect(merged.code).toBe(0);
    const read = await cli(['read', table]);
    expect(read.code).toBe(0);
    const rows = read.stdout.trim().split('\n').map((l) => JSON.parse(l)).sort((a, b) => a.id - b.id);
    expect(rows).toEqual([JSON.parse('{"id":1,"__proto__":{"a":5}}'), JSON.parse('{"id":2,"__proto__":null}')]);
  }, 60_000);

  it('partition columns so named: each value its own directory and partitionValues entry, read back from the log and from a checkpoint', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(path.join(dir, 't'));
    const schema = parseDdl('id INT, `__proto__` STRING, `constructor` INT');
    const rows = [JSON.parse('{"id":1,"__proto__":"a","constructor":7}'), JSON.parse('{"id":2,"__proto__":"b"}'), { id: 3 }];
    await t.append(rows, { create: { schema, partitionColumns: ['__proto__', 'constructor'] } });
    const adds = t.snapshot.state.files;
    // Before: one file, partitionValues {} (the value was assigned to the prototype), exit 0.
    expect(adds.size).toBe(3);
    const values = [...adds.values()].map((f) => JSON.stringify(f.partitionValues)).sort();
    expect(values).toEqual(['{"__proto__":"a","constructor":"7"}', '{"__proto__":"b","constructor":null}', '{"__proto__":null,"constructor":null}']);
    const expected = ['{"id":1,"__proto__":"a","constructor":7}', '{"id":2,"__proto__":"b","constructor":null}', '{"id":3,"__proto__":null,"constructor":null}'];
    const readBack = async (table: DeltaTable) => arrowToRows(await table.read()).map((r) => JSON.stringify(r)).sort();
    expect(await readBack(t)).toEqual(expected);
    await t.checkpoint();
    const fromCheckpoint = await DeltaTable.forPath(path.join(dir, 't'));
    expect(fromCheckpoint.snapshot.checkpointVersion).toBe(0);
    expect(await readBack(fromCheckpoint)).toEqual(expected);
  });

  it('the row path agrees with the decoder on a missing inherited-name column (reference: readNdjson + ndjsonToBatches)', async () => {
    const dir = tmp();
    const f = path.join(dir, 'in.ndjson');
    writeFileSync(f, `${EMPTY}\n`);
    const input = await readNdjson(f);
    expect(input.error).toBeUndefined();
    const rows = ndjsonToBatches(input, SCHEMA).flatMap((b) => arrowToRows(b));
    expect(rows).toHaveLength(1);
    for (const k of ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty']) expect(rows[0][k]).toBeNull();
  });
});
