import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { KEYS, seededApp } from './fixtures.js';

const SECRET = 'hs256-test-secret-that-is-long-enough-0123456789';
const put = (headers: Record<string, string>) => ({ method: 'PUT' as const, url: '/api/v1/models/m1', headers, payload: { features: { a: 'numeric' } } });

async function hsToken(claims: Record<string, unknown>, opts: { expiresIn?: string | number | null; secret?: string; issuer?: string; audience?: string; issuedAt?: number | null; subject?: string } = {}) {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(opts.subject ?? 'alice');
  if (opts.issuedAt !== null) jwt = jwt.setIssuedAt(opts.issuedAt);
  // Tokens expire unless a test says otherwise (null: no exp claim at all).
  if (opts.expiresIn !== null) jwt = jwt.setExpirationTime(opts.expiresIn ?? '10m');
  if (opts.issuer) jwt = jwt.setIssuer(opts.issuer);
  if (opts.audience) jwt = jwt.setAudience(opts.audience);
  return jwt.sign(new TextEncoder().encode(opts.secret ?? SECRET));
}

describe('API keys', () => {
  it('leaves reads open by default and always protects writes', async () => {
    const { app } = await seededApp();
    expect((await app.inject({ url: '/api/v1/models' })).statusCode).toBe(200);
    const r = await app.inject(put({}));
    expect(r.statusCode).toBe(401);
    expect(r.json().code).toBe('UNAUTHENTICATED');
    expect(r.headers['www-authenticate']).toBe('Bearer');
  });

  it('answers 401 for a wrong key, 403 for a role too low, and accepts x-api-key or Bearer', async () => {
    const { app } = await seededApp();
    let r = await app.inject(put({ 'x-api-key': 'not-a-key-at-all' }));
    expect(r.statusCode).toBe(401);
    expect(r.json()).toMatchObject({ code: 'UNAUTHENTICATED', message: 'invalid credentials' });
    r = await app.inject(put({ 'x-api-key': KEYS.editor.slice(0, -1) }));
    expect(r.statusCode).toBe(401);
    r = await app.inject(put({ 'x-api-key': KEYS.reader }));
    expect(r.statusCode).toBe(403);
    expect(r.json()).toMatchObject({ code: 'FORBIDDEN', message: 'role reader may not do this; editor or higher required' });
    r = await app.inject(put({ authorization: `Bearer ${KEYS.editor}` }));
    expect(r.statusCode).toBe(201);
    r = await app.inject({ method: 'DELETE', url: '/api/v1/models/m1', headers: { 'x-api-key': KEYS.editor } });
    expect(r.statusCode).toBe(403);
    r = await app.inject({ method: 'DELETE', url: '/api/v1/models/m1', headers: { authorization: `bearer ${KEYS.admin}` } });
    expect(r.statusCode).toBe(204);
  });

  it('protects reads when DRIFTSTREAM_AUTH_READS is on, but not health, readiness or metrics', async () => {
    const { app } = await seededApp({}, { DRIFTSTREAM_AUTH_READS: 'true' });
    expect((await app.inject({ url: '/api/v1/models' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/v1/alerts', headers: { 'x-api-key': 'wrong-wrong-wrong' } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/v1/models', headers: { 'x-api-key': KEYS.reader } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/models/credit-risk/drift', headers: { 'x-api-key': KEYS.admin } })).statusCode).toBe(200);
    for (const url of ['/healthz', '/readyz', '/metrics']) expect((await app.inject({ url })).statusCode).toBe(200);
  });

  it('never logs keys or tokens', async () => {
    const { app, logs } = await seededApp();
    await app.inject(put({ 'x-api-key': KEYS.editor }));
    await app.inject(put({ 'x-api-key': 'leaked-wrong-key-123' }));
    await app.inject(put({ authorization: `Bearer ${KEYS.admin}` }));
    const text = logs.lines.join('\n');
    expect(logs.lines.length).toBeGreaterThan(3);
    expect(text).not.toContain(KEYS.editor);
    expect(text).not.toContain(KEYS.admin);
    expect(text).not.toContain('leaked-wrong-key-123');
    const lines = logs.lines.map((l) => JSON.parse(l));
    expect(lines.some((l) => l.msg === 'model configuration stored' && l.principal === 'api-key#1' && typeof l.reqId === 'string')).toBe(true);
  });

  it('writes one access-log line per request, with the request id and credentials in the query redacted', async () => {
    const { app, logs } = await seededApp();
    const r = await app.inject({ url: '/api/v1/models?access_token=query-secret-123&limit=5' });
    await app.inject({ url: '/healthz' });
    await app.inject({ url: '/metrics' });
    expect(logs.lines.join('\n')).not.toContain('query-secret-123');
    const access = logs.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request completed');
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({
      level: 30,
      reqId: r.headers['x-request-id'],
      http: { method: 'GET', url: '/api/v1/models?access_token=***&limit=5', route: '/api/v1/models', statusCode: 200, remoteAddress: '127.0.0.1' },
    });
    expect(access[0].responseTime).toEqual(expect.any(Number));
  });
});

describe('JWT HS256', () => {
  const env = { DRIFTSTREAM_JWT_SECRET: SECRET };

  it('accepts a valid token with an editor role and rejects a reader role', async () => {
    const { app } = await seededApp({}, env);
    let r = await app.inject(put({ authorization: `Bearer ${await hsToken({ role: 'editor' }, { expiresIn: '5m' })}` }));
    expect(r.statusCode).toBe(201);
    r = await app.inject(put({ authorization: `Bearer ${await hsToken({ roles: ['reader', 'admin'] }, { expiresIn: '5m' })}` }));
    expect(r.statusCode).toBe(200);
    r = await app.inject(put({ authorization: `Bearer ${await hsToken({ role: 'reader' }, { expiresIn: '5m' })}` }));
    expect(r.statusCode).toBe(403);
    r = await app.inject(put({ authorization: `Bearer ${await hsToken({ sub: 'x' }, { expiresIn: '5m' })}` }));
    expect(r.statusCode).toBe(403);
    expect(r.json().message).toMatch(/no role claim/);
  });

  it('rejects an expired token, a wrong signature and a token of another algorithm', async () => {
    const { app } = await seededApp({}, env);
    let r = await app.inject(put({ authorization: `Bearer ${await hsToken({ role: 'admin' }, { expiresIn: Math.floor(Date.now() / 1000) - 60 })}` }));
    expect(r.statusCode).toBe(401);
    expect(r.json()).toMatchObject({ code: 'UNAUTHENTICATED', message: 'token expired' });
    r = await app.inject(put({ authorization: `Bearer ${await hsToken({ role: 'admin' }, { secret: 'another-secret-another-secret-another' })}` }));
    expect(r.statusCode).toBe(401);
    expect(r.json().message).toBe('invalid token');
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const body = Buffer.from(JSON.stringify({ role: 'admin' })).toString('base64url');
    r = await app.inject(put({ authorization: `Bearer ${header}.${body}.` }));
    expect(r.statusCode).toBe(401);
  });

  it('refuses a token without exp, and one living longer than DRIFTSTREAM_JWT_MAX_LIFETIME', async () => {
    const { app } = await seededApp({}, { ...env, DRIFTSTREAM_JWT_MAX_LIFETIME: '1h' });
    let r = await app.inject(put({ authorization: `Bearer ${await hsToken({ role: 'editor' }, { expiresIn: null })}` }));
    expect(r.statusCode).toBe(401);
    expect(r.json()).toMatchObject({ code: 'UNAUTHENTICATED', message: 'token has no exp claim; tokens must expire' });
    r = await app.inject(put({ authorization: `Bearer ${await hsToken({ role: 'editor' }, { expiresIn: '2h' })}` }));
    expect(r.statusCode).toBe(401);
    expect(r.json().message).toBe('token lifetime exceeds the 3600 s allowed');
    // Without iat the lifetime counts from now.
    r = await app.inject(put({ authorization: `Bearer ${await hsToken({ role: 'editor' }, { expiresIn: '2h', issuedAt: null })}` }));
    expect(r.statusCode).toBe(401);
    r = await app.inject(put({ authorization: `Bearer ${await hsToken({ role: 'editor' }, { expiresIn: '59m', issuedAt: null })}` }));
    expect(r.statusCode).toBe(201);
    r = await app.inject(put({ authorization: `Bearer ${await hsToken({ role: 'editor' }, { expiresIn: '1h' })}` }));
    expect(r.statusCode).toBe(200);
  });

  it('checks issuer and audience when configured', async () => {
    const { app } = await seededApp({}, { ...env, DRIFTSTREAM_JWT_ISSUER: 'https://idp.example', DRIFTSTREAM_JWT_AUDIENCE: 'driftstream' });
    let r = await app.inject(put({ authorization: `Bearer ${await hsToken({ role: 'editor' }, { issuer: 'https://idp.example', audience: 'driftstream' })}` }));
    expect(r.statusCode).toBe(201);
    r = await app.inject(put({ authorization: `Bearer ${await hsToken({ role: 'editor' }, { issuer: 'https://evil.example', audience: 'driftstream' })}` }));
    expect(r.statusCode).toBe(401);
    expect(r.json().message).toBe('token claim check failed: iss');
  });
});

describe('JWT RS256 with a JWKS URL', () => {
  let server: Server;
  let url: string;
  let signingKey: CryptoKey;
  let otherKey: CryptoKey;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    signingKey = pair.privateKey;
    otherKey = (await generateKeyPair('RS256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = createServer((req, res) => {
      if (req.url === '/.well-known/jwks.json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys: [jwk] }));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const rsToken = (key: CryptoKey, role: string, exp: string | number = '5m') =>
    new SignJWT({ role }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('svc').setIssuedAt().setExpirationTime(exp).sign(key);

  it('accepts tokens signed by a JWKS key and rejects others', async () => {
    const { app } = await seededApp({}, { DRIFTSTREAM_JWT_JWKS_URL: url });
    let r = await app.inject(put({ authorization: `Bearer ${await rsToken(signingKey, 'editor')}` }));
    expect(r.statusCode).toBe(201);
    r = await app.inject(put({ authorization: `Bearer ${await rsToken(otherKey, 'editor')}` }));
    expect(r.statusCode).toBe(401);
    r = await app.inject(put({ authorization: `Bearer ${await rsToken(signingKey, 'reader')}` }));
    expect(r.statusCode).toBe(403);
    r = await app.inject(put({ authorization: `Bearer ${await rsToken(signingKey, 'editor', Math.floor(Date.now() / 1000) - 5)}` }));
    expect(r.statusCode).toBe(401);
    expect(r.json().message).toBe('token expired');
  });

  it('answers 401 when the JWKS server cannot be reached', async () => {
    const { app } = await seededApp({}, { DRIFTSTREAM_JWT_JWKS_URL: 'http://127.0.0.1:9/jwks.json' });
    const r = await app.inject(put({ authorization: `Bearer ${await rsToken(signingKey, 'editor')}` }));
    expect(r.statusCode).toBe(401);
    expect(r.json().code).toBe('UNAUTHENTICATED');
  });
});

describe('rate limits and CORS', () => {
  it('limits writes per client and answers 429 RATE_LIMITED with Retry-After; reads are not limited', async () => {
    const { app } = await seededApp({}, { DRIFTSTREAM_RATE_LIMIT_WRITES: '2' });
    expect((await app.inject(put({ 'x-api-key': KEYS.editor }))).statusCode).toBe(201);
    expect((await app.inject(put({ 'x-api-key': KEYS.editor }))).statusCode).toBe(200);
    const r = await app.inject(put({ 'x-api-key': KEYS.editor }));
    expect(r.statusCode).toBe(429);
    expect(r.json()).toMatchObject({ code: 'RATE_LIMITED', statusCode: 429 });
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) expect((await app.inject({ url: '/api/v1/models' })).statusCode).toBe(200);
  });

  it('counts one client across every write route, and each client apart (API key, JWT subject, address)', async () => {
    const { app } = await seededApp({}, { DRIFTSTREAM_RATE_LIMIT_WRITES: '3', DRIFTSTREAM_JWT_SECRET: SECRET });
    const editor = { 'x-api-key': KEYS.editor };
    expect((await app.inject(put(editor))).statusCode).toBe(201);
    const upload = await app.inject({ method: 'POST', url: '/api/v1/models/m1/reference', headers: { ...editor, 'content-type': 'text/csv' }, payload: 'a\n1\n2\n' });
    expect(upload.statusCode).toBe(201);
    expect((await app.inject({ method: 'PUT', url: '/api/v1/models/m2', headers: editor, payload: { features: { a: 'numeric' } } })).statusCode).toBe(201);
    // The fourth write of this key, on yet another route, is over the limit.
    let r = await app.inject({ method: 'PUT', url: '/api/v1/models/m3', headers: editor, payload: { features: { a: 'numeric' } } });
    expect(r.statusCode).toBe(429);
    expect(r.json().code).toBe('RATE_LIMITED');
    // Other clients keep their own counters: another key, and two JWT subjects.
    r = await app.inject({ method: 'DELETE', url: '/api/v1/models/m2', headers: { 'x-api-key': KEYS.admin } });
    expect(r.statusCode).toBe(204);
    for (const subject of ['bob', 'carol']) {
      for (let i = 0; i < 3; i++) {
        r = await app.inject(put({ authorization: `Bearer ${await hsToken({ role: 'editor' }, { subject })}` }));
        expect(r.statusCode).toBe(200);
      }
      r = await app.inject(put({ authorization: `Bearer ${await hsToken({ role: 'editor' }, { subject })}` }));
      expect(r.statusCode).toBe(429);
    }
  });

  it('sends CORS headers only for configured origins', async () => {
    let { app } = await seededApp({}, { DRIFTSTREAM_CORS_ORIGINS: 'https://ui.example' });
    let r = await app.inject({ method: 'OPTIONS', url: '/api/v1/models/m1', headers: { origin: 'https://ui.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-api-key' } });
    expect(r.statusCode).toBe(204);
    expect(r.headers['access-control-allow-origin']).toBe('https://ui.example');
    expect(String(r.headers['access-control-allow-headers'])).toContain('x-api-key');
    r = await app.inject({ url: '/api/v1/models', headers: { origin: 'https://evil.example' } });
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    ({ app } = await seededApp());
    r = await app.inject({ url: '/api/v1/models', headers: { origin: 'https://ui.example' } });
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });
});
