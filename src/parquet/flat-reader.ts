import { TributaryError } from '../errors.js';
/**
 * A JavaScript reader for flat Parquet files: top-level primitive columns, PLAIN or dictionary
 * encoded, uncompressed or Snappy, data pages v1 or v2 (what arrow-rs, delta-rs, Spark and
 * parquetjs write for flat tables). OPTIMIZE of thousands of small files is dominated by
 * per-file costs, and read here a 100-row file costs a footer parse and a few byte copies,
 * instead of setting up a Parquet reader in WASM whose code a fresh process has not yet
 * compiled to full speed. Rows are appended to Arrow buffers of the table's types, so files from
 * different writers (or dictionary and plain pages) come out the same.
 *
 * Anything else (nested columns, other codecs or encodings, INT96, types that differ from the
 * table's, corrupt files) is refused: `append` returns false and leaves nothing behind, and the
 * caller reads that file with parquet-wasm, which also gives the precise error for a bad one.
 */
import * as arrow from 'apache-arrow';
import { ColumnBuffer, layoutOf } from './column-buffer.js';
import { Codec, Converted, Encoding, PageType, PhysicalType, readFooter, readPageHeader, Repetition, type ColumnMeta, type SchemaElement } from './footer.js';
import { decodeHybrid } from './rle.js';
import { snappyUncompress } from './snappy.js';

/** How a Parquet physical value becomes the Arrow value's bytes. */
type Conversion =
  /** Same width, same little-endian bytes (INT32 -> Int32/Date32, INT64 -> Int64/Timestamp, FLOAT, DOUBLE). */
  | 'copy'
  /** INT32 -> Int8/Int16: the low bytes. */
  | 'narrow'
  /** INT32/INT64 unscaled decimal -> 128-bit, sign-extended. */
  | 'decimal-le'
  /** FIXED_LEN_BYTE_ARRAY big-endian unscaled decimal -> 128-bit little-endian. */
  | 'decimal-be'
  | 'bool'
  | 'var';

interface Accepted {
  conversion: Conversion;
  physical: PhysicalType;
  /** Bytes per PLAIN value (fixed-width physical types). */
  srcWidth: number;
}

/** The flat reader declines a file (an encoding, type or codec it does not take): the caller reads it another way. */
class Refused extends TributaryError {
  constructor(message: string) {
    super('UNSUPPORTED_FEATURE', message);
    this.name = 'Refused';
  }
}

const refuse = (why: string): never => {
  throw new Refused(why);
};

const NO_DEFS: Int32Array = new Int32Array(0);

export class FlatParquetReader {
  private readonly builders: ColumnBuffer[];
  private defs: Int32Array = new Int32Array(1024);
  private indices: Int32Array = new Int32Array(1024);
  /** Files appended, and files refused (read by the caller some other way). */
  filesRead = 0;
  filesRefused = 0;
  /** Why the last refused file was refused. */
  lastRefusal = '';

  /** The table's columns, in the order the files must have them. */
  private readonly plans: arrow.Field[];

  private constructor(
    private readonly schema: arrow.Schema,
    capacity: number,
  ) {
    this.plans = schema.fields;
    this.builders = this.plans.map((f) => new ColumnBuffer(f.type, layoutOf(f.type)!, capacity));
  }

  /** A reader for a table of these Arrow fields; undefined if any is not a flat type it handles. */
  static for(schema: arrow.Schema, capacity = 65_536): FlatParquetReader | undefined {
    if (!schema.fields.length || !schema.fields.every((f) => layoutOf(f.type))) return undefined;
    return new FlatParquetReader(schema, capacity);
  }

  /** Rows appended since the last flush. */
  get rows(): number {
    return this.builders[0].length;
  }

  /** Appends every row of one Parquet file; false, with nothing appended, if the file is refused. */
  append(file: Uint8Array): boolean {
    for (const b of this.builders) b.mark();
    try {
      this.read(file);
      this.filesRead++;
      return true;
    } catch (e) {
      for (const b of this.builders) b.truncate();
      this.filesRefused++;
      this.lastRefusal = (e as Error)?.message ?? String(e);
      return false;
    }
  }

