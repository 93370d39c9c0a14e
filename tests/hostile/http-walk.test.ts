import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdapters, type Adapters } from '../../src/app/create-adapters.js';
import { buildHttpApp } from '../../src/commands/serve.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { DOMAIN_CODE_STATUS, HTTP_ERROR_CODES } from '../../src/http/errors.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { LabelJoinPerformanceReader } from '../../src/stream/performance-reader.js';
import { DATABASE_URL, testDatabase, type TestDatabase } from '../support/postgres.js';
import { REDIS_URL, deletePrefix, testRedis, uniquePrefix } from '../support/redis.js';

/*
 * Walks every route of the OpenAPI document with hostile input, through the
 * app exactly as `serve` composes it over the real PostgreSQL and Redis. Each
 * answer must be a 4xx (or a success where the input is valid after all) in
 * the one documented error format with a request id: never a 5xx, never a
 * path, a query or a stack.
 */

const DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'errors.md'), 'utf8');
const DOCUMENTED = new Set([...Object.keys(HTTP_ERROR_CODES), ...Object.keys(DOMAIN_CODE_STATUS)].filter((c) => DOC.includes(`\`${c}\``)));
const EDITOR = 'walk-editor-key-0123456789';
const ADMIN = 'walk-admin-key-0123456789';
const JWT_SECRET = 'walk-jwt-secret-0123456789abcdef';
const MODEL = 'walk-model';
const BODY_LIMIT = 64 * 1024;
const UPLOAD_LIMIT = 4 * 1024 * 1024;
// A response must never show these: temp-file paths, SQL, driver messages, stack frames.
const LEAK = new RegExp(
  [tmpdir().replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '/', 'driftstream-upload-', '\\bSELECT\\b', '\\bINSERT\\b', 'syntax error at', 'invalid byte sequence', 'out of range for type', '\\bat [^ ]+ \\(', '\\.ts:\\d+', 'node_modules'].join('|'),
  'i',
);

interface Case {
  name: string;
  request: InjectOptions;
  /** The input is hostile: the answer must be a 4xx. Otherwise any non-5xx answer passes. */
  reject: boolean;
  /** A status the answer must have (e.g. 415). */
  status?: number;
  /** A status the answer must not have (e.g. Fastify's raw 414). */
  notStatus?: number;
}

interface Operation {
  method: string;
  path: string;
  params: { name: string; in: 'path' | 'query'; schema: Record<string, unknown> }[];
  bodyTypes: string[];
  security: boolean;
}

function operations(spec: { paths: Record<string, Record<string, unknown>> }): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, raw] of Object.entries(item)) {
      const op = raw as { parameters?: Operation['params']; requestBody?: { content?: Record<string, unknown> }; security?: unknown[] };
      out.push({
        method: method.toUpperCase(),
        path,
        params: (op.parameters ?? []).filter((p) => p.in === 'path' || p.in === 'query'),
        bodyTypes: Object.keys(op.requestBody?.content ?? {}),
        security: (op.security?.length ?? 0) > 0,
      });
    }
  }
  return out;
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Hostile values for a path parameter. */
function pathValues(): { name: string; value: string; reject: boolean; notStatus?: number }[] {
  return [
    { name: 'NUL', value: 'a%00b', reject: true },
    { name: 'control char', value: 'a%01b', reject: true },
    { name: 'DEL', value: 'a%7Fb', reject: true },
    { name: 'newline', value: 'a%0Ab', reject: true },
    { name: 'bad percent-encoding', value: 'a%E0%A4%A', reject: true },
    { name: 'overlong UTF-8', value: '%C0%AF', reject: true },
    { name: 'dot-dot', value: '..%2F..%2Fetc%2Fpasswd', reject: true },
    { name: '120 characters (valid pattern)', value: 'm'.repeat(120), reject: false, notStatus: 414 },
    { name: '129 characters', value: 'm'.repeat(129), reject: true },
    { name: '5000 characters', value: 'm'.repeat(5000), reject: true },
    { name: 'unicode', value: encodeURIComponent('modèle-\u{1F600}'), reject: false },
  ];
}

