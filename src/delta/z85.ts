/**
 * Z85 (ZeroMQ RFC 32), the Base85 variant the Delta log uses for deletion vectors: inline DVs
 * carry their bytes as Z85 text, and UUID-named DV files carry their UUID as 20 Z85 characters
 * (PROTOCOL.md "Deletion Vector Descriptor Schema"). Every 5 characters are one big-endian 32-bit
 * word, most significant digit first. Delta pads the input to a multiple of 4 bytes before
 * encoding and records the real length beside the text, so decoding returns whole words and the
 * caller cuts them to that length.
 */
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

const DIGIT: Int8Array = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) t[ALPHABET.charCodeAt(i)] = i;
  return t;
})();

/** Why a text is not Z85, or undefined when it is. */
export function z85Problem(text: string): string | undefined {
  if (text.length % 5 !== 0) return `its length ${text.length} is not a multiple of 5`;
  for (let i = 0; i < text.length; i += 5) {
    let word = 0;
    for (let k = 0; k < 5; k++) {
      const c = text.charCodeAt(i + k);
      const d = c < 128 ? DIGIT[c] : -1;
      if (d < 0) return `character ${JSON.stringify(text[i + k])} at ${i + k} is not a Z85 digit`;
      word = word * 85 + d;
    }
    if (word > 0xffffffff) return `the group at ${i} is larger than 32 bits`;
  }
  return undefined;
}

/** Z85 text -> bytes (4 per 5 characters). Throws a RangeError naming the problem. */
export function z85Decode(text: string): Uint8Array {
  const problem = z85Problem(text);
  if (problem) throw new RangeError(`not Z85 text: ${problem}`);
  const out = new Uint8Array((text.length / 5) * 4);
  const view = new DataView(out.buffer);
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let word = 0;
    for (let k = 0; k < 5; k++) word = word * 85 + DIGIT[text.charCodeAt(i + k)];
    view.setUint32(o, word, false);
  }
  return out;
}
