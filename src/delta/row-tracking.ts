import { randomUUID } from 'node:crypto';
import { TributaryError } from '../errors.js';
import type { Action, AddFile, DomainMetadata, Metadata, Protocol } from './actions.js';

/**
 * Row tracking (PROTOCOL.md "Row Tracking"; delta-spark's RowId, DefaultRowCommitVersion,
 * MaterializedRowTrackingColumn). While the `rowTracking` writer feature is supported, every
 * commit gives each new file a fresh `baseRowId` past the `delta.rowTracking` domain's
 * `rowIdHighWaterMark` and its own version as `defaultRowCommitVersion`, and moves the mark. A
 * row's id is then `baseRowId + its index in the file` unless the file holds a materialized id
 * for it (files rewritten by OPTIMIZE, which keeps ids stable that way). Pure functions: the
 * commit loop applies them on every attempt, so a commit that lost a race takes ids past the
 * winner's mark rather than failing.
 */
export const ROW_TRACKING_DOMAIN = 'delta.rowTracking';
export const ENABLE_ROW_TRACKING = 'delta.enableRowTracking';
export const ROW_TRACKING_SUSPENDED = 'delta.rowTrackingSuspended';
export const MATERIALIZED_ROW_ID = 'delta.rowTracking.materializedRowIdColumnName';
export const MATERIALIZED_ROW_COMMIT_VERSION = 'delta.rowTracking.materializedRowCommitVersionColumnName';
/** delta-spark's prefixes; the rest of a name is a random UUID, so no user column can take it. */
const ROW_ID_PREFIX = '_row-id-col-';
const ROW_COMMIT_VERSION_PREFIX = '_row-commit-version-col-';

/** The high-water mark of a table that has assigned no row id yet. */
export const MISSING_HIGH_WATER_MARK = -1;

const isTrue = (conf: Record<string, string> | undefined, key: string) => (conf?.[key] ?? '').toLowerCase() === 'true';

/** Whether writers must assign row ids (the feature is in the protocol, enabled or not). */
export function isRowTrackingSupported(protocol: Protocol): boolean {
  return (protocol.writerFeatures ?? []).includes('rowTracking');
}

/** Whether readers may rely on row ids, so rewrites must preserve them (materialized columns). */
export function isRowTrackingEnabled(protocol: Protocol, metadata: Pick<Metadata, 'configuration'>): boolean {
  return isRowTrackingSupported(protocol) && isTrue(metadata.configuration, ENABLE_ROW_TRACKING);
}

/** Spark stops assigning ids while `delta.rowTrackingSuspended` is true (and drops any given). */
function isSuspended(metadata: Pick<Metadata, 'configuration'>): boolean {
  return isTrue(metadata.configuration, ROW_TRACKING_SUSPENDED);
}

/** The domain's mark, or -1 when no commit has assigned ids yet. */
export function rowIdHighWaterMark(domains: ReadonlyMap<string, DomainMetadata>): number {
  const d = domains.get(ROW_TRACKING_DOMAIN);
  if (!d) return MISSING_HIGH_WATER_MARK;
  let mark: unknown;
  try {
    mark = (JSON.parse(d.configuration) as { rowIdHighWaterMark?: unknown }).rowIdHighWaterMark;
  } catch {
    mark = undefined;
  }
  if (typeof mark !== 'number' || !Number.isSafeInteger(mark) || mark < MISSING_HIGH_WATER_MARK) {
    throw new TributaryError('LOG_CORRUPT', `the ${ROW_TRACKING_DOMAIN} domain holds no valid rowIdHighWaterMark: ${d.configuration}`);
  }
  return mark;
}

/** The domain action, with the configuration delta-spark writes (its JsonMetadataDomain adds domainName). */
export function highWaterMarkAction(mark: number): Action {
  return { domainMetadata: { domain: ROW_TRACKING_DOMAIN, configuration: JSON.stringify({ rowIdHighWaterMark: mark, domainName: ROW_TRACKING_DOMAIN }), removed: false } };
}

/** Rows in a file, from its stats: ids are assigned per physical row, so they must be known. */
function numRecords(add: AddFile): number {
  try {
    const n = (JSON.parse(add.stats ?? '') as { numRecords?: unknown }).numRecords;
    if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) return n;
  } catch {
    // Reported below with the file's name.
  }
  throw new TributaryError('INTERNAL', `row tracking needs the row count of ${add.path}, but its stats have no numRecords`);
}

/** The table state a commit is placed on: enough to assign row ids. */
export interface RowTrackingBase {
  protocol?: Protocol;
  metadata?: Pick<Metadata, 'configuration'>;
  domains: ReadonlyMap<string, DomainMetadata>;
}

/**
 * The actions to commit as `version` on top of `base`: adds without a baseRowId get fresh ids
 * from the mark on, adds without a defaultRowCommitVersion get `version`, and the domain's new
 * mark is appended when it moved (delta-spark's assignFreshRowIds + assignIfMissing). `actions`
 * are the commit's own, never the output of an earlier attempt, so a retry simply assigns again
 * past the winner's mark. Protocol or metadata changed by the commit itself count (a table
 * created with the feature).
 */
