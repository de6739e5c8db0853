import { TributaryError } from '../errors.js';
/**
 * Parquet's RLE / bit-packed hybrid encoding, used for definition levels and dictionary indices.
 * Decodes exactly `count` values into `out`; input that ends early or describes more than it
 * holds throws.
 */
/** A RLE/bit-packed run in a Parquet page that cannot be decoded (a damaged or truncated file). */
export class RleError extends TributaryError {
  constructor(message: string) {
    super('PARQUET_INVALID', message);
    this.name = 'RleError';
  }
}

export function decodeHybrid(buf: Uint8Array, pos: number, end: number, bitWidth: number, count: number, out: Int32Array): void {
  if (bitWidth > 32) throw new RleError(`RLE: bit width ${bitWidth}`);
  const bytesPerRun = (bitWidth + 7) >>> 3;
  const mask = bitWidth === 32 ? 0xffffffff : (1 << bitWidth) - 1;
  let k = 0;
  while (k < count) {
    let header = 0;
    let mul = 1;
    for (;;) {
      if (pos >= end) throw new RleError('RLE: input ends before all values');
      const b = buf[pos++];
      header += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 128;
      if (mul > 2 ** 35) throw new RleError('RLE: run header too long');
    }
    if (header % 2 === 0) {
      const run = header / 2;
      if (pos + bytesPerRun > end) throw new RleError('RLE: truncated run value');
      let v = 0;
      for (let i = 0; i < bytesPerRun; i++) v |= buf[pos + i] << (8 * i);
      pos += bytesPerRun;
      const stop = Math.min(count, k + run);
      out.fill(v, k, stop);
      k = stop;
    } else {
      const groups = (header - 1) / 2;
      const bytes = groups * bitWidth;
      if (pos + bytes > end) {
        // The last group may be cut short when the values end inside it.
        if (k + Math.ceil(((end - pos) * 8) / Math.max(bitWidth, 1)) < count) throw new RleError('RLE: truncated bit-packed run');
      }
      const values = groups * 8;
      const stop = Math.min(count, k + values);
      if (bitWidth === 0) {
        out.fill(0, k, stop);
      } else {
        // Values are packed least significant bit first.
        let bitPos = 0;
        for (let i = k; i < stop; i++) {
          const byte = pos + (bitPos >>> 3);
          let v = 0;
          let got = 0;
          let shift = bitPos & 7;
          let at = byte;
          while (got < bitWidth) {
            if (at >= end) throw new RleError('RLE: truncated bit-packed run');
            v |= (buf[at] >>> shift) << got;
            got += 8 - shift;
            shift = 0;
            at++;
          }
          out[i] = (v & mask) >>> 0;
          bitPos += bitWidth;
        }
      }
      k = stop;
      pos += bytes;
    }
  }
}
