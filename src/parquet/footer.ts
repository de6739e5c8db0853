/**
 * The parts of a Parquet footer (FileMetaData, parquet.thrift) and page header that a reader of
 * flat files needs, named. Field ids are parquet.thrift's.
 */
import { CompactReader, ThriftError, type Spec, type ThriftStruct, type ThriftValue } from './thrift-compact.js';

// The fields read below; statistics, key-value metadata and encoding stats are skipped.
const COLUMN_META: Spec = { 1: true, 3: true, 4: true, 5: true, 7: true, 9: true, 11: true };
const FOOTER: Spec = { 2: true, 3: true, 4: { 1: { 1: true, 3: COLUMN_META }, 3: true } };
const PAGE_HEADER: Spec = { 1: true, 2: true, 3: true, 5: { 1: true, 2: true, 3: true }, 7: { 1: true, 2: true }, 8: { 1: true, 4: true, 5: true, 6: true, 7: true } };

export const enum PhysicalType {
  BOOLEAN = 0,
  INT32 = 1,
  INT64 = 2,
  INT96 = 3,
  FLOAT = 4,
  DOUBLE = 5,
  BYTE_ARRAY = 6,
  FIXED_LEN_BYTE_ARRAY = 7,
}

export const enum Repetition {
  REQUIRED = 0,
  OPTIONAL = 1,
  REPEATED = 2,
}

export const enum Codec {
  UNCOMPRESSED = 0,
  SNAPPY = 1,
}

export const enum PageType {
  DATA_PAGE = 0,
  DICTIONARY_PAGE = 2,
  DATA_PAGE_V2 = 3,
}

export const enum Encoding {
  PLAIN = 0,
  PLAIN_DICTIONARY = 2,
  RLE = 3,
  RLE_DICTIONARY = 8,
}

/** ConvertedType values this reader looks at. */
export const enum Converted {
  UTF8 = 0,
  DECIMAL = 5,
  DATE = 6,
  TIMESTAMP_MILLIS = 9,
  TIMESTAMP_MICROS = 10,
  INT_8 = 15,
  INT_16 = 16,
  INT_32 = 17,
  INT_64 = 18,
}

export interface SchemaElement {
  name: string;
  type: PhysicalType | undefined;
  typeLength: number | undefined;
  repetition: Repetition | undefined;
  numChildren: number;
  converted: number | undefined;
  scale: number | undefined;
  precision: number | undefined;
  /** LogicalType union: [variant field id, its struct]. */
  logical: [number, ThriftStruct] | undefined;
  /** The field id (column-mapped Delta tables resolve columns by it in id mode). */
  fieldId: number | undefined;
}

export interface ColumnMeta {
  type: PhysicalType;
  path: string[];
  codec: number;
  numValues: number;
  totalCompressedSize: number;
  dataPageOffset: number;
  dictionaryPageOffset: number | undefined;
}

export interface RowGroup {
  numRows: number;
  columns: ColumnMeta[];
}

export interface FileMetaData {
  schema: SchemaElement[];
  numRows: number;
  rowGroups: RowGroup[];
}

export interface PageHeader {
  type: number;
  uncompressedSize: number;
  compressedSize: number;
  /** Values in the page (nulls included). */
  numValues: number;
  encoding: number;
  /** DATA_PAGE: how definition levels are encoded. */
  defEncoding: number;
  /** DATA_PAGE_V2: byte lengths of the uncompressed level sections, and whether values are compressed. */
  defLength: number;
  repLength: number;
  compressed: boolean;
}

const num = (v: ThriftValue | undefined): number | undefined => (typeof v === 'number' ? v : undefined);
const str = (v: ThriftValue | undefined): string => (v instanceof Uint8Array ? utf8.decode(v) : '');
const struct = (v: ThriftValue | undefined): ThriftStruct | undefined => (Array.isArray(v) ? (v as ThriftStruct) : undefined);
const list = (v: ThriftValue | undefined): ThriftValue[] => (Array.isArray(v) ? v : []);
// ignoreBOM: a leading U+FEFF is part of the text (the default decoder drops it).
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

