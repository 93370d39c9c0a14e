/**
 * How much of one event-loop turn the detector's own work (batches of every
 * partition, label-join flushes, window evaluations) may hold, all of it
 * together. Work runs in slices: a slice starts at once while the turn's
 * budget lasts, otherwise in a later turn, after the poll phase has run the
 * I/O callbacks that were waiting (HTTP requests, fetch responses, timers).
 * A slice that can stop early looks at `shouldYield`, which turns true once
 * the slice has used what is left of the turn's budget.
 *
 * With a budget per partition, N partitions processing batches at once held
 * the loop N budgets long per turn, and a request waited for all of them; a
 * shared budget keeps that wait at about one budget, however many partitions
 * and evaluations have work. Waiting slices run in the order they asked
 * (partitions take turns); when nothing else wants the loop a turn is short, so
 * ingest loses only the cost of a `setImmediate` per budget.
 */
export class TurnBudget {
  /** Time the slices of the current turn have held the loop. */
  private used = 0;
  /** A reset is queued for the next check phase. */
  private armed = false;
  private readonly waiters: (() => void)[] = [];
  /** Slices that had to wait for a later turn (for tests and metrics). */
  deferred = 0;

  constructor(
    readonly budgetMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Runs `work` as one slice once the budget allows. `work` should return
   * when `shouldYield()` is true; what it has not done then is its caller's
   * next slice.
   */
  async slice<T>(work: (shouldYield: () => boolean) => T | Promise<T>): Promise<T> {
    if (this.used >= this.budgetMs || this.waiters.length > 0) {
      this.deferred++;
      this.arm();
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.arm();
    const start = this.now();
    const shouldYield = (): boolean => this.used + (this.now() - start) >= this.budgetMs;
    try {
      return await work(shouldYield);
    } finally {
      this.used += this.now() - start;
      this.next();
    }
  }

  /** Waits until a slice could start (for work that cannot stop midway: take a turn first). */
  turn(): Promise<void> {
    return this.slice(() => undefined);
  }

  /** Hands the loop to the next waiting slice while the budget lasts. */
  private next(): void {
    if (this.waiters.length === 0) return;
    if (this.used < this.budgetMs) this.waiters.shift()!();
    else this.arm();
  }

  /** The budget is renewed in the next check phase, after the poll phase (I/O) has had its turn. */
  private arm(): void {
    if (this.armed) return;
    this.armed = true;
    setImmediate(() => {
      this.armed = false;
      this.used = 0;
      // A new turn runs at least one slice, whatever the budget.
      this.waiters.shift()?.();
    });
  }
}
