import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator } from './auth.js';
import type { HttpDeps } from './deps.js';
import { httpError } from './errors.js';

type Guard = (request: FastifyRequest) => Promise<void>;

/** What every route module receives from buildApp. */
export interface RouteContext {
  deps: HttpDeps;
  auth: Authenticator;
  /** preHandler guards by the least role needed. */
  guard: { read: Guard; edit: Guard; admin: Guard };
  /** The write rate limit: one counter per client across every write route; runs after the guard. */
  writeLimit: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  now: () => number;
}

/** Latest instant a time parameter may name: the end of year 9999, as ISO-8601 writes it with four digits. */
export const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-](\d{2}):?(\d{2}))?)?$/;

function outOfRange(name: string): never {
  throw httpError('VALIDATION_FAILED', `${name} must be epoch milliseconds or an ISO-8601 timestamp between 1970-01-01 and 9999-12-31`, [
    { path: `/${name}`, context: 'querystring', message: 'out of range' },
  ]);
}

/**
 * Epoch milliseconds from a query value: digits, or an ISO-8601 timestamp
 * that names a real calendar instant (no 30 February, no hour 25) between
 * 1970 and 9999, so every value accepted here is one the stores can hold.
 */
export function parseTime(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^\d+$/.test(value)) {
    const ms = Number(value);
    if (ms > MAX_TIME_MS) outOfRange(name);
    return ms;
  }
  const m = ISO_TIME.exec(value);
  if (!m) outOfRange(name);
  const [, y, mo, d, h = '0', mi = '0', sec = '0', , oh = '0', om = '0'] = m;
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  const realDay = day.getUTCFullYear() === Number(y) && day.getUTCMonth() === Number(mo) - 1 && day.getUTCDate() === Number(d);
  if (!realDay || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59 || Number(oh) > 23 || Number(om) > 59) outOfRange(name);
  const t = Date.parse(value);
  if (Number.isNaN(t) || t < 0 || t > MAX_TIME_MS) outOfRange(name);
  return t;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Media types of a streamed body, listed in OpenAPI though Fastify does not validate the body. */
    uploadMediaTypes?: readonly string[];
  }
}
