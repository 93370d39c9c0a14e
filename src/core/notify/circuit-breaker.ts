/**
 * A channel's circuit breaker, time passed in: `failures` consecutive
 * failures open it for `cooldownMs`; then one trial may go (half-open), and
 * its success closes the breaker, its failure opens it again.
 */
export class CircuitBreaker {
  private consecutive = 0;
  private openUntil = 0;
  private trial = false;

  constructor(
    private readonly failures: number,
    private readonly cooldownMs: number,
  ) {}

  /** Whether a delivery may be attempted now; in half-open state only one at a time. */
  allows(now: number): boolean {
    if (this.consecutive < this.failures) return true;
    if (now < this.openUntil || this.trial) return false;
    this.trial = true;
    return true;
  }

  state(now: number): 'closed' | 'open' | 'half-open' {
    if (this.consecutive < this.failures) return 'closed';
    return now < this.openUntil ? 'open' : 'half-open';
  }

  /** When the breaker lets a trial through again (now when it is closed). */
  reopensAt(now: number): number {
    return this.consecutive < this.failures ? now : Math.max(now, this.openUntil);
  }

  success(): void {
    this.consecutive = 0;
    this.trial = false;
  }

  failure(now: number): void {
    this.consecutive++;
    this.trial = false;
    if (this.consecutive >= this.failures) this.openUntil = now + this.cooldownMs;
  }
}