  /** The rows so far as one record batch of the table's schema; the reader starts over empty. */
  flush(): arrow.RecordBatch {
    const length = this.rows;
    const children = this.builders.map((b) => b.flush());
    const data = arrow.makeData({ type: new arrow.Struct(this.schema.fields), length, nullCount: 0, children });
    return new arrow.RecordBatch(this.schema, data);
  }

  private read(file: Uint8Array): void {
    const meta = readFooter(file);
    const [root, ...leaves] = meta.schema;
    if (!root || root.numChildren !== this.plans.length || leaves.length !== this.plans.length) refuse('not the table\'s flat columns');
    const accepted = this.plans.map((p, i) => accept(p, leaves[i]));
    let total = 0;
    for (const rg of meta.rowGroups) {
      if (rg.columns.length !== this.plans.length) refuse('row group column count');
      for (let c = 0; c < this.plans.length; c++) {
        const col = rg.columns[c];
        if (col.path.length !== 1 || col.path[0] !== this.plans[c].name || col.type !== accepted[c].physical) refuse(`column ${c} is not ${this.plans[c].name}`);
        const maxDef = leaves[c].repetition === Repetition.OPTIONAL ? 1 : 0;
        this.readChunk(file, col, this.builders[c], accepted[c], maxDef, this.plans[c].nullable, rg.numRows);
      }
      total += rg.numRows;
    }
    if (total !== meta.numRows) refuse('row groups do not add up to num_rows');
  }

  private readChunk(file: Uint8Array, col: ColumnMeta, b: ColumnBuffer, acc: Accepted, maxDef: number, nullable: boolean, rows: number): void {
    if (col.codec !== Codec.UNCOMPRESSED && col.codec !== Codec.SNAPPY) refuse(`codec ${col.codec}`);
    if (col.numValues !== rows) refuse('a flat column has as many values as rows');
    const dictAt = col.dictionaryPageOffset;
    const start = dictAt !== undefined && dictAt > 0 && dictAt < col.dataPageOffset ? dictAt : col.dataPageOffset;
    const end = start + col.totalCompressedSize;
    if (start < 4 || end > file.length - 8) refuse('column chunk out of the file');
    let pos = start;
    let dict: Dictionary | undefined;
    let got = 0;
    while (got < rows) {
      if (pos >= end) refuse('column chunk ends before its values');
      const { header: h, dataStart } = readPageHeader(file, pos, end);
      const bodyEnd = dataStart + h.compressedSize;
      if (bodyEnd > end) refuse('page runs past its column chunk');
      pos = bodyEnd;
      if (h.type === PageType.DICTIONARY_PAGE) {
        if (h.encoding !== Encoding.PLAIN && h.encoding !== Encoding.PLAIN_DICTIONARY) refuse(`dictionary encoding ${h.encoding}`);
        dict = readDictionary(uncompress(file.subarray(dataStart, bodyEnd), h.uncompressedSize, col.codec), h.numValues, acc);
        continue;
      }
      if (h.type !== PageType.DATA_PAGE && h.type !== PageType.DATA_PAGE_V2) continue; // index pages
      const n = h.numValues;
      if (n <= 0 || got + n > rows) refuse('page value count');
      let page: Uint8Array;
      let p = 0;
      let defs: Int32Array = NO_DEFS;
      if (h.type === PageType.DATA_PAGE) {
        page = uncompress(file.subarray(dataStart, bodyEnd), h.uncompressedSize, col.codec);
        if (maxDef) {
          if (h.defEncoding !== Encoding.RLE) refuse(`definition level encoding ${h.defEncoding}`);
          if (p + 4 > page.length) refuse('truncated definition levels');
          const len = u32le(page, p);
          if (p + 4 + len > page.length) refuse('definition levels run past the page');
          defs = this.levels(n);
          decodeHybrid(page, p + 4, p + 4 + len, 1, n, defs);
          p += 4 + len;
        }
      } else {
        if (h.repLength) refuse('repetition levels in a flat column');
        const valuesAt = dataStart + h.defLength;
        if (valuesAt > bodyEnd) refuse('definition levels run past the page');
        if (maxDef) {
          defs = this.levels(n);
          decodeHybrid(file, dataStart, valuesAt, 1, n, defs);
        }
        const raw = file.subarray(valuesAt, bodyEnd);
        page = h.compressed ? uncompress(raw, h.uncompressedSize - h.defLength, col.codec) : raw;
      }
      let nonNull = n;
      if (maxDef) {
        nonNull = 0;
        for (let i = 0; i < n; i++) if (defs[i] === 1) nonNull++;
        if (nonNull < n && !nullable) refuse('nulls in a non-nullable column');
      }
      b.reserve(n);
      let idx: Int32Array | undefined;
      if (h.encoding === Encoding.PLAIN_DICTIONARY || h.encoding === Encoding.RLE_DICTIONARY) {
        if (!dict) refuse('dictionary page missing');
        if (p >= page.length && nonNull) refuse('truncated dictionary indices');
        idx = this.indexBuffer(nonNull);
        if (nonNull) decodeHybrid(page, p + 1, page.length, page[p], nonNull, idx);
        for (let i = 0; i < nonNull; i++) if (idx[i] < 0 || idx[i] >= dict!.count) refuse('dictionary index out of range');
      } else if (h.encoding === Encoding.RLE && acc.conversion === 'bool') {
        // Booleans as RLE runs of bit width 1 (data pages v2 from arrow-rs), after a 4-byte length.
        if (p + 4 > page.length) refuse('truncated boolean runs');
        const len = u32le(page, p);
        if (p + 4 + len > page.length) refuse('boolean runs past the page');
        idx = this.indexBuffer(nonNull);
        decodeHybrid(page, p + 4, p + 4 + len, 1, nonNull, idx);
      } else if (h.encoding !== Encoding.PLAIN) {
        refuse(`encoding ${h.encoding}`);
      }
      writeValues(b, acc, page, p, n, nonNull, defs, idx, dict);
      b.setValidity(b.length, n, defs, 1, n - nonNull);
      b.length += n;
      got += n;
    }
  }

