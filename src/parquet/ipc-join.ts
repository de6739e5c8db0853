/**
 * The encoder thread's side of arrow/ipc-pieces.ts: a batch's IPC stream joined from its pieces
 * (head, body views each padded to 8 bytes, the end-of-stream marker), joined straight into the
 * writer's WebAssembly memory: one copy of the chunk on the thread. No apache-arrow here: the
 * thread does not load it.
 */

/** The pieces as ipc-pieces.ts sends them. */
export interface Pieces {
  head: Uint8Array;
  body: Uint8Array[];
}

/** The joined stream's size in bytes. */
export function joinedSize(p: Pieces): number {
  let size = p.head.length + 8;
  for (const b of p.body) size += (b.length + 7) & ~7;
  return size;
}

/** Joins the pieces into `out`, which is `joinedSize(p)` bytes (the writer's memory, on the encoder thread). */
export function joinInto(p: Pieces, out: Uint8Array): void {
  out.set(p.head, 0);
  let pos = p.head.length;
  for (const b of p.body) {
    out.set(b, pos);
    const end = pos + ((b.length + 7) & ~7);
    // Padding is zero, as RecordBatchWriter writes it (the memory may be reused: clear it).
    out.fill(0, pos + b.length, end);
    pos = end;
  }
  // End of stream: continuation marker and a zero length.
  out.fill(0xff, pos, pos + 4);
  out.fill(0, pos + 4, pos + 8);
}
