/**
 * Decoding of Delta's RoaringBitmapArray (PROTOCOL.md "Deletion Vector Format"): a 4-byte
 * little-endian magic number, then a 64-bit Roaring bitmap, i.e. 32-bit Roaring bitmaps
 * ("buckets") keyed by the high 32 bits of the values. Two layouts exist, both read by Spark:
 *
 * - portable (magic 1681511377, the one the protocol specifies): an 8-byte bucket count, then per
 *   bucket its 4-byte key and the bucket's bitmap (RoaringFormatSpec's 64-bit extension);
 * - native (magic 1681511376, older Delta writers): a 4-byte count, then per bucket its byte
 *   size and bitmap, the key being the bucket's position.
 *
 * Each 32-bit bitmap is in the standard Roaring format (github.com/RoaringBitmap/RoaringFormatSpec):
 * a cookie saying whether run containers occur, a header of (16-bit key, cardinality - 1) per
 * container, optional offsets, then the containers: arrays of 16-bit values (up to 4096 values),
 * bitmaps of 65536 bits, or runs of (start, length - 1). Only decoding is needed: Tributary reads
 * deletion vectors and never writes them (OPTIMIZE rewrites files without the deleted rows).
 * Pure: bytes in, the set's values out, ascending; anything malformed is a RangeError naming
 * what and where, for the caller to turn into an error about the table.
 */
export const PORTABLE_MAGIC = 1681511377;
export const NATIVE_MAGIC = 1681511376;

const SERIAL_COOKIE_NO_RUNCONTAINER = 12346;
const SERIAL_COOKIE = 12347;
/** Below this many containers, a bitmap with run containers has no offset header. */
const NO_OFFSET_THRESHOLD = 4;
/** An array container holds at most this many values; more are stored as a bitmap container. */
const ARRAY_MAX = 4096;
/** Row indexes are JavaScript numbers: a bucket key at or above this would pass 2^53. */
const MAX_KEY = 1 << 21;

class Cursor {
  pos = 0;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(n: number, what: string): void {
    if (this.pos + n > this.bytes.length) throw new RangeError(`truncated: ${what} needs ${n} bytes at byte ${this.pos}, but there are ${this.bytes.length}`);
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(what: string): number {
    this.need(8, what);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getUint32(this.pos + 4, true);
    this.pos += 8;
    if (hi !== 0) throw new RangeError(`${what} at byte ${this.pos - 8} is ${hi} * 2^32 + ${lo}, more than a bitmap can hold`);
    return lo;
  }
  skip(n: number, what: string): void {
    this.need(n, what);
    this.pos += n;
  }
  slice(n: number, what: string): Uint8Array {
    this.need(n, what);
    const s = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}

/** The values of a serialized RoaringBitmapArray, ascending. */
export function decodeRoaringBitmapArray(bytes: Uint8Array): number[] {
  const c = new Cursor(bytes);
  const magic = c.u32('the magic number');
  const out: number[] = [];
  if (magic === PORTABLE_MAGIC) {
    const buckets = c.u64('the bucket count');
    let last = -1;
    for (let b = 0; b < buckets; b++) {
      const key = c.u32(`the key of bucket ${b}`);
      if (key <= last) throw new RangeError(`bucket keys are not ascending (${key} after ${last})`);
      last = key;
      readBitmap32(c, checkedKey(key), out);
    }
  } else if (magic === NATIVE_MAGIC) {
    const buckets = c.u32('the bucket count');
    if (buckets > 0x7fffffff) throw new RangeError(`negative bucket count ${buckets | 0}`);
    for (let key = 0; key < buckets; key++) {
      const size = c.u32(`the size of bucket ${key}`);
      const start = c.pos;
      readBitmap32(c, checkedKey(key), out);
      if (c.pos - start !== size) throw new RangeError(`bucket ${key} is ${c.pos - start} bytes where its header says ${size}`);
    }
  } else {
    throw new RangeError(`unknown magic number ${magic} (a RoaringBitmapArray starts with ${PORTABLE_MAGIC} or ${NATIVE_MAGIC})`);
  }
  return out;
}

function checkedKey(key: number): number {
  // Delta requires the top bit of every key to be 0 (Java reads keys signed).
  if (key > 0x7fffffff) throw new RangeError(`bucket key ${key} has its most significant bit set`);
  if (key >= MAX_KEY) throw new RangeError(`bucket key ${key} puts row indexes beyond 2^53`);
  return key * 2 ** 32;
}

/** One standard 32-bit Roaring bitmap; its values plus `high` are appended to `out`. */
function readBitmap32(c: Cursor, high: number, out: number[]): void {
  const cookie = c.u32('a bitmap cookie');
  let size: number;
  let runFlags: Uint8Array | undefined;
  if ((cookie & 0xffff) === SERIAL_COOKIE) {
    size = (cookie >>> 16) + 1;
    runFlags = c.slice((size + 7) >> 3, 'the run container flags');
  } else if (cookie === SERIAL_COOKIE_NO_RUNCONTAINER) {
    size = c.u32('the container count');
    if (size > 65536) throw new RangeError(`${size} containers in one bitmap (at most 65536)`);
  } else {
    throw new RangeError(`unknown bitmap cookie ${cookie} at byte ${c.pos - 4}`);
  }
  const keys = new Uint16Array(size);
  const cards = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    keys[i] = c.u16('a container key');
    cards[i] = c.u16('a container cardinality') + 1;
    if (i > 0 && keys[i] <= keys[i - 1]) throw new RangeError(`container keys are not ascending (${keys[i]} after ${keys[i - 1]})`);
  }
  // Offsets repeat what the containers' sizes say; they are there for random access only.
  if (!runFlags || size >= NO_OFFSET_THRESHOLD) c.skip(4 * size, 'the container offsets');
  for (let i = 0; i < size; i++) {
    const base = high + keys[i] * 65536;
    const card = cards[i];
    let n = 0;
    if (runFlags && (runFlags[i >> 3] >> (i & 7)) & 1) {
      const runs = c.u16('a run count');
      let next = 0;
      for (let r = 0; r < runs; r++) {
        const start = c.u16('a run start');
        const len = c.u16('a run length') + 1;
        if (start < next || start + len > 65536) throw new RangeError(`run ${start}+${len} of container ${keys[i]} overlaps or overflows`);
        for (let v = start; v < start + len; v++) out.push(base + v);
        next = start + len;
        n += len;
      }
    } else if (card <= ARRAY_MAX) {
      let prev = -1;
      for (let k = 0; k < card; k++) {
        const v = c.u16('an array container value');
        if (v <= prev) throw new RangeError(`array container ${keys[i]} is not ascending (${v} after ${prev})`);
        out.push(base + v);
        prev = v;
      }
      n = card;
    } else {
      const words = c.slice(8192, 'a bitmap container');
      for (let w = 0; w < 2048; w++) {
        // 32 bits at a time (little-endian 64-bit words are two little-endian halves).
        let bits = words[w * 4] | (words[w * 4 + 1] << 8) | (words[w * 4 + 2] << 16) | (words[w * 4 + 3] << 24);
        while (bits !== 0) {
          const t = bits & -bits;
          out.push(base + w * 32 + (31 - Math.clz32(t)));
          bits ^= t;
          n++;
        }
      }
    }
    if (n !== card) throw new RangeError(`container ${keys[i]} holds ${n} values where its header says ${card}`);
  }
}
