import { TributaryError } from '../errors.js';
import type { DataSourceClass } from './source.js';

/**
 * Option keys nobody reads. An option bag takes any key, so `rowsPerBach=1000` used to run with
 * the default and say nothing. For our own sources and sinks we know every key: a key within a
 * typing mistake or two of a known one (or differing only in case) is surely that option
 * misspelt and is refused before anything is written; any other unknown key is reported as
 * ignored, naming the keys that exist. Sources of users are checked only when they declare
 * `static optionNames`.
 */

/** Read by the engine from every source's options (admission control, Spark's read limits). */
export const READ_LIMIT_OPTIONS = ['maxRowsPerBatch', 'maxBytesPerBatch'] as const;

/** Read by the engine from every writeStream, whatever the sink. */
export const WRITE_STREAM_OPTIONS = ['checkpointLocation', 'minBatchesToRetain', 'checkpointLock.renewInterval', 'progressHistory', 'metricsPort', 'metricsHost', 'dashboard', 'readyAfterIntervals', 'storage.*', ...READ_LIMIT_OPTIONS] as const;

/** The options of the built-in sinks (src/engine/data-stream.ts and the sink factories). */
const SINK_OPTIONS: Record<string, { names: readonly string[]; caseInsensitive?: boolean }> = {
  delta: {
    names: ['path', 'mergeSchema', 'engine', 'compression', 'targetFileSize', 'autoCompact', 'autoCompact.everyCommits', 'autoCompact.maxSmallFiles', 'autoCompact.targetFileSize'],
  },
  // Spark's console sink reads numRows and truncate case-insensitively, and so does ours.
  console: { names: ['numRows', 'truncate'], caseInsensitive: true },
  memory: { names: [] },
  // .sink(...) and .foreachBatch(...): the function gets the batches, no options.
  custom: { names: [] },
};

/** Checks a source's option keys, if its class declares them. */
export function checkSourceOptionKeys(cls: DataSourceClass, options: Readonly<Record<string, string>>, warn: (msg: string) => void): void {
  if (!cls.optionNames) return;
  checkOptionKeys(`source ${cls.formatName}`, options, [...cls.optionNames, ...READ_LIMIT_OPTIONS], warn);
}

/** Checks a writeStream's option keys for the built-in sinks; sinks registered by users read anything. */
export function checkWriteStreamOptionKeys(format: string, options: Readonly<Record<string, string>>, warn: (msg: string) => void): void {
  const sink = SINK_OPTIONS[format.toLowerCase()];
  if (!sink) return;
  checkOptionKeys(`writeStream format ${format}`, options, [...WRITE_STREAM_OPTIONS, ...sink.names], warn, { caseInsensitive: sink.caseInsensitive });
}

/**
 * Refuses a key that is surely a misspelt known one (INVALID_ARGUMENT, "did you mean"), warns
 * about any other unknown key. `known` may hold namespaces as "prefix.*".
 */
export function checkOptionKeys(owner: string, options: Readonly<Record<string, string>>, known: readonly string[], warn: (msg: string) => void, { caseInsensitive = false } = {}): void {
  const names = known.filter((n) => !n.endsWith('.*'));
  const namespaces = known.filter((n) => n.endsWith('.*')).map((n) => n.slice(0, -1)); // "header."
  const norm = (k: string) => (caseInsensitive ? k.toLowerCase() : k);
  const exact = new Set(names.map(norm));
  const unknown: string[] = [];
  for (const key of Object.keys(options)) {
    if (exact.has(norm(key)) || namespaces.some((ns) => key.startsWith(ns) && key.length > ns.length)) continue;
    const guess = didYouMean(key, names, namespaces);
    if (guess !== undefined) throw new TributaryError('INVALID_ARGUMENT', `unknown option ${key} for ${owner}; did you mean ${guess}?`, { option: key, suggestion: guess });
    unknown.push(key);
  }
  if (unknown.length) {
    const list = [...names, ...namespaces.map((ns) => `${ns}<name>`)].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' }));
    warn(`unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} for ${owner} ${unknown.length > 1 ? 'are' : 'is'} ignored (known options: ${list.join(', ')})`);
  }
}

/** The known option `key` is surely a misspelling of, if any (the closest one). */
export function didYouMean(key: string, names: readonly string[], namespaces: readonly string[] = []): string | undefined {
  let best: { shown: string; d: number } | undefined;
  const consider = (typed: string, name: string, shown: string) => {
    const d = typingDistance(typed, name);
    if (d !== undefined && (!best || d < best.d)) best = { shown, d };
  };
  for (const n of names) consider(key, n, n);
  for (const ns of namespaces) {
    // "Header.Authorization", "headers.Authorization": the namespace misspelt, the rest kept.
    const dot = key.indexOf('.');
    consider(dot > 0 ? key.slice(0, dot) : key, ns.slice(0, -1), dot > 0 ? ns + key.slice(dot + 1) : `${ns}<name>`);
  }
  return best?.shown;
}

/**
 * How far `key` is from `name` if it is surely a misspelling of it, else undefined: equal but for
 * case (0), or within min(2, a third of the longer name) edits, where swapping two neighbouring
 * letters is one edit. The length bound keeps `id` from being taken for `to`.
 */
export function typingDistance(key: string, name: string): number | undefined {
  const a = key.toLowerCase();
  const b = name.toLowerCase();
  if (a === b) return 0;
  const limit = Math.min(2, Math.floor(Math.max(a.length, b.length) / 3));
  if (Math.abs(a.length - b.length) > limit) return undefined;
  const d = osaDistance(a, b);
  return d <= limit ? d : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
export function osaDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2][j - 2] + 1);
      rows[i][j] = d;
    }
  }
  return rows[a.length][b.length];
}
