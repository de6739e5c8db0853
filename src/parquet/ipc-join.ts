/**
 * The encoder thread's side of arrow/ipc-pieces.ts: a batch's IPC stream joined from its pieces
 * (head, body views each padded to 8 bytes, the end-of-stream marker) into one buffer, reused
 * from one chunk to the next (the writer copies it into WebAssembly memory before the next
 * arrives). No apache-arrow here: the thread does not load it.
 */

/** The pieces as ipc-pieces.ts sends them. */
export interface Pieces {
  head: Uint8Array;
  body: Uint8Array[];
}

export class IpcJoiner {
  private buf = new Uint8Array(0);

  /** The stream, a view of this joiner's buffer: valid until the next join. */
  join(p: Pieces): Uint8Array {
    let size = p.head.length + 8;
    for (const b of p.body) size += (b.length + 7) & ~7;
    if (size > this.buf.length) this.buf = new Uint8Array(Math.max(size, Math.ceil(this.buf.length * 1.25)));
    const out = this.buf;
    out.set(p.head, 0);
    let pos = p.head.length;
    for (const b of p.body) {
      out.set(b, pos);
      const end = pos + ((b.length + 7) & ~7);
      // Padding is zero, as RecordBatchWriter writes it (the buffer is reused: clear it).
      out.fill(0, pos + b.length, end);
      pos = end;
    }
    // End of stream: continuation marker and a zero length.
    out.fill(0xff, pos, pos + 4);
    out.fill(0, pos + 4, pos + 8);
    return out.subarray(0, pos + 8);
  }
}
