import type { Row } from '../../arrow/record-batch.js';
import type { StructType } from '../../schema/schema.js';
import { canonicalOffset, type Offset } from '../offset.js';
import { Options } from '../options.js';
import { batchBudget, type BatchBudget } from '../row-budget.js';
import { DataSource, type DataSourceStreamReader, OffsetRangeRefused, type ReadLimit } from '../source.js';

/**
 * Spark's `rate` source: rows (timestamp, value) with value counting up from 0. Two modes:
 * `rowsPerSecond` (rows appear as wall-clock time passes) and `rowsPerBatch` (every batch gets
 * exactly that many rows, Spark's "rate-micro-batch", for tests and benchmarks). Fully
 * replayable: the rows of any offset range are a pure function of the range.
 */
export class RateSource extends DataSource {
  static override formatName = 'rate';
  static override optionNames = ['rowsPerSecond', 'rowsPerBatch', 'advanceMillisPerBatch', 'startTimestamp'];

  schema(): string {
    return 'timestamp TIMESTAMP, value BIGINT';
  }

  override description(): string {
    const o = this.options;
    return o.rowsPerBatch ? `RateMicroBatchStream[rowsPerBatch=${o.rowsPerBatch}]` : `RateStream[rowsPerSecond=${o.rowsPerSecond ?? '1'}]`;
  }

  override streamReader(schema: StructType): DataSourceStreamReader {
    return new RateReader(new Options('rate', this.options), batchBudget(schema));
  }
}

interface RateOffset extends Offset {
  value: number;
  startMs: number;
}

class RateReader implements DataSourceStreamReader {
  private readonly rowsPerBatch: number | undefined;
  private readonly rowsPerSecond: number;
  private readonly advanceMs: number;
  private readonly startTimestamp: number | undefined;
  private target: number | undefined;

  constructor(
    o: Options,
    private readonly budget: BatchBudget,
  ) {
    this.rowsPerBatch = o.number('rowsPerBatch', undefined, { min: 1, max: budget.maxRows, integer: true, maxReason: budget.reason });
    this.rowsPerSecond = o.number('rowsPerSecond', 1, { min: 0, max: budget.maxRows, maxReason: `a second's rows must fit in one batch: ${budget.reason}` })!;
    this.advanceMs = o.number('advanceMillisPerBatch', 1000, { min: 0, integer: true })!;
    this.startTimestamp = o.number('startTimestamp', undefined, { integer: true });
  }

  initialOffset(): RateOffset {
    // The start time travels inside every offset, so timestamps survive restarts unchanged.
    return { value: 0, startMs: this.startTimestamp ?? (this.rowsPerBatch ? 0 : Date.now()) };
  }

  private available(start: RateOffset): number {
    if (this.rowsPerBatch) return start.value + this.rowsPerBatch;
    return Math.max(start.value, Math.floor(((Date.now() - start.startMs) * this.rowsPerSecond) / 1000));
  }

  latestOffset(start: Offset, limit: ReadLimit): RateOffset {
    const s = start as RateOffset;
    // However long the stream was stopped, one batch never plans more rows than fit in memory:
    // it catches up over several batches instead.
    let end = Math.min(this.available(s), s.value + this.budget.maxRows);
    if (this.target !== undefined) end = Math.min(end, this.target);
    if (limit.kind === 'maxRows') end = Math.min(end, s.value + limit.maxRows);
    // A rate row is a timestamp and a long: 16 bytes of data.
    if (limit.kind === 'maxBytes') end = Math.min(end, s.value + Math.max(1, Math.floor(limit.maxBytes / 16)));
    return { value: Math.max(s.value, end), startMs: s.startMs };
  }

  prepareForTriggerAvailableNow(start: Offset): void {
    this.target = this.available(start as RateOffset);
  }

  read(start: Offset, end: Offset): Row[] {
    const s = start as RateOffset;
    const e = end as RateOffset;
    this.checkRange(s, e);
    const rows: Row[] = new Array(e.value - s.value);
    for (let v = s.value; v < e.value; v++) {
      const ms = this.rowsPerBatch
        ? s.startMs + Math.floor(v / this.rowsPerBatch) * this.advanceMs
        : s.startMs + Math.floor((v * 1000) / Math.max(this.rowsPerSecond, 1e-9));
      rows[v - s.value] = { timestamp: BigInt(ms) * 1000n, value: BigInt(v) };
    }
    return rows;
  }

  /** A range logged by an earlier run (perhaps with a bad option) may not be one we can read. */
  private checkRange(s: RateOffset, e: RateOffset): void {
    const refuse = (why: string) => new OffsetRangeRefused(`rate: cannot read the range ${canonicalOffset(s)}..${canonicalOffset(e)}: ${why}`);
    const rows = e.value - s.value;
    if (rows > this.budget.maxRows) throw refuse(`${rows} rows is more than one batch may hold (${this.budget.maxRows}: ${this.budget.reason})`);
    for (const o of [s, e]) {
      if (!Number.isSafeInteger(o.value) || o.value < 0 || !Number.isSafeInteger(o.startMs)) throw refuse('value and startMs must be whole numbers (value >= 0)');
    }
    if (rows < 0) throw refuse('it ends before it starts');
  }
}
