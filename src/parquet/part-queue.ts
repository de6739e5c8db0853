/**
 * The parts of one Parquet file on their way from the encoder (a row group at a time, then the
 * footer) to whoever stores them (a Storage's writeStream), so that the file is never whole in
 * memory. The encoder pushes, the store iterates; `room` lets the encoder's feeder wait while the
 * store is behind, so parts waiting here stay few. It ends (end) only once the footer is in: a
 * store that sees the end publishes a complete file. A failed or aborted file fails it instead,
 * which makes the store abandon its staging (the file never appears).
 */
export class PartQueue implements AsyncIterable<Uint8Array> {
  private readonly parts: Uint8Array[] = [];
  private ended = false;
  private failure: Error | undefined;
  /** The store stopped reading (its own failure): further parts have nowhere to go. */
  private cancelled = false;
  private iterated = false;
  private wakeReader: (() => void) | undefined;
  private wakeWriter: (() => void) | undefined;

  push(part: Uint8Array): void {
    if (this.cancelled || this.failure || this.ended) return;
    this.parts.push(part);
    this.wake();
  }

  /** The last part is in. */
  end(): void {
    this.ended = true;
    this.wake();
  }

  /** The file will not be complete: the reader gets `e` (the first one given) instead of an end. */
  fail(e: Error): void {
    this.failure ??= e;
    this.parts.length = 0;
    this.wake();
  }

  /** Resolves once fewer than `max` parts wait (or nobody will take them). */
  async room(max: number): Promise<void> {
    while (this.parts.length >= max && !this.cancelled && !this.failure) await new Promise<void>((r) => (this.wakeWriter = r));
  }

  private wake(): void {
    for (const w of [this.wakeReader, this.wakeWriter]) w?.();
    this.wakeReader = this.wakeWriter = undefined;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    // One reader: a second would take parts the first needs to make the file whole.
    if (this.iterated) throw new Error('the parts of a Parquet file can be read once');
    this.iterated = true;
    try {
      for (;;) {
        if (this.failure) throw this.failure;
        const part = this.parts.shift();
        if (part) {
          this.wake();
          yield part;
        } else if (this.ended) return;
        else await new Promise<void>((r) => (this.wakeReader = r));
      }
    } finally {
      this.cancelled = true;
      this.parts.length = 0;
      this.wake();
    }
  }
}