/** Hostile values for a query parameter, by its schema. */
function queryValues(name: string, schema: Record<string, unknown>): { name: string; value: string; reject: boolean }[] {
  const out: { name: string; value: string; reject: boolean }[] = [
    { name: 'NUL', value: 'a%00b', reject: true },
    { name: 'control char', value: '%1B%5B2J', reject: true },
    { name: '5000 characters', value: 'x'.repeat(5000), reject: true },
  ];
  const pattern = typeof schema.pattern === 'string' ? schema.pattern : '';
  if (pattern.includes('\\d{4}-')) {
    for (const v of ['253402300800000', '9999999999999999', '8640000000000001', '0000-01-01T00:00:00Z', '0001-01-01', '2026-02-30', '2026-13-01', '2026-01-01T25:61:00Z', '2026-01-01T00:00:00+99:99']) {
      out.push({ name: `time ${v}`, value: encodeURIComponent(v), reject: true });
    }
  }
  if (schema.type === 'integer') {
    for (const v of ['99999999999999999999', '1e308', '-1', '0', '1.5', 'NaN', 'Infinity', '0x10']) out.push({ name: `integer ${v}`, value: v, reject: true });
  }
  if (name === 'cursor') {
    out.push(
      { name: 'cursor not base64', value: '!!!', reject: true },
      { name: 'cursor with NUL', value: b64(['2026-01-01T00:00:00.000Z', 'a\u0000b', 'FIRING', 'WARNING']), reject: true },
      { name: 'cursor year 0', value: b64(['0000-01-01T00:00:00.000Z', 'a', 'FIRING', 'WARNING']), reject: true },
      { name: 'cursor year 275760', value: b64(['+275760-09-13T00:00:00.000Z', 'a', 'FIRING', 'WARNING']), reject: true },
      { name: 'cursor with objects', value: b64([{}, [], 1, null]), reject: true },
    );
  }
  return out;
}

function jsonBodies(): { name: string; body: string; type?: string; status?: number }[] {
  const deep = '['.repeat(5000) + ']'.repeat(5000);
  const features = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`f${i}`, 'numeric']));
  return [
    { name: 'text/plain', body: '{"features":{"a":"numeric"}}', type: 'text/plain', status: 415 },
    { name: 'application/xml', body: '<model/>', type: 'application/xml', status: 415 },
    { name: 'form-encoded', body: 'features=a', type: 'application/x-www-form-urlencoded', status: 415 },
    { name: 'malformed JSON', body: '{"features":', status: 400 },
    { name: 'empty JSON', body: '', status: 400 },
    { name: 'JSON array', body: '[]' },
    { name: 'JSON string', body: '"model"' },
    { name: 'JSON null', body: 'null' },
    { name: 'oversized body', body: JSON.stringify({ description: 'x'.repeat(BODY_LIMIT + 10) }), status: 413 },
    { name: 'proto pollution', body: '{"__proto__":{"admin":true},"features":{"a":"numeric"}}' },
    { name: 'constructor pollution', body: '{"constructor":{"prototype":{"admin":true}}}' },
    { name: 'deep nesting', body: `{"description":${deep}}` },
    { name: 'NUL in feature name', body: JSON.stringify({ features: { 'a\u0000b': 'numeric' } }) },
    { name: 'control char in feature name', body: JSON.stringify({ features: { 'a\u001bb': 'numeric' } }) },
    { name: 'NUL in positiveClass', body: JSON.stringify({ features: { a: 'numeric' }, positiveClass: 'y\u0000es' }) },
    { name: 'control char in positiveClass', body: JSON.stringify({ features: { a: 'numeric' }, positiveClass: '\u0007' }) },
    { name: 'NUL in description', body: JSON.stringify({ features: { a: 'numeric' }, description: 'x\u0000y' }) },
    { name: 'NUL in tags', body: JSON.stringify({ features: { a: 'numeric' }, tags: ['\u0000'] }) },
    { name: 'NUL in window name', body: JSON.stringify({ windows: [{ name: 'a\u0000', size: '1m' }] }) },
    { name: 'NUL in threshold key', body: JSON.stringify({ thresholds: { 'psi\u0000': { warning: 0.1 } } }) },
    { name: '1001 features', body: JSON.stringify({ features }) },
    { name: 'huge number', body: '{"minSamples":1e999}' },
    { name: 'huge topK', body: '{"topK":100000000000}' },
    { name: 'window of 1e20 ms', body: JSON.stringify({ windows: [{ name: 'w', size: '100000000000000000000ms' }] }) },
  ];
}

