import { ValidationError } from '../../errors.js';
import { toInferenceEvent, type InferenceEvent } from '../events.js';

/** Most lines an uploaded analysis file may hold. */
export const MAX_UPLOAD_EVENTS = 5_000_000;

function rowEvent(o: Record<string, unknown>, modelId: string, line: number): InferenceEvent {
  const { timestamp, score, prediction, eventId, modelVersion, ...features } = o;
  const ts = typeof timestamp === 'string' && !/^\d+$/.test(timestamp) ? Date.parse(timestamp) : Number(timestamp);
  return toInferenceEvent({
    eventId: typeof eventId === 'string' && eventId ? eventId : `line-${line}`,
    modelId,
    modelVersion: typeof modelVersion === 'string' ? modelVersion : null,
    timestamp: Number.isFinite(ts) ? ts : timestamp,
    features,
    score: typeof score === 'number' ? score : null,
    prediction: typeof prediction === 'number' || typeof prediction === 'string' ? prediction : null,
  });
}

/**
 * The inference events of an uploaded NDJSON file, for the model being
 * analysed: each line is an InferenceEvent (with `features`; events of other
 * models are left out), or a flat row of feature columns with `timestamp`
 * (epoch ms or ISO-8601) and optional `score` and `prediction`. Throws a
 * {@link ValidationError} naming the first bad line.
 */
export function parseUploadEvents(bytes: Uint8Array, modelId: string): { events: InferenceEvent[]; otherModels: number } {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const events: InferenceEvent[] = [];
  let otherModels = 0;
  let line = 0;
  for (const raw of text.split('\n')) {
    line++;
    const s = raw.trim();
    if (s === '') continue;
    if (events.length >= MAX_UPLOAD_EVENTS) throw new ValidationError(`upload: more than ${MAX_UPLOAD_EVENTS} events`);
    try {
      const o = JSON.parse(s) as unknown;
      if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('expected a JSON object');
      const rec = o as Record<string, unknown>;
      const e = 'features' in rec ? toInferenceEvent({ modelId, ...rec }) : rowEvent(rec, modelId, line);
      if (e.modelId !== modelId) otherModels++;
      else events.push(e);
    } catch (err) {
      throw new ValidationError(`upload line ${line}: ${(err as Error).message}`, { cause: err });
    }
  }
  return { events, otherModels };
}
