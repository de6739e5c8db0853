/**
 * Client-side pacing: a token bucket refilled at `perMinute` calls a minute, holding at most
 * `burst` tokens, so a job never exceeds its plan's rate however its trigger is set.
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The real clock; tests hand in a virtual one, so pacing is checked without waiting on wall time. */
export const SYSTEM_CLOCK: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly ratePerMs: number;

  constructor(
    readonly perMinute: number,
    private readonly burst = 1,
    private readonly clock: Clock = SYSTEM_CLOCK,
  ) {
    this.ratePerMs = perMinute / 60_000;
    this.tokens = burst;
    this.last = clock.now();
  }

  private refill() {
    const t = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + (t - this.last) * this.ratePerMs);
    this.last = t;
  }

  /** Milliseconds until a token is available (0 if one is). */
  waitMs(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) / this.ratePerMs);
  }

  async take(): Promise<void> {
    for (;;) {
      const w = this.waitMs();
      if (w === 0) {
        this.tokens -= 1;
        return;
      }
      await this.clock.sleep(w);
    }
  }
}
