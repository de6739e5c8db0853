/**
 * Where column builders get their typed arrays.
 *
 * `HEAP` is plain `new Int32Array(n)`: each buffer is its own allocation. That is right for the
 * data path (chunks of rows, freed by the encoder). It is wrong for a long-lived process that
 * builds the same large, growing Arrow batch again and again, as a streaming query does with its
 * checkpoints: every build allocates buffers of new sizes (doubling as they grow), glibc serves
 * the ones under its mmap threshold from the main heap, and frees them into holes it keeps. The
 * soak measured it: building only a checkpoint's record batches 200 times took the `[heap]`
 * mapping from 9 to 35 MiB while the live data stayed at a few MiB.
 *
 * A `BufferArena` hands out views of large blocks instead, one bump pointer, nothing freed until
 * the whole arena is garbage. Each block is over glibc's largest dynamic mmap threshold (32 MiB on
 * 64-bit), so glibc maps it on its own whatever the process's malloc settings, and gives it back
 * to the kernel when it is freed. Only the pages the builders touch are resident (a fresh mapping
 * is zero pages until written), so a 36 MiB block holding a 3 MiB batch costs 3 MiB of RSS.
 * Fresh memory is zeroed, as builders that OR bits into bitmaps expect.
 */

type TypedArray = Int8Array | Uint8Array | Int16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array;

export interface TypedArrayCtor<T extends TypedArray> {
  new (n: number): T;
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

/** A source of zeroed typed arrays. */
export interface Allocator {
  typed<T extends TypedArray>(ctor: TypedArrayCtor<T>, length: number): T;
  /** `arr` grown to `length` (zeroed past `keep`, which defaults to all of `arr`). */
  resize<T extends TypedArray>(arr: T, length: number, keep?: number): T;
  /** The first `n` bytes of `bytes` as a finished buffer. */
  trim(bytes: Uint8Array, n: number): Uint8Array;
}

/** `next` with the first `keep` elements of `arr` copied in: what every allocator's resize does after allocating. */
export function copied<T extends TypedArray>(next: T, arr: T, keep: number): T {
  (next as unknown as { set(a: unknown): void }).set(keep === arr.length ? arr : arr.subarray(0, keep));
  return next;
}

/** Every array its own allocation; a finished buffer is copied to its size, so the batch does not keep the slack. */
export const HEAP: Allocator = {
  typed: (ctor, length) => new ctor(length),
  resize: (arr, length, keep = arr.length) => copied(new (arr.constructor as TypedArrayCtor<typeof arr>)(length), arr, keep),
  trim: (bytes, n) => bytes.slice(0, n),
};

/** Just over glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit (4 MiB * sizeof(long)). */
export const ARENA_BLOCK_BYTES = 36 * 1024 * 1024;

export class BufferArena implements Allocator {
  private block: ArrayBuffer | undefined;
  private used = 0;
  /** Blocks allocated so far (for tests). */
  blocks = 0;
  constructor(private readonly blockBytes = ARENA_BLOCK_BYTES) {}

  /**
   * The last array handed out grows where it is (a builder fills one column at a time, so the
   * array growing is usually the last one): no copy, no second set of pages touched.
   */
  resize<T extends TypedArray>(arr: T, length: number, keep = arr.length): T {
    const end = arr.byteOffset + length * arr.BYTES_PER_ELEMENT;
    if (arr.buffer === this.block && arr.byteOffset + arr.byteLength === this.used && end <= this.block.byteLength) {
      this.used = end;
      // Past `keep`, the bytes were never handed out (fresh, zero) or belong to `arr` itself,
      // whose tail a caller that passes `keep` does not read: zero them as a new array would be.
      if (keep < arr.length) arr.fill(0 as never, keep);
      return new (arr.constructor as TypedArrayCtor<T>)(this.block, arr.byteOffset, length);
    }
    return copied(this.typed(arr.constructor as TypedArrayCtor<T>, length), arr, keep);
  }

  /** A view: the block is freed as a whole, so copying to size would only touch more pages. */
  trim(bytes: Uint8Array, n: number): Uint8Array {
    return bytes.subarray(0, n);
  }

  typed<T extends TypedArray>(ctor: TypedArrayCtor<T>, length: number): T {
    const bytes = length * ctor.BYTES_PER_ELEMENT;
    // 8-byte alignment: a BigInt64Array or Float64Array view needs it (arithmetic, not bit
    // operations, which would wrap past 2 GiB).
    const at = Math.ceil(this.used / 8) * 8;
    if (!this.block || at + bytes > this.block.byteLength) {
      // A buffer too large for a block gets a block of its own size (still over the threshold).
      this.block = new ArrayBuffer(Math.max(this.blockBytes, bytes));
      this.blocks++;
      this.used = bytes;
      return new ctor(this.block, 0, length);
    }
    this.used = at + bytes;
    return new ctor(this.block, at, length);
  }
}
