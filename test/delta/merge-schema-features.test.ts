import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeltaTable } from '../../src/delta/table.js';
import { featureByName, upgradedProtocol } from '../../src/delta/table-features.js';
import { parseDdl } from '../../src/schema/ddl.js';
import { tempDir } from '../support/tmp.js';

/**
 * mergeSchema adding a column whose type needs a table feature: the protocol moves with the
 * metadata where delta-spark's does (VARIANT), and the append is refused where Spark's is
 * (TIMESTAMP_NTZ needs enabling by hand). Before, the column landed in a (1,2) table that
 * delta-rs then refused to read. test/interop/test_merge_schema_features.py holds Spark's side.
 */
const tmp = tempDir('tributary-merge-features-');
const sorted = (p: { readerFeatures?: string[]; writerFeatures?: string[] }) => ({ ...p, readerFeatures: p.readerFeatures && [...p.readerFeatures].sort(), writerFeatures: p.writerFeatures && [...p.writerFeatures].sort() });

async function table(properties: Record<string, string> = {}): Promise<DeltaTable> {
  const t = await DeltaTable.forPath(path.join(tmp(), 't'));
  await t.append([{ a: 1 }], { create: { schema: parseDdl('a BIGINT'), configuration: properties } });
  return t;
}

describe('mergeSchema and table features', () => {
  it('a TIMESTAMP_NTZ column (top level or nested) is refused on a table without the feature, naming it; the table is unchanged', async () => {
    for (const ddl of ['a BIGINT, t TIMESTAMP_NTZ', 'a BIGINT, s STRUCT<t: TIMESTAMP_NTZ>']) {
      const t = await table();
      const before = readdirSync(path.join(t.storage.root, '_delta_log')).sort();
      await expect(t.append([{ a: 2 }], { mergeSchema: true, schema: parseDdl(ddl) })).rejects.toThrow(/the new columns need the table feature timestampNtz, which table .* does not support/);
      expect(readdirSync(path.join(t.storage.root, '_delta_log')).sort()).toEqual(before);
      expect(readdirSync(t.storage.root).filter((f) => f.endsWith('.parquet'))).toHaveLength(1);
    }
  });

  it('lands where the table supports TIMESTAMP_NTZ, with the protocol unchanged', async () => {
    const t = await table({ 'delta.feature.timestampNtz': 'supported' });
    const protocol = t.snapshot.protocol;
    const r = await t.append([{ a: 2, t: '2026-12-03T10:00:00' }], { mergeSchema: true, schema: parseDdl('a BIGINT, t TIMESTAMP_NTZ') });
    expect(r.version).toBe(1);
    expect(t.snapshot.protocol).toEqual(protocol);
  });

  it('a VARIANT column upgrades the protocol in the same commit, keeping the features the old protocol implied', async () => {
    const t = await table();
    expect(t.snapshot.protocol).toEqual({ minReaderVersion: 1, minWriterVersion: 2 });
    const r = await t.append([{ a: 2, v: { x: 1 } }], { mergeSchema: true, schema: parseDdl('a BIGINT, v VARIANT') });
    expect(r.version).toBe(1);
    expect(sorted(t.snapshot.protocol)).toEqual({ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['variantType'], writerFeatures: ['appendOnly', 'invariants', 'variantType'] });
  });

  it('upgradedProtocol: nothing when supported; a legacy protocol lists what it implied; reader 2 with column mapping moves to 3', () => {
    const ntz = featureByName('timestampNtz')!;
    const variant = featureByName('variantType')!;
    expect(upgradedProtocol({ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['timestampNtz'], writerFeatures: ['timestampNtz'] }, [ntz])).toBeUndefined();
    expect(upgradedProtocol({ minReaderVersion: 1, minWriterVersion: 2 }, [featureByName('appendOnly')!])).toBeUndefined();
    expect(sorted(upgradedProtocol({ minReaderVersion: 2, minWriterVersion: 5 }, [variant])!)).toEqual({
      minReaderVersion: 3,
      minWriterVersion: 7,
      readerFeatures: ['columnMapping', 'variantType'],
      writerFeatures: ['appendOnly', 'changeDataFeed', 'checkConstraints', 'columnMapping', 'generatedColumns', 'invariants', 'variantType'],
    });
    expect(() => upgradedProtocol({ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: [], writerFeatures: ['someFutureFeature'] }, [variant])).toThrow(/someFutureFeature, which Tributary does not know/);
  });
});
