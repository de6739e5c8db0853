import { TributaryError } from '../errors.js';

/**
 * The Delta log's actions (PROTOCOL.md "Actions"), as plain data. Field names and order follow
 * what Spark writes, so our commits diff cleanly against Spark's. Readers must ignore unknown
 * fields and actions, so parsing keeps whatever it does not understand out of the way.
 */
export interface Protocol {
  minReaderVersion: number;
  minWriterVersion: number;
  readerFeatures?: string[];
  writerFeatures?: string[];
}

export interface Format {
  provider: string;
  options: Record<string, string>;
}

export interface Metadata {
  id: string;
  name?: string | null;
  description?: string | null;
  format: Format;
  schemaString: string;
  partitionColumns: string[];
  configuration: Record<string, string>;
  createdTime?: number | null;
}

export interface DeletionVector {
  storageType: string;
  pathOrInlineDv: string;
  offset?: number;
  sizeInBytes: number;
  cardinality: number;
  maxRowIndex?: number;
}

export interface AddFile {
  path: string;
  partitionValues: Record<string, string | null>;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  stats?: string | null;
  tags?: Record<string, string> | null;
  deletionVector?: DeletionVector | null;
  baseRowId?: number | null;
  defaultRowCommitVersion?: number | null;
  clusteringProvider?: string | null;
}

export interface RemoveFile {
  path: string;
  deletionTimestamp?: number | null;
  dataChange: boolean;
  extendedFileMetadata?: boolean | null;
  partitionValues?: Record<string, string | null> | null;
  size?: number | null;
  stats?: string | null;
  tags?: Record<string, string> | null;
  deletionVector?: DeletionVector | null;
  baseRowId?: number | null;
  defaultRowCommitVersion?: number | null;
}

export interface Txn {
  appId: string;
  version: number;
  lastUpdated?: number | null;
}

/** Free-form, but Spark reads operationParameters/operationMetrics as Map[String,String]. */
export interface CommitInfo {
  timestamp?: number;
  operation?: string;
  operationParameters?: Record<string, string>;
  readVersion?: number;
  isolationLevel?: string;
  isBlindAppend?: boolean;
  operationMetrics?: Record<string, string>;
  engineInfo?: string;
  txnId?: string;
  [k: string]: unknown;
}

export interface DomainMetadata {
  domain: string;
  configuration: string;
  removed: boolean;
}

export type Action =
  | { protocol: Protocol }
  | { metaData: Metadata }
  | { add: AddFile }
  | { remove: RemoveFile }
  | { txn: Txn }
  | { commitInfo: CommitInfo }
  | { domainMetadata: DomainMetadata };

/** One commit's actions as newline-delimited JSON, the body of `NNNN.json`. */
export function serializeActions(actions: readonly Action[]): string {
  return actions.map((a) => JSON.stringify(a)).join('\n') + '\n';
}

const KNOWN = new Set(['protocol', 'metaData', 'add', 'remove', 'txn', 'commitInfo', 'domainMetadata']);

/**
 * Parses a commit file (or a JSON checkpoint); other action types (cdc, checkpointMetadata,
 * sidecar...) are skipped, or handed to `other` when given.
 */
export function parseActions(text: string, file: string, other?: (kind: string, value: unknown) => void): Action[] {
  const out: Action[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line) as Record<string, unknown>;
    } catch (e) {
      throw new TributaryError('LOG_CORRUPT', `${file}, line ${i + 1}: not valid JSON (${(e as Error).message})`, { file, line: i + 1 });
    }
    for (const k of Object.keys(obj)) {
      if (obj[k] === null || obj[k] === undefined) continue;
      if (KNOWN.has(k)) out.push({ [k]: obj[k] } as Action);
      else other?.(k, obj[k]);
    }
  }
  return out;
}

