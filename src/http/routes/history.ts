import type { FastifyInstance } from 'fastify';
import { onlyFeatures, pointOfEvaluation, RESOLUTION_MS, type HistoryPoint, type RollupResolution } from '../../core/history/rollup.js';
import { parseDuration } from '../../core/duration.js';
import { hasControlCharacter } from '../../core/has-control-character.js';
import type { HttpDeps } from '../deps.js';
import { httpError } from '../errors.js';
import { requireModel, resolveWindow } from '../model-view.js';
import { parseTime, type RouteContext } from '../route-context.js';
import { errorResponses, modelIdParams, modelWindowAnswer, timeParam } from '../schemas.js';

type Resolution = RollupResolution | 'window';
type HistoryQuery = { window?: string; from?: string; to?: string; resolution: Resolution | 'auto'; feature?: string; points: number };

/** The default range when `from` is not given. */
const DEFAULT_RANGE_MS = 86_400_000;

const ROLLED_UP_STATISTICS = ['psi', 'ks', 'wassersteinNormed', 'jensenShannon', 'hellinger', 'missingRate'] as const;
const statistic = { type: 'object', properties: { n: { type: 'integer' }, mean: { type: 'number' }, max: { type: 'number' } } } as const;
const featureRollup = {
  type: 'object',
  additionalProperties: true,
  properties: {
    windows: { type: 'integer' },
    driftWindows: { type: 'integer' },
    severity: { type: 'string' },
    ...Object.fromEntries(ROLLED_UP_STATISTICS.map((name) => [name, statistic])),
    ksPValueMin: { type: 'number' },
    chiSquarePValueMin: { type: 'number' },
  },
} as const;

const pointSchema = {
  type: 'object',
  properties: {
    bucketStart: { type: 'integer' },
    bucketEnd: { type: 'integer' },
    windows: { type: 'integer' },
    alertableWindows: { type: 'integer' },
    driftWindows: { type: 'integer', description: 'Windows with dataset drift' },
    sampleSize: { type: 'integer' },
    driftShare: { type: 'object', properties: { mean: { type: 'number' }, max: { type: 'number' } } },
    severity: { type: 'string', enum: ['NONE', 'WARNING', 'CRITICAL'] },
    features: { type: 'object', additionalProperties: featureRollup },
    prediction: { type: 'object', additionalProperties: featureRollup },
    performance: {
      type: 'object',
      properties: {
        windows: { type: 'integer' },
        labelled: { type: 'integer' },
        predictions: { type: 'integer' },
        metrics: { type: 'object', additionalProperties: { type: ['number', 'null'] } },
      },
    },
  },
} as const;

const historySchema = {
  tags: ['drift'],
  summary: 'A window\'s history over a range, oldest first: per window, or hourly / daily roll-ups for long ranges',
  description:
    'With resolution `auto` (the default) the finest of window, hour and day that answers in at most `points` points: ' +
    'a month of 1-minute windows comes from the hourly roll-ups. Each point gives every feature\'s window counts and severity; ' +
    '`feature` gives one feature (or score / prediction) with its statistics instead.',
  params: modelIdParams,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      window: { type: 'string', maxLength: 64 },
      from: { ...timeParam, description: 'Start of the range (default: a day before `to`)' },
      to: { ...timeParam, description: 'End of the range, exclusive (default: now)' },
      resolution: { type: 'string', enum: ['auto', 'window', 'hour', 'day'], default: 'auto' },
      feature: { type: 'string', minLength: 1, maxLength: 256 },
      points: { type: 'integer', minimum: 1, maximum: 5000, default: 1000 },
    },
  },
  response: {
    200: modelWindowAnswer({
      resolution: { type: 'string', enum: ['window', 'hour', 'day'] },
      from: { type: 'integer' },
      to: { type: 'integer' },
      points: { type: 'array', items: pointSchema },
    }),
    ...errorResponses,
  },
} as const;

/** The finest resolution whose points over [from, to) fit in `max`. */
export function autoResolution(from: number, to: number, slideMs: number, max: number): Resolution {
  const span = to - from;
  if (span / slideMs <= max) return 'window';
  return span / RESOLUTION_MS.hour <= max ? 'hour' : 'day';
}

async function history(deps: HttpDeps, modelId: string, q: HistoryQuery, now: number) {
  const config = await requireModel(deps.models, modelId);
  const window = resolveWindow(config, q.window);
  const to = parseTime(q.to, 'to') ?? now;
  const from = parseTime(q.from, 'from') ?? Math.max(0, to - DEFAULT_RANGE_MS);
  if (from >= to) throw httpError('VALIDATION_FAILED', 'from must be before to');
  // A window spec that does not parse counts as one minute apart (the finest the detector uses by default).
  const slideMs = parseDuration(window.slide ?? window.size) || 60_000;
  const resolution = q.resolution === 'auto' ? autoResolution(from, to, slideMs, q.points) : q.resolution;
  if (q.feature !== undefined && hasControlCharacter(q.feature)) throw httpError('VALIDATION_FAILED', 'feature must not hold a control character');
  const features = q.feature === undefined ? undefined : [q.feature];
  let points: HistoryPoint[];
  if (resolution === 'window') {
    const evaluations = await deps.results.listEvaluations({ modelId: config.modelId, windowName: window.name, from, to, limit: q.points });
    points = evaluations.map((e) => onlyFeatures(pointOfEvaluation(e), features)).reverse();
  } else {
    points = await deps.results.listRollups({ modelId: config.modelId, windowName: window.name, resolution, from, to, features });
    points = points.slice(-q.points);
  }
  return { modelId: config.modelId, window: window.name, resolution, from, to, points };
}

/** A window's history over a range, served from roll-ups when the range is long. */
export async function historyRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { deps, guard } = ctx;
  app.get<{ Params: { modelId: string }; Querystring: HistoryQuery }>(
    '/api/v1/models/:modelId/history',
    { preHandler: guard.read, schema: historySchema },
    (request) => history(deps, request.params.modelId, request.query, ctx.now()),
  );
}
