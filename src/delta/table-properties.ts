import { TributaryError } from '../errors.js';
import type { Protocol } from './actions.js';
import { containsType, type DataType, type StructType } from '../schema/schema.js';
import { featureByName, newTableProtocol, type TableFeature } from './table-features.js';
import { parseInterval } from './table-config.js';
import { isIdentityField } from '../schema/identity.js';
import { CONSTRAINT_PREFIX, tableConstraints } from './constraints.js';
import { hasGenerationExpression } from './generated-columns.js';

/**
 * Table properties given when a table is created (`--property`, `create.configuration`). A
 * property either takes effect exactly as Spark would apply it, protocol and features included,
 * or is refused, naming it: a `delta.*` key we do not know (Spark refuses those too), a value
 * Spark would refuse, or a feature Tributary does not implement yet (type widening, Iceberg
 * compatibility...) or a CHECK constraint it cannot evaluate, which would otherwise sit in the
 * table as a plain
 * setting that the next append then refuses. Keys are matched case-insensitively and stored in
 * their canonical spelling, as Spark does; other keys (user properties) are kept as given.
 */
type Check = (value: string) => string | undefined;

interface PropertyRule {
  key: string;
  check: Check;
  /** Values we implement; others are valid in Spark but refused here (with `why`). */
  only?: (value: string) => boolean;
  why?: string;
  /** Refused whatever the value. */
  refused?: string;
}

const bool: Check = (v) => (/^(true|false)$/i.test(v) ? undefined : 'must be true or false');
const interval: Check = (v) => {
  try {
    parseInterval(v, '');
    return undefined;
  } catch {
    return 'must be an interval such as "interval 7 days"';
  }
};
const int = (min: number, max = Number.MAX_SAFE_INTEGER): Check => (v) =>
  /^-?\d+$/.test(v.trim()) && Number(v) >= min && Number(v) <= max ? undefined : `must be an integer${max < Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : ` >= ${min}`}`;
const any: Check = () => undefined;
const isFalse = (v: string) => v.toLowerCase() === 'false';
const NOT_YET = 'Tributary does not implement it yet';

const RULES: PropertyRule[] = [
  { key: 'delta.appendOnly', check: bool },
  { key: 'delta.checkpointInterval', check: int(1) },
  { key: 'delta.logRetentionDuration', check: interval },
  { key: 'delta.deletedFileRetentionDuration', check: interval },
  { key: 'delta.setTransactionRetentionDuration', check: interval },
  { key: 'delta.sampleRetentionDuration', check: interval },
  { key: 'delta.dropFeatureTruncateHistory.retentionDuration', check: interval },
  { key: 'delta.enableExpiredLogCleanup', check: bool },
  { key: 'delta.dataSkippingNumIndexedCols', check: int(-1) },
  { key: 'delta.dataSkippingStringPrefixLength', check: int(0) },
  { key: 'delta.checkpoint.writeStatsAsJson', check: bool },
  { key: 'delta.checkpoint.writeStatsAsStruct', check: bool },
  { key: 'delta.enableChangeDataFeed', check: bool },
  { key: 'delta.isolationLevel', check: (v) => (v === 'Serializable' ? undefined : 'must be Serializable (the only level Delta supports for tables)') },
  { key: 'delta.columnMapping.mode', check: (v) => (/^(none|name|id)$/i.test(v) ? undefined : 'must be none, name or id') },
  { key: 'delta.enableDeletionVectors', check: bool },
  { key: 'delta.enableRowTracking', check: bool },
  // Spark's CheckpointPolicy.fromName is case-sensitive.
  { key: 'delta.checkpointPolicy', check: (v) => (/^(classic|v2)$/.test(v) ? undefined : 'must be classic or v2') },
  { key: 'delta.enableInCommitTimestamps', check: bool },
  { key: 'delta.enableTypeWidening', check: bool, only: isFalse, why: `type widening: ${NOT_YET}` },
  { key: 'delta.enableIcebergCompatV1', check: bool, only: isFalse, why: `Iceberg compatibility: ${NOT_YET}` },
  { key: 'delta.enableIcebergCompatV2', check: bool, only: isFalse, why: `Iceberg compatibility: ${NOT_YET}` },
  { key: 'delta.enableIcebergCompatV3', check: bool, only: isFalse, why: `Iceberg compatibility: ${NOT_YET}` },
  { key: 'delta.enableVariantShredding', check: bool, only: isFalse, why: `variant shredding: ${NOT_YET}` },
  { key: 'delta.randomizeFilePrefixes', check: bool, only: isFalse, why: `random file prefixes: ${NOT_YET}` },
  { key: 'delta.autoOptimize.autoCompact', check: any, only: isFalse, why: `auto compaction of appends: ${NOT_YET} (streams have option autoCompact)` },
  { key: 'delta.autoOptimize.optimizeWrite', check: bool, only: isFalse, why: `optimized writes: ${NOT_YET}` },
  { key: 'delta.autoOptimize', check: bool, only: isFalse, why: `auto optimize: ${NOT_YET}` },
  { key: 'delta.compatibility.symlinkFormatManifest.enabled', check: bool, only: isFalse, why: `symlink manifests: ${NOT_YET}` },
  { key: 'delta.enableFullRetentionRollback', check: bool, only: (v) => v.toLowerCase() === 'true', why: `changing log retention rollback: ${NOT_YET}` },
  { key: 'delta.checkpointRetentionDuration', check: interval, refused: `checkpoint retention: ${NOT_YET}` },
  { key: 'delta.dataSkippingStatsColumns', check: any, refused: `choosing stats columns: ${NOT_YET} (use delta.dataSkippingNumIndexedCols)` },
  { key: 'delta.randomPrefixLength', check: any, refused: `random file prefixes: ${NOT_YET}` },
  { key: 'delta.universalFormat.enabledFormats', check: any, refused: `UniForm: ${NOT_YET}` },
  { key: 'delta.enableChangeDataCapture', check: any, refused: 'it is the deprecated spelling; use delta.enableChangeDataFeed' },
  { key: 'delta.columnMapping.maxColumnId', check: any, refused: 'it is maintained by the writer, not set by users (Spark refuses it too)' },
  { key: 'delta.rowTrackingSuspended', check: any, refused: `row tracking: ${NOT_YET}` },
  { key: 'delta.inCommitTimestampEnablementVersion', check: any, refused: 'it is maintained by the writer, not set by users' },
  { key: 'delta.inCommitTimestampEnablementTimestamp', check: any, refused: 'it is maintained by the writer, not set by users' },
  { key: 'delta.parquet.format.version', check: any, refused: NOT_YET },
  { key: 'delta.requireCheckpointProtectionBeforeVersion', check: any, refused: 'it is maintained by the writer, not set by users' },
  { key: 'delta.enableMaterializePartitionColumnsFeature', check: any, refused: NOT_YET },
  { key: 'delta.writePartitionColumnsToParquet', check: any, refused: NOT_YET },
  { key: 'delta.universalFormat.iceberg.atomicConversion.supported', check: any, refused: `UniForm: ${NOT_YET}` },
  { key: 'delta.castIcebergTimeType', check: any, refused: `UniForm: ${NOT_YET}` },
  { key: 'delta.ignoreIcebergBucketPartition', check: any, refused: `UniForm: ${NOT_YET}` },
];
const BY_KEY = new Map(RULES.map((r) => [r.key.toLowerCase(), r]));