function uploadBodies(): { name: string; body: string | Buffer; type: string; status?: number; accept?: boolean }[] {
  const cols = Array.from({ length: 20_000 }, (_, i) => `c${i}`);
  const wide = `${cols.join(',')}\n${cols.map(() => '1').join(',')}\n`;
  const bigCell = `age,region\n1,${'x'.repeat(2 * 1024 * 1024)}\n`;
  const longCell = `age,region\n1,${'y'.repeat(100_000)}\n2,north\n`;
  return [
    { name: 'text/plain', body: 'age,region\n1,north\n', type: 'text/plain', status: 415 },
    { name: 'application/json', body: '{"age":1}', type: 'application/json', status: 415 },
    { name: 'empty CSV', body: '', type: 'text/csv' },
    { name: 'header only', body: 'age,region\n', type: 'text/csv' },
    { name: 'binary garbage', body: Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)), type: 'text/csv' },
    { name: 'unterminated quote', body: 'age,region\n1,"north\n', type: 'text/csv' },
    { name: 'ragged row', body: 'age,region\n1,north,extra\n', type: 'text/csv' },
    { name: 'NUL in a cell', body: 'age,region\n1,no\u0000rth\n2,south\n', type: 'text/csv' },
    { name: 'control char in a cell', body: 'age,region\n1,\u001b[2Jnorth\n2,south\n', type: 'text/csv' },
    { name: 'NUL in a header', body: 'age,region,ex\u0000tra\n1,north,1\n', type: 'text/csv' },
    { name: '__proto__ column', body: 'age,region,__proto__\n1,north,1\n', type: 'text/csv' },
    { name: '20000 columns', body: wide, type: 'text/csv' },
    { name: '2 MB cell', body: bigCell, type: 'text/csv' },
    { name: '100 KB cell', body: longCell, type: 'text/csv' },
    { name: 'oversized upload', body: 'age,region\n' + '1,north\n'.repeat(UPLOAD_LIMIT / 8 + 10), type: 'text/csv', status: 413 },
    { name: 'NDJSON nested object', body: '{"age":1,"region":{"a":1}}\n', type: 'application/x-ndjson' },
    // A number beyond a double counts as missing, as in every sample the project reads.
    { name: 'NDJSON 1e999', body: '{"age":1e999,"region":"north"}\n', type: 'application/x-ndjson', accept: true },
    { name: 'NDJSON NUL in a value', body: '{"age":1,"region":"no\\u0000rth"}\n', type: 'application/x-ndjson' },
    { name: 'NDJSON NUL in a key', body: '{"age":1,"region":"north","a\\u0000":"x"}\n', type: 'application/x-ndjson' },
    { name: 'NDJSON __proto__ key', body: '{"age":1,"region":"north","__proto__":{"x":1}}\n', type: 'application/x-ndjson' },
    { name: 'NDJSON not JSON', body: '{age:1}\n', type: 'application/x-ndjson' },
  ];
}

function fill(path: string, values: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? 'x');
}

const DEFAULTS: Record<string, string> = { modelId: MODEL, feature: 'age' };

async function casesFor(op: Operation, auth: Record<string, string>): Promise<Case[]> {
  const cases: Case[] = [];
  const pathParams = op.params.filter((p) => p.in === 'path');
  const queryParams = op.params.filter((p) => p.in === 'query');
  const base = fill(op.path, DEFAULTS);
  const safeBody = op.bodyTypes.includes('application/json')
    ? { payload: '{"features":{"age":"numeric","region":"categorical"}}', headers: { ...auth, 'content-type': 'application/json' } }
    : op.bodyTypes.length > 0
      ? { payload: 'age,region\n1,north\n2,south\n', headers: { ...auth, 'content-type': op.bodyTypes[0] } }
      : { headers: auth };
  // A DELETE would remove the model the other cases read: it only gets hostile ids.
  for (const p of pathParams) {
    for (const v of pathValues()) {
      cases.push({
        name: `path ${p.name}: ${v.name}`,
        request: { method: op.method as InjectOptions['method'], url: fill(op.path, { ...DEFAULTS, [p.name]: v.value }), ...safeBody },
        reject: v.reject,
        notStatus: v.notStatus,
      });
    }
  }
  if (op.method === 'DELETE') return cases;
  for (const q of queryParams) {
    for (const v of queryValues(q.name, q.schema)) {
      cases.push({ name: `query ${q.name}: ${v.name}`, request: { method: op.method as InjectOptions['method'], url: `${base}?${q.name}=${v.value}`, ...safeBody }, reject: v.reject });
    }
  }
  cases.push({ name: 'unknown query parameter', request: { method: op.method as InjectOptions['method'], url: `${base}?bogus%00=1`, ...safeBody }, reject: queryParams.length > 0 });
  if (op.bodyTypes.includes('application/json')) {
    // Bodies go to a model of their own: one accepted by mistake must not change the one the others read.
    for (const b of jsonBodies()) {
      cases.push({
        name: `body: ${b.name}`,
        request: { method: op.method as InjectOptions['method'], url: fill(op.path, { ...DEFAULTS, modelId: 'walk-put' }), payload: b.body, headers: { ...auth, 'content-type': b.type ?? 'application/json' } },
        reject: true,
        status: b.status,
      });
    }
  } else if (op.bodyTypes.length > 0) {
    for (const b of uploadBodies()) {
      cases.push({
        name: `upload: ${b.name}`,
        request: { method: op.method as InjectOptions['method'], url: base, payload: b.body, headers: { ...auth, 'content-type': b.type } },
        reject: !b.accept,
        status: b.status,
      });
    }
  }
  if (op.security) {
    const now = Math.floor(Date.now() / 1000);
    const key = new TextEncoder().encode(JWT_SECRET);
    const noExp = await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('walker').setIssuedAt(now).sign(key);
    const tenYears = await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('walker').setIssuedAt(now).setExpirationTime(now + 10 * 365 * 86_400).sign(key);
    for (const [name, value] of [
      ['JWT without exp', `Bearer ${noExp}`],
      ['JWT valid for ten years', `Bearer ${tenYears}`],
      ['garbage bearer', 'Bearer \u0001\u0002'],
      ['JWT with alg none', `Bearer ${b64({ alg: 'none' })}.${b64({ role: 'admin', sub: 'x' })}.`],
    ]) {
      const headers: Record<string, string> = { ...(safeBody.headers as Record<string, string>), authorization: value };
      delete headers['x-api-key'];
      cases.push({ name: `auth: ${name}`, request: { method: op.method as InjectOptions['method'], url: base, payload: (safeBody as { payload?: string }).payload, headers }, reject: true, status: 401 });
    }
  }
  return cases;
}

