import { describe, expect, it } from 'vitest';
import { toGroundTruthEvent, toInferenceEvent } from '../../../src/core/events.js';
import { DecodeError } from '../../../src/errors.js';

const valid = {
  eventId: 'e-1',
  modelId: 'credit-risk',
  timestamp: 1_764_000_000_000,
  features: { age: 41, region: 'north', vip: true, income: null },
  score: 0.7,
  prediction: '1',
};

describe('toInferenceEvent', () => {
  it('normalizes a valid event, filling optional fields', () => {
    expect(toInferenceEvent(valid)).toEqual({
      ...valid,
      modelVersion: null,
      attributes: {},
    });
  });

  it.each([
    [{ ...valid, eventId: '' }, /eventId/],
    [{ ...valid, modelId: undefined }, /modelId/],
    [{ ...valid, timestamp: 'yesterday' }, /timestamp/],
    [{ ...valid, timestamp: 1_764_000_000 }, /epoch milliseconds/],
    [{ ...valid, timestamp: Number.NaN }, /timestamp/],
    [{ ...valid, features: [1, 2] }, /features/],
    [{ ...valid, features: { age: { nested: 1 } } }, /feature age/],
    [{ ...valid, score: 'high' }, /score/],
    [{ ...valid, attributes: { segment: 3 } }, /attribute segment/],
    ['a string', /object/],
  ])('rejects %j', (value, message) => {
    let caught: unknown;
    try {
      toInferenceEvent(value);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DecodeError);
    expect((caught as DecodeError).reason).toBe('invalid_event');
    expect((caught as Error).message).toMatch(message);
  });

  it('accepts ISO timestamps from JSON producers', () => {
    expect(toInferenceEvent({ ...valid, timestamp: '2025-11-24T16:00:00Z' }).timestamp).toBe(Date.parse('2025-11-24T16:00:00Z'));
  });
});

describe('toGroundTruthEvent', () => {
  it('accepts numeric, string and boolean labels', () => {
    for (const label of [1, 'spam', true]) {
      expect(toGroundTruthEvent({ eventId: 'e', modelId: 'm', timestamp: 1_764_000_000_000, label }).label).toBe(label);
    }
  });
  it('rejects a missing label', () => {
    expect(() => toGroundTruthEvent({ eventId: 'e', modelId: 'm', timestamp: 1_764_000_000_000 })).toThrow(/label/);
  });
});
