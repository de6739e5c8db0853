import { TributaryError } from '../errors.js';
import type { Metadata } from './actions.js';

/**
 * Table properties (`metaData.configuration`) the writer honours, with Spark's defaults.
 * Durations use Delta's "interval N unit" syntax.
 */
export interface TableConfig {
  checkpointInterval: number;
  logRetentionMs: number;
  deletedFileRetentionMs: number;
  enableExpiredLogCleanup: boolean;
  appendOnly: boolean;
  numIndexedCols: number;
  stringPrefixLength: number;
  setTransactionRetentionMs: number | undefined;
  writeStatsAsJson: boolean;
  writeStatsAsStruct: boolean;
}

const UNIT_MS: Record<string, number> = {
  millisecond: 1,
  milliseconds: 1,
  second: 1000,
  seconds: 1000,
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
  week: 604_800_000,
  weeks: 604_800_000,
};

export function parseInterval(text: string, key: string): number {
  const m = /^\s*(?:interval\s+)?(\d+)\s*([a-z]+)\s*$/i.exec(text);
  const unit = m ? UNIT_MS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new TributaryError('INVALID_ARGUMENT', `table property ${key}="${text}" is not an interval like "interval 7 days"`);
  return Number(m[1]) * unit;
}

function int(conf: Record<string, string>, key: string, dflt: number): number {
  const v = conf[key];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new TributaryError('INVALID_ARGUMENT', `table property ${key}="${v}" is not an integer`);
  return n;
}

const bool = (conf: Record<string, string>, key: string, dflt: boolean) => (conf[key] === undefined ? dflt : conf[key].toLowerCase() === 'true');

export function tableConfig(metadata: Pick<Metadata, 'configuration'>): TableConfig {
  const c = metadata.configuration ?? {};
  const interval = int(c, 'delta.checkpointInterval', 10);
  if (interval < 1) throw new TributaryError('INVALID_ARGUMENT', `delta.checkpointInterval must be >= 1, got ${interval}`);
  return {
    checkpointInterval: interval,
    logRetentionMs: parseInterval(c['delta.logRetentionDuration'] ?? 'interval 30 days', 'delta.logRetentionDuration'),
    deletedFileRetentionMs: parseInterval(c['delta.deletedFileRetentionDuration'] ?? 'interval 1 week', 'delta.deletedFileRetentionDuration'),
    enableExpiredLogCleanup: bool(c, 'delta.enableExpiredLogCleanup', true),
    appendOnly: bool(c, 'delta.appendOnly', false),
    numIndexedCols: int(c, 'delta.dataSkippingNumIndexedCols', 32),
    stringPrefixLength: int(c, 'delta.dataSkippingStringPrefixLength', 32),
    setTransactionRetentionMs: c['delta.setTransactionRetentionDuration'] ? parseInterval(c['delta.setTransactionRetentionDuration'], 'delta.setTransactionRetentionDuration') : undefined,
    writeStatsAsJson: bool(c, 'delta.checkpoint.writeStatsAsJson', true),
    writeStatsAsStruct: bool(c, 'delta.checkpoint.writeStatsAsStruct', false),
  };
}