  private levels(n: number): Int32Array {
    if (this.defs.length < n) this.defs = new Int32Array(Math.max(n, this.defs.length * 2));
    return this.defs;
  }

  private indexBuffer(n: number): Int32Array {
    if (this.indices.length < n) this.indices = new Int32Array(Math.max(n, this.indices.length * 2));
    return this.indices;
  }
}

/** Whether a Parquet leaf holds values of the Arrow type, and how they convert. */
function accept(plan: arrow.Field, e: SchemaElement): Accepted {
  if (e.numChildren || e.name !== plan.name) refuse(`column ${plan.name} is not a leaf of that name`);
  if (e.repetition !== Repetition.REQUIRED && e.repetition !== Repetition.OPTIONAL) refuse(`column ${plan.name} is repeated`);
  const t = plan.type;
  const [lt, lv] = e.logical ?? [0, []];
  const fixed = (conversion: Conversion, physical: PhysicalType, srcWidth: number): Accepted => {
    if (e.type !== physical) refuse(`column ${plan.name}: physical type ${e.type}`);
    return { conversion, physical, srcWidth };
  };
  // An INTEGER logical type, or the converted type alone (older writers), or neither.
  const intAnnotation = (bits: number, converted: number | undefined, plain: boolean) => {
    if (lt === 10) return lv[1] === bits && lv[2] === true;
    if (lt) return false;
    return e.converted === converted || (plain && e.converted === undefined);
  };
  switch (t.typeId) {
    case arrow.Type.Int: {
      const bits = (t as arrow.Int).bitWidth;
      const converted = { 8: Converted.INT_8, 16: Converted.INT_16, 32: Converted.INT_32, 64: Converted.INT_64 }[bits];
      if (!intAnnotation(bits, converted, bits >= 32)) refuse(`column ${plan.name}: not a signed ${bits}-bit integer`);
      return bits === 64 ? fixed('copy', PhysicalType.INT64, 8) : fixed(bits === 32 ? 'copy' : 'narrow', PhysicalType.INT32, 4);
    }
    case arrow.Type.Float:
      return (t as arrow.Float).precision === arrow.Precision.SINGLE ? fixed('copy', PhysicalType.FLOAT, 4) : fixed('copy', PhysicalType.DOUBLE, 8);
    case arrow.Type.Date:
      if (!(lt === 6 || (!lt && e.converted === Converted.DATE))) refuse(`column ${plan.name}: not a DATE`);
      return fixed('copy', PhysicalType.INT32, 4);
    case arrow.Type.Timestamp: {
      const ts = t as arrow.Timestamp;
      if (ts.unit !== arrow.TimeUnit.MICROSECOND) refuse(`column ${plan.name}: timestamp unit`);
      const utc = ts.timezone !== null && ts.timezone !== undefined;
      // TIMESTAMP(isAdjustedToUTC, MICROS); the converted type alone means adjusted to UTC.
      const ok = lt === 8 ? lv[1] === utc && Array.isArray(lv[2]) && (lv[2] as unknown[])[2] !== undefined : !lt && e.converted === Converted.TIMESTAMP_MICROS && utc;
      if (!ok) refuse(`column ${plan.name}: not TIMESTAMP(MICROS${utc ? ', UTC' : ''})`);
      return fixed('copy', PhysicalType.INT64, 8);
    }
    case arrow.Type.Decimal: {
      const d = t as arrow.Decimal;
      const [scale, precision] = lt === 5 ? [lv[1], lv[2]] : lt ? [undefined, undefined] : e.converted === Converted.DECIMAL ? [e.scale, e.precision] : [undefined, undefined];
      if (scale !== d.scale || precision !== d.precision) refuse(`column ${plan.name}: not DECIMAL(${d.precision}, ${d.scale})`);
      if (e.type === PhysicalType.INT32) return fixed('decimal-le', PhysicalType.INT32, 4);
      if (e.type === PhysicalType.INT64) return fixed('decimal-le', PhysicalType.INT64, 8);
      const len = e.typeLength ?? 0;
      if (len < 1 || len > 16) refuse(`column ${plan.name}: decimal of ${len} bytes`);
      return fixed('decimal-be', PhysicalType.FIXED_LEN_BYTE_ARRAY, len);
    }
    case arrow.Type.Bool:
      return fixed('bool', PhysicalType.BOOLEAN, 0);
    case arrow.Type.Utf8:
      if (!(lt === 1 || (!lt && e.converted === Converted.UTF8))) refuse(`column ${plan.name}: not a STRING`);
      return fixed('var', PhysicalType.BYTE_ARRAY, 0);
    case arrow.Type.Binary:
      if (lt || e.converted !== undefined) refuse(`column ${plan.name}: annotated binary`);
      return fixed('var', PhysicalType.BYTE_ARRAY, 0);
  }
  return refuse(`column ${plan.name}: type ${t}`);
}

