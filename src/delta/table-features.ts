import { TributaryError } from '../errors.js';
import type { Protocol } from './actions.js';

/**
 * Delta table features (PROTOCOL.md "Table Features") and the protocol Spark gives a new table,
 * computed the way delta-spark does it (`Protocol.forNewTable`: the features the metadata turns
 * on, those named by `delta.feature.*`, the explicit `delta.minReaderVersion`/`minWriterVersion`,
 * then denormalised and normalised to the weakest form: (1,2) stays legacy, a feature that needs
 * table features lists the legacy ones implied by writer version 2 as well). Pure data and
 * functions; checked against Spark in the interop suite.
 */
export interface TableFeature {
  name: string;
  /** Legacy features are implied by a protocol version below table features (reader 3, writer 7). */
  legacy: boolean;
  readerWriter: boolean;
  minReader: number;
  minWriter: number;
  requires: readonly string[];
  /**
   * Whether Tributary meets this feature's obligations for everything it does to a new table (so
   * it may put it in a protocol it writes). Features it does not implement yet are refused.
   */
  supported: boolean;
}

const f = (name: string, legacy: boolean, readerWriter: boolean, minReader: number, minWriter: number, supported: boolean, requires: string[] = []): TableFeature => ({
  name,
  legacy,
  readerWriter,
  minReader,
  minWriter,
  requires,
  supported,
});

/** The features delta-spark 4.x knows, by name. */
export const TABLE_FEATURES: ReadonlyMap<string, TableFeature> = new Map(
  [
    f('appendOnly', true, false, 1, 2, true),
    f('invariants', true, false, 1, 2, true),
    f('checkConstraints', true, false, 1, 3, true),
    f('changeDataFeed', true, false, 1, 4, true),
    f('generatedColumns', true, false, 1, 4, true),
    f('columnMapping', true, true, 2, 5, true),
    f('identityColumns', true, false, 1, 6, true),
    f('timestampNtz', false, true, 3, 7, true),
    f('domainMetadata', false, false, 1, 7, true),
    f('vacuumProtocolCheck', false, true, 3, 7, true),
    f('deletionVectors', false, true, 3, 7, true),
    f('rowTracking', false, false, 1, 7, true, ['domainMetadata']),
    f('v2Checkpoint', false, true, 3, 7, true),
    f('inCommitTimestamp', false, false, 1, 7, true),
    f('typeWidening', false, true, 3, 7, false),
    f('typeWidening-preview', false, true, 3, 7, false),
    f('clustering', false, false, 1, 7, true, ['domainMetadata']),
    f('icebergCompatV1', false, false, 1, 7, false, ['columnMapping']),
    f('icebergCompatV2', false, false, 1, 7, false, ['columnMapping']),
    f('icebergCompatV3', false, false, 1, 7, false, ['columnMapping']),
    f('variantType', false, true, 3, 7, true),
    f('variantType-preview', false, true, 3, 7, false),
    f('variantShredding', false, true, 3, 7, false, ['variantType']),
    f('variantShredding-preview', false, true, 3, 7, false, ['variantType']),
    f('allowColumnDefaults', false, false, 1, 7, false),
    f('materializePartitionColumns', false, false, 1, 7, false),
    f('checkpointProtection', false, false, 1, 7, false),
    f('coordinatedCommits-preview', false, false, 1, 7, false),
    f('catalogManaged', false, true, 3, 7, false),
    f('geospatial', false, true, 3, 7, false),
  ].map((x) => [x.name.toLowerCase(), x]),
);

export function featureByName(name: string): TableFeature | undefined {
  return TABLE_FEATURES.get(name.toLowerCase());
}

const LEGACY = [...TABLE_FEATURES.values()].filter((x) => x.legacy);

/**
 * A protocol as a set of features: versions, plus explicit feature names when the versions use
 * table features (reader >= 3 / writer >= 7). Mirrors delta-spark's Protocol + TableFeatureSupport.
 */
class ProtocolModel {
  constructor(
    readonly reader: number,
    readonly writer: number,
    readonly readerFeatures: ReadonlySet<string> = new Set(),
    readonly writerFeatures: ReadonlySet<string> = new Set(),
  ) {}

