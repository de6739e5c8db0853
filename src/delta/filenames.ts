/**
 * Names of the files in `_delta_log` (Spark's `util/FileNames.scala`). Our own temp files are
 * hidden (leading dot) so they can never match these patterns and be mistaken for log entries.
 */
export const LOG_DIR = '_delta_log';
export const LAST_CHECKPOINT = `${LOG_DIR}/_last_checkpoint`;

const pad = (v: number) => String(v).padStart(20, '0');

export const commitPath = (version: number) => `${LOG_DIR}/${pad(version)}.json`;
export const checkpointPath = (version: number) => `${LOG_DIR}/${pad(version)}.checkpoint.parquet`;

/** V2 checkpoints: the UUID-named top-level file, and the sidecars (file actions) it points to. */
export const SIDECAR_DIR = `${LOG_DIR}/_sidecars`;
export const v2CheckpointPath = (version: number, uuid: string, format: 'json' | 'parquet') => `${LOG_DIR}/${pad(version)}.checkpoint.${uuid}.${format}`;
/** Spark's sidecar names: `<version>.checkpoint.<part>.<parts>.<uuid>.parquet`, one part per file. */
export const sidecarName = (version: number, part: number, parts: number, uuid: string) =>
  `${pad(version)}.checkpoint.${String(part).padStart(10, '0')}.${String(parts).padStart(10, '0')}.${uuid}.parquet`;

export type LogFile =
  | { kind: 'commit'; version: number; name: string }
  | { kind: 'checkpoint'; version: number; name: string; part?: number; parts?: number; uuid?: string; format?: 'json' | 'parquet' }
  | { kind: 'crc'; version: number; name: string }
  | { kind: 'compacted'; version: number; end: number; name: string };

const COMMIT_RE = /^(\d{20})\.json$/;
const CHECKPOINT_RE = /^(\d{20})\.checkpoint(?:\.(\d+)\.(\d+))?\.parquet$/;
const V2_CHECKPOINT_RE = /^(\d{20})\.checkpoint\.([^.]+)\.(json|parquet)$/;
const CRC_RE = /^(\d{20})\.crc$/;
const COMPACTED_RE = /^(\d{20})\.(\d{20})\.compacted\.json$/;

export function parseLogFileName(name: string): LogFile | undefined {
  let m = COMMIT_RE.exec(name);
  if (m) return { kind: 'commit', version: Number(m[1]), name };
  m = CHECKPOINT_RE.exec(name);
  if (m) {
    return m[2] === undefined
      ? { kind: 'checkpoint', version: Number(m[1]), name }
      : { kind: 'checkpoint', version: Number(m[1]), name, part: Number(m[2]), parts: Number(m[3]) };
  }
  m = V2_CHECKPOINT_RE.exec(name);
  if (m) return { kind: 'checkpoint', version: Number(m[1]), name, uuid: m[2], format: m[3] as 'json' | 'parquet' };
  m = CRC_RE.exec(name);
  if (m) return { kind: 'crc', version: Number(m[1]), name };
  m = COMPACTED_RE.exec(name);
  if (m) return { kind: 'compacted', version: Number(m[1]), end: Number(m[2]), name };
  return undefined;
}
