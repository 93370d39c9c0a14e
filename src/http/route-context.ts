import type { FastifyRequest } from 'fastify';
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
  now: () => number;
}

/** Epoch milliseconds from a query value: digits, or an ISO-8601 timestamp. */
export function parseTime(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw httpError('VALIDATION_FAILED', `${name} must be epoch milliseconds or an ISO-8601 timestamp`);
  return t;
}
