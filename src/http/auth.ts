import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Role } from '../config/config.js';
import type { HttpConfig } from './deps.js';
import { HttpError } from './errors.js';

export type { Role };

export interface Principal {
  subject: string;
  role: Role;
  method: 'api-key' | 'jwt';
}

const ROLE_RANK: Record<Role, number> = { reader: 1, editor: 2, admin: 3 };

export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[needed];
}

function isRole(v: unknown): v is Role {
  return v === 'reader' || v === 'editor' || v === 'admin';
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The credential a request carries: `x-api-key`, or `Authorization: Bearer <key or JWT>`. */
export function credentialOf(request: FastifyRequest): string | undefined {
  const key = request.headers['x-api-key'];
  if (typeof key === 'string' && key.length > 0) return key;
  const auth = request.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  return undefined;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Role a JWT grants: a `role` claim, or the highest of a `roles` array. */
function roleOfClaims(payload: JWTPayload): Role | undefined {
  if (isRole(payload.role)) return payload.role;
  const roles = payload.roles;
  if (Array.isArray(roles)) {
    const valid = roles.filter(isRole);
    if (valid.length) return valid.sort((a, b) => ROLE_RANK[b] - ROLE_RANK[a])[0];
  }
  return undefined;
}

/**
 * Checks API keys (constant time) and JWTs (HS256 with a shared secret, RS256
 * with keys from a JWKS URL). Built once per app from the frozen config.
 */
export class Authenticator {
  private readonly keys: { digest: Buffer; role: Role; index: number }[];
  private readonly jwks?: JWTVerifyGetKey;
  private readonly secret?: Uint8Array;

  constructor(private readonly config: HttpConfig) {
    // Keys are compared as SHA-256 digests: equal length, so timingSafeEqual
    // applies, and every configured key is compared on every request.
    this.keys = config.apiKeys.map((k, index) => ({ digest: digest(k.key), role: k.role, index }));
    if (config.jwt.secret) this.secret = new TextEncoder().encode(config.jwt.secret);
    if (config.jwt.jwksUrl) this.jwks = createRemoteJWKSet(new URL(config.jwt.jwksUrl), { timeoutDuration: 3000, cooldownDuration: 30_000 });
  }

  get jwtEnabled(): boolean {
    return this.secret !== undefined || this.jwks !== undefined;
  }

  /** The principal of the request, undefined when it carries no credential; throws UNAUTHENTICATED for a bad one. */
  async authenticate(request: FastifyRequest): Promise<Principal | undefined> {
    const credential = credentialOf(request);
    if (credential === undefined) return undefined;
    const byKey = this.matchKey(credential);
    if (byKey) return byKey;
    if (this.jwtEnabled && JWT_SHAPE.test(credential)) return this.verifyJwt(credential);
    throw new HttpError('UNAUTHENTICATED', 'invalid credentials', { headers: { 'www-authenticate': 'Bearer' } });
  }

  private matchKey(credential: string): Principal | undefined {
    const d = digest(credential);
    let found: { role: Role; index: number } | undefined;
    for (const k of this.keys) {
      if (timingSafeEqual(d, k.digest) && !found) found = k;
    }
    return found && { subject: `api-key#${found.index}`, role: found.role, method: 'api-key' };
  }

  private async verifyJwt(token: string): Promise<Principal> {
    const options = {
      issuer: this.config.jwt.issuer,
      audience: this.config.jwt.audience,
      // A token that never expires is a credential that can never be withdrawn.
      requiredClaims: ['exp'],
    };
    let payload: JWTPayload | undefined;
    let failure: unknown;
    const attempts: (() => Promise<{ payload: JWTPayload }>)[] = [];
    if (this.secret) attempts.push(() => jwtVerify(token, this.secret!, { ...options, algorithms: ['HS256'] }));
    if (this.jwks) attempts.push(() => jwtVerify(token, this.jwks!, { ...options, algorithms: ['RS256'] }));
    for (const attempt of attempts) {
      try {
        payload = (await attempt()).payload;
        break;
      } catch (err) {
        failure = failure instanceof joseErrors.JWTExpired ? failure : err;
      }
    }
    if (!payload) {
      const message =
        failure instanceof joseErrors.JWTExpired
          ? 'token expired'
          : failure instanceof joseErrors.JWTClaimValidationFailed
            ? failure.claim === 'exp' && failure.reason === 'missing'
              ? 'token has no exp claim; tokens must expire'
              : `token claim check failed: ${failure.claim}`
            : failure instanceof joseErrors.JWKSTimeout || failure instanceof joseErrors.JWKSInvalid
              ? 'token keys unavailable'
              : 'invalid token';
      throw new HttpError('UNAUTHENTICATED', message, { headers: { 'www-authenticate': 'Bearer error="invalid_token"' }, cause: failure });
    }
    // Lifetime from its issue time, or from now when it has none: either way bounded.
    const lifetimeMs = payload.exp! * 1000 - (typeof payload.iat === 'number' ? payload.iat * 1000 : Date.now());
    if (lifetimeMs > this.config.jwtMaxLifetimeMs) {
      throw new HttpError('UNAUTHENTICATED', `token lifetime exceeds the ${Math.round(this.config.jwtMaxLifetimeMs / 1000)} s allowed`, {
        headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
      });
    }
    const role = roleOfClaims(payload);
    if (!role) throw new HttpError('FORBIDDEN', 'token carries no role claim (reader, editor or admin)');
    return { subject: payload.sub ?? 'jwt', role, method: 'jwt' };
  }
}

/**
 * The check a route runs before its handler: reads are open unless
 * `authReads`; anything above reader always needs a credential.
 */
export function requireRole(auth: Authenticator, config: HttpConfig, needed: Role) {
  return async (request: FastifyRequest): Promise<void> => {
    if (needed === 'reader' && !config.authReads) return;
    const principal = await auth.authenticate(request);
    if (!principal) {
      throw new HttpError('UNAUTHENTICATED', 'credentials required: an API key (x-api-key or Authorization: Bearer) or a JWT', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
    if (!roleAtLeast(principal.role, needed)) throw new HttpError('FORBIDDEN', `role ${principal.role} may not do this; ${needed} or higher required`);
    request.principal = principal;
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}
