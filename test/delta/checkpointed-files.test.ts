import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDdl } from '../../src/schema/ddl.js';
import { DeltaTable } from '../../src/delta/table.js';
import type { AddFile } from '../../src/delta/actions.js';
import { readCheckpointActions } from '../../src/delta/v2-checkpoint.js';
import { DeltaSink } from '../../src/engine/sinks/delta-sink.js';
import { arrowToRows } from '../../src/arrow/to-rows.js';
import { TributaryError } from '../../src/errors.js';
import { tempDir } from '../support/tmp.js';
import { foreignCommit, pad, replayCommits } from '../support/log-replay.js';

/**
 * A writer that only appends (a stream without auto-compaction) lets go of the live files a
 * checkpoint of its own holds, and its next checkpoint reads them back from that one: its memory
 * no longer grows by a file per batch (the soak without autoCompact). The oracle is a replay of
 * every commit from version 0: each checkpoint must hold exactly its live files (path, size,
 * stats), and the state's file count and bytes must be the replay's at every version, whatever
 * another writer did in between (a checkpointed file removed, removed again, added back; a held
 * file removed).
 */
const tmp = tempDir('tributary-checkpointed-files-');
const SCHEMA = parseDdl('id BIGINT, day STRING');


const fileRow = (f: AddFile) => `${f.path}|${f.size}|${f.stats}`;

/** The live files a checkpoint (classic or V2, by its first file) holds. */
async function checkpointFiles(t: DeltaTable, files: string[]): Promise<string[]> {
  const actions = await readCheckpointActions(t.engine, files);
  return actions.flatMap((a) => ('add' in a ? [fileRow(a.add)] : [])).sort();
}


async function appendOnlyWriter(dir: string, configuration: Record<string, string>) {
  const t = await DeltaTable.forPath(dir);
  t.releaseCheckpointedFiles = true;
  let id = 0;
  const append = () => t.append([{ id: id++, day: id % 3 ? 'a' : 'b' }, { id: id++, day: 'a' }], { create: { schema: SCHEMA, partitionColumns: ['day'], configuration } });
  return { t, append };
}

