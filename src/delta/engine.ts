import { type EngineName, type ParquetHandler } from '../parquet/handler.js';
import { parquetHandler } from '../parquet/engines.js';
import type { Storage } from '../storage/storage.js';
import { storageFor } from '../storage/uri.js';

/**
 * The I/O a table needs, handed in together (delta-kernel-rs's Engine): the Storage at the
 * table's location and a Parquet handler. The protocol logic (replay, checkpoints, stats) stays
 * pure; DeltaTable, snapshots, checkpoints, the reader, OPTIMIZE and VACUUM do their I/O only
 * through an Engine, so a new store or a new Parquet library changes nothing above this line.
 */
export interface Engine {
  readonly storage: Storage;
  readonly parquet: ParquetHandler;
  /** Milliseconds since the epoch for commit timestamps; Date.now unless a test injects a clock. */
  readonly clock?: () => number;
}

export interface EngineOptions {
  /** Per-table store options (delta-rs's `storage_options` names), over the environment's. */
  storageOptions?: Readonly<Record<string, string>>;
  /** The Parquet handler: 'parquet-wasm' (the default), 'parquetjs', or one of your own. */
  parquet?: EngineName | ParquetHandler;
  /** The clock commits take their timestamps from (in-commit timestamps); Date.now by default. */
  clock?: () => number;
}

export function isEngine(x: unknown): x is Engine {
  return typeof x === 'object' && x !== null && 'storage' in x && 'parquet' in x;
}

/**
 * The engine for a location: a local path or `file://` URI, `s3://`/`s3a://`, `gs://`,
 * `abfss://`/`az://` (object-store SDKs load only then), a Storage of your own, or an Engine.
 */
export async function engineFor(location: string | Storage | Engine, opts: EngineOptions = {}): Promise<Engine> {
  if (isEngine(location)) return location;
  const storage = typeof location === 'string' ? await storageFor(location, opts.storageOptions) : location;
  const parquet = typeof opts.parquet === 'object' ? opts.parquet : parquetHandler(opts.parquet ?? 'parquet-wasm');
  return opts.clock ? { storage, parquet, clock: opts.clock } : { storage, parquet };
}
