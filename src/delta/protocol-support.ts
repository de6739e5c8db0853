import { TributaryError } from '../errors.js';
import type { Metadata, Protocol } from './actions.js';
import { containsType, parseSchemaString } from '../schema/schema.js';

/**
 * Which tables we may read and append to. A writer that ignores a feature it does not implement
 * corrupts the table for every other reader (PROTOCOL.md "Table Features"), so anything we do
 * not fully honour is refused by name.
 */
export const READER_FEATURES = new Set(['timestampNtz', 'deletionVectors', 'vacuumProtocolCheck', 'v2Checkpoint', 'typeWidening', 'variantType', 'variantType-preview']);

/** Writer features whose obligations a blind appender meets (some only when unused; see below). */
const WRITER_FEATURES = new Set([
  'appendOnly',
  'invariants',
  'changeDataFeed',
  'timestampNtz',
  'domainMetadata',
  'vacuumProtocolCheck',
  'deletionVectors',
  'checkConstraints',
  'generatedColumns',
  'identityColumns',
  'columnMapping',
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
  if (protocol.minReaderVersion === 2) {
    throw new TributaryError('UNSUPPORTED_FEATURE', `table ${tablePath} uses column mapping (reader version 2), which Tributary does not implement`);
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
  const fieldMeta = (key: string) => containsType(schema, (t) => t.kind === 'struct' && t.fields.some((f) => key in f.metadata));
  if (Object.keys(conf).some((k) => k.startsWith('delta.constraints.'))) unsupported.push('checkConstraints (table has CHECK constraints)');
  if (fieldMeta('delta.generationExpression')) unsupported.push('generatedColumns (table has generated columns)');
  if (fieldMeta('delta.identity.start')) unsupported.push('identityColumns (table has identity columns)');
  if (fieldMeta('delta.invariants')) unsupported.push('invariants (table has SQL invariant expressions)');
  const mode = conf['delta.columnMapping.mode'];
  if (mode && mode !== 'none') unsupported.push(`columnMapping (mode ${mode})`);
  if (unsupported.length) {
    throw new TributaryError('UNSUPPORTED_FEATURE', `cannot write to ${tablePath}: it uses writer features Tributary does not implement: ${unsupported.join(', ')}`, {
      features: unsupported,
    });
  }
}
