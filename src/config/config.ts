import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { parseDuration } from '../core/duration.js';
import { CONFIG_SPEC, type VarSpec } from './spec.js';

export type Role = 'reader' | 'editor' | 'admin';
export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';
/** Codec of the record batches driftstream produces. */
export type KafkaCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface KafkaConfig {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly ssl: false | { readonly ca?: string; readonly rejectUnauthorized: boolean };
  readonly sasl?: { readonly mechanism: SaslMechanism; readonly username: string; readonly password: string };
  readonly sessionTimeoutMs: number;
  readonly compression: KafkaCompression;
}

export interface Config {
  readonly kafka: KafkaConfig;
  readonly registry: { readonly url: string; readonly auth?: { readonly username: string; readonly password: string } };
  readonly redisUrl?: string;
  readonly databaseUrl?: string;
  readonly databaseSchema?: string;
  readonly redisKeyPrefix: string;
  /** How Redis is reached and how checkpoints are made durable (with `redisUrl`). */
  readonly redis: RedisConfig;
  readonly groupId: string;
  readonly topics: {
    readonly inference: string;
    readonly groundTruth: string;
    readonly alerts: string;
    readonly metrics: string;
    readonly dlq: string;
  };
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly apiKeys: readonly { readonly key: string; readonly role: Role }[];
    readonly jwt: { readonly secret?: string; readonly jwksUrl?: string; readonly issuer?: string; readonly audience?: string };
    readonly authReads: boolean;
    readonly corsOrigins: readonly string[];
    readonly rateLimitWrites: number;
    readonly bodyLimitBytes: number;
    readonly referenceUploadLimitBytes: number;
    readonly referenceMaxColumns: number;
    readonly referenceMaxCellBytes: number;
    readonly referenceMaxProfileBytes: number;
    readonly maxCategories: number;
    readonly jwtMaxLifetimeMs: number;
  };
  readonly logLevel: string;
  /** Evaluation history in PostgreSQL: what is kept whole, for how long, and how often it is maintained. */
  readonly history: {
    readonly detail: 'drift' | 'all';
    /** Retention per table, ms; 0 keeps everything. */
    readonly retentionMs: number;
    readonly hourlyRetentionMs: number;
    readonly dailyRetentionMs: number;
    readonly alertRetentionMs: number;
    readonly partitionsAhead: number;
    readonly maintenanceIntervalMs: number;
  };
  readonly notify: {
    /** Run the notifier inside `run`. */
    readonly enabled: boolean;
    readonly groupId: string;
    readonly pollMs: number;
    readonly reloadMs: number;
    readonly secretsDir: string;
    /** Base of report links. */
    readonly publicUrl: string;
  };
  readonly detector: {
    readonly modelsFile?: string;
    readonly autoRegister: boolean;
    readonly bootstrapEvents: number;
    readonly bootstrapDurationMs: number;
    readonly allowedLatenessMs: number;
    readonly idleTimeoutMs: number;
    readonly checkpointIntervalMs: number;
    readonly paneLeaseMs: number;
    readonly paneRetentionMs: number;
    readonly maxMessageBytes: number;
    readonly labelHorizonMs: number;
    /** Bound of the in-memory label join (pending inferences, and waiting labels). */
    readonly memoryLabelCapacity: number;
    readonly resolveAfter: number;
    readonly historyBuffer: number;
    readonly maxStringBytes: number;
    readonly maxFutureSkewMs: number;
    readonly maxModels: number;
    readonly maxAutoRegisteredModels: number;
    readonly maxAutoFeatures: number;
    readonly maxEvaluationBytes: number;
    readonly dlqMaxRecordBytes: number;
    readonly metricsMaxModels: number;
    readonly labelJoinMaxPerModel: number;
    readonly dedupWindowMs: number;
    readonly dedupCapacity: number;
    /** Ingest worker threads (0: the main thread does the per-event work; -1: one per core). */
    readonly workers: number;
    readonly stallTimeoutMs: number;
    readonly shutdownGraceMs: number;
  };
  /** Backfill analyses (src/stream/analysis-runner.ts). */
  readonly analyses: {
    readonly concurrency: number;
    readonly chunkWindows: number;
  };
}