/** Why the answer to a case is wrong, or undefined when it is right. */
function verdict(c: Case, r: LightMyRequestResponse): string | undefined {
  if (r.statusCode >= 500) return `answered ${r.statusCode} ${r.body.slice(0, 200)}`;
  if (c.notStatus !== undefined && r.statusCode === c.notStatus) return `answered ${r.statusCode} ${r.body.slice(0, 160)}`;
  if (c.status !== undefined && r.statusCode !== c.status) return `answered ${r.statusCode}, expected ${c.status}: ${r.body.slice(0, 160)}`;
  if (c.reject && (r.statusCode < 400 || r.statusCode >= 500)) return `accepted with ${r.statusCode}`;
  if (r.statusCode < 400) return undefined;
  let body: { statusCode?: unknown; code?: unknown; error?: unknown; message?: unknown; requestId?: unknown };
  try {
    body = r.json();
  } catch {
    return `answered ${r.statusCode} with a body that is not JSON: ${r.body.slice(0, 120)}`;
  }
  if (typeof body.code !== 'string' || !DOCUMENTED.has(body.code)) return `answered ${r.statusCode} with undocumented code ${String(body.code)}`;
  if (body.statusCode !== r.statusCode || typeof body.error !== 'string' || typeof body.message !== 'string') return `answered ${r.statusCode} outside the error format: ${r.body.slice(0, 160)}`;
  if (typeof body.requestId !== 'string' || body.requestId.length === 0 || body.requestId !== r.headers['x-request-id']) return `answered ${r.statusCode} ${body.code} without a matching request id`;
  if (LEAK.test(r.body)) return `answered ${r.statusCode} ${body.code} leaking internals: ${r.body.slice(0, 200)}`;
  return undefined;
}

