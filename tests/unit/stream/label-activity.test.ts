import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { MemoryLabelJoin } from '../../../src/adapters/memory/memory-label-join.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { toInferenceRecord, toLabelRecord } from '../../../src/core/performance/records.js';
import { LabelActivity } from '../../../src/stream/label-activity.js';

const T = Date.now();
const SPEC = { kind: 'score', positiveClass: '1', decisionThreshold: 0.5 } as const;
const inference = (eventId: string, modelId: string) => toInferenceRecord({ eventId, modelId, timestamp: 0, prediction: null, score: 0.8 }, SPEC, [60_000]);
const label = (eventId: string, modelId: string) => toLabelRecord({ eventId, modelId, timestamp: 0, label: 1 });

function setup() {
  const join = new MemoryLabelJoin({ horizonMs: 1_000 });
  const metrics = createMetrics({ defaultMetrics: false });
  const lines: { msg: string; modelId: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const activity = new LabelActivity(join, 1_000, metrics, logger, { refreshMs: 0 });
  const gauge = async (model: string) => (await metrics.registry.getSingleMetric('driftstream_label_join_recording')!.get()).values.find((v) => v.labels.model === model)?.value;
  return { join, activity, lines, gauge };
}

describe('LabelActivity', () => {
  it('stops recording a model that got no label within the horizon, says so, and resumes when one arrives', async () => {
    const { join, activity, lines, gauge } = setup();
    expect(activity.isRecording('quiet', T + 0)).toBe(true);
    await join.recordInferences([inference('e1', 'quiet')], T + 0);
    await activity.refresh(T + 900);
    expect(activity.isRecording('quiet', T + 900)).toBe(true);
    await activity.refresh(T + 1_100);
    expect(activity.isRecording('quiet', T + 1_100)).toBe(false);
    expect(await gauge('quiet')).toBe(0);
    expect(lines.filter((l) => l.modelId === 'quiet').map((l) => l.msg)).toEqual([expect.stringMatching(/no label within the label horizon/)]);
    // A label arrives (through any process sharing the join): recording resumes at the next refresh.
    await join.recordLabels([label('e1', 'quiet')], T + 1_500);
    await activity.refresh(T + 1_600);
    expect(activity.isRecording('quiet', T + 1_600)).toBe(true);
    expect(await gauge('quiet')).toBe(1);
    expect(lines.filter((l) => l.modelId === 'quiet')).toHaveLength(2);
  });

  it('keeps recording a model whose labels keep coming', async () => {
    const { join, activity } = setup();
    activity.isRecording('busy', T + 0);
    for (let t = 0; t <= 5_000; t += 500) {
      await join.recordInferences([inference(`e${t}`, 'busy')], T + t);
      await join.recordLabels([label(`e${t}`, 'busy')], T + t);
      await activity.refresh(T + t);
      expect(activity.isRecording('busy', T + t)).toBe(true);
    }
  });
});
