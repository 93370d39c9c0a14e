import { Redis, type Cluster, type RedisOptions } from 'ioredis';
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

/**
 * Opens an ioredis client that never gives up reconnecting but fails commands
 * quickly while the server is away: the stream decides how to wait (it pauses
 * consumption and retries), instead of commands piling up in an offline queue.
 */
export function createRedisClient(url: string, options: RedisConnectionOptions = {}): Redis {
  const { logger, metrics } = options;
  const redisOptions: RedisOptions = {
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
  const client = new Redis(url, redisOptions);
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
export function redisHealthCheck(client: Redis, timeoutMs = 1_000): HealthCheck {
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

/** Builds keys under a prefix; components are escaped so `a:b`+`c` never meets `a`+`b:c`. */
export function keyOf(prefix: string, ...parts: (string | number)[]): string {
  return prefix + parts.map((p) => encodeURIComponent(String(p))).join(':');
}
