import { TributaryError } from '../errors.js';

/**
 * The CLI's standard output, watched in one place. A reader that goes away (`tributary read t |
 * head -1`) closes the pipe: the command is then done, not failed, so EPIPE ends it quietly
 * with exit 0, the way a Unix filter dies of SIGPIPE. Any other write error (a full disk behind
 * `> file`) is a failure the command reports as one line.
 */
export class CliStdout {
  private readonly controller = new AbortController();
  /** Set when output failed for a reason other than the reader leaving. */
  failure: TributaryError | undefined;

  constructor(private readonly stream: NodeJS.WriteStream) {
    // Without a listener, an EPIPE 'error' event is an uncaught exception with a stack trace.
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') {
        this.failure ??= new TributaryError('IO', `cannot write to standard output: ${e.code ?? e.message}`, { errno: e.code }, { cause: e });
      }
      this.controller.abort();
    });
  }

  /**
   * Aborted once nothing written can reach a reader any more: long-running commands stop on it
   * (a stream stops after its current batch, as on SIGINT).
   */
  get closed(): AbortSignal {
    return this.controller.signal;
  }

  /** False once output is closed (checked synchronously too: a failed write destroys the stream at once). */
  get open(): boolean {
    return !this.controller.signal.aborted && !this.stream.destroyed;
  }

  /** Writes text unless output is closed; returns whether it is still open. */
  write(text: string): boolean {
    if (!this.open) return false;
    this.stream.write(text);
    return this.open;
  }
}
