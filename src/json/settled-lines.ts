import { schemaToString, type StructType } from '../schema/schema.js';
import { FULL, NdjsonAccelerator } from './ndjson-wasm.js';

/** Rows the module decodes per call (its values are dropped: only the count is kept). */
const RUN_ROWS = 16_384;
/** After a run of no line, the caller's lines before the module is tried again: 1, 2, 4 ... this. */
const MAX_WAIT = 4_096;

/**
 * For a schema pass (inferNdjson): runs of lines that add nothing to the inference, found by the
 * NDJSON accelerator (ndjson-wasm.ts) decoding them under the schema the pass has settled so far
 * (SchemaInference.settled: the positions whose types are known). The module takes a line only
 * when every key is a settled position and every value is of its type there, which is what makes
 * a row add nothing but its count; any other line (a new key or shape, a wider number, a value
 * where only nulls were seen, an escape, a blank or broken line) is left to the caller, which
 * infers from it, or refuses it, as it does every line without this. So the schema, the row
 * count, the rows' lines and every error are the same; the module takes a million CoinGecko
 * lines in about a quarter of a second where the JavaScript scan of their shapes took a second.
 */
export class SettledLines {
  private accel: NdjsonAccelerator | undefined;
  /** The schema the module is set to, as a string (a rebuild only when it changes). */
  private key: string | undefined;
  private stale = true;
  private wait = 0;
  private backoff = 1;
  private region: { b: Uint8Array; end: number } | undefined;
  private loadedInto: NdjsonAccelerator | undefined;
  /** Lines the module took. */
  taken = 0;

  /** `settled`: the pass's settled schema, read again after `changed()`. */
  constructor(private readonly settled: () => StructType) {}

  /** A row was added to the inference: what is settled may have grown, and the module is tried again at once. */
  changed(): void {
    this.stale = true;
    this.wait = 0;
    this.backoff = 1;
  }

  /** The caller took a line itself (after a run that took none, it takes a few before the module is tried again). */
  tookOne(): void {
    if (this.wait > 0) this.wait--;
  }

  /**
   * The complete lines (valid UTF-8) of b, up to `end`, that run() reads, until the next call: the
   * module copies them in once (at the first run), not once per run.
   */
  lines(b: Uint8Array, end: number): void {
    this.region = { b, end };
    this.loadedInto = undefined;
  }

  /** The lines from `pos` that add nothing, in a run: how many, and where the first line after them starts. */
  run(pos: number): { next: number; lines: number } {
    const region = this.region;
    if (this.wait > 0 || !region || pos >= region.end) return { next: pos, lines: 0 };
    if (this.stale) {
      this.stale = false;
      const schema = this.settled();
      const key = schemaToString(schema);
      if (key !== this.key) {
        this.key = key;
        this.accel = schema.fields.length ? NdjsonAccelerator.for(schema, RUN_ROWS) : undefined;
      }
    }
    const a = this.accel;
    if (!a) return { next: pos, lines: 0 };
    const end = region.end;
    // From here to the region's end, once per region and module instance (a new schema is a new instance).
    if (this.loadedInto !== a) {
      a.load(region.b, pos, end);
      this.loadedInto = a;
    }
    let p = pos;
    let lines = 0;
    for (;;) {
      // Every line of a run is a row (the module stops at a blank line).
      const r = a.decode(p, end, RUN_ROWS);
      a.reset();
      lines += r.rows;
      p = r.next;
      if (r.status !== FULL) break;
    }
    this.taken += lines;
    if (lines === 0) {
      this.wait = this.backoff;
      this.backoff = Math.min(this.backoff * 2, MAX_WAIT);
    } else this.backoff = 1;
    return { next: p, lines };
  }
}
