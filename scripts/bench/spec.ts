/** What run.ts hands each child process (as JSON in the BENCH_SPEC environment variable). */
export interface ChildSpec {
  kind: 'throughput' | 'appends';
  /** 'parquet-wasm' | 'parquetjs' for Tributary; 'fast' | 'native' (value forms) for delta-rs. */
  engine: string;
  /** NDJSON input shared by every contender. */
  input: string;
  /** Records to load (throughput cases). */
  rows: number;
  ddl: string;
  /** [name, DDL type] per column, for the Python side's Arrow schema. */
  columns: ReadonlyArray<readonly [string, string]>;
  /** A fresh directory the child may write tables into. */
  workDir: string;
  runs: number;
  warmupRows: number;
  appends?: number;
  batchRows?: number;
  warmupAppends?: number;
  /** delta-rs appends: pass the path each time ('uri') or a DeltaTable object reused ('table'). */
  target?: 'uri' | 'table';
}
