import { describe, expect, it } from 'vitest';
import { loadConfig, redactUrl, CONFIG_SPEC } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/errors.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(c.registry.url).toBe('http://127.0.0.1:8081/apis/ccompat/v7');
    expect(c.groupId).toBe('driftstream');
    expect(c.topics).toEqual({
      inference: 'inference-events',
      groundTruth: 'ground-truth-events',
      alerts: 'drift-alerts',
      metrics: 'drift-metrics',
      dlq: 'driftstream-dlq',
    });
    expect(c.http.host).toBe('127.0.0.1');
    expect(c.http.port).toBe(8080);
    expect(c.detector.allowedLatenessMs).toBe(30_000);
    expect(c.detector.labelHorizonMs).toBe(7 * 86_400_000);
    expect(c.redisUrl).toBeUndefined();
  });

  it('reads every variable it is given', () => {
    const c = loadConfig({
      DRIFTSTREAM_KAFKA_BROKERS: 'a:1, b:2',
      DRIFTSTREAM_HTTP_PORT: '9000',
      DRIFTSTREAM_API_KEYS: 'reader:abc,0123456789',
      DRIFTSTREAM_CHECKPOINT_INTERVAL: '2s',
      DRIFTSTREAM_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      DRIFTSTREAM_KAFKA_SASL_USERNAME: 'u',
      DRIFTSTREAM_KAFKA_SASL_PASSWORD: 'p',
    });
    expect(c.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(c.http.port).toBe(9000);
    expect(c.http.apiKeys).toEqual([{ role: 'reader', key: 'abc' }, { role: 'admin', key: '0123456789' }]);
    expect(c.detector.checkpointIntervalMs).toBe(2000);
    expect(c.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'u', password: 'p' });
  });

  it('is deeply frozen', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.topics)).toBe(true);
    expect(() => {
      (c.topics as { alerts: string }).alerts = 'x';
    }).toThrow();
  });

  it.each([
    ['DRIFTSTREAM_HTTP_PORT', 'eighty', /DRIFTSTREAM_HTTP_PORT: expected a non-negative integer, got "eighty"/],
    ['DRIFTSTREAM_CHECKPOINT_INTERVAL', 'soon', /DRIFTSTREAM_CHECKPOINT_INTERVAL: expected a duration/],
    ['DRIFTSTREAM_LOG_LEVEL', 'loud', /DRIFTSTREAM_LOG_LEVEL: expected one of fatal, error/],
    ['DRIFTSTREAM_REDIS_URL', 'not a url', /DRIFTSTREAM_REDIS_URL: expected a URL/],
    ['DRIFTSTREAM_AUTO_REGISTER', 'maybe', /DRIFTSTREAM_AUTO_REGISTER: expected true or false/],
    ['DRIFTSTREAM_REDIS_KEY_PREFIX', 'ds{x}:', /DRIFTSTREAM_REDIS_KEY_PREFIX: expected no braces/],
    ['DRIFTSTREAM_REDIS_MODE', 'shards', /DRIFTSTREAM_REDIS_MODE: expected one of standalone, cluster, sentinel/],
    ['DRIFTSTREAM_REDIS_NODES', 'redis-a', /DRIFTSTREAM_REDIS_NODES: expected host:port entries, got "redis-a"/],
    ['DRIFTSTREAM_REDIS_CHECKPOINT_REPLICAS', 'all', /DRIFTSTREAM_REDIS_CHECKPOINT_REPLICAS: expected a non-negative integer/],
  ])('names %s when its value is bad', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
  });

  it('never echoes a secret in its error', () => {
    expect(() => loadConfig({ DRIFTSTREAM_API_KEYS: 'x7Qz' })).toThrow(ConfigError);
    try {
      loadConfig({ DRIFTSTREAM_API_KEYS: 'x7Qz' });
    } catch (err) {
      expect((err as Error).message).not.toContain('x7Qz');
    }
  });

  it('reads the Redis topology, and wants the sentinels in sentinel mode', () => {
    expect(loadConfig({}).redis).toEqual({ mode: 'standalone', nodes: [], sentinelMaster: 'mymaster', sentinelPassword: undefined, checkpointReplicas: undefined, replicaTimeoutMs: 2_000 });
    const c = loadConfig({ DRIFTSTREAM_REDIS_MODE: 'cluster', DRIFTSTREAM_REDIS_NODES: 'a:7000,b:7001', DRIFTSTREAM_REDIS_CHECKPOINT_REPLICAS: '0' });
    expect(c.redis).toMatchObject({ mode: 'cluster', nodes: ['a:7000', 'b:7001'], checkpointReplicas: 0 });
    expect(() => loadConfig({ DRIFTSTREAM_REDIS_MODE: 'sentinel' })).toThrow(/DRIFTSTREAM_REDIS_NODES: expected the sentinels/);
  });

  it('requires SASL credentials with a mechanism', () => {
    expect(() => loadConfig({ DRIFTSTREAM_KAFKA_SASL_MECHANISM: 'plain' })).toThrow(/SASL_USERNAME/);
  });

  it('documents every variable', () => {
    for (const spec of CONFIG_SPEC) {
      expect(spec.name).toMatch(/^DRIFTSTREAM_[A-Z0-9_]+$/);
      expect(spec.description.length).toBeGreaterThan(10);
    }
    expect(new Set(CONFIG_SPEC.map((s) => s.name)).size).toBe(CONFIG_SPEC.length);
  });
});

describe('redactUrl', () => {
  it('hides the password of a URL', () => {
    expect(redactUrl('postgres://app:s3cret@db:5432/x')).toBe('postgres://app:***@db:5432/x');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});
