import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseActions } from '../../src/delta/actions.js';
import { TableState } from '../../src/delta/replay.js';

/** A version's 20-digit name in `_delta_log`. */
export const pad = (v: number) => String(v).padStart(20, '0');

/** Every commit of the table replayed from version 0 up to `version` (no checkpoint read): the oracle of a checkpoint's content. */
export function replayCommits(dir: string, version: number): TableState {
  const s = new TableState();
  for (let v = 0; v <= version; v++) {
    const p = path.join(dir, '_delta_log', `${pad(v)}.json`);
    s.apply(parseActions(readFileSync(p, 'utf8'), p));
  }
  return s;
}

/** A commit by "another writer", written straight into the log. */
export function foreignCommit(dir: string, version: number, actions: object[]): void {
  const info = { commitInfo: { timestamp: Date.now(), operation: 'WRITE', operationParameters: {}, isBlindAppend: false } };
  writeFileSync(path.join(dir, '_delta_log', `${pad(version)}.json`), [info, ...actions].map((a) => JSON.stringify(a)).join('\n') + '\n', { flag: 'wx' });
}
