import { readdirSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { optimize, type OptimizeProgress } from '../../src/delta/operations/optimize.js';
import { vacuum, type VacuumProgress } from '../../src/delta/operations/vacuum.js';
import { DeltaTable } from '../../src/delta/table.js';
import { readNdjson } from '../../src/cli/input.js';
import { countingHandler } from '../../src/parquet/counting-handler.js';
import { parquetHandler } from '../../src/parquet/engines.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tributary-progress-hooks-');
const SCHEMA = parseDdl('id BIGINT NOT NULL, s STRING, day STRING');

/** One file per append: `perPartition` appends to each of the given partitions. */
async function smallFiles(dir: string, days: Record<string, number>): Promise<DeltaTable> {
  const t = await DeltaTable.forPath(dir);
  let id = 0;
  for (const [day, n] of Object.entries(days)) {
    for (let i = 0; i < n; i++, id++) await t.append([{ id, s: `row ${id}`, day }], { create: { schema: SCHEMA, partitionColumns: ['day'] } });
  }
  return t;
}

function expectMonotonic(events: OptimizeProgress[]) {
  for (let i = 1; i < events.length; i++) {
    expect(events[i].filesDone).toBeGreaterThanOrEqual(events[i - 1].filesDone);
    expect(events[i].bytesDone).toBeGreaterThanOrEqual(events[i - 1].bytesDone);
    expect(events[i].filesTotal).toBe(events[0].filesTotal);
    expect(events[i].bytesTotal).toBe(events[0].bytesTotal);
  }
}

describe('progress hooks', () => {
  it('OPTIMIZE reports files and bytes of exactly the files it compacts, from 0 to the total, never backwards', async () => {
    const dir = tmp();
    // Partition a: 9 files; b: 1 file (below minFiles, left alone).
    const t = await smallFiles(dir, { a: 9, b: 1 });
    const events: OptimizeProgress[] = [];
    const m = await optimize(t, { onProgress: (p) => events.push(p) });
    expect(m.numFilesRemoved).toBe(9);
    expect(events[0]).toEqual({ filesDone: 0, filesTotal: 9, bytesDone: 0, bytesTotal: m.numBytesRemoved });
    expect(events.at(-1)).toEqual({ filesDone: 9, filesTotal: 9, bytesDone: m.numBytesRemoved, bytesTotal: m.numBytesRemoved });
    expectMonotonic(events);
    // A file at a time on the way (the bar moves during a bin, not only between bins).
    expect(events.map((e) => e.filesDone)).toEqual(expect.arrayContaining([1, 2, 3, 4, 5, 6, 7, 8, 9]));
  });

  it('OPTIMIZE counts only bins it rewrites: a bin of one file is planned out, several bins add up, the general path too', async () => {
    const dir = tmp();
    const t = await smallFiles(dir, { a: 5 });
    const size = Math.max(...t.snapshot.files.map((f) => f.size));
    // Bins of 2 files each: [2, 2, 1]; the last bin holds one file and is not rewritten.
    const events: OptimizeProgress[] = [];
    const m = await optimize(t, { targetFileSize: size * 2 + 1, engine: parquetHandler('parquet-wasm'), onProgress: (p) => events.push(p) });
    expect(m.numFilesRemoved).toBe(4);
    expect(m.numBatches).toBe(2);
    expect(events[0].filesTotal).toBe(4);
    expect(events.at(-1)).toMatchObject({ filesDone: 4, bytesDone: m.numBytesRemoved, bytesTotal: m.numBytesRemoved });
    expectMonotonic(events);
  });

  it('OPTIMIZE with nothing to do reports 0 of 0', async () => {
    const dir = tmp();
    const t = await smallFiles(dir, { a: 1 });
    const events: OptimizeProgress[] = [];
    const m = await optimize(t, { onProgress: (p) => events.push(p) });
    expect(m.version).toBeUndefined();
    expect(events).toEqual([{ filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0 }]);
  });

  it('VACUUM reports listing, then each file deleted of those it deletes; a dry run deletes none', async () => {
    const dir = tmp();
    const t = await smallFiles(dir, { a: 6 });
    await optimize(t);
    const dry: VacuumProgress[] = [];
    const planned = await vacuum(t, { retentionMs: 0, force: true, dryRun: true, onProgress: (p) => dry.push(p) });
    expect(planned.deleted).toHaveLength(6);
    // Listing reports the files listed so far after each page (one page locally), then deleting.
    const listing = dry.filter((e) => e.phase === 'list');
    expect(listing[0]).toEqual({ phase: 'list', filesListed: 0, filesToDelete: 0, filesDeleted: 0 });
    expect(dry.slice(0, listing.length)).toEqual(listing);
    const listed = listing.at(-1)!.filesListed;
    expect(dry.slice(listing.length)).toEqual([{ phase: 'delete', filesListed: listed, filesToDelete: 0, filesDeleted: 0 }]);
    // Every file under the table: 7 data files and 7 commits (6 appends and the OPTIMIZE).
    expect(listed).toBe(readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length);
    expect(listed).toBe(14);

    const events: VacuumProgress[] = [];
    const r = await vacuum(t, { retentionMs: 0, force: true, onProgress: (p) => events.push(p) });
    expect(r.deleted).toHaveLength(6);
    expect(events[0].phase).toBe('list');
    expect(events.filter((e) => e.phase === 'delete').map((e) => [e.phase, e.filesDeleted, e.filesToDelete])).toEqual([0, 1, 2, 3, 4, 5, 6].map((n) => ['delete', n, 6]));
  });

  it('readNdjson reports bytes read up to the file size and the rows parsed', async () => {
    const file = path.join(tmp(), 'in.ndjson');
    // About 3 MB: more than one of the reader's 1 MiB chunks.
    const lines = Array.from({ length: 100_000 }, (_, i) => JSON.stringify({ id: i, s: `value ${i}` }));
    writeFileSync(file, lines.join('\n') + '\n');
    const seen: [number, number][] = [];
    const input = await readNdjson(file, { onProgress: (b, r) => seen.push([b, r]) });
    expect(input.rows).toHaveLength(100_000);
    // More than one chunk, growing, ending at the whole file and every row.
    expect(seen.length).toBeGreaterThan(1);
    for (let i = 1; i < seen.length; i++) expect(seen[i][0]).toBeGreaterThan(seen[i - 1][0]);
    expect(seen.at(-1)).toEqual([statSync(file).size, 100_000]);
  });

  it('countingHandler reports every row the table writes, through a real append', async () => {
    const dir = tmp();
    let counted = 0;
    const encoder = countingHandler(parquetHandler('parquet-wasm'), (n) => (counted += n));
    const t = await DeltaTable.forPath(dir);
    const rows = Array.from({ length: 150_000 }, (_, i) => ({ id: i, s: null, day: i % 2 ? 'x' : 'y' }));
    const r = await t.append(rows, { engine: encoder, create: { schema: SCHEMA, partitionColumns: ['day'] } });
    expect(r.numRecords).toBe(150_000);
    expect(counted).toBe(150_000);
    expect(encoder.name).toBe('parquet-wasm');
    // The rows are in the table as written.
    expect((await (await DeltaTable.open(dir)).read()).numRows).toBe(150_000);
  });
});
