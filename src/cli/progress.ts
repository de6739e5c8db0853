import cliProgress from 'cli-progress';

/**
 * Progress bars for long CLI work, drawn by cli-progress on stderr.
 *
 * A bar is drawn only when a person is watching: stdout AND stderr are terminals, `--json` was not
 * given, `--no-progress` was not given and TERM is not "dumb". stderr alone being a terminal is
 * not enough: `tributary optimize t --json | jq` or `tributary read t | head` hand stdout to a
 * program, and `... 2>&1 | tee log` would put the bar's control characters into the log. So a
 * piped or redirected stdout turns bars off, and nothing of a bar ever reaches stdout: data and
 * NDJSON stay clean.
 */
export interface ProgressView {
  /** Whether anything is drawn: commands skip computing what a silent view would not show. */
  readonly active: boolean;
  /**
   * Shows `label` with `done` of `total` as a bar, a percentage and an ETA, and `detail` (the
   * counts in their units); without a total, just the label and the detail. A new label starts a
   * new phase, with an ETA of its own.
   */
  show(label: string, done: number, total: number | undefined, detail: string): void;
  /**
   * Runs `write`, which prints whole lines (ending in \n) on stdout or stderr, without tearing the
   * bar: the bar's line is cleared first and the bar is drawn again below what was written.
   */
  print(write: () => void): void;
  /** Removes the bar (clearing its line), so the command's result is printed on a clean line. A later show() draws a new one. */
  stop(): void;
}

export interface ProgressSwitches {
  json?: boolean;
  /** false with --no-progress. */
  progress?: boolean;
}

export interface Terminals {
  stdout: { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
}

/** Whether bars are drawn for this command (see ProgressView). */
export function progressWanted(opts: ProgressSwitches, io: Terminals = processTerminals()): boolean {
  if (opts.json || opts.progress === false) return false;
  if (io.stdout.isTTY !== true || io.stderr.isTTY !== true) return false;
  return io.env.TERM !== 'dumb';
}

/** The view a command draws on: a bar on the terminal, or nothing at all. */
export function progressView(opts: ProgressSwitches, io: Terminals = processTerminals()): ProgressView {
  return progressWanted(opts, io) ? new TerminalProgress(io.stderr) : SILENT;
}

function processTerminals(): Terminals {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

const SILENT: ProgressView = {
  active: false,
  show: () => undefined,
  print: (write) => write(),
  stop: () => undefined,
};

interface Payload {
  label: string;
  detail: string;
  /** A total is known: draw the bar, the percentage and the ETA. */
  known: boolean;
}

/** The bar's line: `label [=====-----] 45% | detail | ETA 3s`, or `label: detail` without a total. */
function format(options: cliProgress.Options, params: cliProgress.Params, payload: Payload): string {
  if (!payload.known) return `${payload.label}: ${payload.detail}`;
  const ratio = Math.min(1, Math.max(0, params.progress || 0));
  const bar = cliProgress.Format.BarFormat(ratio, options);
  const eta = params.eta as number | string;
  const etaText = typeof eta === 'number' && eta > 0 && params.value > 0 && ratio < 1 ? ` | ETA ${cliProgress.Format.TimeFormat(eta, options, 1)}` : '';
  return `${payload.label} [${bar}] ${Math.floor(ratio * 100)}% | ${payload.detail}${etaText}`;
}

/**
 * One cli-progress bar in a MultiBar: the MultiBar moves the cursor relative to the bar (no saved
 * absolute position that lines printed meanwhile would make wrong), redraws at most 10 times a
 * second from its own timer however often `show` is called, and clears the bar at stop.
 *
 * Besides those frames, a bar is drawn at once when it appears, when a phase ends (its last
 * state) and just before it is cleared: what a command reported is on the terminal at least once
 * however fast it ran, and a test can see it without depending on timing.
 */
class TerminalProgress implements ProgressView {
  readonly active = true;
  private multi: cliProgress.MultiBar | undefined;
  private bar: cliProgress.SingleBar | undefined;
  private label: string | undefined;

  constructor(private readonly stream: NodeJS.WritableStream) {}

  show(label: string, done: number, total: number | undefined, detail: string): void {
    const payload: Payload = { label, detail, known: total !== undefined && total > 0 };
    const t = payload.known ? total! : 1;
    if (!this.multi || !this.bar) {
      this.multi = new cliProgress.MultiBar({
        stream: this.stream,
        format: format as cliProgress.GenericFormatter,
        barsize: 30,
        clearOnComplete: true,
        // Redrawn every frame, so a line printed above it (print()) never leaves it missing.
        forceRedraw: true,
        // The commands stop the bar themselves (signal handlers, finally blocks).
        gracefulExit: false,
        etaBuffer: 20,
        // Cut to the terminal's width rather than switching the terminal's line wrapping off,
        // which a process ended by a second Ctrl-C could not switch back on.
        linewrap: true,
      });
      this.bar = this.multi.create(t, done, payload);
      this.multi.update();
    } else if (label !== this.label) {
      // A new phase: start over, so its ETA is not the previous phase's.
      this.multi.update();
      this.bar.start(t, done, payload);
      this.multi.update();
    } else {
      if (this.bar.getTotal() !== t) this.bar.setTotal(t);
      this.bar.update(done, payload);
    }
    this.label = label;
  }

  print(write: () => void): void {
    if (!this.multi) {
      write();
      return;
    }
    // Terminal writes are synchronous on POSIX, so this order is the order on the screen:
    // clear the bar's line, write there, draw the bar again below it.
    this.stream.write('\r\u001b[K');
    write();
    this.multi.update();
  }

  stop(): void {
    this.multi?.update();
    this.multi?.stop();
    this.multi = undefined;
    this.bar = undefined;
    this.label = undefined;
  }
}
