import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { DriftstreamError, UnavailableError } from '../../errors.js';
import { redactUrl } from '../../config/config.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { HealthCheck } from '../../ports/health-check.js';

/** A standalone (or Sentinel-managed) Redis, or a Redis Cluster: the adapters take either. */
export type RedisClient = Redis | Cluster;

export interface RedisConnectionOptions {
  logger?: Logger;
  metrics?: Metrics;
  /** Connection name shown by CLIENT LIST. */
  name?: string;
  /** A command that gets no answer within this time fails (a stalled link, not only a closed one). */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Upper bound of the reconnect backoff. */
  maxBackoffMs?: number;
}

/**
 * Reconnect delay: exponential from 50 ms up to `maxMs`, with jitter so that
 * several detectors do not hammer a returning server in lockstep.
 */
export function reconnectDelay(attempt: number, maxMs = 2_000): number {
  const base = Math.min(maxMs, 50 * 2 ** Math.min(attempt, 16));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/** How the Redis of DRIFTSTREAM_REDIS_URL is reached (DRIFTSTREAM_REDIS_MODE and friends). */
export interface RedisTopology {
  readonly mode: 'standalone' | 'cluster' | 'sentinel';
  /** Cluster: more seed nodes; sentinel: the sentinels (host:port). */
  readonly nodes?: readonly string[];
  readonly sentinelMaster?: string;
  readonly sentinelPassword?: string;
}

function clientOptions(options: RedisConnectionOptions): RedisOptions {
  return {
    connectionName: options.name ?? 'driftstream',
    lazyConnect: false,
    enableReadyCheck: true,
    // Queued commands fail after one reconnect attempt instead of waiting for the server forever.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    // A command that failed for its caller must not run later behind its back (an old checkpoint
    // overwriting a newer one, a pane elected for nobody): callers retry, the client does not.
    autoResendUnfulfilledCommands: false,
    commandTimeout: options.commandTimeoutMs ?? 5_000,
    connectTimeout: options.connectTimeoutMs ?? 3_000,
    retryStrategy: (attempt) => reconnectDelay(attempt, options.maxBackoffMs),
  };
}

/** Credentials, TLS and database of a redis:// or rediss:// URL, as client options. */
function urlOptions(url: string): RedisOptions {
  const u = new URL(url);
  const db = Number(u.pathname.slice(1) || 0);
  return {
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    db: Number.isInteger(db) ? db : 0,
  };
}

function hostPort(node: string): { host: string; port: number } {
  const i = node.lastIndexOf(':');
  return { host: node.slice(0, i), port: Number(node.slice(i + 1)) };
}

/** Logs the connection's state changes once each and keeps the redis dependency gauge. */
function watch(client: RedisClient, url: string, options: RedisConnectionOptions): void {
  const { logger, metrics } = options;
  let up: boolean | undefined;
  const setUp = (value: boolean, err?: unknown) => {
    metrics?.dependencyUp.set({ dependency: 'redis' }, value ? 1 : 0);
    if (up === value) return;
    up = value;
    if (value) logger?.info({ redis: redactUrl(url) }, 'redis ready');
    else logger?.warn({ redis: redactUrl(url), err: err instanceof Error ? err.message : err }, 'redis unavailable');
  };
  client.on('ready', () => setUp(true));
  // Without a listener, ioredis prints every failed reconnect; the state change is logged once instead.
  client.on('error', (err) => setUp(false, err));
  client.on('end', () => setUp(false));
}

/**
 * Opens an ioredis client that never gives up reconnecting but fails commands
 * quickly while the server is away: the stream decides how to wait (it pauses
 * consumption and retries), instead of commands piling up in an offline queue.
 */
export function createRedisClient(url: string, options: RedisConnectionOptions = {}): Redis {
  const client = new Redis(url, clientOptions(options));
  watch(client, url, options);
  return client;
}

/**
 * Opens the Redis of the configuration: one server, a Redis Cluster (slots
 * followed through MOVED/ASK and failovers, every command on the master of its
 * slot) or the master a set of sentinels names. The same fail-fast behaviour
 * as {@link createRedisClient} in every mode.
 */
export function createRedisConnection(url: string, topology: RedisTopology, options: RedisConnectionOptions = {}): RedisClient {
  if (topology.mode === 'standalone') return createRedisClient(url, options);
  const base = { ...clientOptions(options), ...urlOptions(url) };
  let client: RedisClient;
  if (topology.mode === 'cluster') {
    const u = new URL(url);
    const seeds = [{ host: u.hostname, port: Number(u.port || 6379) }, ...(topology.nodes ?? []).map(hostPort)];
    const { retryStrategy, ...redisOptions } = base;
    const clusterOptions: ClusterOptions = {
      // A cluster has database 0 only.
      redisOptions: { ...redisOptions, db: undefined },
      enableOfflineQueue: true,
      scaleReads: 'master',
      clusterRetryStrategy: retryStrategy as ClusterOptions['clusterRetryStrategy'],
      // A failover moves slots: follow it for a few seconds before a command fails (retriable) to its caller.
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
      retryDelayOnTryAgain: 100,
      maxRedirections: 16,
      slotsRefreshTimeout: options.connectTimeoutMs ?? 3_000,
      dnsLookup: (address, callback) => callback(null, address),
    };
    client = new Cluster(seeds, clusterOptions);
  } else {
    client = new Redis({
      ...base,
      sentinels: (topology.nodes ?? []).map(hostPort),
      name: topology.sentinelMaster ?? 'mymaster',
      sentinelPassword: topology.sentinelPassword,
      enableTLSForSentinelMode: base.tls !== undefined,
    });
  }
  watch(client, url, options);
  return client;
}

// Server replies that mean "not now" rather than "wrong command".
const TRANSIENT_REPLIES = /^(LOADING|BUSY|READONLY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|MOVED|ASK)\b/;

/**
 * Runs one Redis operation and maps failures onto the error hierarchy: an
 * unreachable, stalled or restarting server becomes a retriable
 * {@link UnavailableError}; a rejected command (a bug) stays non-retriable.
 */
export async function redisCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err as Error & { name?: string };
    if (e?.name === 'ReplyError' && !TRANSIENT_REPLIES.test(e.message)) {
      throw new DriftstreamError('REDIS_COMMAND_FAILED', `redis ${what} failed: ${e.message}`, { cause: err });
    }
    throw new UnavailableError('redis', `redis unavailable during ${what}: ${e?.message ?? String(err)}`, { cause: err });
  }
}