/** Keys Spark reserves for its catalog; it refuses them as table properties. */
const RESERVED = new Set(['owner', 'provider', 'location', 'comment', 'external', 'is_managed_location']);

export interface NewTableDefinition {
  configuration: Record<string, string>;
  protocol: Protocol;
}

function refuse(key: string, value: string, why: string): never {
  throw new TributaryError('INVALID_ARGUMENT', `table property ${key}=${JSON.stringify(value)}: ${why}`, { property: key });
}

/**
 * The configuration to store and the protocol to write for a new table with these properties
 * and this schema, or a refusal naming the first property that cannot take effect.
 */
export function newTableDefinition(schema: StructType, properties: Readonly<Record<string, string>>, opts: { clustered?: boolean } = {}): NewTableDefinition {
  const configuration: Record<string, string> = {};
  // Clustering columns bring the clustering feature, as Spark's CLUSTER BY does.
  const propertyFeatures: TableFeature[] = opts.clustered ? [featureByName('clustering')!] : [];
  let reader: number | undefined;
  let writer: number | undefined;
  let ignoreDefaults = false;
  for (const [rawKey, value] of Object.entries(properties)) {
    if (typeof value !== 'string') refuse(rawKey, String(value), 'values must be strings');
    const lower = rawKey.toLowerCase();
    if (!lower.startsWith('delta.')) {
      if (RESERVED.has(lower)) refuse(rawKey, value, 'is reserved by Spark for the catalog and cannot be a table property');
      configuration[rawKey] = value;
      continue;
    }
    if (lower === 'delta.minreaderversion' || lower === 'delta.minwriterversion') {
      const max = lower === 'delta.minreaderversion' ? 3 : 7;
      if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || Number(value) > max) refuse(rawKey, value, `must be one of ${Array.from({ length: max }, (_, i) => i + 1).join(', ')}`);
      if (lower === 'delta.minreaderversion') reader = Number(value);
      else writer = Number(value);
      continue;
    }
    if (lower === 'delta.ignoreprotocoldefaults') {
      if (bool(value)) refuse(rawKey, value, bool(value)!);
      ignoreDefaults = value.toLowerCase() === 'true';
      continue;
    }
    if (lower.startsWith('delta.feature.')) {
      const name = rawKey.slice('delta.feature.'.length);
      if (!/^(supported|enabled)$/i.test(value)) refuse(rawKey, value, 'must be supported');
      const feat = featureByName(name);
      if (!feat) refuse(rawKey, value, `"${name}" is not a Delta table feature Spark knows`);
      if (!feat.supported) refuse(rawKey, value, `the ${feat.name} feature: ${NOT_YET}`);
      if (feat.name === 'clustering') refuse(rawKey, value, 'clustering comes with clustering columns (--cluster-by, clusterBy), not with a property (Spark refuses it too)');
      propertyFeatures.push(feat);
      continue;
    }
    if (lower.startsWith(CONSTRAINT_PREFIX)) {
      // A CHECK constraint given at creation, as Spark takes it in TBLPROPERTIES: kept as given,
      // once Tributary can evaluate it on every append.
      if (rawKey.length === CONSTRAINT_PREFIX.length) refuse(rawKey, value, 'needs a constraint name after delta.constraints.');
      constraintRefusal(rawKey, value, schema);
      configuration[rawKey] = value;
      continue;
    }
    const rule = BY_KEY.get(lower);
    if (!rule) refuse(rawKey, value, 'is not a Delta table property (Spark refuses unknown delta.* properties too)');
    const bad = rule.check(value);
    if (bad) refuse(rule.key, value, bad);
    if (rule.refused) refuse(rule.key, value, rule.refused);
    if (rule.only && !rule.only(value)) refuse(rule.key, value, rule.why!);
    configuration[rule.key] = value;
  }
  // Spark refuses a log retention shorter than the file retention: time travel would point at
  // files VACUUM may already have deleted.
  const logMs = parseInterval(configuration['delta.logRetentionDuration'] ?? 'interval 30 days', 'delta.logRetentionDuration');
  const fileMs = parseInterval(configuration['delta.deletedFileRetentionDuration'] ?? 'interval 1 week', 'delta.deletedFileRetentionDuration');
  if (logMs < fileMs) {
    refuse('delta.logRetentionDuration', configuration['delta.logRetentionDuration'] ?? 'interval 30 days', `must be at least delta.deletedFileRetentionDuration (${configuration['delta.deletedFileRetentionDuration'] ?? 'interval 1 week'})`);
  }
  const protocol = newTableProtocol({
    metadataFeatures: metadataFeatures(schema, configuration),
    propertyFeatures,
    readerVersion: reader ?? 1,
    writerVersion: writer ?? (ignoreDefaults ? 1 : 2),
  });
  return { configuration, protocol };
}

