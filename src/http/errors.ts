import { DriftstreamError } from '../errors.js';

/**
 * Every error code the HTTP API answers with, its status and meaning.
 * docs/errors.md documents each (a unit test checks it); the handler in
 * error-handler.ts maps any thrown error onto one of these.
 */
export const HTTP_ERROR_CODES = {
  VALIDATION_FAILED: { status: 400, description: 'A path, query or body value does not match the schema.' },
  MALFORMED_JSON: { status: 400, description: 'The JSON body cannot be parsed (or is empty).' },
  MALFORMED_URL: { status: 400, description: 'The URL cannot be decoded (bad percent-encoding) or holds a control character.' },
  MODEL_ID_MISMATCH: { status: 400, description: 'The body names a different modelId than the path.' },
  MODEL_INVALID: { status: 400, description: 'The model configuration is not valid; the message starts with the offending field.' },
  REFERENCE_INVALID: { status: 400, description: 'The reference sample cannot be read or holds no usable rows.' },
  CHANNEL_INVALID: { status: 400, description: 'The notification channel is not valid (or holds a secret instead of a reference to one); the message starts with the offending field.' },
  CHANNEL_ID_MISMATCH: { status: 400, description: 'The body names a different channel id than the path.' },
  TOO_MANY_FEATURES: { status: 400, description: 'A model declares, or a reference sample infers, more features than a model may have.' },
  TOO_MANY_CATEGORIES: { status: 400, description: 'A model keeps more categories per feature (topK) than DRIFTSTREAM_MAX_CATEGORIES.' },
  UNAUTHENTICATED: { status: 401, description: 'No credentials, or an unknown key, or an invalid or expired token.' },
  FORBIDDEN: { status: 403, description: 'The credentials are valid but their role is too low for this operation.' },
  MODEL_NOT_FOUND: { status: 404, description: 'No model with this modelId is registered.' },
  WINDOW_NOT_FOUND: { status: 404, description: 'The model has no window with this name.' },
  FEATURE_NOT_FOUND: { status: 404, description: 'The model has no feature with this name.' },
  NO_EVALUATION: { status: 404, description: 'The window has not been evaluated yet.' },
  CHANNEL_NOT_FOUND: { status: 404, description: 'No notification channel with this id.' },
  ROUTE_NOT_FOUND: { status: 404, description: 'No route matches the method and path.' },
  PAYLOAD_TOO_LARGE: { status: 413, description: 'The request body is larger than the configured limit.' },
  TOO_MANY_COLUMNS: { status: 413, description: 'The reference sample has more columns than DRIFTSTREAM_REFERENCE_MAX_COLUMNS.' },
  CELL_TOO_LARGE: { status: 413, description: 'A cell of the reference sample is larger than DRIFTSTREAM_REFERENCE_MAX_CELL_BYTES.' },
  REFERENCE_TOO_LARGE: { status: 413, description: 'The reference profile built from the sample is larger than DRIFTSTREAM_REFERENCE_MAX_PROFILE_BYTES.' },
  URI_TOO_LONG: { status: 414, description: 'A path segment is longer than any route accepts.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'The Content-Type is not accepted by this route.' },
  RATE_LIMITED: { status: 429, description: 'Too many write requests from this client; retry after the Retry-After header.' },
  INTERNAL_ERROR: { status: 500, description: 'An unexpected error; details are in the server log under the request id.' },
  DEPENDENCY_UNAVAILABLE: { status: 503, description: 'Redis, PostgreSQL or another dependency did not answer; retry later.' },
  NOT_READY: { status: 503, description: 'Readiness check: one or more dependencies are down (named in the body).' },
} as const satisfies Record<string, { status: number; description: string }>;

export type HttpErrorCode = keyof typeof HTTP_ERROR_CODES;

/** An error meant for the client: its code fixes the status, its message is safe to show. */
export class HttpError extends DriftstreamError {
  readonly statusCode: number;
  readonly details?: unknown;
  readonly headers?: Record<string, string>;

  constructor(code: HttpErrorCode, message: string, options: { details?: unknown; cause?: unknown; headers?: Record<string, string> } = {}) {
    super(code, message, { retriable: HTTP_ERROR_CODES[code].status >= 500 && code !== 'INTERNAL_ERROR', cause: options.cause });
    this.statusCode = HTTP_ERROR_CODES[code].status;
    this.details = options.details;
    this.headers = options.headers;
  }
}

export function httpError(code: HttpErrorCode, message: string, details?: unknown): HttpError {
  return new HttpError(code, message, { details });
}

/** Status of project error codes raised below the HTTP layer (src/errors.ts and the core). */
export const DOMAIN_CODE_STATUS: Readonly<Record<string, number>> = {
  VALIDATION_FAILED: 400,
  CONFIG_INVALID: 400,
  MODEL_INVALID: 400,
  REFERENCE_INVALID: 400,
  TOO_MANY_FEATURES: 400,
  SAMPLE_MALFORMED: 400,
  SAMPLE_UNSUPPORTED_COLUMN: 400,
  INVALID_CURSOR: 400,
  CHANNEL_INVALID: 400,
  DECODE_FAILED: 400,
  DEPENDENCY_UNAVAILABLE: 503,
  DECODE_RETRIABLE: 503,
};

/** The body of every error answer. */
export interface ErrorBody {
  statusCode: number;
  code: string;
  error: string;
  message: string;
  requestId: string;
  details?: unknown;
}
