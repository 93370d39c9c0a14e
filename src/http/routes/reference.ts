import { Transform, type TransformCallback } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { DriftstreamError } from '../../errors.js';
import type { SampleFormat } from '../deps.js';
import { HttpError, httpError } from '../errors.js';
import { requireModel } from '../model-view.js';
import { createReferenceBuilder } from '../reference-builder.js';
import type { RouteContext } from '../route-context.js';
import { errorResponses, modelIdParams } from '../schemas.js';

const FORMATS: Record<string, SampleFormat> = {
  'text/csv': 'csv',
  'application/csv': 'csv',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'application/x-jsonlines': 'ndjson',
  'application/vnd.apache.parquet': 'parquet',
  'application/x-parquet': 'parquet',
  'application/vnd.apache.arrow.file': 'arrow',
  'application/vnd.apache.arrow.stream': 'arrow',
};

/** Counts bytes through and fails the stream once they pass the limit. */
class ByteLimit extends Transform {
  bytes = 0;
  exceeded = false;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      this.exceeded = true;
      callback(new HttpError('PAYLOAD_TOO_LARGE', `the sample is larger than ${this.limit} bytes`, { headers: { connection: 'close' } }));
      return;
    }
    callback(null, chunk);
  }
}

const INVALID_SAMPLE_CODES = new Set(['VALIDATION_FAILED', 'DECODE_FAILED', 'CONFIG_INVALID', 'REFERENCE_INVALID', 'SAMPLE_MALFORMED', 'SAMPLE_UNSUPPORTED_COLUMN', 'MODEL_INVALID']);

export async function referenceRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { deps, guard, now } = ctx;
  const limit = deps.config.referenceUploadLimitBytes;
  const buildReference = deps.referenceBuilder ?? createReferenceBuilder();

  // Encapsulated so the streaming parsers apply to this route only.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(Object.keys(FORMATS), (_request: unknown, payload: IncomingMessage, done: (err: Error | null, body?: unknown) => void) => {
      done(null, payload);
    });

    scope.post<{ Params: { modelId: string } }>('/api/v1/models/:modelId/reference', {
      preHandler: guard.edit,
      bodyLimit: limit,
      config: { rateLimit: { max: deps.config.rateLimitWrites, timeWindow: 60_000 } },
      schema: {
        tags: ['models'],
        summary: 'Upload a reference sample (CSV with a header row, NDJSON, Parquet or Arrow IPC); answers the new profile (editor)',
        description: `Streamed, at most ${limit} bytes. Content-Type text/csv, application/x-ndjson, application/vnd.apache.parquet, or application/vnd.apache.arrow.file / .stream.`,
        security: [{ apiKey: [] }, { bearer: [] }],
        consumes: ['text/csv', 'application/x-ndjson', 'application/vnd.apache.parquet', 'application/vnd.apache.arrow.file', 'application/vnd.apache.arrow.stream'],
        params: modelIdParams,
        response: {
          201: {
            type: 'object',
            properties: {
              referenceId: { type: 'string' },
              modelId: { type: 'string' },
              version: { type: 'integer' },
              createdAt: { type: 'integer' },
              rows: { type: 'integer' },
              features: { type: 'array', items: { type: 'string' } },
            },
          },
          ...errorResponses,
        },
      },
    }, async (request, reply) => {
      const { modelId } = request.params;
      const declaredLength = Number(request.headers['content-length']);
      if (Number.isFinite(declaredLength) && declaredLength > limit) {
        request.raw.resume();
        throw new HttpError('PAYLOAD_TOO_LARGE', `the sample is larger than ${limit} bytes`, { headers: { connection: 'close' } });
      }
      const mediaType = String(request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      const format = FORMATS[mediaType];
      if (!format) throw httpError('UNSUPPORTED_MEDIA_TYPE', 'send the sample as text/csv, application/x-ndjson, application/vnd.apache.parquet or application/vnd.apache.arrow.file (or .stream)');
      const model = await requireModel(deps.models, modelId);
      const source = request.body as IncomingMessage;
      const limited = new ByteLimit(limit);
      source.on('error', (err) => limited.destroy(err));
      // The builder consumes `limited` and sees its errors; this keeps a late one from going unhandled.
      limited.on('error', () => undefined);
      source.pipe(limited);
      let built;
      try {
        const nextVersion = ((await deps.models.latestReference(modelId))?.version ?? 0) + 1;
        built = await buildReference({ modelId, model, format, body: limited, createdAt: now(), nextVersion });
      } catch (err) {
        if (limited.exceeded) {
          source.unpipe(limited);
          source.resume();
          throw new HttpError('PAYLOAD_TOO_LARGE', `the sample is larger than ${limit} bytes`, { headers: { connection: 'close' } });
        }
        if (err instanceof HttpError) throw err;
        if ((err instanceof DriftstreamError && INVALID_SAMPLE_CODES.has(err.code)) || err instanceof RangeError || err instanceof SyntaxError) {
          throw new HttpError('REFERENCE_INVALID', `reference sample rejected: ${(err as Error).message}`, { cause: err });
        }
        throw err;
      }
      if (built.rows === 0) throw httpError('REFERENCE_INVALID', 'reference sample rejected: it holds no rows');
      const stored = await deps.models.addReference(modelId, built.referenceId, built.profile);
      const features = Object.keys((built.profile as { features?: Record<string, unknown> })?.features ?? {});
      request.log.info({ modelId, referenceId: stored.referenceId, version: stored.version, rows: built.rows, bytes: limited.bytes }, 'reference stored');
      return reply.status(201).send({ referenceId: stored.referenceId, modelId, version: stored.version, createdAt: stored.createdAt, rows: built.rows, features });
    });
  });
}
