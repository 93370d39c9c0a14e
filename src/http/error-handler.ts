import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DecodeError, DriftstreamError, UnavailableError, ValidationError } from '../errors.js';
import { DOMAIN_CODE_STATUS, HttpError, type ErrorBody } from './errors.js';

interface Mapped {
  statusCode: number;
  code: string;
  message: string;
  details?: unknown;
  headers?: Record<string, string>;
}

function fromFastify(err: FastifyError): Mapped | undefined {
  switch (err.code) {
    case 'FST_ERR_VALIDATION':
      return {
        statusCode: 400,
        code: 'VALIDATION_FAILED',
        message: err.message,
        details: err.validation?.map((v) => ({ path: v.instancePath || undefined, context: err.validationContext, message: v.message, params: v.params })),
      };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { statusCode: 400, code: 'MALFORMED_JSON', message: `malformed JSON body: ${err.message}` };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { statusCode: 400, code: 'MALFORMED_JSON', message: 'the JSON body is empty' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { statusCode: 413, code: 'PAYLOAD_TOO_LARGE', message: 'the request body is larger than the configured limit' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: err.message };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { statusCode: 400, code: 'VALIDATION_FAILED', message: 'the Content-Length header does not match the body' };
  }
  // A JSON syntax error raised by the body parser before Fastify wraps it.
  if (err instanceof SyntaxError && err.statusCode === 400) {
    return { statusCode: 400, code: 'MALFORMED_JSON', message: `malformed JSON body: ${err.message}` };
  }
  return undefined;
}

/** Maps any thrown value onto the one error model; never exposes a stack trace. */
export function mapError(err: unknown): Mapped {
  if (err instanceof HttpError) {
    return { statusCode: err.statusCode, code: err.code, message: err.message, details: err.details, headers: err.headers };
  }
  if (err instanceof UnavailableError) {
    return { statusCode: 503, code: err.code, message: `${err.dependency} is unavailable; retry later`, headers: { 'retry-after': '5' } };
  }
  if (err instanceof DriftstreamError) {
    const status = DOMAIN_CODE_STATUS[err.code] ?? (err instanceof ValidationError || (err instanceof DecodeError && !err.retriable) ? 400 : undefined);
    if (status !== undefined) return { statusCode: status, code: err.code, message: err.message };
    // Retrying may help: say so, without the internal message (it may name hosts or queries).
    if (err.retriable) return { statusCode: 503, code: 'DEPENDENCY_UNAVAILABLE', message: 'a dependency is unavailable; retry later', headers: { 'retry-after': '5' } };
    return { statusCode: 500, code: 'INTERNAL_ERROR', message: 'internal error' };
  }
  const fe = err as FastifyError;
  if (fe && typeof fe === 'object') {
    const mapped = fromFastify(fe);
    if (mapped) return mapped;
    // Plugins (rate limit, static) answer with a statusCode of their own.
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      const code = fe.statusCode === 404 ? 'ROUTE_NOT_FOUND' : fe.statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : fe.statusCode === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : fe.statusCode === 429 ? 'RATE_LIMITED' : 'VALIDATION_FAILED';
      return { statusCode: fe.statusCode, code, message: fe.message };
    }
  }
  return { statusCode: 500, code: 'INTERNAL_ERROR', message: 'internal error' };
}

/** The `limit` label of `driftstream_http_limit_rejections_total` for each error code a configured limit raises. */
const LIMIT_OF_CODE: Readonly<Record<string, string>> = {
  RATE_LIMITED: 'rate_limit',
  PAYLOAD_TOO_LARGE: 'body_size',
  TOO_MANY_COLUMNS: 'upload_columns',
  CELL_TOO_LARGE: 'cell_size',
  REFERENCE_TOO_LARGE: 'reference_size',
  TOO_MANY_FEATURES: 'features',
  TOO_MANY_CATEGORIES: 'categories',
  URI_TOO_LONG: 'path_length',
};

/** Every `limit` label value, so each series exists (at 0) from the start. */
export const HTTP_LIMITS: readonly string[] = [...new Set([...Object.values(LIMIT_OF_CODE), 'upload_size'])];

/** Told the `limit` label of each request a configured limit refused. */
export type LimitCounter = (limit: string) => void;

/** Counts a refusal by a configured limit, if `code` is one's; a too-large reference upload is `upload_size`, any other body `body_size`. */
export function countLimit(onLimit: LimitCounter | undefined, request: FastifyRequest, code: string): void {
  let limit = LIMIT_OF_CODE[code];
  if (limit === undefined || onLimit === undefined) return;
  if (limit === 'body_size' && request.routeOptions?.config?.uploadMediaTypes) limit = 'upload_size';
  onLimit(limit);
}

export function errorBody(request: FastifyRequest, m: Mapped): ErrorBody {
  const body: ErrorBody = { statusCode: m.statusCode, code: m.code, error: STATUS_CODES[m.statusCode] ?? 'Error', message: m.message, requestId: String(request.id) };
  if (m.details !== undefined) body.details = m.details;
  return body;
}

export function handleError(err: unknown, request: FastifyRequest, reply: FastifyReply, onLimit?: LimitCounter): void {
  const m = mapError(err);
  countLimit(onLimit, request, m.code);
  if (m.statusCode >= 500) request.log.error({ err }, 'request failed');
  else request.log.info({ code: m.code, statusCode: m.statusCode }, m.message);
  if (m.headers) reply.headers(m.headers);
  void reply.status(m.statusCode).type('application/json; charset=utf-8').send(errorBody(request, m));
}