function uncompress(raw: Uint8Array, size: number, codec: number): Uint8Array {
  if (codec === Codec.SNAPPY) return snappyUncompress(raw, size);
  if (raw.length !== size) refuse('uncompressed page size');
  return raw;
}

/** A dictionary page's values: fixed-width bytes, or var-width starts and ends. */
interface Dictionary {
  count: number;
  bytes: Uint8Array;
  starts?: Int32Array;
  ends?: Int32Array;
}

function readDictionary(page: Uint8Array, count: number, acc: Accepted): Dictionary {
  if (acc.conversion === 'bool') refuse('dictionary for booleans');
  if (acc.conversion !== 'var') {
    if (count * acc.srcWidth > page.length) refuse('dictionary page too short');
    return { count, bytes: page };
  }
  const starts = new Int32Array(count);
  const ends = new Int32Array(count);
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 4 > page.length) refuse('dictionary page too short');
    const len = u32le(page, p);
    p += 4;
    if (p + len > page.length) refuse('dictionary value runs past the page');
    starts[i] = p;
    ends[i] = p + len;
    p += len;
  }
  return { count, bytes: page, starts, ends };
}

/**
 * Writes a page's `n` slots (`nonNull` values; nulls where defs say so) at the end of the
 * builder. Values come from the page itself (PLAIN, starting at `p`), through `idx` from the
 * dictionary, or for RLE booleans from `idx` itself.
 */
