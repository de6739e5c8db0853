/**
 * The NDJSON accelerator: native/ndjson-decode (Rust, built for WebAssembly by
 * scripts/build-wasm.mjs into ndjson-decode.wasm beside this module) decodes runs of NDJSON lines
 * into Arrow column buffers about twice as fast as the JavaScript path (README, "NDJSON to
 * Delta"). NdjsonDecoder hands it the complete lines of each read and appends its runs to the
 * same column builders its own path fills (ColumnBuilder.appendRun); a line the module does not
 * take (see native/ndjson-decode/src/lib.rs) is decoded, or refused, by the JavaScript path, so
 * values and messages are that path's. Schemas with a type the module has no decoding for (FLOAT,
 * SHORT, BYTE, BINARY, MAP, VARIANT, TIMESTAMP_NTZ anywhere in them) are left to the JavaScript
 * path whole.
 */
import { readFileSync } from 'node:fs';
import { TributaryError } from '../errors.js';
import type { ColumnRun } from '../arrow/builders.js';
import '../arrow/detach-early.js'; // WebAssembly memory that grows detaches its buffer: see there
import type { DataType, StructType } from '../schema/schema.js';

// The project's TypeScript lib has no WebAssembly declarations (no DOM); this is all we use.
interface Exports {
  memory: { buffer: ArrayBuffer };
  alloc(n: number): number;
  info_ptr(): number;
  set_schema(p: number, len: number, maxRows: number): void;
  reset(): void;
  decode(p: number, len: number, maxRows: number): number;
  rows(): number;
  col_info(k: number, n: number): number;
}
type WasmModule = object;
const WA = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => WasmModule; Instance: new (m: WasmModule, imports: object) => { exports: unknown } } }).WebAssembly;

const T = { string: 0, double: 1, long: 2, integer: 3, boolean: 4, timestamp: 5, date: 6, decimal: 7, struct: 9, array: 10 } as const;

/**
 * A field whose metadata has this key (true) is one the module takes only nulls in (code 11):
 * for a schema pass, a position only ever null so far (SchemaInference.settled, settled-lines.ts),
 * where any value would be news. Its type is ignored; such a schema is decoded for its count of
 * rows, never read as columns (`runs` refuses it).
 */
export const NULL_ONLY = 'tributary.nullOnly';
const T_NULL_ONLY = 11;

/** decode()'s statuses. */
export const TAKEN = 0;
export const FULL = 1;
export const STOPPED = 2;

let compiled: WasmModule | undefined;
/** The module, compiled once per thread (64 KB: about a millisecond). */
function module(): WasmModule {
  // From dist/json/ and src/json/ the file beside this module; from the CLI bundle (dist/cli-bundle/) the same file of dist/json/: one copy in the package.
  compiled ??= new WA.Module(readFileSync(new URL('../json/ndjson-decode.wasm', import.meta.url)));
  return compiled;
}

/** Whether the module decodes a column of this type (and every field or element in it). */
function supported(t: DataType): boolean {
  switch (t.kind) {
    case 'primitive':
      return t.name in T;
    case 'decimal':
      return true;
    case 'struct':
      return t.fields.length < 256 && t.fields.every((f) => supported(f.type));
    case 'array':
      return supported(t.elementType);
    default:
      return false;
  }
}

interface Col {
  code: number;
  children: Col[];
}

/**
 * One decoder's instance of the module (its own memory: the parallel decoder's threads each have
 * one), set to a schema. Runs are read from its memory by `runs()` and must be appended before
 * the next `decode` or `reset`.
 */
export class NdjsonAccelerator {
  private readonly ex: Exports;
  private readonly cols: Col[];
  private input = 0;
  private inputCap = 0;
  private base = 0;
  /** The schema has a NULL_ONLY field: its runs are counted, never read. */
  private nullOnly = false;

  /** The accelerator for a table schema, or undefined when some column needs the JavaScript path. */
  static for(schema: StructType, maxRows: number): NdjsonAccelerator | undefined {
    if (!schema.fields.every((f) => supported(f.type))) return undefined;
    return new NdjsonAccelerator(schema, maxRows);
  }