type Env = Record<string, string | undefined>;

function raw(env: Env, spec: VarSpec): string | undefined {
  const v = env[spec.name];
  if (v === undefined || v.trim() === '') return spec.default;
  return v.trim();
}

function fail(spec: VarSpec, expected: string, got: string): never {
  const shown = spec.secret ? '(hidden)' : JSON.stringify(got);
  throw new ConfigError(`${spec.name}: expected ${expected}, got ${shown}`);
}

function read(env: Env, name: string): string | number | boolean | string[] | undefined {
  const spec = CONFIG_SPEC.find((s) => s.name === name);
  if (!spec) throw new ConfigError(`unknown configuration variable ${name}`);
  const v = raw(env, spec);
  if (v === undefined) return undefined;
  switch (spec.kind) {
    case 'string':
      return v;
    case 'url':
      try {
        new URL(v);
      } catch {
        fail(spec, 'a URL', v);
      }
      return v;
    case 'int': {
      if (!/^\d+$/.test(v)) fail(spec, 'a non-negative integer', v);
      const n = Number(v);
      if (spec.min !== undefined && n < spec.min) fail(spec, `an integer >= ${spec.min}`, v);
      return n;
    }
    case 'duration': {
      const ms = parseDuration(v);
      if (ms === undefined) fail(spec, 'a duration like 500ms, 30s, 5m, 1h or 7d', v);
      return ms;
    }
    case 'bool': {
      const l = v.toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(l)) return true;
      if (['0', 'false', 'no', 'off'].includes(l)) return false;
      return fail(spec, 'true or false', v);
    }
    case 'list':
      return v.split(',').map((s) => s.trim()).filter(Boolean);
    case 'enum': {
      const l = v.toLowerCase();
      if (!spec.values!.includes(l)) fail(spec, `one of ${spec.values!.join(', ')}`, v);
      return l;
    }
  }
}

function parseApiKeys(list: string[] | undefined): { key: string; role: Role }[] {
  return (list ?? []).map((entry) => {
    const m = /^(reader|editor|admin):(.+)$/.exec(entry);
    if (m) return { role: m[1] as Role, key: m[2] };
    if (entry.length < 8) throw new ConfigError('DRIFTSTREAM_API_KEYS: expected keys of at least 8 characters, got a shorter one');
    return { role: 'admin' as Role, key: entry };
  });
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Typed readers of validated variables (see {@link read}). */
interface EnvReader {
  s(name: string): string | undefined;
  n(name: string): number;
  b(name: string): boolean;
  l(name: string): string[] | undefined;
}

function envReader(env: Env): EnvReader {
  return {
    s: (name) => read(env, name) as string | undefined,
    n: (name) => read(env, name) as number,
    b: (name) => read(env, name) as boolean,
    l: (name) => read(env, name) as string[] | undefined,
  };
}

function kafkaSaslOf({ s }: EnvReader): KafkaConfig['sasl'] {
  const mechanism = s('DRIFTSTREAM_KAFKA_SASL_MECHANISM') as SaslMechanism | undefined;
  if (!mechanism) return undefined;
  const username = s('DRIFTSTREAM_KAFKA_SASL_USERNAME');
  const password = s('DRIFTSTREAM_KAFKA_SASL_PASSWORD');
  if (!username || !password) {
    throw new ConfigError('DRIFTSTREAM_KAFKA_SASL_USERNAME and DRIFTSTREAM_KAFKA_SASL_PASSWORD: expected both when DRIFTSTREAM_KAFKA_SASL_MECHANISM is set');
  }
  return { mechanism, username, password };
}

function kafkaSslOf({ s, b }: EnvReader): KafkaConfig['ssl'] {
  if (!b('DRIFTSTREAM_KAFKA_SSL')) return false;
  const caFile = s('DRIFTSTREAM_KAFKA_SSL_CA_FILE');
  let ca: string | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (err) {
      throw new ConfigError(`DRIFTSTREAM_KAFKA_SSL_CA_FILE: expected a readable PEM file, got ${JSON.stringify(caFile)}`, { cause: err });
    }
  }
  return { ca, rejectUnauthorized: b('DRIFTSTREAM_KAFKA_SSL_REJECT_UNAUTHORIZED') };
}

