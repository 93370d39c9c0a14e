import { Cluster, type Redis } from 'ioredis';
import { UnavailableError } from '../../errors.js';
import { redisCall, type RedisClient } from './redis-connection.js';

export interface ReplicaBarrierOptions {
  /** Replicas each master must confirm. Undefined: 1 where the master has a replica, none where it has none. */
  replicas?: number;
  /** How long WAIT waits for them (ms). Default 2 s. */
  timeoutMs?: number;
  /** How long a master's replica count is trusted before INFO is asked again (ms). Default 10 s. */
  refreshMs?: number;
  now?: () => number;
}

/**
 * Makes this client's writes survive a failover before something outside
 * Redis depends on them (a Kafka offset commit, a published alert): `WAIT` on
 * every master this client writes to, which returns once replicas have every
 * write sent before it on that connection. Redis replication is asynchronous;
 * without this a promoted replica may lack a checkpoint whose offset Kafka
 * already holds, and the events between them would never be counted.
 */
export class ReplicaBarrier {
  private readonly timeoutMs: number;
  private readonly refreshMs: number;
  private readonly now: () => number;
  private readonly known = new WeakMap<Redis, { replicas: number; at: number }>();

  constructor(
    private readonly client: RedisClient,
    private readonly options: ReplicaBarrierOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 2_000;
    this.refreshMs = options.refreshMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  private masters(): Redis[] {
    return this.client instanceof Cluster ? this.client.nodes('master') : [this.client];
  }

  private async connectedReplicas(node: Redis): Promise<number> {
    const k = this.known.get(node);
    if (k && this.now() - k.at < this.refreshMs) return k.replicas;
    const info = await node.info('replication');
    const replicas = Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? 0);
    this.known.set(node, { replicas, at: this.now() });
    return replicas;
  }

  private async required(node: Redis): Promise<number> {
    if (this.options.replicas !== undefined) return this.options.replicas;
    return Math.min(1, await this.connectedReplicas(node));
  }

  /**
   * WAIT on one master. A node that has become a replica since the slot map
   * was read (a failover) refuses WAIT: the map is refreshed and the wait fails
   * as retriable, to be tried again against the new masters.
   */
  private async waitOn(node: Redis, want: number): Promise<unknown> {
    try {
      return await node.call('WAIT', want, this.timeoutMs);
    } catch (err) {
      const message = (err as Error).message ?? '';
      if (!/replica/i.test(message)) throw err;
      this.known.delete(node);
      if (this.client instanceof Cluster) this.client.refreshSlotsCache();
      throw new UnavailableError('redis', `a master became a replica (failover): ${message}`, { cause: err });
    }
  }

  /**
   * Resolves once the required replicas of every master hold this client's
   * writes so far; fails with a retriable {@link UnavailableError} otherwise.
   * Returns the fewest acknowledgements seen on a master that required any.
   */
  async wait(): Promise<number> {
    const acks = await redisCall('replica acknowledgement', async () => {
      // A cluster client reads its slot map when it connects: its masters are known once it is ready.
      if (this.client instanceof Cluster && this.client.status !== 'ready') await this.client.ping();
      return Promise.all(
        this.masters().map(async (node) => {
          const want = await this.required(node);
          if (want === 0) return Infinity;
          const acked = Number(await this.waitOn(node, want));
          if (acked < want) {
            this.known.delete(node);
            throw new UnavailableError('redis', `writes acknowledged by ${acked} of ${want} replicas within ${this.timeoutMs} ms`);
          }
          return acked;
        }),
      );
    });
    return Math.min(...acks);
  }
}