/** A CHECK constraint property whose expression Tributary cannot evaluate on the new table is refused. */
function constraintRefusal(key: string, value: string, schema: StructType): void {
  try {
    tableConstraints({ [key]: value }, schema, '');
  } catch (e) {
    if (e instanceof TributaryError && e.code === 'UNSUPPORTED_FEATURE') refuse(key, value, e.message.replace(/^cannot write to : its /, 'the '));
    throw e;
  }
}

/** Features a new table's metadata turns on (delta-spark's metadataRequiresFeatureToBeEnabled). */
export function metadataFeatures(schema: StructType, conf: Readonly<Record<string, string>>): TableFeature[] {
  const out: TableFeature[] = [];
  const on = (k: string) => (conf[k] ?? '').toLowerCase() === 'true';
  if (on('delta.appendOnly')) out.push(featureByName('appendOnly')!);
  if (hasStructNotNull(schema) || containsType(schema, (t) => t.kind === 'struct' && t.fields.some((f) => 'delta.invariants' in f.metadata))) out.push(featureByName('invariants')!);
  if (Object.keys(conf).some((k) => k.toLowerCase().startsWith(CONSTRAINT_PREFIX))) out.push(featureByName('checkConstraints')!);
  if (schema.fields.some(hasGenerationExpression)) out.push(featureByName('generatedColumns')!);
  if (on('delta.enableChangeDataFeed')) out.push(featureByName('changeDataFeed')!);
  if (containsType(schema, (t) => t.kind === 'primitive' && t.name === 'timestamp_ntz')) out.push(featureByName('timestampNtz')!);
  if (containsType(schema, (t) => t.kind === 'variant')) out.push(featureByName('variantType')!);
  if (/^(name|id)$/i.test(conf['delta.columnMapping.mode'] ?? '')) out.push(featureByName('columnMapping')!);
  if (schema.fields.some(isIdentityField)) out.push(featureByName('identityColumns')!);
  if (on('delta.enableRowTracking')) out.push(featureByName('rowTracking')!);
  if (on('delta.enableInCommitTimestamps')) out.push(featureByName('inCommitTimestamp')!);
  if (on('delta.enableDeletionVectors')) out.push(featureByName('deletionVectors')!);
  if (conf['delta.checkpointPolicy'] === 'v2') out.push(featureByName('v2Checkpoint')!);
  return out;
}

/** NOT NULL on a struct field, at the top level or in nested structs (not inside arrays or maps). */
function hasStructNotNull(t: DataType): boolean {
  return t.kind === 'struct' && t.fields.some((x) => !x.nullable || hasStructNotNull(x.type));
}
