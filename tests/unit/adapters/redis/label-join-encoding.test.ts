import { describe, expect, it } from 'vitest';
import { encodeInferenceChunk, encodeInferenceEntry, encodeLabelChunk, encodeLabelEntry, eventFingerprint } from '../../../../src/adapters/redis/label-join-encoding.js';
import type { InferenceRecord, LabelRecord } from '../../../../src/core/performance/records.js';

// Pending entries outlive a deployment: the fingerprint and entry bytes of a stored event must not change.
describe('label join encoding', () => {
  it('keeps the fingerprints pending entries were stored under', () => {
    expect(eventFingerprint('event-1').toString('hex')).toBe('2d56968989e4b32f');
    expect(eventFingerprint('3f1c2a9e-0b7d-4c52-9d0e-5a6b7c8d9e0f').toString('hex')).toBe('66bc1936820cd1ff');
    expect(eventFingerprint('évènement-✓').toString('hex')).toBe('3da557c39770ff4f');
    expect(eventFingerprint('').toString('hex')).toBe('ebb6c228d9aaf7d3');
  });

  const inference: InferenceRecord = {
    modelId: 'm',
    eventId: 'e',
    timestamp: 1_700_000_000_123,
    kind: 'class',
    predictedPositive: 1,
    score: 0.25,
    predictedClass: 'fraud',
    predictedValue: null,
    positiveClass: 'fraud',
    paneSizes: [60_000],
  };
  const label = (labelClass: string, labelValue: number | null): LabelRecord => ({ modelId: 'm', eventId: 'e', timestamp: 1_700_000_030_000, labelClass, labelValue });

  it('keeps the entry bytes', () => {
    expect(encodeInferenceEntry(inference, 1_700_000_000_000).toString('hex')).toBe('167b000000c4096672617564');
    expect(encodeLabelEntry(label('fraud', null)).toString('hex')).toBe('4c0000d35dfebc7842006672617564');
    expect(encodeLabelEntry(label('2.5', 2.5)).toString('hex')).toBe('4c0000d35dfebc7842010000000000000440322e35');
  });

  it('lays a chunk out as fingerprint, entry length and entry per event, for the range asked', () => {
    const infs: InferenceRecord[] = [
      { ...inference, eventId: 'a' },
      { ...inference, eventId: 'b', predictedClass: 'ünïcode', score: 0.123456789, timestamp: 9e15 },
      { ...inference, eventId: 'c', kind: 'regression', predictedClass: null, predictedValue: 1.1, score: null },
    ];
    const labs = [label('x', null), label('3', 3), label('ünïcode', null)].map((l, i) => ({ ...l, eventId: `l${i}` }));
    const expected = (items: { eventId: string }[], entry: (item: never) => Buffer) =>
      Buffer.concat(
        items.flatMap((item) => {
          const e = entry(item as never);
          const len = Buffer.alloc(4);
          len.writeUInt32LE(e.length);
          return [eventFingerprint(item.eventId), len, e];
        }),
      );
    const gs = 1_700_000_000_000;
    expect(encodeInferenceChunk(infs, 0, 3, gs)).toEqual(expected(infs, (r: InferenceRecord) => encodeInferenceEntry(r, gs)));
    expect(encodeInferenceChunk(infs, 1, 3, gs)).toEqual(expected(infs.slice(1), (r: InferenceRecord) => encodeInferenceEntry(r, gs)));
    expect(encodeLabelChunk(labs, 0, 3)).toEqual(expected(labs, encodeLabelEntry));
    expect(encodeLabelChunk(labs, 2, 3)).toEqual(expected(labs.slice(2), encodeLabelEntry));
  });
});
