import { TributaryError } from '../errors.js';
/**
 * Snappy decompression (the raw format Parquet pages use, no framing), so that small pages are
 * read without a call into WASM. Every copy is bounds-checked; corrupt input throws.
 */
/** A Snappy block in a Parquet page that cannot be decoded (a damaged or truncated file). */
export class SnappyError extends TributaryError {
  constructor(message: string) {
    super('PARQUET_INVALID', message);
    this.name = 'SnappyError';
  }
}

export function snappyUncompress(src: Uint8Array, expected: number): Uint8Array {
  let pos = 0;
  let len = 0;
  let shift = 0;
  for (;;) {
    if (pos >= src.length || shift > 28) throw new SnappyError('Snappy: bad length preamble');
    const b = src[pos++];
    len |= (b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
  }
  if (len !== expected) throw new SnappyError(`Snappy: page says ${expected} bytes, stream says ${len}`);
  const out = new Uint8Array(len);
  let o = 0;
  const n = src.length;
  while (pos < n) {
    const tag = src[pos++];
    const kind = tag & 3;
    if (kind === 0) {
      let l = tag >>> 2;
      if (l >= 60) {
        const extra = l - 59;
        if (pos + extra > n) throw new SnappyError('Snappy: truncated literal');
        l = 0;
        for (let i = 0; i < extra; i++) l |= src[pos + i] << (8 * i);
        l >>>= 0;
        pos += extra;
      }
      l += 1;
      if (pos + l > n || o + l > len) throw new SnappyError('Snappy: literal out of range');
      if (l < 64) for (let i = 0; i < l; i++) out[o + i] = src[pos + i];
      else out.set(src.subarray(pos, pos + l), o);
      pos += l;
      o += l;
      continue;
    }
    let l: number;
    let offset: number;
    if (kind === 1) {
      if (pos >= n) throw new SnappyError('Snappy: truncated copy');
      l = 4 + ((tag >>> 2) & 7);
      offset = ((tag >>> 5) << 8) | src[pos++];
    } else if (kind === 2) {
      if (pos + 2 > n) throw new SnappyError('Snappy: truncated copy');
      l = (tag >>> 2) + 1;
      offset = src[pos] | (src[pos + 1] << 8);
      pos += 2;
    } else {
      if (pos + 4 > n) throw new SnappyError('Snappy: truncated copy');
      l = (tag >>> 2) + 1;
      offset = (src[pos] | (src[pos + 1] << 8) | (src[pos + 2] << 16) | (src[pos + 3] << 24)) >>> 0;
      pos += 4;
    }
    if (offset === 0 || offset > o || o + l > len) throw new SnappyError('Snappy: copy out of range');
    const from = o - offset;
    // A copy may overlap its own output (a run), which copyWithin would not repeat.
    if (offset >= l && l >= 32) out.copyWithin(o, from, from + l);
    else for (let i = 0; i < l; i++) out[o + i] = out[from + i];
    o += l;
  }
  if (o !== len) throw new SnappyError(`Snappy: produced ${o} of ${len} bytes`);
  return out;
}
