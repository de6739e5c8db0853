import { isUtf8 } from 'node:buffer';

/**
 * UTF-8 at the input edge. Node's decoders replace invalid bytes with U+FFFD without a word; a
 * row that silently changed is worse than a refused one, so input is checked first (natively, by
 * buffer.isUtf8) and the first bad byte is located only when there is one.
 */

/** Length of a UTF-8 byte order mark at `at` (3), or 0. */
export function bomLength(b: Uint8Array, at = 0): number {
  return b.length >= at + 3 && b[at] === 0xef && b[at + 1] === 0xbb && b[at + 2] === 0xbf ? 3 : 0;
}

export function isValidUtf8(b: Uint8Array, start = 0, end = b.length): boolean {
  if (start === 0 && end === b.length) return isUtf8(b);
  return isUtf8(b.subarray(start, end));
}

/**
 * Offset (from `start`) of the first byte that does not begin a valid UTF-8 sequence, or -1.
 * Follows RFC 3629: no overlong forms, no surrogates (ED A0..BF), nothing above U+10FFFF.
 */
export function firstInvalidUtf8(b: Uint8Array, start = 0, end = b.length): number {
  let i = start;
  while (i < end) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return i - start;
    if (i + need >= end) return i - start; // cut short
    const b1 = b[i + 1];
    if (b1 < lo || b1 > hi) return i - start;
    for (let k = 2; k <= need; k++) {
      const x = b[i + k];
      if (x < 0x80 || x > 0xbf) return i - start;
    }
    i += need + 1;
  }
  return -1;
}