describe('hostile walk over every HTTP route (PostgreSQL and Redis)', () => {
  let db: TestDatabase;
  let prefix: string;
  let config: Config;
  let adapters: Adapters;
  let app: FastifyInstance;
  let ops: Operation[];
  const editor = { 'x-api-key': EDITOR };
  const admin = { 'x-api-key': ADMIN };

  beforeAll(async () => {
    db = await testDatabase('walk');
    prefix = uniquePrefix('walk');
    config = loadConfig({
      DRIFTSTREAM_DATABASE_URL: DATABASE_URL,
      DRIFTSTREAM_DATABASE_SCHEMA: db.schema,
      DRIFTSTREAM_REDIS_URL: REDIS_URL,
      DRIFTSTREAM_REDIS_KEY_PREFIX: prefix,
      DRIFTSTREAM_API_KEYS: `editor:${EDITOR},admin:${ADMIN}`,
      DRIFTSTREAM_JWT_SECRET: JWT_SECRET,
      DRIFTSTREAM_BODY_LIMIT_BYTES: String(BODY_LIMIT),
      DRIFTSTREAM_REFERENCE_UPLOAD_LIMIT_BYTES: String(UPLOAD_LIMIT),
      // The walk sends hundreds of writes; its own limit is tested apart.
      DRIFTSTREAM_RATE_LIMIT_WRITES: '100000',
    });
    const logger = createLogger('silent');
    const metrics = createMetrics({ defaultMetrics: false });
    adapters = await createAdapters(config, logger, metrics);
    app = await buildHttpApp(config, {
      logger,
      metrics,
      models: adapters.models,
      results: adapters.results,
      healthChecks: adapters.healthChecks,
      performance: new LabelJoinPerformanceReader(adapters.labelJoin, adapters.models),
      notifications: adapters.notifications,
      channels: adapters.channels,
    });
    const put = await app.inject({ method: 'PUT', url: `/api/v1/models/${MODEL}`, headers: editor, payload: { features: { age: 'numeric', region: 'categorical' } } });
    expect(put.statusCode).toBe(201);
    const rows = ['age,region', ...Array.from({ length: 500 }, (_, i) => `${20 + (i % 40)},${['north', 'south', 'east'][i % 3]}`)];
    const up = await app.inject({ method: 'POST', url: `/api/v1/models/${MODEL}/reference`, headers: { ...editor, 'content-type': 'text/csv' }, payload: rows.join('\n') });
    expect(up.statusCode).toBe(201);
    ops = operations(app.swagger() as unknown as { paths: Record<string, Record<string, unknown>> });
  });

  afterAll(async () => {
    await app?.close();
    await adapters?.close();
    await db?.drop();
    const redis = testRedis();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('finds every API route in the OpenAPI document', () => {
    const names = ops.map((o) => `${o.method} ${o.path}`);
    expect(names).toEqual(expect.arrayContaining(['GET /api/v1/models', 'PUT /api/v1/models/{modelId}', 'DELETE /api/v1/models/{modelId}', 'POST /api/v1/models/{modelId}/reference', 'GET /api/v1/alerts', 'GET /readyz']));
    expect(ops.length).toBeGreaterThanOrEqual(12);
  });

  it('answers hostile parameters, bodies and credentials with a documented 4xx and a request id, never a 5xx', async () => {
    const failures: string[] = [];
    let count = 0;
    for (const op of ops) {
      const auth = op.method === 'DELETE' ? admin : editor;
      for (const c of await casesFor(op, auth)) {
        count++;
        const r = await app.inject(c.request);
        const why = verdict(c, r);
        if (why) failures.push(`${op.method} ${op.path} [${c.name}]: ${why.slice(0, 240)}`);
      }
    }
    expect(count).toBeGreaterThan(250);
    expect(failures).toEqual([]);
  });

  it('answers malformed URLs outside any route in the error format', async () => {
    const failures: string[] = [];
    for (const url of ['/api/v1/models/%', '/api/v1/%E0%A4%A', '/%00', '/docs/%00', '/openapi.json?x=%00', `/api/v1/models/${'m'.repeat(20_000)}`, '/api/v1/models/a/b/c/d', '/api/v1/alerts?limit=1&limit=2']) {
      for (const method of ['GET', 'PATCH', 'OPTIONS'] as const) {
        const r = await app.inject({ method, url });
        const why = verdict({ name: url, request: { url }, reject: true }, r);
        if (why) failures.push(`${method} ${url.slice(0, 60)}: ${why}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('keeps a caller\'s request id only when it looks like one', async () => {
    for (const id of ['x'.repeat(5000), 'a b', 'é', '<script>', '']) {
      const r = await app.inject({ url: '/api/v1/models/nope', headers: { 'x-request-id': id } });
      expect(r.statusCode).toBe(404);
      expect(r.json().requestId).not.toBe(id);
      expect(r.json().requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.headers['x-request-id']).toBe(r.json().requestId);
    }
    const r = await app.inject({ url: '/api/v1/models/nope', headers: { 'x-request-id': 'trace-0af7651916cd43dd8448eb211c80319c' } });
    expect(r.json().requestId).toBe('trace-0af7651916cd43dd8448eb211c80319c');
  });

  it('stores nothing from the rejected input', async () => {
    const models = await adapters.models.listModels();
    const ids = models.map((m) => m.modelId).sort();
    // Only the seeded model, and the valid long or unicode ids the walk may have created.
    for (const id of ids) expect(id === MODEL || /^m{120}$/.test(id)).toBe(true);
    const seeded = models.find((m) => m.modelId === MODEL)!;
    expect(JSON.stringify(seeded)).not.toMatch(/\\u00[01][0-9a-f]/);
    const ref = await adapters.models.latestReference(MODEL);
    expect(JSON.stringify(ref?.profile ?? {})).not.toMatch(/\\u0000|\\u001b/);
  });
});