function writeValues(b: ColumnBuffer, acc: Accepted, page: Uint8Array, p: number, n: number, nonNull: number, defs: Int32Array, idx: Int32Array | undefined, dict: Dictionary | undefined): void {
  const row0 = b.length;
  const valid = (i: number) => defs === NO_DEFS || defs[i] === 1;
  if (acc.conversion === 'var') {
    const offsets = b.offsets!;
    let j = 0;
    for (let i = 0; i < n; i++) {
      let from = 0;
      let to = 0;
      let src = page;
      if (valid(i)) {
        if (idx) {
          const k = idx[j];
          src = dict!.bytes;
          from = dict!.starts![k];
          to = dict!.ends![k];
        } else {
          if (p + 4 > page.length) refuse('truncated value');
          const len = u32le(page, p);
          from = p + 4;
          to = from + len;
          if (to > page.length) refuse('value runs past the page');
          p = to;
        }
        j++;
      }
      const len = to - from;
      if (b.bytes + len > b.values.length) b.reserve(0, len);
      const out = b.values;
      if (len < 32) for (let k = 0; k < len; k++) out[b.bytes + k] = src[from + k];
      else out.set(src.subarray(from, to), b.bytes);
      b.bytes += len;
      offsets[row0 + i + 1] = b.bytes;
    }
    if (b.bytes > 0x7fffffff) refuse('column too large for 32-bit offsets');
    return;
  }
  const out = b.values;
  if (acc.conversion === 'bool') {
    // PLAIN booleans are bits; RLE ones arrive decoded in idx.
    if (!idx && p + ((nonNull + 7) >>> 3) > page.length) refuse('truncated booleans');
    let j = 0;
    for (let i = 0; i < n; i++) {
      const row = row0 + i;
      let bit = 0;
      if (valid(i)) {
        bit = idx ? idx[j] & 1 : (page[p + (j >>> 3)] >>> (j & 7)) & 1;
        j++;
      }
      if (bit) out[row >>> 3] |= 1 << (row & 7);
      else out[row >>> 3] &= ~(1 << (row & 7));
    }
    return;
  }
  const w = b.layout.kind === 'fixed' ? b.layout.width : 0;
  const sw = acc.srcWidth;
  const src = idx ? dict!.bytes : page;
  if (!idx && p + nonNull * sw > page.length) refuse('truncated values');
  // The common case, one copy: PLAIN values of the Arrow width and no nulls.
  if (!idx && acc.conversion === 'copy' && nonNull === n) {
    out.set(page.subarray(p, p + n * sw), row0 * w);
    return;
  }
  let j = 0;
  for (let i = 0; i < n; i++) {
    const o = (row0 + i) * w;
    if (!valid(i)) {
      out.fill(0, o, o + w);
      continue;
    }
    const s = idx ? idx[j] * sw : p + j * sw;
    j++;
    switch (acc.conversion) {
      case 'copy':
      case 'narrow':
        for (let k = 0; k < w; k++) out[o + k] = src[s + k];
        break;
      case 'decimal-le': {
        for (let k = 0; k < sw; k++) out[o + k] = src[s + k];
        out.fill(src[s + sw - 1] & 0x80 ? 0xff : 0, o + sw, o + 16);
        break;
      }
      case 'decimal-be': {
        for (let k = 0; k < sw; k++) out[o + k] = src[s + sw - 1 - k];
        out.fill(src[s] & 0x80 ? 0xff : 0, o + sw, o + 16);
        break;
      }
    }
  }
}

/** The 4-byte little-endian lengths that precede levels, runs and BYTE_ARRAY values. */
function u32le(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}
