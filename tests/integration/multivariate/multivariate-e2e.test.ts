import { describe, expect, it } from 'vitest';
import type { InferenceEvent } from '../../../src/core/events.js';
import { buildReferenceFromSamples } from '../../../src/stream/reference-from-samples.js';
import { uniqueName } from '../../support/kafka.js';
import { rng, waitFor } from '../stream/stream-support.js';
import { paneModel, startWithReference, useStreamHarness } from '../stream/stream-harness.js';

const PANE_MS = 2000;
const PER_WINDOW = 1000;
const modelId = uniqueName('mv');
const model = paneModel(modelId, {
  features: { a: 'numeric', b: 'numeric', c: 'numeric' },
  minSamples: 100,
  multivariate: { enabled: true },
});

const h = useStreamHarness('mv');

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
}

/** a and b standard normal at correlation rho (marginals the same whatever rho), c independent. */
function event(r: () => number, ts: number, rho: number, i: number): InferenceEvent {
  const a = normal(r);
  const b = rho * a + Math.sqrt(1 - rho * rho) * normal(r);
  const score = 1 / (1 + Math.exp(-a));
  return { eventId: `${modelId}-${ts}-${i}`, modelId, modelVersion: 'v1', timestamp: ts, features: { a, b, c: 3 + normal(r) }, prediction: score >= 0.5 ? '1' : '0', score, attributes: {} };
}

describe('multivariate drift end to end (real Kafka and registry)', () => {
  it('fires MULTIVARIATE_DRIFT on a correlation flip with unchanged marginals, and nothing on the windows before it', async () => {
    const r = rng(2026);
    const sample = Array.from({ length: 5000 }, (_, i) => event(r, 0, 0.8, i));
    const { profile } = await buildReferenceFromSamples(model, (async function* () {
      yield sample.map((e) => ({ ...e.features, score: e.score, prediction: e.prediction }));
    })(), { createdAt: Date.now() });
    expect(profile.multivariate?.features).toEqual(['a', 'b', 'c']);
    const { results } = await startWithReference(h, model, profile);

    // Six closed 2 s windows of event time: four as the reference, then two with the correlation flipped.
    const first = Math.floor(Date.now() / PANE_MS) * PANE_MS - 20 * PANE_MS;
    const rhos = [0.8, 0.8, 0.8, 0.8, -0.8, -0.8];
    for (let w = 0; w < rhos.length; w++) {
      const events = Array.from({ length: PER_WINDOW }, (_, i) => event(r, first + w * PANE_MS + Math.floor((i * PANE_MS) / PER_WINDOW), rhos[w], i));
      await h.traffic.send(events, r);
    }
    const flipStart = first + 4 * PANE_MS;
    await waitFor(async () => (await results.listEvaluations({ modelId })).filter((e) => e.windowStart >= first).length >= rhos.length, 60_000, 'six evaluations');
    await waitFor(() => h.collector.alerts.some((a) => a.alert.kind === 'MULTIVARIATE_DRIFT'), 10_000, 'a MULTIVARIATE_DRIFT alert');

    const evaluations = (await results.listEvaluations({ modelId })).sort((x, y) => x.windowStart - y.windowStart);
    for (const e of evaluations) {
      expect(e.sampleSize).toBe(PER_WINDOW);
      expect(e.multivariate?.n).toBe(PER_WINDOW);
      // Before the flip: ok, or insufficient where 1,000 rows cannot see a 10% rise at the budget's level.
      if (e.windowStart >= flipStart) expect(e.multivariate?.verdict).toBe('drift');
      else expect(['ok', 'insufficient']).toContain(e.multivariate?.verdict);
      // The marginals are unchanged: no feature verdict anywhere.
      for (const f of Object.values(e.features)) expect(f.drift).toBe(false);
    }
    const mv = h.collector.alerts.filter((a) => a.alert.kind === 'MULTIVARIATE_DRIFT' && a.alert.status === 'FIRING');
    expect(mv).toHaveLength(1);
    expect(mv[0].alert.windowStart).toBe(flipStart);
    expect(mv[0].alert.statistic).toBe('reconstructionError');
    expect(mv[0].alert.feature).toBeNull();
    expect(Number(mv[0].alert.details.pValue)).toBeLessThan(Number(mv[0].alert.details.level));
    expect(h.collector.alerts.filter((a) => a.alert.kind !== 'MULTIVARIATE_DRIFT')).toEqual([]);
  });
});
