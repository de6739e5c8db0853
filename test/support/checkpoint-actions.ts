import type { Action } from '../../src/delta/actions.js';

/**
 * The actions a checkpoint of a streamed table holds: protocol, metadata, the stream's txn,
 * `adds` live files with stats and `removes` tombstones (the shape the soak's table reaches).
 */
export function stateActions(adds: number, removes: number): Action[] {
  const out: Action[] = [
    { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
    {
      metaData: {
        id: '6f9a1e84-5c3b-4f0e-9d4b-2a1c7e3b8d10',
        format: { provider: 'parquet', options: {} },
        schemaString: JSON.stringify({ type: 'struct', fields: [{ name: 'value', type: 'long', nullable: true, metadata: {} }] }),
        partitionColumns: [],
        configuration: {},
        createdTime: 1_764_633_600_000,
      },
    },
    { txn: { appId: 'a-stream', version: adds, lastUpdated: 1_764_633_600_000 } },
  ];
  for (let i = 0; i < adds; i++) {
    const stats = JSON.stringify({ numRecords: 1000, minValues: { value: i * 1000 }, maxValues: { value: i * 1000 + 999 }, nullCount: { value: 0 } });
    out.push({ add: { path: `part-${String(i).padStart(5, '0')}-1b2c3d4e-5f60-7182-93a4-b5c6d7e8f900-c000.snappy.parquet`, partitionValues: {}, size: 8000 + (i % 97), modificationTime: 1_764_633_600_000 + i, dataChange: true, stats } });
  }
  for (let i = 0; i < removes; i++) {
    out.push({ remove: { path: `part-${String(i).padStart(5, '0')}-0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9-c000.snappy.parquet`, deletionTimestamp: 1_764_633_600_000 + i, dataChange: false, extendedFileMetadata: true, partitionValues: {}, size: 8000 + (i % 89) } });
  }
  return out;
}