  private constructor(schema: StructType, maxRows: number) {
    this.ex = new WA.Instance(module(), {}).exports as Exports;
    const desc: number[] = [];
    const enc = new TextEncoder();
    const put = (name: string, t: DataType, nullable: boolean, nullOnly = false): Col => {
      const n = enc.encode(name);
      const code = nullOnly ? T_NULL_ONLY : t.kind === 'primitive' ? T[t.name as keyof typeof T] : T[t.kind as keyof typeof T];
      const p1 = t.kind === 'decimal' ? t.precision : t.kind === 'struct' ? t.fields.length : 0;
      const p2 = t.kind === 'decimal' ? t.scale : 0;
      if (nullOnly) this.nullOnly = true;
      desc.push(code, nullable ? 1 : 0, p1, p2, n.length & 0xff, n.length >> 8, ...n);
      const children = nullOnly ? [] : t.kind === 'struct' ? t.fields.map((f) => put(f.name, f.type, f.nullable, f.metadata[NULL_ONLY] === true)) : t.kind === 'array' ? [put('', t.elementType, t.containsNull)] : [];
      return { code, children };
    };
    this.cols = schema.fields.map((f) => put(f.name, f.type, f.nullable, f.metadata[NULL_ONLY] === true));
    const at = this.ex.alloc(desc.length);
    new Uint8Array(this.ex.memory.buffer).set(desc, at);
    this.ex.set_schema(at, desc.length, maxRows);
  }

  /** Copies the lines b[s, e) into the module's memory: `decode` then reads them from there. */
  load(b: Uint8Array, s: number, e: number): void {
    const n = e - s;
    if (n + 1 > this.inputCap) {
      // The module's allocator never frees: grow by doubling, so a long input allocates a few times.
      this.inputCap = Math.max(n + 1, this.inputCap * 2, 1 << 16);
      this.input = this.ex.alloc(this.inputCap);
    }
    new Uint8Array(this.ex.memory.buffer, this.input, n).set(b.subarray(s, e));
    this.base = s;
  }

  /**
   * Decodes the loaded lines from b's position `p` to `e` into a run of at most `maxRows` rows.
   * Returns the status and where it stopped (b's position of the next line not taken).
   */
  decode(p: number, e: number, maxRows: number): { status: number; next: number; rows: number } {
    const ex = this.ex;
    const status = ex.decode(this.input + (p - this.base), e - p, maxRows);
    const info = new Uint32Array(ex.memory.buffer, ex.info_ptr(), 2);
    return { status, next: p + info[0], rows: info[1] };
  }

  /** The run's columns (views of the module's memory: valid until the next decode or reset). */
  runs(n: number): ColumnRun[] {
    if (this.nullOnly) throw new TributaryError('INTERNAL', 'the NDJSON accelerator was asked for the columns of a schema pass (a NULL_ONLY field)');
    const ex = this.ex;
    const mem = ex.memory.buffer;
    let k = 0;
    const run = (c: Col, len: number): ColumnRun => {
      const info = new Uint32Array(mem, ex.col_info(k++, len), 6);
      const [data, valid, offs, bytes, byteLength, nullCount] = info;
      const r: ColumnRun = { nullCount, validity: nullCount > 0 ? new Uint8Array(mem, valid, (len + 7) >> 3) : undefined };
      switch (c.code) {
        case T.string:
          return { ...r, offsets: new Int32Array(mem, offs, len + 1), bytes: new Uint8Array(mem, bytes, byteLength) };
        case T.double:
          // The module's buffers are 8-byte aligned (its allocator's minimum); a copy if ever not.
          return { ...r, values: data % 8 === 0 ? new Float64Array(mem, data, len) : new Float64Array(new Uint8Array(mem, data, 8 * len).slice().buffer) };
        case T.long:
        case T.timestamp:
          return { ...r, values: new Int32Array(mem, data, 2 * len) };
        case T.integer:
        case T.date:
          return { ...r, values: new Int32Array(mem, data, len) };
        case T.boolean:
          return { ...r, values: new Uint8Array(mem, data, (len + 7) >> 3) };
        case T.decimal:
          return { ...r, values: new Uint32Array(mem, data, 4 * len) };
        case T.struct:
          return { ...r, children: c.children.map((ch) => run(ch, len)) };
        default: {
          const offsets = new Int32Array(mem, offs, len + 1);
          return { ...r, offsets, children: [run(c.children[0], offsets[len])] };
        }
      }
    };
    return this.cols.map((c) => run(c, n));
  }

  /** The instance's WebAssembly memory in bytes (it never shrinks: what a run at its largest took). */
  get memoryBytes(): number {
    return this.ex.memory.buffer.byteLength;
  }

  /** Empties the run (after its columns were appended). */
  reset(): void {
    this.ex.reset();
  }
}