function httpConfigOf({ s, n, b, l }: EnvReader): Config['http'] {
  return {
    host: s('DRIFTSTREAM_HTTP_HOST')!,
    port: n('DRIFTSTREAM_HTTP_PORT'),
    apiKeys: parseApiKeys(l('DRIFTSTREAM_API_KEYS')),
    jwt: {
      secret: s('DRIFTSTREAM_JWT_SECRET'),
      jwksUrl: s('DRIFTSTREAM_JWT_JWKS_URL'),
      issuer: s('DRIFTSTREAM_JWT_ISSUER'),
      audience: s('DRIFTSTREAM_JWT_AUDIENCE'),
    },
    authReads: b('DRIFTSTREAM_AUTH_READS'),
    corsOrigins: l('DRIFTSTREAM_CORS_ORIGINS') ?? [],
    rateLimitWrites: n('DRIFTSTREAM_RATE_LIMIT_WRITES'),
    bodyLimitBytes: n('DRIFTSTREAM_BODY_LIMIT_BYTES'),
    referenceUploadLimitBytes: n('DRIFTSTREAM_REFERENCE_UPLOAD_LIMIT_BYTES'),
    referenceMaxColumns: n('DRIFTSTREAM_REFERENCE_MAX_COLUMNS'),
    referenceMaxCellBytes: n('DRIFTSTREAM_REFERENCE_MAX_CELL_BYTES'),
    referenceMaxProfileBytes: n('DRIFTSTREAM_REFERENCE_MAX_PROFILE_BYTES'),
    maxCategories: n('DRIFTSTREAM_MAX_CATEGORIES'),
    jwtMaxLifetimeMs: n('DRIFTSTREAM_JWT_MAX_LIFETIME'),
  };
}

function notifyConfigOf({ s, n, b }: EnvReader, groupId: string): Config['notify'] {
  const host = s('DRIFTSTREAM_HTTP_HOST')!;
  return {
    enabled: b('DRIFTSTREAM_NOTIFY'),
    groupId: s('DRIFTSTREAM_NOTIFY_GROUP_ID') ?? `${groupId}-notify`,
    pollMs: n('DRIFTSTREAM_NOTIFY_POLL_INTERVAL'),
    reloadMs: n('DRIFTSTREAM_NOTIFY_RELOAD_INTERVAL'),
    secretsDir: s('DRIFTSTREAM_NOTIFY_SECRETS_DIR')!,
    publicUrl: s('DRIFTSTREAM_PUBLIC_URL') ?? `http://${host.includes(':') ? `[${host}]` : host}:${n('DRIFTSTREAM_HTTP_PORT')}`,
  };
}