/** /readyz check: the connection is established and answers PING promptly. */
export function redisHealthCheck(client: RedisClient, timeoutMs = 1_000): HealthCheck {
  return {
    name: 'redis',
    async check(): Promise<boolean> {
      if (client.status !== 'ready') return false;
      let timer: NodeJS.Timeout | undefined;
      try {
        const pong = await Promise.race([
          client.ping(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('ping timeout')), timeoutMs);
          }),
        ]);
        return pong === 'PONG';
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * A key under a prefix whose `tag` parts form its hash tag (`P{tag}:rest`):
 * keys with the same tag share a Redis Cluster slot. Components are escaped
 * (braces included), so a tag never ends early and `a:b`+`c` never meets `a`+`b:c`.
 */
export function taggedKey(prefix: string, tag: readonly (string | number)[], ...parts: (string | number)[]): string {
  const esc = (p: string | number) => encodeURIComponent(String(p));
  return `${prefix}{${tag.map(esc).join(':')}}${parts.map((p) => `:${esc(p)}`).join('')}`;
}

/** Builds keys under a prefix; components are escaped so `a:b`+`c` never meets `a`+`b:c`. */
export function keyOf(prefix: string, ...parts: (string | number)[]): string {
  return prefix + parts.map((p) => encodeURIComponent(String(p))).join(':');
}
