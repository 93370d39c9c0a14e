/**
 * Every environment variable driftstream reads, with its default and meaning.
 * docs/configuration.md is generated from this table (`npm run docs:config`),
 * and the deployment tests check compose and Kubernetes files against it.
 */
export type VarKind = 'string' | 'url' | 'int' | 'duration' | 'bool' | 'list' | 'enum';

export interface VarSpec {
  readonly name: string;
  readonly kind: VarKind;
  readonly default?: string;
  readonly secret?: boolean;
  readonly values?: readonly string[];
  readonly min?: number;
  readonly description: string;
}

export const CONFIG_SPEC: readonly VarSpec[] = [
  { name: 'DRIFTSTREAM_KAFKA_BROKERS', kind: 'list', default: '127.0.0.1:9092', description: 'Comma-separated Kafka bootstrap servers (host:port).' },
  { name: 'DRIFTSTREAM_KAFKA_CLIENT_ID', kind: 'string', default: 'driftstream', description: 'Kafka client id.' },
  { name: 'DRIFTSTREAM_KAFKA_SSL', kind: 'bool', default: 'false', description: 'Connect to Kafka over TLS.' },
  { name: 'DRIFTSTREAM_KAFKA_SSL_CA_FILE', kind: 'string', description: 'PEM file with the CA that signed the brokers\' certificates.' },
  { name: 'DRIFTSTREAM_KAFKA_SSL_REJECT_UNAUTHORIZED', kind: 'bool', default: 'true', description: 'Reject brokers whose certificate does not verify.' },
  { name: 'DRIFTSTREAM_KAFKA_SASL_MECHANISM', kind: 'enum', values: ['plain', 'scram-sha-256', 'scram-sha-512'], description: 'SASL mechanism; unset disables SASL.' },
  { name: 'DRIFTSTREAM_KAFKA_SASL_USERNAME', kind: 'string', description: 'SASL user name.' },
  { name: 'DRIFTSTREAM_KAFKA_SASL_PASSWORD', kind: 'string', secret: true, description: 'SASL password.' },
  { name: 'DRIFTSTREAM_KAFKA_COMPRESSION', kind: 'enum', default: 'none', values: ['none', 'gzip', 'snappy', 'lz4', 'zstd'], description: 'Compression of the record batches driftstream produces (alerts, metrics, dead letters). Batches of every codec are read on every topic whatever this says.' },
  { name: 'DRIFTSTREAM_KAFKA_SESSION_TIMEOUT', kind: 'duration', default: '30s', description: 'Consumer group session timeout: how soon a crashed detector\'s partitions move to the others (the broker allows 6s and up by default).' },
  { name: 'DRIFTSTREAM_SCHEMA_REGISTRY_URL', kind: 'url', default: 'http://127.0.0.1:8081/apis/ccompat/v7', description: 'Confluent-compatible schema registry base URL.' },
  { name: 'DRIFTSTREAM_SCHEMA_REGISTRY_USERNAME', kind: 'string', description: 'Schema registry basic-auth user.' },
  { name: 'DRIFTSTREAM_SCHEMA_REGISTRY_PASSWORD', kind: 'string', secret: true, description: 'Schema registry basic-auth password.' },
  { name: 'DRIFTSTREAM_REDIS_URL', kind: 'url', description: 'Redis URL (redis:// or rediss://, credentials allowed). Unset keeps state in memory: a restart loses open windows and label joins.' },
  { name: 'DRIFTSTREAM_DATABASE_URL', kind: 'url', description: 'PostgreSQL URL (postgres://user:pass@host/db?sslmode=require). Unset keeps models, references and history in memory.' },
  { name: 'DRIFTSTREAM_DATABASE_SCHEMA', kind: 'string', description: 'PostgreSQL schema of driftstream\'s tables (created by the migrations); unset uses the server\'s search_path.' },
  { name: 'DRIFTSTREAM_REDIS_KEY_PREFIX', kind: 'string', default: 'driftstream:', description: 'Prefix of every Redis key driftstream writes, so several deployments can share one Redis (no braces: hash tags follow it).' },
  { name: 'DRIFTSTREAM_REDIS_MODE', kind: 'enum', default: 'standalone', values: ['standalone', 'cluster', 'sentinel'], description: 'How DRIFTSTREAM_REDIS_URL is reached: one server, a Redis Cluster (the URL is a seed node; its credentials and TLS apply to every node), or a master named by Sentinel (the URL gives credentials, TLS and database; DRIFTSTREAM_REDIS_NODES the sentinels).' },
  { name: 'DRIFTSTREAM_REDIS_NODES', kind: 'list', description: 'Cluster mode: more seed nodes (host:port) besides the URL\'s. Sentinel mode: the sentinels (host:port).' },
  { name: 'DRIFTSTREAM_REDIS_SENTINEL_MASTER', kind: 'string', default: 'mymaster', description: 'Sentinel mode: the name of the master the sentinels monitor.' },
  { name: 'DRIFTSTREAM_REDIS_SENTINEL_PASSWORD', kind: 'string', secret: true, description: 'Sentinel mode: password of the sentinels themselves, when they require one.' },
  { name: 'DRIFTSTREAM_REDIS_CHECKPOINT_REPLICAS', kind: 'int', min: 0, description: 'Replicas that must acknowledge a checkpoint (WAIT) before its offset is committed to Kafka. Unset: 1 when the checkpoint\'s master has a replica, 0 when it has none. 0 turns the wait off.' },
  { name: 'DRIFTSTREAM_REDIS_REPLICA_TIMEOUT', kind: 'duration', default: '2s', description: 'How long a checkpoint waits for its replica acknowledgements; without them it fails (retriable) and the offset is not committed.' },
  { name: 'DRIFTSTREAM_GROUP_ID', kind: 'string', default: 'driftstream', description: 'Kafka consumer group of the detector.' },
  { name: 'DRIFTSTREAM_INFERENCE_TOPIC', kind: 'string', default: 'inference-events', description: 'Topic of inference events.' },
  { name: 'DRIFTSTREAM_GROUND_TRUTH_TOPIC', kind: 'string', default: 'ground-truth-events', description: 'Topic of ground-truth (label) events.' },
  { name: 'DRIFTSTREAM_ALERTS_TOPIC', kind: 'string', default: 'drift-alerts', description: 'Topic drift alerts are published to.' },
  { name: 'DRIFTSTREAM_METRICS_TOPIC', kind: 'string', default: 'drift-metrics', description: 'Topic every evaluation is published to.' },
  { name: 'DRIFTSTREAM_DLQ_TOPIC', kind: 'string', default: 'driftstream-dlq', description: 'Dead-letter topic for records that cannot be decoded or validated.' },
  { name: 'DRIFTSTREAM_HTTP_HOST', kind: 'string', default: '127.0.0.1', description: 'Address the HTTP service binds to.' },
  { name: 'DRIFTSTREAM_HTTP_PORT', kind: 'int', default: '8080', min: 0, description: 'Port of the HTTP service.' },
  { name: 'DRIFTSTREAM_API_KEYS', kind: 'list', secret: true, description: 'Comma-separated API keys, each `key` (admin) or `role:key` with role reader, editor or admin.' },
  { name: 'DRIFTSTREAM_JWT_SECRET', kind: 'string', secret: true, description: 'HS256 secret for JWT bearer tokens.' },
  { name: 'DRIFTSTREAM_JWT_JWKS_URL', kind: 'url', description: 'JWKS URL for RS256 JWT bearer tokens.' },
  { name: 'DRIFTSTREAM_JWT_ISSUER', kind: 'string', description: 'Required `iss` of JWTs, when set.' },
  { name: 'DRIFTSTREAM_JWT_AUDIENCE', kind: 'string', description: 'Required `aud` of JWTs, when set.' },
  { name: 'DRIFTSTREAM_AUTH_READS', kind: 'bool', default: 'false', description: 'Require credentials (reader role) for reads too.' },
  { name: 'DRIFTSTREAM_CORS_ORIGINS', kind: 'list', description: 'Origins allowed by CORS; unset disables CORS headers.' },
  { name: 'DRIFTSTREAM_RATE_LIMIT_WRITES', kind: 'int', default: '60', min: 1, description: 'Write requests per minute per client.' },
  { name: 'DRIFTSTREAM_BODY_LIMIT_BYTES', kind: 'int', default: '1048576', min: 1024, description: 'Largest JSON request body.' },
  { name: 'DRIFTSTREAM_REFERENCE_UPLOAD_LIMIT_BYTES', kind: 'int', default: '104857600', min: 1024, description: 'Largest reference sample upload.' },
  { name: 'DRIFTSTREAM_REFERENCE_MAX_COLUMNS', kind: 'int', default: '2000', min: 1, description: 'Most columns a reference sample may have (checked on its first rows while it streams in; more answer 413 `TOO_MANY_COLUMNS`). Features per model are capped apart, at 1000.' },
  { name: 'DRIFTSTREAM_REFERENCE_MAX_CELL_BYTES', kind: 'int', default: '4096', min: 64, description: 'Largest cell of a reference sample, in bytes (checked while it streams in; larger answer 413 `CELL_TOO_LARGE`).' },
  { name: 'DRIFTSTREAM_REFERENCE_MAX_PROFILE_BYTES', kind: 'int', default: '16777216', min: 1024, description: 'Largest reference profile stored, serialized (larger answer 413 `REFERENCE_TOO_LARGE`).' },
  { name: 'DRIFTSTREAM_MAX_CATEGORIES', kind: 'int', default: '1000', min: 1, description: 'Most categories a model may keep by name per categorical feature (its `topK`; a higher one answers 400 `TOO_MANY_CATEGORIES`).' },
  { name: 'DRIFTSTREAM_JWT_MAX_LIFETIME', kind: 'duration', default: '24h', description: 'Longest lifetime a JWT may have (`exp` minus `iat`, or minus now without `iat`); tokens without `exp` or living longer answer 401.' },
  { name: 'DRIFTSTREAM_LOG_LEVEL', kind: 'enum', default: 'info', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], description: 'pino log level.' },
  { name: 'DRIFTSTREAM_MODELS_FILE', kind: 'string', description: 'YAML or JSON file of model configurations (`{"models": [...]}`) loaded at start.' },
  { name: 'DRIFTSTREAM_AUTO_REGISTER', kind: 'bool', default: 'true', description: 'Register unknown modelIds from their first events.' },
  { name: 'DRIFTSTREAM_BOOTSTRAP_EVENTS', kind: 'int', default: '5000', min: 1, description: 'Events of an auto-registered model that make its bootstrap reference.' },
  { name: 'DRIFTSTREAM_BOOTSTRAP_DURATION', kind: 'duration', default: '10m', description: 'Longest event-time span a bootstrap reference collects before it is built anyway.' },
  { name: 'DRIFTSTREAM_ALLOWED_LATENESS', kind: 'duration', default: '30s', description: 'Default allowed lateness of events behind the watermark.' },
  { name: 'DRIFTSTREAM_IDLE_TIMEOUT', kind: 'duration', default: '30s', description: 'Processing time after which an idle partition closes its due panes.' },
  { name: 'DRIFTSTREAM_CHECKPOINT_INTERVAL', kind: 'duration', default: '5s', description: 'How often partition state is checkpointed to Redis and offsets committed.' },
  { name: 'DRIFTSTREAM_PANE_LEASE', kind: 'duration', default: '30s', description: 'How long an elected evaluator has to write a complete pane\'s results before another instance evaluates it (Redis).' },
  { name: 'DRIFTSTREAM_PANE_RETENTION', kind: 'duration', default: '25h', description: 'How long a complete pane stays in Redis when its partials do not say; the detector asks per model for its longest window longer than a pane (at least 10 minutes).' },
  { name: 'DRIFTSTREAM_MAX_MESSAGE_BYTES', kind: 'int', default: '1048576', min: 64, description: 'Records larger than this go to the DLQ as oversize.' },
  { name: 'DRIFTSTREAM_MAX_STRING_BYTES', kind: 'int', default: '1024', min: 16, description: 'Longest string feature value or prediction (UTF-8 bytes); an event with a longer one goes to the DLQ as value_too_long.' },
  { name: 'DRIFTSTREAM_MAX_FUTURE_SKEW', kind: 'duration', default: '5m', description: 'How far past the record\'s Kafka timestamp (or the wall clock, when that is earlier) an event time may be; a later one goes to the DLQ as future_timestamp and never moves a clock.' },
  { name: 'DRIFTSTREAM_MAX_MODELS', kind: 'int', default: '2000', min: 1, description: 'Most models the detector runs (declared and auto-registered); events of a model beyond it go to the DLQ as model_limit.' },
  { name: 'DRIFTSTREAM_MAX_AUTO_REGISTERED_MODELS', kind: 'int', default: '1000', min: 0, description: 'Most auto-registered models; events of a new modelId beyond it go to the DLQ as model_limit.' },
  { name: 'DRIFTSTREAM_MAX_AUTO_FEATURES', kind: 'int', default: '1000', min: 1, description: 'Most features an auto-registered model may have (at most 1000, the cap of a declared model); an event with more goes to the DLQ as too_many_features.' },
  { name: 'DRIFTSTREAM_MAX_EVALUATION_BYTES', kind: 'int', default: '524288', min: 1024, description: 'Largest evaluation record published on the metrics topic; a larger one is published without its per-feature detail and marked truncated.' },
  { name: 'DRIFTSTREAM_DLQ_MAX_RECORD_BYTES', kind: 'int', default: '900000', min: 1024, description: 'Largest record written to the DLQ; a larger value is cut to fit, with the header driftstream-truncated-bytes.' },
  { name: 'DRIFTSTREAM_METRICS_MAX_MODELS', kind: 'int', default: '100', min: 1, description: 'Models with their own Prometheus series; the others are summed under model="__other__".' },
  { name: 'DRIFTSTREAM_LABEL_JOIN_MAX_PER_MODEL', kind: 'int', default: '1000000', min: 1, description: 'Most inferences of one model waiting for their label in Redis; beyond it new inferences are not recorded for the join (counted in driftstream_limit_hits_total{limit="label_join_per_model"}).' },
  { name: 'DRIFTSTREAM_DEDUP_WINDOW', kind: 'duration', default: '0s', description: 'De-duplicate inference eventIds seen within this processing-time window (0s: off); see docs/operations.md for the filter\'s memory and false-positive rate.' },
  { name: 'DRIFTSTREAM_DEDUP_CAPACITY', kind: 'int', default: '1000000', min: 1000, description: 'EventIds per partition the de-duplication filter holds per window at its stated false-positive rate.' },
  { name: 'DRIFTSTREAM_STALL_TIMEOUT', kind: 'duration', default: '2m', description: 'A partition with records waiting and no progress for this long makes /readyz fail, naming it.' },
  { name: 'DRIFTSTREAM_SHUTDOWN_GRACE', kind: 'duration', default: '25s', description: 'Most time SIGTERM takes: checkpoints what it can, then exits.' },
  { name: 'DRIFTSTREAM_LABEL_HORIZON', kind: 'duration', default: '7d', description: 'How long an inference waits for its label (and a label for its inference).' },
  { name: 'DRIFTSTREAM_MEMORY_LABEL_CAPACITY', kind: 'int', default: '100000', min: 1, description: 'Without Redis: most inferences kept in memory waiting for their label (and labels waiting for their inference); when full the oldest go first, counted in driftstream_label_join_evicted_total (inferences) and as expired (labels).' },
  { name: 'DRIFTSTREAM_RESOLVE_AFTER', kind: 'int', default: '3', min: 1, description: 'Clean evaluations before a firing alert resolves.' },
  { name: 'DRIFTSTREAM_HISTORY_BUFFER', kind: 'int', default: '10000', min: 10, description: 'Rows buffered for PostgreSQL before the consumer pauses.' },
] as const;