  get supportsReaderFeatures(): boolean {
    return this.reader >= 3;
  }
  get supportsWriterFeatures(): boolean {
    return this.writer >= 7;
  }

  /** Legacy features a legacy protocol implies (none once both sides list features). */
  implicitlySupported(): TableFeature[] {
    if (this.supportsReaderFeatures && this.supportsWriterFeatures) return [];
    return LEGACY.filter((x) => !this.supportsReaderFeatures && this.reader >= x.minReader && !this.supportsWriterFeatures && this.writer >= x.minWriter);
  }

  explicit(): TableFeature[] {
    return [...new Set([...this.readerFeatures, ...this.writerFeatures])].map((n) => TABLE_FEATURES.get(n.toLowerCase())!);
  }

  all(): Set<string> {
    return new Set([...this.explicit(), ...this.implicitlySupported()].map((x) => x.name));
  }

  withFeature(feat: TableFeature): ProtocolModel {
    let p: ProtocolModel = this;
    for (const r of feat.requires) p = p.withFeature(TABLE_FEATURES.get(r.toLowerCase())!);
    let toReader = feat.readerWriter;
    let toWriter = true;
    if (feat.legacy) {
      if (feat.readerWriter) toReader = p.supportsReaderFeatures || (feat.minReader > p.reader ? fail(feat, 'reader') : false);
      toWriter = p.supportsWriterFeatures || (feat.minWriter > p.writer ? fail(feat, 'writer') : false);
    }
    if (toReader && !p.supportsReaderFeatures) fail(feat, 'reader');
    if (toWriter && !p.supportsWriterFeatures) fail(feat, 'writer');
    return new ProtocolModel(
      p.reader,
      p.writer,
      toReader ? new Set([...p.readerFeatures, feat.name]) : p.readerFeatures,
      toWriter ? new Set([...p.writerFeatures, feat.name]) : p.writerFeatures,
    );
  }

  withFeatures(feats: Iterable<TableFeature>): ProtocolModel {
    let p: ProtocolModel = this;
    for (const x of feats) p = p.withFeature(x);
    return p;
  }

  /** The weakest protocol with the same features (a table-features protocol only). */
  normalized(): ProtocolModel {
    if (!this.supportsWriterFeatures) return this;
    const feats = this.explicit();
    const [r, w] = minimumVersions(feats);
    const candidate = new ProtocolModel(r, w);
    if (sameSet(this.all(), candidate.all())) return candidate;
    return new ProtocolModel(r, 7).withFeatures(feats);
  }

  /** A legacy protocol as the table-features protocol with the same features. */
  denormalized(): ProtocolModel {
    if (this.supportsWriterFeatures) return this;
    const implicit = this.implicitlySupported();
    const [r] = minimumVersions(implicit);
    return new ProtocolModel(r, 7).withFeatures(implicit);
  }

  toProtocol(): Protocol {
    const p: Protocol = { minReaderVersion: this.reader, minWriterVersion: this.writer };
    if (this.supportsReaderFeatures) p.readerFeatures = [...this.readerFeatures];
    if (this.supportsWriterFeatures) p.writerFeatures = [...this.writerFeatures];
    return p;
  }
}

function fail(feat: TableFeature, side: string): never {
  // Unreachable from newTableProtocol, which always starts from a protocol that can list features.
  throw new TributaryError('INTERNAL', `feature ${feat.name} needs a higher ${side} version`);
}

function minimumVersions(feats: TableFeature[]): [number, number] {
  return [Math.max(1, ...feats.map((x) => x.minReader)), Math.max(1, ...feats.map((x) => x.minWriter))];
}

const sameSet = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));

function closure(feats: Iterable<TableFeature>): Set<TableFeature> {
  const out = new Set<TableFeature>();
  const add = (x: TableFeature) => {
    if (out.has(x)) return;
    out.add(x);
    for (const r of x.requires) add(TABLE_FEATURES.get(r.toLowerCase())!);
  };
  for (const x of feats) add(x);
  return out;
}

