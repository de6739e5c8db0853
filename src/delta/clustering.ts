import { TributaryError } from '../errors.js';
import { type DataType, type StructField, type StructType, typeToString } from '../schema/schema.js';
import type { AddFile, DomainMetadata, Protocol } from './actions.js';

/**
 * Liquid clustering (PROTOCOL.md "Clustered Table"), the protocol side, pure: a table is clustered
 * when its protocol has the `clustering` writer feature; its clustering columns are the
 * `delta.clustering` domain's `clusteringColumns`, each a path of physical names. OPTIMIZE
 * rewrites the files that are not yet in a large enough ZCube (the files one clustering run wrote
 * together) sorted along a space-filling curve, and tags them as delta-spark does: AddFile
 * `clusteringProvider: "liquid"` and the tags `ZCUBE_ID` (the run's id) and `ZCUBE_ZORDER_BY`
 * (the clustering columns' logical names, JSON). Appends write plain files, as Spark's do.
 * Rules follow delta-spark's ClusteredTableUtils, ClusteringColumn and ClusteringStrategy.
 */
export const CLUSTERING_DOMAIN = 'delta.clustering';
export const CLUSTERING_PROVIDER = 'liquid';
export const ZCUBE_ID = 'ZCUBE_ID';
export const ZCUBE_ZORDER_BY = 'ZCUBE_ZORDER_BY';
/** delta-spark's clusteredTable.numClusteringColumnsLimit. */
export const MAX_CLUSTERING_COLUMNS = 4;

/** A clustering column: the path of physical names from the top-level field down. */
export type ClusteringColumn = readonly string[];

function invalid(msg: string): never {
  throw new TributaryError('INVALID_ARGUMENT', msg);
}

/**
 * A column list as CLUSTER BY takes it: `a, s.x, \`a.b\``. A name with dots or other characters
 * Spark's parser splits on is backquoted (a backquote inside doubled), as in Spark SQL.
 */
export function parseClusterBy(text: string): string[][] {
  const out: string[][] = [];
  let parts: string[] = [];
  let cur = '';
  let quoted = false;
  let wasQuoted = false;
  const endPart = () => {
    const p = wasQuoted ? cur : cur.trim();
    if (p === '' && !wasQuoted) invalid(`--cluster-by ${JSON.stringify(text)}: a column name is empty`);
    parts.push(p);
    cur = '';
    wasQuoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '`' && text[i + 1] === '`') {
        cur += '`';
        i++;
      } else if (c === '`') quoted = false;
      else cur += c;
    } else if (c === '`') {
      if (cur.trim() !== '') invalid(`--cluster-by ${JSON.stringify(text)}: a backquote in the middle of a name`);
      cur = '';
      quoted = wasQuoted = true;
    } else if (c === '.') endPart();
    else if (c === ',') {
      endPart();
      out.push(parts);
      parts = [];
    } else if (wasQuoted) {
      if (c.trim() !== '') invalid(`--cluster-by ${JSON.stringify(text)}: text after a backquoted name`);
    } else cur += c;
  }
  if (quoted) invalid(`--cluster-by ${JSON.stringify(text)}: a backquoted name is not closed`);
  endPart();
  out.push(parts);
  return out;
}

