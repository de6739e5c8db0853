/**
 * Space-filling curves over small integer grids: a point of `dims` coordinates of `bits` bits each
 * (0 <= x < 2^bits) and its position on the curve. Liquid clustering sorts rows by the position of
 * their clustering columns' range ids (delta-spark's MultiDimClustering: Z-order for one column,
 * Hilbert for more), so that rows near each other in every column land in the same files and
 * Spark's min/max file skipping can leave most files out.
 *
 * The Hilbert curve is John Skilling's formulation ("Programming the Hilbert curve", AIP 2004):
 * the point is transformed in place into the curve position's "transpose" (its bits spread over
 * the coordinates), then the bits are interleaved, most significant first. Any two consecutive
 * positions are neighbouring cells (the locality Z-order lacks at its jumps). Pure functions.
 */

/** Bits that fit a JavaScript number exactly: positions up to this size are numbers, not BigInts. */
export const MAX_NUMBER_BITS = 52;

/** Skilling's AxesToTranspose, in place. */
function axesToTranspose(x: Uint32Array, bits: number): void {
  const n = x.length;
  const m = 1 << (bits - 1);
  // Inverse undo.
  for (let q = m; q > 1; q >>>= 1) {
    const p = q - 1;
    for (let i = 0; i < n; i++) {
      if (x[i] & q) x[0] ^= p;
      else {
        const t = (x[0] ^ x[i]) & p;
        x[0] ^= t;
        x[i] ^= t;
      }
    }
  }
  // Gray encode.
  for (let i = 1; i < n; i++) x[i] ^= x[i - 1];
  let t = 0;
  for (let q = m; q > 1; q >>>= 1) if (x[n - 1] & q) t ^= q - 1;
  for (let i = 0; i < n; i++) x[i] ^= t;
}

/** Skilling's TransposeToAxes, in place. */
function transposeToAxes(x: Uint32Array, bits: number): void {
  const n = x.length;
  const top = 2 ** bits;
  // Gray decode.
  const t0 = x[n - 1] >>> 1;
  for (let i = n - 1; i > 0; i--) x[i] ^= x[i - 1];
  x[0] ^= t0;
  // Undo excess work.
  for (let q = 2; q !== top; q *= 2) {
    const p = q - 1;
    for (let i = n - 1; i >= 0; i--) {
      if (x[i] & q) x[0] ^= p;
      else {
        const t = (x[0] ^ x[i]) & p;
        x[0] ^= t;
        x[i] ^= t;
      }
    }
  }
}

/** The bits of the coordinates interleaved: bit `bits-1` of x[0], of x[1], ..., then the next lower bit. */
function interleave(x: ArrayLike<number>, bits: number): bigint {
  let v = 0n;
  for (let b = bits - 1; b >= 0; b--) for (let i = 0; i < x.length; i++) v = (v << 1n) | BigInt((x[i] >>> b) & 1);
  return v;
}

/** interleave() as a number, for at most MAX_NUMBER_BITS bits in all (the hot path). */
function interleaveNumber(x: ArrayLike<number>, bits: number): number {
  let v = 0;
  for (let b = bits - 1; b >= 0; b--) for (let i = 0; i < x.length; i++) v = v * 2 + ((x[i] >>> b) & 1);
  return v;
}

function deinterleave(index: bigint, dims: number, bits: number): Uint32Array {
  const x = new Uint32Array(dims);
  let k = BigInt(dims * bits - 1);
  for (let b = bits - 1; b >= 0; b--) {
    for (let i = 0; i < dims; i++) {
      if ((index >> k) & 1n) x[i] |= 1 << b;
      k--;
    }
  }
  return x;
}

function checkPoint(point: ArrayLike<number>, bits: number): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 31) throw new RangeError(`bits must be 1 to 31, got ${bits}`);
  for (let i = 0; i < point.length; i++) {
    const c = point[i];
    if (!Number.isInteger(c) || c < 0 || c >= 2 ** bits) throw new RangeError(`coordinate ${c} is outside 0..2^${bits}-1`);
  }
}

/** The position of `point` on the Hilbert curve through the 2^bits x ... grid (0 .. 2^(dims*bits)-1). */
export function hilbertIndex(point: ArrayLike<number>, bits: number): bigint {
  checkPoint(point, bits);
  const x = Uint32Array.from(point);
  if (x.length > 1) axesToTranspose(x, bits);
  return interleave(x, bits);
}

/** hilbertIndex() as a number, when dims * bits <= MAX_NUMBER_BITS; `scratch` is overwritten. */
export function hilbertIndexNumber(point: ArrayLike<number>, bits: number, scratch = new Uint32Array(point.length)): number {
  for (let i = 0; i < point.length; i++) scratch[i] = point[i];
  if (scratch.length > 1) axesToTranspose(scratch, bits);
  return interleaveNumber(scratch, bits);
}

/** The point at a position of the Hilbert curve: the inverse of hilbertIndex. */
export function hilbertPoint(index: bigint, dims: number, bits: number): number[] {
  const x = deinterleave(index, dims, bits);
  if (dims > 1) transposeToAxes(x, bits);
  return [...x];
}

/** The position of `point` on the Z-order (Morton) curve: the coordinates' bits interleaved. */
export function zOrderIndex(point: ArrayLike<number>, bits: number): bigint {
  checkPoint(point, bits);
  return interleave(point, bits);
}

/** The point at a position of the Z-order curve: the inverse of zOrderIndex. */
export function zOrderPoint(index: bigint, dims: number, bits: number): number[] {
  return [...deinterleave(index, dims, bits)];
}
