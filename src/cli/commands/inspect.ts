import { readLastCheckpoint } from '../../delta/checkpoint.js';
import { clusteredBy } from '../../delta/clustering.js';
import { checkReadable } from '../../delta/protocol-support.js';
import { DeltaTable } from '../../delta/table.js';
import { keyValues } from '../args.js';
import { formatBytes, schemaToDdl } from '../format.js';
import type { CliStdout } from '../output.js';

export async function inspectCommand(tablePath: string, args: { version?: number; json?: boolean; storageOption?: string[] }, out: CliStdout): Promise<void> {
  const table = await DeltaTable.open(tablePath, args.version, { storageOptions: keyValues('--storage-option', args.storageOption) });
  const snap = table.snapshot;
  // Counts and schema mean what a reader of the table would see: refuse tables we cannot read.
  checkReadable(snap.protocol, table.storage.root);
  const files = snap.files;
  // Rows a reader sees: each file's numRecords (its physical rows) less what its deletion vector
  // deletes, as Spark counts them.
  let numRecords: number | null = 0;
  let numDeletedRecords = 0;
  let numDeletionVectors = 0;
  for (const f of files) {
    const n = f.stats ? (JSON.parse(f.stats) as { numRecords?: number }).numRecords : undefined;
    const deleted = f.deletionVector?.cardinality ?? 0;
    if (f.deletionVector) numDeletionVectors++;
    numDeletedRecords += deleted;
    if (n === undefined || numRecords === null) numRecords = null;
    else numRecords += n - deleted;
  }
  const info = {
    table: table.storage.root,
    id: snap.metadata.id,
    version: snap.version,
    schema: JSON.parse(snap.metadata.schemaString),
    schemaDdl: schemaToDdl(snap.schema),
    partitionColumns: snap.partitionColumns,
    clusteringColumns: clusteredBy(snap.schema, snap.protocol, snap.state.domains) ?? null,
    numFiles: files.length,
    numRecords,
    numDeletedRecords,
    numDeletionVectors,
    sizeInBytes: files.reduce((n, f) => n + f.size, 0),
    lastCheckpoint: (await readLastCheckpoint(table.storage)) ?? null,
    protocol: snap.protocol,
    configuration: snap.metadata.configuration,
    createdTime: snap.metadata.createdTime ?? null,
    txns: Object.fromEntries([...snap.state.txns.values()].map((t) => [t.appId, t.version])),
  };
  if (args.json) {
    out.write(JSON.stringify(info, null, 2) + '\n');
    return;
  }
  const lines = [
    `table          ${info.table}`,
    `version        ${info.version}`,
    `id             ${info.id}`,
    `schema         ${info.schemaDdl}`,
    `partitioned by ${info.partitionColumns.length ? info.partitionColumns.join(', ') : '(none)'}`,
    ...(info.clusteringColumns ? [`clustered by   ${info.clusteringColumns.length ? info.clusteringColumns.join(', ') : '(no columns)'}`] : []),
    `files          ${info.numFiles}`,
    `records        ${info.numRecords ?? 'unknown (some files have no stats)'}` +
      (numDeletionVectors ? ` (${numDeletedRecords} more deleted by ${numDeletionVectors} deletion vector${numDeletionVectors === 1 ? '' : 's'})` : ''),
    `size           ${formatBytes(info.sizeInBytes)} (${info.sizeInBytes} bytes)`,
    `checkpoint     ${info.lastCheckpoint ? `version ${info.lastCheckpoint.version}` : '(none)'}`,
    `protocol       reader ${snap.protocol.minReaderVersion}, writer ${snap.protocol.minWriterVersion}` +
      (snap.protocol.readerFeatures ? `, reader features [${snap.protocol.readerFeatures.join(', ')}]` : '') +
      (snap.protocol.writerFeatures ? `, writer features [${snap.protocol.writerFeatures.join(', ')}]` : ''),
  ];
  if (Object.keys(info.configuration).length) lines.push(`properties     ${Object.entries(info.configuration).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  if (Object.keys(info.txns).length) lines.push(`streams        ${Object.entries(info.txns).map(([k, v]) => `${k}@${v}`).join(', ')}`);
  out.write(lines.join('\n') + '\n');
}
