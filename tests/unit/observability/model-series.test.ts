import { describe, expect, it } from 'vitest';
import { createMetrics, OTHER_MODEL } from '../../../src/observability/metrics.js';
import { ModelSeriesAdmission } from '../../../src/observability/model-series.js';

describe('per-model series go to the models with the most traffic', () => {
  it('admits first comers while there is room, then swaps in a model with more than twice the traffic', () => {
    let t = 0;
    const a = new ModelSeriesAdmission(2, 1000, () => t);
    expect(a.note('quiet', 10)).toBe(true);
    expect(a.note('busy', 500)).toBe(true);
    expect(a.note('late', 15)).toBe(false);
    t = 1000;
    // 15 is not more than twice 10: no flapping between models of similar traffic.
    expect(a.rerank()).toEqual({ demoted: [], promoted: [] });
    a.note('late', 400);
    t = 2000;
    expect(a.rerank()).toEqual({ demoted: ['quiet'], promoted: ['late'] });
    expect(a.has('late')).toBe(true);
    expect(a.has('quiet')).toBe(false);
    expect(a.beyond).toBe(1);
  });

  it('lets an old burst fade: traffic halves at each re-ranking', () => {
    let t = 0;
    const a = new ModelSeriesAdmission(1, 1000, () => t);
    a.note('was-busy', 1000);
    a.note('now-busy', 0);
    for (let i = 1; i <= 6; i++) {
      a.note('now-busy', 100);
      t = i * 1000;
      a.rerank();
    }
    expect(a.has('now-busy')).toBe(true);
    expect(a.has('was-busy')).toBe(false);
  });

  it('removes a demoted model from /metrics and counts it under the aggregate from then on', async () => {
    let t = 0;
    const m = createMetrics({ defaultMetrics: false, maxModelSeries: 1, rerankMs: 1000, now: () => t });
    m.eventsConsumed.inc({ model: m.modelLabel('small', 5) }, 5);
    m.driftSeverity.set({ model: m.modelLabel('small'), feature: 'x', window: '5m' }, 1);
    m.labelJoinRecording.set({ model: m.modelLabel('small') }, 1);
    m.eventsConsumed.inc({ model: m.modelLabel('large', 1000) }, 1000);
    let text = await m.registry.metrics();
    expect(text).toContain('driftstream_events_consumed_total{model="small"} 5');
    expect(text).toContain(`driftstream_events_consumed_total{model="${OTHER_MODEL}"} 1000`);
    t = 1000;
    expect(m.modelLabel('large', 1000)).toBe('large');
    m.eventsConsumed.inc({ model: 'large' }, 1000);
    expect(m.modelLabel('small', 1)).toBe(OTHER_MODEL);
    await new Promise((r) => setImmediate(r));
    text = await m.registry.metrics();
    expect(text).not.toContain('model="small"');
    expect(text).toContain('driftstream_events_consumed_total{model="large"} 1000');
    expect(text).toContain('driftstream_models_beyond_series_limit 1');
  });
});
