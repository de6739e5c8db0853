/**
 * Buffers a chunk's builders can be given again: those of handed-over batches (ipc-pieces.ts),
 * which the encoder thread sends back once it has copied them into WebAssembly memory.
 *
 * A decoder that allocates every chunk's buffers afresh touches new pages for each (the kernel
 * zeroes them: page faults on the main thread), and V8 counts each allocation as external memory,
 * which it answers with full collections, every few chunks of a large file (7 on a
 * 1,000,000-line append, 3 with buffers back). A buffer that came back was detached from every
 * view on this thread when it left, and from the encoder thread's when it returned, so nothing
 * can still read it: giving it to a new builder is safe by construction. Only such buffers enter
 * the pool; a builder's own buffers that it outgrows are left to the collector as before (a view
 * of one may still be alive).
 */
import { type Allocator, copied, type TypedArrayCtor } from './arena.js';

type TypedArray = Int8Array | Uint8Array | Int16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array;

/**
 * Buffers smaller than this are cloned, not moved, to another thread (they may be views into
 * Node's shared pool), so they never come back: transfer.ts and ipc-pieces.ts move only buffers of
 * this size or more (TRANSFER_MIN_BYTES is this constant), and only those are pooled. Defined here,
 * where the encoder thread (which loads no apache-arrow) can import it.
 */
export const POOLED_MIN_BYTES = 64 * 1024;

export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private bytes = 0;
  private users = 0;

  /**
   * @param maxBytes what the pool keeps at most: a few chunks' buffers (a chunk in flight to the
   *   encoder thread and the one being built); beyond it a returned buffer is left to the collector.
   */
  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  /** Buffers kept, in bytes. */
  get size(): number {
    return this.bytes;
  }

  /**
   * Starts keeping buffers, for a decoder that will build in them; returns the function that stops
   * it. Buffers come back whether anyone builds in them or not (a decoding thread's batches too):
   * with no user, none is kept, and the last user's going empties the pool.
   */
  use(): () => void {
    this.users++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.users === 0) {
        this.free.clear();
        this.bytes = 0;
      }
    };
  }

  /** Keeps a buffer that nothing on this thread views any more (one that came back from another thread), while the pool has a user. */
  put(b: ArrayBuffer): void {
    if (this.users === 0 || b.byteLength < POOLED_MIN_BYTES || this.bytes + b.byteLength > this.maxBytes) return;
    let same = this.free.get(b.byteLength);
    if (!same) this.free.set(b.byteLength, (same = []));
    same.push(b);
    this.bytes += b.byteLength;
  }

  /** A kept buffer of exactly `byteLength` bytes (a chunk's builders ask for the sizes of the chunk before). */
  take(byteLength: number): ArrayBuffer | undefined {
    const b = this.free.get(byteLength)?.pop();
    if (b) this.bytes -= b.byteLength;
    return b;
  }
}

/**
 * Builders' arrays from the pool when it has a buffer of the size asked for (zeroed, as a new
 * array is), else new ones. A finished variable-width buffer is a view of the builder's, not a
 * copy to its size: the batch is handed over and its whole buffer goes to the encoder thread
 * and comes back, so its slack costs nothing and copying it would cost a second set of pages.
 */
export function pooledAllocator(pool: BufferPool): Allocator {
  const typed = <T extends TypedArray>(ctor: TypedArrayCtor<T>, length: number): T => {
    const bytes = length * ctor.BYTES_PER_ELEMENT;
    const b = bytes >= POOLED_MIN_BYTES ? pool.take(bytes) : undefined;
    if (!b) return new ctor(length);
    new Uint8Array(b).fill(0);
    return new ctor(b, 0, length);
  };
  return {
    typed,
    resize: <T extends TypedArray>(arr: T, length: number, keep = arr.length): T => copied(typed(arr.constructor as TypedArrayCtor<T>, length), arr, keep),
    trim: (bytes, n) => bytes.subarray(0, n),
  };
}
