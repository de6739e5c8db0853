import type { EncodeOptions } from './handler.js';

/**
 * What an arrow-rs writer (arrow-rs.ts) is configured with; plain data, so it can cross to a
 * worker. This file is all the encoder thread loads besides the writer: without apache-arrow
 * (plainColumns is in plain-columns.ts), whose hundreds of modules took a large part of the
 * thread's start.
 */
export interface WasmWriterConfig extends EncodeOptions {
  /** Top-level columns written without dictionary encoding. */
  plainColumns: string[];
}

/** Says which program wrote a file, in its footer. */
export const CREATED_BY = 'tributary (arrow-rs)';

/**
 * The writer's settings as native/parquet-encode reads them: key/value pairs, each a
 * little-endian u32 length then UTF-8 bytes. Parquet 1.0 pages are the writer's own choice there.
 */
export function writerSettings(c: WasmWriterConfig): Uint8Array {
  const pairs: [string, string][] = [
    ['compression', c.compression],
    ['rowGroupRows', String(c.rowGroupRows)],
    ['createdBy', CREATED_BY],
  ];
  if (c.chunkStatisticsOnly) pairs.push(['statistics', 'chunk']);
  for (const [k, v] of Object.entries(c.keyValueMetadata ?? {})) pairs.push([`kv:${k}`, v]);
  for (const col of c.plainColumns) pairs.push([`plain:${col}`, '']);
  const enc = new TextEncoder();
  const parts = pairs.flat().map((s) => enc.encode(s));
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
  const view = new DataView(out.buffer);
  let pos = 0;
  for (const p of parts) {
    view.setUint32(pos, p.length, true);
    out.set(p, pos + 4);
    pos += 4 + p.length;
  }
  return out;
}