/** A column path as Spark prints it (FieldReference): parts other than plain words backquoted. */
export function columnReference(path: readonly string[]): string {
  return path.map((p) => (/^[A-Za-z0-9_]+$/.test(p) && !/^\d+$/.test(p) ? p : '`' + p.replace(/`/g, '``') + '`')).join('.');
}

const physicalName = (f: StructField) => (typeof f.metadata['delta.columnMapping.physicalName'] === 'string' ? (f.metadata['delta.columnMapping.physicalName'] as string) : f.name);

/** Types with min/max statistics (delta-spark's SkippingEligibleDataType): what clustering can use. */
function skippingEligible(t: DataType): boolean {
  if (t.kind === 'decimal') return true;
  if (t.kind !== 'primitive') return false;
  return t.name !== 'boolean' && t.name !== 'binary';
}

/** The leaf position of each leaf field in schema order, as stats count them (dataSkippingNumIndexedCols). */
function leafIndex(schema: StructType, path: readonly string[]): number {
  let n = 0;
  const walk = (fields: readonly StructField[], prefix: string[]): number | undefined => {
    for (const f of fields) {
      const p = [...prefix, f.name];
      if (f.type.kind === 'struct') {
        const r = walk(f.type.fields, p);
        if (r !== undefined) return r;
      } else {
        if (p.length === path.length && p.every((x, i) => x === path[i])) return n;
        n++;
      }
    }
    return undefined;
  };
  return walk(schema.fields, []) ?? -1;
}

/**
 * The clustering columns a new table gets for `CLUSTER BY refs`, checked as Spark checks them:
 * each names a field (names match exactly, as in Spark SQL), of a type with min/max statistics,
 * within the columns that get statistics; at most four, none twice, and the table not partitioned.
 * Returns the physical paths the domain stores.
 */
export function resolveClusteringColumns(schema: StructType, partitionColumns: readonly string[], refs: readonly (readonly string[])[], numIndexedCols: number): ClusteringColumn[] {
  if (refs.length && partitionColumns.length) {
    invalid(`a table cannot be both partitioned (by ${partitionColumns.join(', ')}) and clustered; choose --partition-by or --cluster-by (Spark refuses CLUSTER BY with PARTITIONED BY too)`);
  }
  if (refs.length > MAX_CLUSTERING_COLUMNS) invalid(`--cluster-by: a table is clustered by at most ${MAX_CLUSTERING_COLUMNS} columns (Spark's limit), got ${refs.length}: ${refs.map(columnReference).join(', ')}`);
  const seen = new Set<string>();
  return refs.map((ref) => {
    const name = columnReference(ref);
    if (seen.has(name.toLowerCase())) invalid(`--cluster-by: column ${name} is listed twice`);
    seen.add(name.toLowerCase());
    let fields: readonly StructField[] = schema.fields;
    let type: DataType | undefined;
    const physical: string[] = [];
    for (const part of ref) {
      const f = fields.find((x) => x.name === part);
      if (!f) invalid(`--cluster-by: no column ${name} in the schema (columns: ${schema.fields.map((x) => x.name).join(', ')})`);
      physical.push(physicalName(f));
      type = f.type;
      fields = f.type.kind === 'struct' ? f.type.fields : [];
    }
    if (!skippingEligible(type!)) {
      invalid(`--cluster-by: column ${name} has type ${typeToString(type!)}, which has no min/max statistics to skip files by; clustering columns are numbers, dates, timestamps or strings`);
    }
    const at = leafIndex(schema, ref);
    if (numIndexedCols >= 0 && at >= numIndexedCols) {
      invalid(`--cluster-by: column ${name} gets no statistics: delta.dataSkippingNumIndexedCols=${numIndexedCols} covers the first ${numIndexedCols} columns and it is column ${at + 1}`);
    }
    return physical;
  });
}

/** The `delta.clustering` domain as delta-spark writes it (ClusteringMetadataDomain). */
export function clusteringDomain(columns: readonly ClusteringColumn[]): DomainMetadata {
  return { domain: CLUSTERING_DOMAIN, configuration: JSON.stringify({ clusteringColumns: columns, domainName: CLUSTERING_DOMAIN }), removed: false };
}

/**
 * The clustering columns of a table at a version: undefined when it is not clustered; an empty
 * list for a clustered table without columns (OPTIMIZE then compacts, as Spark's does).
 */
export function clusteringColumnsOf(protocol: Protocol, domains: ReadonlyMap<string, DomainMetadata>): ClusteringColumn[] | undefined {
  if (!(protocol.writerFeatures ?? []).includes('clustering')) return undefined;
  const d = domains.get(CLUSTERING_DOMAIN);
  if (!d) return [];
  let conf: unknown;
  try {
    conf = JSON.parse(d.configuration);
  } catch {
    throw new TributaryError('LOG_CORRUPT', `the ${CLUSTERING_DOMAIN} domain's configuration is not JSON: ${d.configuration}`);
  }
  const cols = (conf as { clusteringColumns?: unknown })?.clusteringColumns;
  if (!Array.isArray(cols) || !cols.every((c) => Array.isArray(c) && c.every((p) => typeof p === 'string'))) {
    throw new TributaryError('LOG_CORRUPT', `the ${CLUSTERING_DOMAIN} domain has no list of column paths: ${d.configuration}`);
  }
  return cols as string[][];
}

/** A clustering column's logical path (its names in the schema; they differ under column mapping). */
export function logicalPath(schema: StructType, column: ClusteringColumn): string[] {
  let fields: readonly StructField[] = schema.fields;
  return column.map((part) => {
    const f = fields.find((x) => physicalName(x) === part) ?? fields.find((x) => physicalName(x).toLowerCase() === part.toLowerCase());
    if (!f) throw new TributaryError('LOG_CORRUPT', `clustering column ${columnReference(column)} is not in the table's schema`);
    fields = f.type.kind === 'struct' ? f.type.fields : [];
    return f.name;
  });
}

/**
 * Appends must write statistics for the clustering columns (PROTOCOL.md). Ours cover the first
 * dataSkippingNumIndexedCols leaf columns, as Spark's do by default; a table whose clustering
 * columns fall outside them, or that picks its statistics columns by name, is refused.
 */
export function checkClusteredWritable(schema: StructType, columns: readonly ClusteringColumn[], configuration: Readonly<Record<string, string>>, numIndexedCols: number, tablePath: string): void {
  if (!columns.length) return;
  if (configuration['delta.dataSkippingStatsColumns'] !== undefined) {
    throw new TributaryError('UNSUPPORTED_FEATURE', `cannot write to ${tablePath}: it is clustered and chooses its statistics columns (delta.dataSkippingStatsColumns), which Tributary does not implement`);
  }
  for (const c of columns) {
    const at = leafIndex(schema, logicalPath(schema, c));
    if (numIndexedCols >= 0 && at >= numIndexedCols) {
      throw new TributaryError('UNSUPPORTED_FEATURE', `cannot write to ${tablePath}: clustering column ${columnReference(c)} would get no statistics (delta.dataSkippingNumIndexedCols=${numIndexedCols})`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// ZCubes: which files OPTIMIZE reclusters (delta-spark's ClusteringStrategy.applyMinZCube)

interface ZCubeInfo {
  id: string;
  zOrderBy: string[];
}

function zCubeOf(f: AddFile): ZCubeInfo | undefined {
  const id = f.tags?.[ZCUBE_ID];
  const by = f.tags?.[ZCUBE_ZORDER_BY];
  if (id === undefined || by === undefined) return undefined;
  try {
    const cols = JSON.parse(by) as unknown;
    return Array.isArray(cols) ? { id, zOrderBy: cols.map(String) } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The bins (each becomes one new ZCube) a clustering OPTIMIZE rewrites, as Spark picks them:
 * files not clustered yet, and files of ZCubes clustered by the same columns that are smaller than
 * `minCubeSize` (a large ZCube is done); files another clustering implementation wrote, or
 * clustered by other columns, are left alone. When all that is left is one ZCube and nothing new,
 * there is nothing to do. Files go in ZCube order (unclustered first), cut into bins of about
 * `cubeSize` bytes; a bin of one file is rewritten too (it gets sorted and tagged).
 */
export function clusteringBins(files: readonly AddFile[], logicalNames: readonly string[], minCubeSize: number, cubeSize: number): AddFile[][] {
  const sameColumns = (c: ZCubeInfo) => c.zOrderBy.length === logicalNames.length && c.zOrderBy.every((x, i) => x === logicalNames[i]);
  // Files with deletion vectors are rewritten too, without their deleted rows.
  const sorted = [...files].sort((a, b) => {
      const x = zCubeOf(a)?.id;
      const y = zCubeOf(b)?.id;
      if (x !== y) return x === undefined ? -1 : y === undefined ? 1 : x < y ? -1 : 1;
      return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
    });
  const candidates = sorted.filter((f) => {
    const provider = f.clusteringProvider ?? CLUSTERING_PROVIDER;
    const cube = zCubeOf(f);
    return provider === CLUSTERING_PROVIDER && (!cube || sameColumns(cube));
  });
  // Drop the files of ZCubes that reached minCubeSize.
  const cubeBytes = new Map<string, number>();
  for (const f of candidates) {
    const id = zCubeOf(f)?.id;
    if (id !== undefined) cubeBytes.set(id, (cubeBytes.get(id) ?? 0) + f.size);
  }
  const small = candidates.filter((f) => {
    const id = zCubeOf(f)?.id;
    return id === undefined || cubeBytes.get(id)! < minCubeSize;
  });
  const unclustered = small.filter((f) => !zCubeOf(f)).length;
  const cubes = new Set(small.map((f) => zCubeOf(f)?.id).filter((x) => x !== undefined));
  if (unclustered === 0 && cubes.size <= 1) return [];
  const bins: AddFile[][] = [];
  let bin: AddFile[] = [];
  let bytes = 0;
  for (const f of small) {
    if (bin.length && bytes + f.size > cubeSize) {
      bins.push(bin);
      bin = [];
      bytes = 0;
    }
    bin.push(f);
    bytes += f.size;
  }
  if (bin.length) bins.push(bin);
  return bins;
}

/** A file written by a clustering run: in ZCube `zCubeId`, clustered by `logicalNames`. */
export function clusteredFile(add: AddFile, zCubeId: string, logicalNames: readonly string[]): AddFile {
  return { ...add, dataChange: false, tags: { ...(add.tags ?? {}), [ZCUBE_ID]: zCubeId, [ZCUBE_ZORDER_BY]: JSON.stringify(logicalNames) }, clusteringProvider: CLUSTERING_PROVIDER };
}

/**
 * The clustering columns of a table created with `clusterBy` (column references, each as CLUSTER
 * BY writes it, or a comma-separated list of them), checked; undefined when it is not clustered.
 */
export function newTableClusteringColumns(schema: StructType, partitionColumns: readonly string[], clusterBy: readonly string[] | undefined, numIndexedCols: number): ClusteringColumn[] | undefined {
  if (!clusterBy || clusterBy.length === 0) return undefined;
  return resolveClusteringColumns(schema, partitionColumns, clusterBy.flatMap(parseClusterBy), numIndexedCols);
}

/** A table's clustering columns as Spark names them (DESCRIBE DETAIL's clusteringColumns); undefined when not clustered. */
export function clusteredBy(schema: StructType, protocol: Protocol, domains: ReadonlyMap<string, DomainMetadata>): string[] | undefined {
  return clusteringColumnsOf(protocol, domains)?.map((c) => columnReference(logicalPath(schema, c)));
}
