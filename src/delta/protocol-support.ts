import { TributaryError } from '../errors.js';
import type { Metadata, Protocol } from './actions.js';
import { containsType, parseSchemaString } from '../schema/schema.js';
import { checkColumnMapping } from './column-mapping.js';
import { constraintProblems } from './constraints.js';
import { generatedColumnProblems } from './generated-columns.js';

/**
 * Which tables we may read and append to. A writer that ignores a feature it does not implement
 * corrupts the table for every other reader (PROTOCOL.md "Table Features"), so anything we do
 * not fully honour is refused by name. Deletion vectors: the reader drops the rows they delete
 * (deletion-vector.ts), OPTIMIZE rewrites their files without those rows and removes the logical
 * file with its DV, VACUUM keeps the DV files live files use. V2 checkpoints: read in every form
 * (v2-checkpoint.ts), written when delta.checkpointPolicy is v2 (classic ones otherwise, which the
 * feature allows), never multi-part, and log cleanup keeps referenced sidecars.
 */
export const READER_FEATURES = new Set(['columnMapping', 'timestampNtz', 'deletionVectors', 'vacuumProtocolCheck', 'v2Checkpoint', 'typeWidening', 'variantType', 'variantType-preview']);

/** Writer features whose obligations a blind appender meets (some only when unused; see below). */
const WRITER_FEATURES = new Set([
  'appendOnly',
  'invariants',
  'changeDataFeed',
  'timestampNtz',
  'domainMetadata',
  'vacuumProtocolCheck',
  'deletionVectors',
  'v2Checkpoint',
  'checkConstraints',
  'generatedColumns',
  'identityColumns',
  'columnMapping',
  // Met in commit.ts for every commit: fresh row ids past the high-water mark, and a monotonic
  // inCommitTimestamp first in commitInfo.
  'rowTracking',
  'inCommitTimestamp',
  // Appends need not cluster (Spark's do not); OPTIMIZE clusters and tags as Spark does.
  'clustering',
  // Unshredded variants, the form Spark writes without variantShredding (Spark 4.0 named it -preview).
  'variantType',
  'variantType-preview',
]);

export function checkReadable(protocol: Protocol, tablePath: string): void {
  if (protocol.minReaderVersion > 3) {
    throw new TributaryError('UNSUPPORTED_FEATURE', `table ${tablePath} needs reader version ${protocol.minReaderVersion}; Tributary reads up to 3`);
  }
  const missing = (protocol.readerFeatures ?? []).filter((f) => !READER_FEATURES.has(f));
  if (missing.length) {
    throw new TributaryError('UNSUPPORTED_FEATURE', `table ${tablePath} uses reader features Tributary does not implement: ${missing.join(', ')}`, { features: missing });
  }
}

export function checkWritable(protocol: Protocol, metadata: Metadata, tablePath: string): void {
  checkReadable(protocol, tablePath);
  if (protocol.minWriterVersion > 7) {
    throw new TributaryError('UNSUPPORTED_FEATURE', `table ${tablePath} needs writer version ${protocol.minWriterVersion}; Tributary writes up to 7`);
  }
  const unsupported: string[] = [];
  const features = new Set<string>(protocol.writerFeatures ?? []);
  // Legacy writer versions imply feature sets (PROTOCOL.md "Writer Version Requirements").
  if (protocol.minWriterVersion < 7) {
    if (protocol.minWriterVersion >= 3) features.add('checkConstraints');
    if (protocol.minWriterVersion >= 4) features.add('changeDataFeed').add('generatedColumns');
    if (protocol.minWriterVersion >= 5) features.add('columnMapping');
    if (protocol.minWriterVersion >= 6) features.add('identityColumns');
  }
  for (const f of features) if (!WRITER_FEATURES.has(f)) unsupported.push(f);
  const conf = metadata.configuration ?? {};
  const schema = parseSchemaString(metadata.schemaString);
  // CHECK constraints, invariants and generated columns are honoured when Tributary evaluates
  // every expression exactly as Spark does; one it cannot is named with the part it cannot.
  unsupported.push(...constraintProblems(conf, schema, tablePath), ...generatedColumnProblems(protocol, schema));
  if (unsupported.length) {
    throw new TributaryError('UNSUPPORTED_FEATURE', `cannot write to ${tablePath}: it uses writer features Tributary does not implement: ${unsupported.join(', ')}`, {
      features: unsupported,
    });
  }
  // Column mapping (name or id mode; src/delta/column-mapping.ts): its log must be whole to write.
  checkColumnMapping(schema, conf, tablePath);
}