export function assignRowTracking(base: RowTrackingBase | undefined, version: number, actions: readonly Action[]): Action[] {
  const protocol = lastOf(actions, 'protocol') ?? base?.protocol;
  const metadata = lastOf(actions, 'metaData') ?? base?.metadata;
  if (!protocol || !metadata || !isRowTrackingSupported(protocol)) return [...actions];
  if (actions.some((a) => 'domainMetadata' in a && a.domainMetadata.domain === ROW_TRACKING_DOMAIN)) {
    throw new TributaryError('INTERNAL', `a commit may not set the ${ROW_TRACKING_DOMAIN} domain itself`);
  }
  if (isSuspended(metadata)) {
    return actions.map((a) => ('add' in a ? { add: withoutRowTracking(a.add) } : a));
  }
  const old = base ? rowIdHighWaterMark(base.domains) : MISSING_HIGH_WATER_MARK;
  let mark = old;
  const out: Action[] = actions.map((a) => {
    if (!('add' in a)) return a;
    const add = { ...a.add };
    if (add.baseRowId == null) {
      add.baseRowId = mark + 1;
      mark += numRecords(a.add);
    }
    add.defaultRowCommitVersion ??= version;
    return { add };
  });
  if (mark !== old) out.push(highWaterMarkAction(mark));
  return out;
}

function withoutRowTracking(add: AddFile): AddFile {
  const { baseRowId: _b, defaultRowCommitVersion: _d, ...rest } = add;
  return rest;
}

function lastOf<K extends 'protocol' | 'metaData'>(actions: readonly Action[], kind: K): (K extends 'protocol' ? Protocol : Metadata) | undefined {
  let out: unknown;
  for (const a of actions) if (kind in a) out = (a as Record<string, unknown>)[kind];
  return out as (K extends 'protocol' ? Protocol : Metadata) | undefined;
}

/**
 * The configuration of a new table whose protocol supports row tracking: the hidden columns
 * rewritten rows keep their ids and commit versions in are named once, when the feature is
 * added (delta-spark's updateMaterializedColumnName), with a random suffix.
 */
export function withMaterializedColumnNames(protocol: Protocol, configuration: Record<string, string>, uuid: () => string = randomUUID): Record<string, string> {
  if (!isRowTrackingSupported(protocol)) return configuration;
  return {
    ...configuration,
    [MATERIALIZED_ROW_ID]: configuration[MATERIALIZED_ROW_ID] ?? ROW_ID_PREFIX + uuid(),
    [MATERIALIZED_ROW_COMMIT_VERSION]: configuration[MATERIALIZED_ROW_COMMIT_VERSION] ?? ROW_COMMIT_VERSION_PREFIX + uuid(),
  };
}

/** The keys a writer maintains, so two creators of "the same" table may hold different values. */
export const WRITER_MAINTAINED_KEYS: readonly string[] = [MATERIALIZED_ROW_ID, MATERIALIZED_ROW_COMMIT_VERSION];

/** The names of the materialized columns of a table whose rewrites must preserve row ids. */
export function materializedColumns(protocol: Protocol, metadata: Pick<Metadata, 'configuration'>): { rowId: string; rowCommitVersion: string } | undefined {
  if (!isRowTrackingEnabled(protocol, metadata)) return undefined;
  const rowId = metadata.configuration[MATERIALIZED_ROW_ID];
  const rowCommitVersion = metadata.configuration[MATERIALIZED_ROW_COMMIT_VERSION];
  if (!rowId || !rowCommitVersion) {
    throw new TributaryError('LOG_CORRUPT', `the table enables row tracking but its configuration does not name the materialized columns (${MATERIALIZED_ROW_ID}, ${MATERIALIZED_ROW_COMMIT_VERSION})`);
  }
  return { rowId, rowCommitVersion };
}

/**
 * The stable ids and commit versions of a file's rows, to write into the materialized columns
 * of the file that replaces it: a value already materialized wins, otherwise `baseRowId + row
 * index` and `defaultRowCommitVersion` (delta-spark's GenerateRowIDs: coalesce(materialized,
 * default)). `materializedIds` and `materializedVersions` are the file's own columns (null where
 * absent), in physical row order.
 */
export function preservedRowTracking(
  file: AddFile,
  numRows: number,
  materializedIds: (i: number) => bigint | null,
  materializedVersions: (i: number) => bigint | null,
): { rowIds: BigInt64Array; rowCommitVersions: BigInt64Array } {
  if (file.baseRowId == null || file.defaultRowCommitVersion == null) {
    throw new TributaryError('LOG_CORRUPT', `${file.path} has no baseRowId or defaultRowCommitVersion in a table with row tracking enabled`);
  }
  const base = BigInt(file.baseRowId);
  const dflt = BigInt(file.defaultRowCommitVersion);
  const rowIds = new BigInt64Array(numRows);
  const rowCommitVersions = new BigInt64Array(numRows);
  for (let i = 0; i < numRows; i++) {
    rowIds[i] = materializedIds(i) ?? base + BigInt(i);
    rowCommitVersions[i] = materializedVersions(i) ?? dflt;
  }
  return { rowIds, rowCommitVersions };
}