/**
 * Whether a metadata change (mergeSchema adding a column) turns the feature on in an existing
 * table, by a protocol upgrade: delta-spark's automaticallyUpdateProtocolOfExistingTables. True
 * for legacy features and VARIANT; TIMESTAMP_NTZ must be enabled by hand (Spark refuses the
 * append with DELTA_FEATURES_REQUIRE_MANUAL_ENABLEMENT). test_merge_schema_features.py checks
 * both against Spark.
 */
export function enabledByMetadataChange(feature: TableFeature): boolean {
  return feature.legacy || feature.name !== 'timestampNtz';
}

/**
 * The protocol an existing table needs once its metadata asks for the features `needed` (what
 * metadataFeatures gives for the new schema and configuration), or undefined when it supports
 * them already: delta-spark's upgrade of an existing table's protocol on a metadata change, for
 * what a schema change can bring (mergeSchema adding a TIMESTAMP_NTZ or VARIANT column). The
 * table keeps every feature it had (a legacy protocol's implied ones become listed) and gains
 * the missing ones, in the weakest protocol that holds them all.
 */
export function upgradedProtocol(current: Protocol, needed: readonly TableFeature[]): Protocol | undefined {
  const listed = [...(current.readerFeatures ?? []), ...(current.writerFeatures ?? [])];
  const unknown = listed.filter((n) => !TABLE_FEATURES.has(n.toLowerCase()));
  const cur = new ProtocolModel(current.minReaderVersion, current.minWriterVersion, new Set(current.readerFeatures ?? []), new Set(current.writerFeatures ?? []));
  const have = new Set([...listed.map((n) => n.toLowerCase()), ...cur.implicitlySupported().map((f) => f.name.toLowerCase())]);
  const missing = [...closure(needed)].filter((f) => !have.has(f.name.toLowerCase()));
  if (!missing.length) return undefined;
  if (unknown.length) throw new TributaryError('UNSUPPORTED_FEATURE', `this write needs the table feature ${missing.map((f) => f.name).join(', ')}, and the table's protocol lists ${unknown.join(', ')}, which Tributary does not know: it cannot upgrade the protocol`);
  const all = [...(cur.supportsWriterFeatures ? cur.explicit() : []), ...cur.implicitlySupported(), ...missing];
  return new ProtocolModel(3, 7).withFeatures(all).normalized().toProtocol();
}

/**
 * What a metadata change that needs the features `needed` does to an existing table's protocol,
 * as delta-spark does it: the protocol upgraded for the features such a change turns on
 * (undefined when none is missing), and the features it does not turn on that the table lacks
 * (TIMESTAMP_NTZ: the caller refuses the change, naming them).
 */
export function protocolForMetadataChange(current: Protocol, needed: readonly TableFeature[]): { protocol?: Protocol; manual: TableFeature[] } {
  const protocol = upgradedProtocol(current, needed.filter(enabledByMetadataChange));
  const manual = needed.filter((f) => !enabledByMetadataChange(f) && upgradedProtocol(protocol ?? current, [f]) !== undefined);
  return { protocol, manual };
}

export interface NewTableProtocolInput {
  /** Features the table's metadata turns on (NOT NULL columns, delta.appendOnly=true, ...). */
  metadataFeatures: readonly TableFeature[];
  /** Features named by delta.feature.<name> properties. */
  propertyFeatures: readonly TableFeature[];
  /** delta.minReaderVersion / delta.minWriterVersion, or the defaults (1, 2). */
  readerVersion: number;
  writerVersion: number;
}

/** delta-spark's Protocol.forNewTable, for the features above. */
export function newTableProtocol(input: NewTableProtocolInput): Protocol {
  const enabled = closure([...input.propertyFeatures, ...input.metadataFeatures]);
  // Explicit versions bring the legacy features they imply (none for a table-features writer).
  const reader = input.writerVersion >= 7 ? input.readerVersion : Math.min(2, input.readerVersion);
  const implied = new ProtocolModel(reader, input.writerVersion).implicitlySupported();
  const min = new ProtocolModel(3, 7).withFeatures([...enabled, ...implied]).normalized();
  const feats = [...min.explicit(), ...min.implicitlySupported()];
  return new ProtocolModel(min.reader, min.writer).withFeatures(feats).denormalized().normalized().toProtocol();
}
