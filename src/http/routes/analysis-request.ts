import { randomUUID } from 'node:crypto';
import { windowCount, type AnalysisRequest } from '../../core/analysis/analysis.js';
import { parseDuration } from '../../core/duration.js';
import type { ModelRepository } from '../../ports/model-repository.js';
import { httpError } from '../errors.js';
import { parseTime } from '../route-context.js';

/** Most windows one analysis may evaluate. */
export const MAX_ANALYSIS_WINDOWS = 10_000;
const TAG = /^[A-Za-z0-9][A-Za-z0-9_.:=-]{0,63}$/;

/** What a POST names, from its JSON body or (with an upload) its query. */
export interface AnalysisParams {
  window: string;
  from?: string;
  to?: string;
  topic?: string;
  referenceId?: string;
  tags?: readonly string[] | string;
}

function invalid(field: string, message: string): never {
  throw httpError('VALIDATION_FAILED', `${field}: ${message}`, [{ path: `/${field}`, message }]);
}

/** Tags from a list or a comma-separated string, each checked. */
export function parseTags(v: readonly string[] | string | undefined): string[] {
  const list = v === undefined ? [] : typeof v === 'string' ? v.split(',').filter((t) => t !== '') : [...v];
  if (list.length > 16) invalid('tags', 'at most 16 tags');
  for (const t of list) if (!TAG.test(t)) invalid('tags', `${JSON.stringify(t)} is not a tag (1-64 letters, digits, _ . : = -, starting with a letter or digit)`);
  return [...new Set(list)];
}

function windowMsOf(window: string): number {
  const ms = parseDuration(window);
  if (ms === undefined || ms < 1000 || ms > 7 * 86_400_000) invalid('window', 'expected a duration from 1s to 7d, like 5m or 1h');
  return ms;
}

async function checkReference(models: ModelRepository, modelId: string, referenceId: string | undefined): Promise<void> {
  if (referenceId === undefined) {
    if (!(await models.latestReference(modelId))) invalid('referenceId', `model ${modelId} has no reference yet; upload one first`);
    return;
  }
  const ref = await models.getReference(referenceId);
  if (!ref || ref.modelId !== modelId) invalid('referenceId', `model ${modelId} has no reference ${referenceId}`);
}

/** A validated analysis request over a topic's time range or an upload, and its new id. */
export async function analysisRequestOf(
  models: ModelRepository,
  modelId: string,
  p: AnalysisParams,
  source: { upload: number } | { defaultTopic: string },
): Promise<{ analysisId: string; request: AnalysisRequest }> {
  const windowMs = windowMsOf(p.window);
  await checkReference(models, modelId, p.referenceId);
  const base = { modelId, windowMs, tags: parseTags(p.tags), ...(p.referenceId !== undefined ? { referenceId: p.referenceId } : {}) };
  const analysisId = `an-${randomUUID()}`;
  if ('upload' in source) return { analysisId, request: { ...base, source: { kind: 'upload', bytes: source.upload } } };
  const from = parseTime(p.from, 'from');
  const to = parseTime(p.to, 'to');
  if (from === undefined || to === undefined) invalid('from', 'a topic range needs from and to');
  if (from >= to) invalid('to', 'must be after from');
  if (windowCount(from, to, windowMs) > MAX_ANALYSIS_WINDOWS) invalid('window', `the range holds more than ${MAX_ANALYSIS_WINDOWS} windows of ${p.window}; use longer windows or a shorter range`);
  const topic = p.topic ?? source.defaultTopic;
  return { analysisId, request: { ...base, source: { kind: 'topic', topic, from, to } } };
}