function detectorConfigOf({ s, n, b }: EnvReader): Config['detector'] {
  return {
    modelsFile: s('DRIFTSTREAM_MODELS_FILE'),
    autoRegister: b('DRIFTSTREAM_AUTO_REGISTER'),
    bootstrapEvents: n('DRIFTSTREAM_BOOTSTRAP_EVENTS'),
    bootstrapDurationMs: n('DRIFTSTREAM_BOOTSTRAP_DURATION'),
    allowedLatenessMs: n('DRIFTSTREAM_ALLOWED_LATENESS'),
    idleTimeoutMs: n('DRIFTSTREAM_IDLE_TIMEOUT'),
    checkpointIntervalMs: n('DRIFTSTREAM_CHECKPOINT_INTERVAL'),
    paneLeaseMs: n('DRIFTSTREAM_PANE_LEASE'),
    paneRetentionMs: n('DRIFTSTREAM_PANE_RETENTION'),
    maxMessageBytes: n('DRIFTSTREAM_MAX_MESSAGE_BYTES'),
    labelHorizonMs: n('DRIFTSTREAM_LABEL_HORIZON'),
    memoryLabelCapacity: n('DRIFTSTREAM_MEMORY_LABEL_CAPACITY'),
    resolveAfter: n('DRIFTSTREAM_RESOLVE_AFTER'),
    historyBuffer: n('DRIFTSTREAM_HISTORY_BUFFER'),
    maxStringBytes: n('DRIFTSTREAM_MAX_STRING_BYTES'),
    maxFutureSkewMs: n('DRIFTSTREAM_MAX_FUTURE_SKEW'),
    maxModels: n('DRIFTSTREAM_MAX_MODELS'),
    maxAutoRegisteredModels: n('DRIFTSTREAM_MAX_AUTO_REGISTERED_MODELS'),
    maxAutoFeatures: n('DRIFTSTREAM_MAX_AUTO_FEATURES'),
    maxEvaluationBytes: n('DRIFTSTREAM_MAX_EVALUATION_BYTES'),
    dlqMaxRecordBytes: n('DRIFTSTREAM_DLQ_MAX_RECORD_BYTES'),
    metricsMaxModels: n('DRIFTSTREAM_METRICS_MAX_MODELS'),
    labelJoinMaxPerModel: n('DRIFTSTREAM_LABEL_JOIN_MAX_PER_MODEL'),
    dedupWindowMs: n('DRIFTSTREAM_DEDUP_WINDOW'),
    dedupCapacity: n('DRIFTSTREAM_DEDUP_CAPACITY'),
    workers: n('DRIFTSTREAM_WORKERS'),
    stallTimeoutMs: n('DRIFTSTREAM_STALL_TIMEOUT'),
    shutdownGraceMs: n('DRIFTSTREAM_SHUTDOWN_GRACE'),
  };
}

/**
 * Reads the configuration from the environment once: every variable is
 * validated against {@link CONFIG_SPEC}, and the result is deeply frozen. A
 * bad value raises a {@link ConfigError} naming the variable and what it expected.
 */
export function loadConfig(env: Env = process.env): Config {
  const r = envReader(env);
  const { s, n, l } = r;
  // Read in this order so that, of several bad variables, the same one is reported first.
  const sasl = kafkaSaslOf(r);
  const ssl = kafkaSslOf(r);
  const regUser = s('DRIFTSTREAM_SCHEMA_REGISTRY_USERNAME');
  const regPass = s('DRIFTSTREAM_SCHEMA_REGISTRY_PASSWORD');
  const config: Config = {
    kafka: { brokers: l('DRIFTSTREAM_KAFKA_BROKERS')!, clientId: s('DRIFTSTREAM_KAFKA_CLIENT_ID')!, ssl, sasl, sessionTimeoutMs: n('DRIFTSTREAM_KAFKA_SESSION_TIMEOUT'),
      compression: s('DRIFTSTREAM_KAFKA_COMPRESSION') as KafkaCompression,
    },
    registry: {
      url: s('DRIFTSTREAM_SCHEMA_REGISTRY_URL')!,
      auth: regUser ? { username: regUser, password: regPass ?? '' } : undefined,
    },
    redisUrl: s('DRIFTSTREAM_REDIS_URL'),
    databaseUrl: s('DRIFTSTREAM_DATABASE_URL'),
    databaseSchema: s('DRIFTSTREAM_DATABASE_SCHEMA'),
    redisKeyPrefix: keyPrefixOf(r),
    redis: redisConfigOf(r),
    groupId: s('DRIFTSTREAM_GROUP_ID')!,
    topics: {
      inference: s('DRIFTSTREAM_INFERENCE_TOPIC')!,
      groundTruth: s('DRIFTSTREAM_GROUND_TRUTH_TOPIC')!,
      alerts: s('DRIFTSTREAM_ALERTS_TOPIC')!,
      metrics: s('DRIFTSTREAM_METRICS_TOPIC')!,
      dlq: s('DRIFTSTREAM_DLQ_TOPIC')!,
    },
    http: httpConfigOf(r),
    logLevel: s('DRIFTSTREAM_LOG_LEVEL')!,
    history: {
      detail: s('DRIFTSTREAM_HISTORY_DETAIL') as 'drift' | 'all',
      retentionMs: n('DRIFTSTREAM_HISTORY_RETENTION'),
      hourlyRetentionMs: n('DRIFTSTREAM_HISTORY_HOURLY_RETENTION'),
      dailyRetentionMs: n('DRIFTSTREAM_HISTORY_DAILY_RETENTION'),
      alertRetentionMs: n('DRIFTSTREAM_HISTORY_ALERT_RETENTION'),
      partitionsAhead: n('DRIFTSTREAM_HISTORY_PARTITIONS_AHEAD'),
      maintenanceIntervalMs: n('DRIFTSTREAM_HISTORY_MAINTENANCE_INTERVAL'),
    },
    notify: notifyConfigOf(r, s('DRIFTSTREAM_GROUP_ID')!),
    detector: detectorConfigOf(r),
    analyses: { concurrency: n('DRIFTSTREAM_ANALYSIS_CONCURRENCY'), chunkWindows: n('DRIFTSTREAM_ANALYSIS_CHUNK_WINDOWS') },
  };
  return deepFreeze(config);
}

