/**
 * Which models have Prometheus series of their own: at most `max`, chosen by
 * traffic. Until the limit is reached every model that reports is admitted;
 * then, every `rerankMs`, a model outside takes the place of the quietest one
 * inside when its recent traffic (counts halved at each re-ranking, so old
 * bursts fade) is more than twice as high. The margin keeps series from
 * flapping between models of similar traffic.
 */
export class ModelSeriesAdmission {
  private readonly admitted = new Set<string>();
  private readonly traffic = new Map<string, number>();
  private nextRank: number;

  constructor(
    private readonly max: number,
    private readonly rerankMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.nextRank = now() + rerankMs;
  }

  /** Models with series of their own. */
  get size(): number {
    return this.admitted.size;
  }

  /** Models seen that report under the aggregate. */
  get beyond(): number {
    return this.traffic.size - this.admitted.size;
  }

  has(modelId: string): boolean {
    return this.admitted.has(modelId);
  }

  /** Notes `events` of traffic for a model; admits it while there is room. Returns whether it is admitted. */
  note(modelId: string, events: number): boolean {
    this.traffic.set(modelId, (this.traffic.get(modelId) ?? 0) + events);
    if (this.admitted.has(modelId)) return true;
    if (this.admitted.size < this.max) {
      this.admitted.add(modelId);
      return true;
    }
    return false;
  }

  /**
   * Re-ranks when it is time; returns the models that lost their series (the
   * caller removes them) and the ones that gained one.
   */
  rerank(): { demoted: string[]; promoted: string[] } {
    const t = this.now();
    if (t < this.nextRank) return { demoted: [], promoted: [] };
    this.nextRank = t + this.rerankMs;
    const score = (m: string): number => this.traffic.get(m) ?? 0;
    const inside = [...this.admitted].sort((a, b) => score(a) - score(b));
    const outside = [...this.traffic.keys()].filter((m) => !this.admitted.has(m)).sort((a, b) => score(b) - score(a));
    const demoted: string[] = [];
    const promoted: string[] = [];
    for (let i = 0; i < outside.length && i < inside.length; i++) {
      if (score(outside[i]) <= 2 * score(inside[i])) break;
      this.admitted.delete(inside[i]);
      this.admitted.add(outside[i]);
      demoted.push(inside[i]);
      promoted.push(outside[i]);
    }
    for (const [m, n] of this.traffic) {
      // Forget models outside that went quiet, so the map holds only recent reporters.
      if (n < 1 && !this.admitted.has(m)) this.traffic.delete(m);
      else this.traffic.set(m, n / 2);
    }
    return { demoted, promoted };
  }
}
