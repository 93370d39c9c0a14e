import { describe, expect, it } from 'vitest';
import type { InferenceEvent } from '../../../src/core/events.js';
import { parseModelConfig } from '../../../src/core/model/model-config.js';
import { buildReferenceFromSamples } from '../../../src/stream/reference-from-samples.js';
import { uniqueName } from '../../support/kafka.js';
import { rng, waitFor } from '../stream/stream-support.js';
import { startWithReference, useStreamHarness } from '../stream/stream-harness.js';
import { regionEvents } from '../../unit/core/segments/support.js';

const PANE_MS = 2000;
const PER_WINDOW = 5000;
const modelId = uniqueName('seg');
const model = parseModelConfig({
  modelId,
  features: { f0: 'numeric', f1: 'numeric', c0: 'categorical' },
  windows: [{ name: '2s', size: '2s' }],
  allowedLateness: '1s',
  segments: { attributes: ['region'], topK: 10 },
  dataQuality: { enabled: false },
});

const h = useStreamHarness('seg');

describe('segments end to end (real Kafka and registry)', () => {
  it('fires for the one drifting segment (10% of the traffic) that the global verdict cannot see, and ranks it first', async () => {
    const { profile } = await buildReferenceFromSamples(model, (async function* () {
      yield regionEvents(1, 10_000) as unknown as Record<string, unknown>[];
    })(), { createdAt: Date.now() });
    expect(Object.keys(profile.segments!.region.profiles)).toHaveLength(11);
    const { results } = await startWithReference(h, model, profile);

    // Two windows like the reference, then two where region big (10% of the events) has f0 shifted by 0.5 sd.
    const first = Math.floor(Date.now() / PANE_MS) * PANE_MS - 20 * PANE_MS;
    const shifts = [0, 0, 0.5, 0.5];
    const r = rng(9);
    for (let w = 0; w < shifts.length; w++) {
      const events: InferenceEvent[] = regionEvents(50 + w, PER_WINDOW, shifts[w]).map((e, i) => ({
        ...e,
        eventId: `${modelId}-${w}-${i}`,
        modelId,
        timestamp: first + w * PANE_MS + Math.floor((i * PANE_MS) / PER_WINDOW),
      }));
      await h.traffic.send(events, r);
    }
    const driftStart = first + 2 * PANE_MS;
    await waitFor(async () => (await results.listEvaluations({ modelId })).filter((e) => e.windowStart >= first).length >= shifts.length, 60_000, 'four evaluations');
    await waitFor(() => h.collector.alerts.some((a) => a.alert.feature === 'f0 [region=big]'), 10_000, 'the segment alert');

    const firing = h.collector.alerts.filter((a) => a.alert.status === 'FIRING').map((a) => a.alert);
    expect(firing.map((a) => a.feature)).toEqual(['f0 [region=big]']);
    expect(firing[0].windowStart).toBe(driftStart);
    expect(firing[0].details).toMatchObject({ segment: 'region=big', segmentFeature: 'f0', attributionRank: '1' });
    const evaluations = (await results.listEvaluations({ modelId })).filter((e) => e.windowStart >= driftStart);
    for (const e of evaluations) {
      expect(e.features.f0.drift).toBe(false);
      const f0 = e.segments!.attribution.find((a) => a.feature === 'f0')!;
      expect(f0.segments[0].value).toBe('big');
    }
  }, 120_000);
});
