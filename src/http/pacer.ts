/**
 * Client-side pacing: a token bucket refilled at `perMinute` calls a minute, holding at most
 * `burst` tokens, so a job never exceeds its plan's rate however its trigger is set.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly ratePerMs: number;

  constructor(
    readonly perMinute: number,
    private readonly burst = 1,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.ratePerMs = perMinute / 60_000;
    this.tokens = burst;
    this.last = now();
  }

  private refill() {
    const t = this.now();
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
      await new Promise((r) => setTimeout(r, w));
    }
  }
}