/** The Redis topology and checkpoint durability settings. */
export interface RedisConfig {
  readonly mode: 'standalone' | 'cluster' | 'sentinel';
  /** Cluster: extra seed nodes; sentinel: the sentinels (host:port). */
  readonly nodes: readonly string[];
  readonly sentinelMaster: string;
  readonly sentinelPassword?: string;
  /** Replicas that must acknowledge a checkpoint; undefined: 1 when the master has one. */
  readonly checkpointReplicas?: number;
  readonly replicaTimeoutMs: number;
}

function redisConfigOf({ s, n, l }: EnvReader): RedisConfig {
  const mode = s('DRIFTSTREAM_REDIS_MODE') as RedisConfig['mode'];
  const nodes = l('DRIFTSTREAM_REDIS_NODES') ?? [];
  if (mode === 'sentinel' && nodes.length === 0) throw new ConfigError('DRIFTSTREAM_REDIS_NODES: expected the sentinels (host:port) when DRIFTSTREAM_REDIS_MODE is sentinel');
  for (const node of nodes) {
    if (!/^[^\s:]+:\d{1,5}$/.test(node)) throw new ConfigError(`DRIFTSTREAM_REDIS_NODES: expected host:port entries, got ${JSON.stringify(node)}`);
  }
  return {
    mode,
    nodes,
    sentinelMaster: s('DRIFTSTREAM_REDIS_SENTINEL_MASTER')!,
    sentinelPassword: s('DRIFTSTREAM_REDIS_SENTINEL_PASSWORD'),
    checkpointReplicas: n('DRIFTSTREAM_REDIS_CHECKPOINT_REPLICAS'),
    replicaTimeoutMs: n('DRIFTSTREAM_REDIS_REPLICA_TIMEOUT'),
  };
}

function keyPrefixOf({ s }: EnvReader): string {
  const prefix = s('DRIFTSTREAM_REDIS_KEY_PREFIX')!;
  // A brace in the prefix would become every key's hash tag: the whole state in one cluster slot.
  if (/[{}]/.test(prefix)) throw new ConfigError(`DRIFTSTREAM_REDIS_KEY_PREFIX: expected no braces, got ${JSON.stringify(prefix)}`);
  return prefix;
}

/** Replaces the credentials inside a URL so it can be logged. */
export function redactUrl(url: string | undefined): string | undefined {
  if (!url) return url;
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable url)';
  }
}
