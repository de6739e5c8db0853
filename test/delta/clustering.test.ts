import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import type { AddFile } from '../../src/delta/actions.js';
import { clusteringBins, columnReference, parseClusterBy } from '../../src/delta/clustering.js';
import { optimize } from '../../src/delta/operations/optimize.js';
import { decodeAddPath } from '../../src/delta/partitions.js';
import { MATERIALIZED_ROW_COMMIT_VERSION, MATERIALIZED_ROW_ID } from '../../src/delta/row-tracking.js';
import { DeltaTable } from '../../src/delta/table.js';
import { TributaryError } from '../../src/errors.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { cli } from '../support/cli.js';
import { deleteRowsWithDv } from '../support/deletion-vectors.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-cluster-');
const SCHEMA = parseDdl('id BIGINT, a BIGINT, b STRING, v DOUBLE');
// a and b are scattered over their ranges by id, so every appended file spans all of both.
const row = (i: number) => ({ id: i, a: (i * 7919) % 100_000, b: `k${String((i * 104_729) % 5000).padStart(4, '0')}`, v: i * 0.25 });
const N = 4000;
const APPENDS = 8;

const logLines = (dir: string, v: number) =>
  readFileSync(path.join(dir, '_delta_log', `${String(v).padStart(20, '0')}.json`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
const rowsOf = async (t: DeltaTable) => arrowToRows(await t.read()).sort((x, y) => Number(x.id) - Number(y.id));

/**
 * How many live files a filter on one column cannot skip: those whose min/max stats overlap
 * [lo, hi] (what Spark's data skipping reads). `column` is the stats key (the physical name).
 */
function filesOverlapping(files: readonly AddFile[], column: string, lo: number | string, hi: number | string): number {
  return files.filter((f) => {
    const s = JSON.parse(f.stats!) as { minValues: Record<string, number | string>; maxValues: Record<string, number | string> };
    return s.minValues[column] <= hi && s.maxValues[column] >= lo;
  }).length;
}

/** Eight appends of interleaved rows: every file covers the whole range of a and of b. */
async function interleaved(dir: string, create: { clusterBy: string[]; configuration?: Record<string, string> }): Promise<DeltaTable> {
  const t = await DeltaTable.forPath(dir);
  const all = Array.from({ length: N }, (_, i) => row(i));
  for (let k = 0; k < APPENDS; k++) await t.append(all.filter((_, i) => i % APPENDS === k), { create: { schema: SCHEMA, ...create } });
  return t;
}

describe('liquid clustering', () => {
  it('parses CLUSTER BY column lists and prints references as Spark does', () => {
    expect(parseClusterBy('a, s.x, `a.b`, `we``ird`')).toEqual([['a'], ['s', 'x'], ['a.b'], ['we`ird']]);
    expect([['a'], ['s', 'x'], ['a.b'], ['price (usd)'], ['1']].map(columnReference)).toEqual(['a', 's.x', '`a.b`', '`price (usd)`', '`1`']);
    for (const bad of ['a,,b', '`a', 'x`a`', '`a`b']) expect(() => parseClusterBy(bad)).toThrow(TributaryError);
  });

  it('creates a clustered table as Spark does: the clustering feature, the delta.clustering domain, clusterBy in the commit', async () => {
    const dir = tmp();
    const t = await DeltaTable.forPath(dir);
    await t.append([row(1)], { create: { schema: SCHEMA, clusterBy: ['b, a'] } });
    const v0 = logLines(dir, 0);
    const protocol = v0.find((x) => x.protocol).protocol;
    expect(protocol.minWriterVersion).toBe(7);
    expect(protocol.writerFeatures).toEqual(expect.arrayContaining(['clustering', 'domainMetadata']));
    expect(v0.filter((x) => x.domainMetadata).map((x) => x.domainMetadata)).toEqual([
      { domain: 'delta.clustering', configuration: '{"clusteringColumns":[["b"],["a"]],"domainName":"delta.clustering"}', removed: false },
    ]);
    expect(v0[0].commitInfo.operationParameters.clusterBy).toBe('["b","a"]');
    // Appends write plain files, as Spark's do.
    expect(t.snapshot.files.every((f) => !f.tags && !f.clusteringProvider)).toBe(true);
  });

  it('OPTIMIZE clusters along the curve: a selective filter on each clustering column overlaps far fewer files, rows unchanged', async () => {
    const dir = tmp();
    const t = await interleaved(dir, { clusterBy: ['a, b'] });
    const before = await rowsOf(t);
    const files0 = t.snapshot.files;
    expect(files0).toHaveLength(APPENDS);
    const box = () => t.snapshot.files.filter((f) => filesOverlapping([f], 'a', 40_000, 42_000) && filesOverlapping([f], 'b', 'k2000', 'k2100')).length;
    const measure = () => ({ point: filesOverlapping(t.snapshot.files, 'a', 12_345, 12_345), b: filesOverlapping(t.snapshot.files, 'b', 'k0042', 'k0042'), box: box() });
    expect(measure()).toEqual({ point: APPENDS, b: APPENDS, box: APPENDS });

    // A ZCube of 16 files (the bin's bytes over the target size).
    const total = files0.reduce((n, f) => n + f.size, 0);
    const m = await optimize(t, { targetFileSize: Math.floor(total / 16) });
    expect([m.numFilesRemoved, m.numFilesAdded]).toEqual([APPENDS, 16]);
    const after = measure();
    // Hilbert order over (a, b) in 16 stretches: each file covers about a quarter of each range.
    expect(after.point).toBeLessThanOrEqual(6);
    expect(after.b).toBeLessThanOrEqual(6);
    expect(after.box).toBeLessThanOrEqual(2);
    expect(await rowsOf(t)).toEqual(before);

    // Tagged as delta-spark tags its clustering output; the commit names the clustering columns.
    const log = logLines(dir, m.version!);
    const adds = log.filter((x) => x.add).map((x) => x.add);
    expect(new Set(adds.map((a) => a.tags.ZCUBE_ID)).size).toBe(1);
    expect(adds.every((a) => a.clusteringProvider === 'liquid' && a.tags.ZCUBE_ZORDER_BY === '["a","b"]' && a.dataChange === false)).toBe(true);
    expect(log[0].commitInfo.operationParameters).toMatchObject({ clusterBy: '["a","b"]', zOrderBy: '[]', isFull: 'false' });
    // One ZCube and nothing new: nothing to do.
    expect((await optimize(t)).numFilesRemoved).toBe(0);
    // New appends are clustered with the small ZCube into a new one.
    await t.append([row(N), row(N + 1)]);
    const again = await optimize(t, { targetFileSize: Math.floor(total / 16) });
    expect(again.numFilesRemoved).toBe(17);
    expect(new Set(t.snapshot.files.map((f) => f.tags?.ZCUBE_ID)).size).toBe(1);
    const added = (await rowsOf(t)).slice(-2);
    expect(added).toEqual([N, N + 1].map((i) => ({ ...row(i), id: BigInt(i), a: BigInt(row(i).a) })));
    expect((await rowsOf(t)).slice(0, N)).toEqual(before);
  });

  it('leaves ZCubes that reached the cube size alone and files of another clustering', () => {
    const f = (p: string, size: number, tags?: Record<string, string>, provider?: string): AddFile => ({ path: p, partitionValues: {}, size, modificationTime: 0, dataChange: true, tags, clusteringProvider: provider });
    const cube = (id: string, by = '["a"]') => ({ ZCUBE_ID: id, ZCUBE_ZORDER_BY: by });
    const files = [f('big1', 60, cube('big'), 'liquid'), f('big2', 60, cube('big'), 'liquid'), f('small', 10, cube('s'), 'liquid'), f('other', 10, cube('o', '["b"]'), 'liquid'), f('new', 5)];
    expect(clusteringBins(files, ['a'], 100, 100).map((b) => b.map((x) => x.path))).toEqual([['new', 'small']]);
    // One small ZCube and nothing new: done.
    expect(clusteringBins(files.slice(0, 4), ['a'], 100, 100)).toEqual([]);
  });

  it('clusters a column-mapped table by its physical columns, names Spark refuses included', async () => {
    const dir = tmp();
    const schema = parseDdl('id BIGINT, `price (usd)` BIGINT');
    const t = await DeltaTable.forPath(dir);
    for (let k = 0; k < 4; k++) {
      await t.append(
        Array.from({ length: 500 }, (_, i) => ({ id: i * 4 + k, 'price (usd)': ((i * 4 + k) * 7919) % 10_000 })),
        { create: { schema, clusterBy: ['`price (usd)`'], configuration: { 'delta.columnMapping.mode': 'name' } } },
      );
    }
    const physical = t.snapshot.schema.fields[1].metadata['delta.columnMapping.physicalName'] as string;
    expect(physical).toMatch(/^col-/);
    const domain = t.snapshot.state.domains.get('delta.clustering')!;
    expect(JSON.parse(domain.configuration).clusteringColumns).toEqual([[physical]]);
    const before = await rowsOf(t);
    expect(filesOverlapping(t.snapshot.files, physical, 5000, 5100)).toBe(4);
    const total = t.snapshot.files.reduce((n, f) => n + f.size, 0);
    const m = await optimize(t, { targetFileSize: Math.floor(total / 4) });
    expect(m.numFilesAdded).toBe(4);
    // One dimension: the files are consecutive ranges of the column.
    expect(filesOverlapping(t.snapshot.files, physical, 5000, 5100)).toBe(1);
    expect(logLines(dir, m.version!).find((x) => x.add).add.tags.ZCUBE_ZORDER_BY).toBe('["`price (usd)`"]');
    expect(await rowsOf(t)).toEqual(before);
  });

  it('OPTIMIZE of a clustered table drops rows deletion vectors deleted and keeps row ids', async () => {
    const dir = tmp();
    const t = await interleaved(dir, { clusterBy: ['a'], configuration: { 'delta.enableRowTracking': 'true', 'delta.enableDeletionVectors': 'true' } });
    const ids = await rowTrackingById(dir);
    const target = t.snapshot.files.find((f) => JSON.parse(f.stats!).minValues.id === 0)!;
    // The file's first three rows: ids 0, 8, 16 (it holds every eighth row from 0).
    deleteRowsWithDv(dir, target.path, [0, 1, 2]);
    await t.refresh();
    const expected = (await rowsOf(t)).map((r) => Number(r.id));
    expect(expected).toHaveLength(N - 3);
    expect(expected.slice(0, 3)).toEqual([1, 2, 3]);
    const m = await optimize(t, { targetFileSize: Math.floor(t.snapshot.files.reduce((n, f) => n + f.size, 0) / 4) });
    expect(m.numFilesRemoved).toBe(APPENDS);
    expect(t.snapshot.files.every((f) => !f.deletionVector && f.tags?.ZCUBE_ID)).toBe(true);
    expect((await rowsOf(t)).map((r) => Number(r.id))).toEqual(expected);
    expect(logLines(dir, m.version!)[0].commitInfo.tags).toEqual({ 'delta.rowTracking.preserved': 'true' });
    // Every surviving row keeps the id and commit version it had before the rewrite.
    const kept = await rowTrackingById(dir);
    expect([...kept.keys()].sort((x, y) => x - y)).toEqual(expected);
    for (const [id, v] of kept) expect(v).toEqual(ids.get(id));
  });

  it('refuses what Spark refuses to cluster by, before anything is written', async () => {
    const cases: [string, string[], Record<string, string>, RegExp][] = [
      ['a BOOLEAN, b INT', ['a'], {}, /column a has type boolean/],
      ['a INT, b INT, c INT, d INT, e INT', ['a, b, c, d, e'], {}, /at most 4 columns/],
      ['a INT, s STRUCT<x: INT>', ['s'], {}, /column s has type struct/],
      ['a INT, b INT', ['c'], {}, /no column c/],
      ['a INT, b INT', ['a, a'], {}, /listed twice/],
      ['a INT, b INT', ['b'], { 'delta.dataSkippingNumIndexedCols': '1' }, /column b gets no statistics/],
      ['a INT, b INT', ['a'], { 'delta.feature.clustering': 'supported' }, /clustering comes with clustering columns/],
    ];
    for (const [ddl, clusterBy, configuration, message] of cases) {
      const dir = tmp();
      const t = await DeltaTable.forPath(dir);
      const e = await t.append([{}], { create: { schema: parseDdl(ddl), clusterBy, configuration } }).catch((x) => x);
      expect(e, `${ddl} by ${clusterBy}`).toBeInstanceOf(TributaryError);
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toMatch(message);
      expect(t.exists).toBe(false);
    }
  });

  it('CLI: --cluster-by creates the table, inspect shows it, other clustering columns and a partitioned and clustered table are one line of error', async () => {
    const dir = tmp();
    const input = Array.from({ length: 3 }, (_, i) => JSON.stringify(row(i))).join('\n') + '\n';
    const ok = await cli(['append', dir, '--input', '-', '--schema', 'id BIGINT, a BIGINT, b STRING, v DOUBLE', '--cluster-by', 'a,b'], { input });
    expect(ok.code).toBe(0);
    expect((await cli(['inspect', dir])).stdout).toMatch(/^clustered by {3}a, b$/m);
    expect(JSON.parse((await cli(['inspect', dir, '--json'])).stdout).clusteringColumns).toEqual(['a', 'b']);
    // Appending with other clustering columns is refused, naming both, and commits nothing.
    const other = await cli(['append', dir, '--input', '-', '--cluster-by', 'b'], { input });
    expect([other.code, other.stderr]).toEqual([1, `tributary: error [INVALID_ARGUMENT]: table ${dir} is clustered by [a, b], not [b]\n`]);
    expect((await DeltaTable.open(dir)).snapshot.version).toBe(0);
    const bad = tmp();
    const r = await cli(['append', bad, '--input', '-', '--schema', 'a INT, b INT', '--partition-by', 'b', '--cluster-by', 'a'], { input: '{"a":1,"b":2}\n' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tributary: error \[INVALID_ARGUMENT\]: a table cannot be both partitioned \(by b\) and clustered[^\n]*\n$/);
  });
});

/** Each row's id and commit version as Spark computes them (materialized, else base + index), by `id`. */
async function rowTrackingById(dir: string): Promise<Map<number, [bigint, bigint]>> {
  const t = await DeltaTable.open(dir);
  const conf = t.snapshot.metadata.configuration;
  const out = new Map<number, [bigint, bigint]>();
  for (const f of t.snapshot.files) {
    const data = t.engine.parquet.read(readFileSync(path.join(dir, decodeAddPath(f.path, dir))));
    const ids = data.getChild('id')!;
    const matId = data.getChild(conf[MATERIALIZED_ROW_ID]);
    const matVersion = data.getChild(conf[MATERIALIZED_ROW_COMMIT_VERSION]);
    // Only read where no file has a deletion vector (before the delete, after OPTIMIZE).
    if (f.deletionVector) throw new Error(`${f.path} has a deletion vector`);
    for (let i = 0; i < data.numRows; i++) {
      const rowId = (matId?.get(i) as bigint | null) ?? BigInt(f.baseRowId!) + BigInt(i);
      const version = (matVersion?.get(i) as bigint | null) ?? BigInt(f.defaultRowCommitVersion!);
      out.set(Number(ids.get(i)), [rowId, version]);
    }
  }
  return out;
}