function need(v: number | undefined, what: string): number {
  if (v === undefined) throw new ThriftError(`Parquet footer: ${what} missing`);
  return v;
}

/** Reads the footer of a whole Parquet file. Throws on anything that is not a plain Parquet file. */
export function readFooter(file: Uint8Array): FileMetaData {
  const n = file.length;
  if (n < 12 || file[n - 4] !== 0x50 || file[n - 3] !== 0x41 || file[n - 2] !== 0x52 || file[n - 1] !== 0x31) throw new ThriftError('not a Parquet file (no PAR1 footer; encrypted footers are PARE)');
  const len = file[n - 8] | (file[n - 7] << 8) | (file[n - 6] << 16) | (file[n - 5] << 24);
  if (len <= 0 || len > n - 12) throw new ThriftError('Parquet footer length out of range');
  const m = new CompactReader(file, n - 8 - len, n - 8).readStruct(FOOTER);
  const schema = list(m[2]).map((v) => {
    const s = struct(v) ?? [];
    const logical = struct(s[10]);
    const variant = logical ? logical.findIndex((x) => x !== undefined) : -1;
    return {
      name: str(s[4]),
      type: num(s[1]),
      typeLength: num(s[2]),
      repetition: num(s[3]),
      numChildren: num(s[5]) ?? 0,
      converted: num(s[6]),
      scale: num(s[7]),
      precision: num(s[8]),
      logical: logical && variant >= 0 ? ([variant, struct(logical[variant]) ?? []] as [number, ThriftStruct]) : undefined,
      fieldId: num(s[9]),
    } satisfies SchemaElement;
  });
  const rowGroups = list(m[4]).map((v) => {
    const g = struct(v) ?? [];
    return {
      numRows: need(num(g[3]), 'row group num_rows'),
      columns: list(g[1]).map((c) => {
        const cc = struct(c) ?? [];
        if (cc[1] !== undefined) throw new ThriftError('Parquet column chunk in another file');
        const md = struct(cc[3]);
        if (!md) throw new ThriftError('Parquet column chunk without metadata');
        return {
          type: need(num(md[1]), 'column type'),
          path: list(md[3]).map(str),
          codec: need(num(md[4]), 'column codec'),
          numValues: need(num(md[5]), 'column num_values'),
          totalCompressedSize: need(num(md[7]), 'column total_compressed_size'),
          dataPageOffset: need(num(md[9]), 'column data_page_offset'),
          dictionaryPageOffset: num(md[11]),
        } satisfies ColumnMeta;
      }),
    } satisfies RowGroup;
  });
  return { schema, numRows: need(num(m[3]), 'num_rows'), rowGroups };
}

/** Reads a page header at `pos`; returns it and where the page's data starts. */
export function readPageHeader(file: Uint8Array, pos: number, end: number): { header: PageHeader; dataStart: number } {
  const r = new CompactReader(file, pos, end);
  const h = r.readStruct(PAGE_HEADER);
  const v1 = struct(h[5]);
  const dict = struct(h[7]);
  const v2 = struct(h[8]);
  const body = v1 ?? dict ?? v2 ?? [];
  return {
    header: {
      type: need(num(h[1]), 'page type'),
      uncompressedSize: need(num(h[2]), 'page uncompressed size'),
      compressedSize: need(num(h[3]), 'page compressed size'),
      numValues: num(body[1]) ?? 0,
      encoding: num(v2 ? body[4] : body[2]) ?? -1,
      defEncoding: num(v1?.[3]) ?? -1,
      defLength: num(v2?.[5]) ?? 0,
      repLength: num(v2?.[6]) ?? 0,
      compressed: v2?.[7] !== false,
    },
    dataStart: r.pos,
  };
}
