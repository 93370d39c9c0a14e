import { Transform, type TransformCallback } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DriftstreamError } from '../../errors.js';
import type { SampleFormat } from '../../ports/reference-builder.js';
import { HttpError, httpError, type HttpErrorCode } from '../errors.js';
import { requireModel } from '../model-view.js';
import { createReferenceBuilder } from '../reference-builder.js';
import type { RouteContext } from '../route-context.js';
import { modelWithImportance, parseImportanceQuery } from './reference-importance.js';
import { errorResponses, modelIdParams, writeSecurity } from '../schemas.js';

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

/** The media types the upload takes, as OpenAPI lists them. */
const UPLOAD_MEDIA_TYPES = ['text/csv', 'application/x-ndjson', 'application/vnd.apache.parquet', 'application/vnd.apache.arrow.file', 'application/vnd.apache.arrow.stream'];
const LIMIT_CODES = new Set(['TOO_MANY_COLUMNS', 'CELL_TOO_LARGE', 'TOO_MANY_FEATURES']);
// Any absolute path of a temporary file that a reader's message might still carry.
const TEMP_PATH = /(?:[A-Za-z]:)?[\\/][^\s:'"]*driftstream-upload-[^\s:'"]*/g;

function scrubPaths(message: string): string {
  return message.replace(TEMP_PATH, 'the sample');
}

const INVALID_SAMPLE_CODES = new Set(['VALIDATION_FAILED', 'DECODE_FAILED', 'CONFIG_INVALID', 'REFERENCE_INVALID', 'SAMPLE_MALFORMED', 'SAMPLE_UNSUPPORTED_COLUMN', 'MODEL_INVALID']);

/** The upload's OpenAPI description; the byte limit comes from the configuration. */
function uploadSchema(limit: number) {
  return {
    tags: ['models'],
    summary: 'Upload a reference sample (CSV with a header row, NDJSON, Parquet or Arrow IPC); answers the new profile (editor)',
    description: `Streamed, at most ${limit} bytes. Content-Type text/csv, application/x-ndjson, application/vnd.apache.parquet, or application/vnd.apache.arrow.file / .stream.`,
    security: writeSecurity,
    params: modelIdParams,
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: { importance: { type: 'string', maxLength: 65_536, description: 'Feature importance uploaded with the reference, `name:weight` pairs comma-separated; stored in the model (docs/reports.md)' } },
    },
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
          importance: { type: 'object', additionalProperties: { type: 'number' } },
        },
      },
      ...errorResponses,
    },
  } as const;
}

type UploadRequest = FastifyRequest<{ Params: { modelId: string }; Querystring: { importance?: string } }>;

/** Reference sample uploads: streamed, bounded, profiled and stored as the model's next reference. */
export async function referenceRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const limit = ctx.deps.config.referenceUploadLimitBytes;
  const upload = uploadHandler(ctx);
  // Encapsulated so the streaming parsers apply to this route only.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(Object.keys(FORMATS), (_request: unknown, payload: IncomingMessage, done: (err: Error | null, body?: unknown) => void) => {
      done(null, payload);
    });
    scope.post<{ Params: { modelId: string }; Querystring: { importance?: string } }>('/api/v1/models/:modelId/reference', {
      preHandler: [ctx.guard.edit, ctx.writeLimit],
      bodyLimit: limit,
      // Documents the streamed body in OpenAPI (app.ts); Fastify does not validate it.
      config: { uploadMediaTypes: UPLOAD_MEDIA_TYPES },
      schema: uploadSchema(limit),
    }, upload);
  });
}

function uploadHandler(ctx: RouteContext) {
  const { deps, now } = ctx;
  const limit = deps.config.referenceUploadLimitBytes;
  const maxProfileBytes = deps.config.referenceMaxProfileBytes;
  const uploadLimits = {
    maxColumns: deps.config.referenceMaxColumns,
    maxCellBytes: deps.config.referenceMaxCellBytes,
    maxCategories: deps.config.maxCategories,
  };
  const buildReference = deps.referenceBuilder ?? createReferenceBuilder();

  return async (request: UploadRequest, reply: FastifyReply) => {
    const { modelId } = request.params;
    const format = sampleFormat(request, limit);
    const importance = parseImportanceQuery(request.query.importance);
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
      built = await buildReference({ modelId, model, format, body: limited, createdAt: now(), nextVersion, limits: uploadLimits });
    } catch (err) {
      // A sample refused before its end is not read on: the connection closes instead.
      if (!source.readableEnded) {
        source.unpipe(limited);
        source.resume();
        reply.header('connection', 'close');
      }
      throw uploadError(err, limited, limit);
    }
    if (built.rows === 0) throw httpError('REFERENCE_INVALID', 'reference sample rejected: it holds no rows');
    // Stored profiles are read back by every model answer and every detector start: their size is bounded.
    const profileBytes = Buffer.byteLength(JSON.stringify(built.profile), 'utf8');
    if (profileBytes > maxProfileBytes) {
      throw httpError('REFERENCE_TOO_LARGE', `reference sample rejected: its profile would take ${profileBytes} bytes; at most ${maxProfileBytes} are stored (fewer columns or a lower topK make it smaller)`);
    }
    const features = Object.keys((built.profile as { features?: Record<string, unknown> })?.features ?? {});
    const withImportance = importance ? modelWithImportance(deps, model, importance, features) : undefined;
    const stored = await deps.models.addReference(modelId, built.referenceId, built.profile);
    if (withImportance) await deps.models.putModel(withImportance);
    request.log.info({ modelId, referenceId: stored.referenceId, version: stored.version, rows: built.rows, bytes: limited.bytes }, 'reference stored');
    return reply.status(201).send({ referenceId: stored.referenceId, modelId, version: stored.version, createdAt: stored.createdAt, rows: built.rows, features, ...(importance ? { importance } : {}) });
  };
}

/** The sample's format from its media type; a body declared larger than the limit is refused before it is read. */
function sampleFormat(request: UploadRequest, limit: number): SampleFormat {
  const declaredLength = Number(request.headers['content-length']);
  if (Number.isFinite(declaredLength) && declaredLength > limit) {
    request.raw.resume();
    throw new HttpError('PAYLOAD_TOO_LARGE', `the sample is larger than ${limit} bytes`, { headers: { connection: 'close' } });
  }
  const mediaType = String(request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const format = FORMATS[mediaType];
  if (!format) throw httpError('UNSUPPORTED_MEDIA_TYPE', 'send the sample as text/csv, application/x-ndjson, application/vnd.apache.parquet or application/vnd.apache.arrow.file (or .stream)');
  return format;
}

/** What the client hears when building the profile failed: the limit it passed, or why the sample is refused. */
function uploadError(err: unknown, limited: ByteLimit, limit: number): unknown {
  if (limited.exceeded) {
    return new HttpError('PAYLOAD_TOO_LARGE', `the sample is larger than ${limit} bytes`, { headers: { connection: 'close' } });
  }
  if (err instanceof HttpError) return err;
  if (err instanceof DriftstreamError && LIMIT_CODES.has(err.code)) {
    return new HttpError(err.code as HttpErrorCode, `reference sample rejected: ${scrubPaths(err.message)}`, { cause: err });
  }
  if ((err instanceof DriftstreamError && INVALID_SAMPLE_CODES.has(err.code)) || err instanceof RangeError || err instanceof SyntaxError) {
    return new HttpError('REFERENCE_INVALID', `reference sample rejected: ${scrubPaths((err as Error).message)}`, { cause: err });
  }
  return err;
}