describe('an append-only writer takes its older live files from its last checkpoint', () => {
  it('holds only the files since its last checkpoint; every checkpoint holds exactly the live files of a full replay, and the counts follow', async () => {
    const dir = tmp();
    const { t, append } = await appendOnlyWriter(dir, { 'delta.checkpointInterval': '4' });
    const log = path.join(dir, '_delta_log');
    const checked: number[] = [];
    const check = async () => {
      const v = t.version;
      const replay = replayCommits(dir, v);
      // The summary's figures are the replay's at every version.
      expect(t.snapshot.state.numFiles).toBe(replay.files.size);
      expect(t.snapshot.state.sizeInBytes).toBe(replay.sizeInBytes);
      if (!readdirSync(log).includes(`${pad(v)}.checkpoint.parquet`) || checked.includes(v)) return;
      expect(await checkpointFiles(t, [`_delta_log/${pad(v)}.checkpoint.parquet`])).toEqual([...replay.files.values()].map(fileRow).sort());
      // Let go once written: nothing older than the checkpoint is held.
      expect(t.snapshot.state.files.size).toBe(0);
      expect(t.snapshot.state.filesAt?.version).toBe(v);
      checked.push(v);
    };
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 5; i++) {
        await append();
        await check();
        // Between checkpoints the writer holds what it added since the last one, no more.
        expect(t.snapshot.state.files.size).toBeLessThanOrEqual(2 * 4 + 2);
      }
      if (round === 2) {
        // Another writer: removes a checkpointed file (twice, over two commits), adds back
        // a file it removed, removes a file this writer still holds. The stream's next append
        // meets these commits as the winners of its version and moves its state over them.
        expect(t.snapshot.state.filesAt).toBeDefined();
        const fresh = replayCommits(dir, t.version);
        const held = new Set(t.snapshot.state.files.keys());
        const checkpointed = [...fresh.files.values()].filter((f) => !held.has(f.path));
        const [gone, goneAgain] = checkpointed;
        const heldFile = t.snapshot.state.files.values().next().value as AddFile;
        expect(gone && goneAgain && heldFile).toBeTruthy();
        const rm = (f: AddFile, ts: number) => ({ remove: { path: f.path, deletionTimestamp: ts, dataChange: true, extendedFileMetadata: true, partitionValues: f.partitionValues, size: f.size } });
        let v = t.version;
        foreignCommit(dir, ++v, [rm(gone, Date.now()), rm(heldFile, Date.now())]);
        foreignCommit(dir, ++v, [rm(gone, Date.now() + 1)]);
        foreignCommit(dir, ++v, [rm(goneAgain, Date.now()), { add: { ...goneAgain, modificationTime: Date.now() } }]);
        await append();
        expect(t.version).toBe(v + 1);
        await check();
      }
    }
    expect(checked.length).toBeGreaterThanOrEqual(7);
    // A fresh load from the last checkpoint reads the same table as a replay of all commits,
    // and the rows are all there (30 appends of 2 rows, 2 files of 2 appends removed... by count).
    const fresh = await DeltaTable.open(dir);
    const latest = replayCommits(dir, fresh.version);
    expect(fresh.snapshot.files.map(fileRow).sort()).toEqual([...latest.files.values()].map(fileRow).sort());
    expect(arrowToRows(await fresh.read()).length).toBe([...latest.files.values()].reduce((n, f) => n + JSON.parse(f.stats!).numRecords, 0));
    // The writer's own file list is refused, not partial.
    let err: unknown;
    try {
      void t.snapshot.files;
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TributaryError);
    expect((err as TributaryError).code).toBe('INTERNAL');
    // refresh() brings a whole one back.
    await t.refresh();
    expect(t.snapshot.files.length).toBe(latest.files.size);
  });

  it('the same with V2 checkpoints: the older files come from the sidecar', async () => {
    const dir = tmp();
    const { t, append } = await appendOnlyWriter(dir, { 'delta.checkpointInterval': '5', 'delta.checkpointPolicy': 'v2' });
    for (let i = 0; i < 31; i++) {
      await append();
      expect(t.snapshot.state.files.size).toBeLessThanOrEqual(2 * 5 + 2);
    }
    const tops = readdirSync(path.join(dir, '_delta_log')).filter((n) => /^\d{20}\.checkpoint\.[0-9a-f-]{36}\.json$/.test(n)).sort();
    expect(tops.length).toBeGreaterThanOrEqual(5);
    for (const top of tops) {
      const v = Number(top.slice(0, 20));
      expect(await checkpointFiles(t, [`_delta_log/${top}`])).toEqual([...replayCommits(dir, v).files.values()].map(fileRow).sort());
    }
    expect(t.snapshot.state.numFiles).toBe(replayCommits(dir, t.version).files.size);
  });

  it('a DeltaSink lets them go without autoCompact, and keeps them with it (auto-compaction reads the file list)', async () => {
    const schema = parseDdl('value BIGINT');
    const held = async (autoCompact: boolean) => {
      const dir = tmp();
      const sink = new DeltaSink({ path: dir, partitionColumns: [], configuration: { 'delta.checkpointInterval': '5' }, ...(autoCompact ? { autoCompact: { everyCommits: 1000 } } : {}) });
      await sink.open('query');
      for (let b = 0; b < 23; b++) await sink.addBatch({ batchId: b, schema, data: [{ value: b }], numRows: 1 });
      await sink.close();
      const inner = (sink as unknown as { table: DeltaTable }).table.snapshot.state;
      expect(sink.tableSummary()?.numFiles).toBe(23);
      return inner.files.size;
    };
    expect(await held(false)).toBe(2); // versions 21 and 22, after the checkpoint at 20
    expect(await held(true)).toBe(23);
  });
});
