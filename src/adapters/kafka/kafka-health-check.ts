import type { Admin, Kafka } from 'kafkajs';
import type { HealthCheck } from '../../ports/health-check.js';

/**
 * Kafka reachability for /readyz: one admin client, connected on first use,
 * asks for the cluster description. A failure drops the connection so the
 * next probe reconnects; answers are cached briefly so frequent probes do
 * not load the brokers.
 */
export function kafkaHealthCheck(kafka: Kafka, options: { cacheMs?: number } = {}): HealthCheck & { close(): Promise<void> } {
  const cacheMs = options.cacheMs ?? 1000;
  let admin: Admin | undefined;
  let last: { at: number; up: boolean } | undefined;
  let inflight: Promise<boolean> | undefined;

  const probe = async (): Promise<boolean> => {
    try {
      if (!admin) {
        admin = kafka.admin({ retry: { retries: 0 } });
        await admin.connect();
      }
      const cluster = await admin.describeCluster();
      return cluster.brokers.length > 0;
    } catch {
      const stale = admin;
      admin = undefined;
      await stale?.disconnect().catch(() => undefined);
      return false;
    }
  };

  return {
    name: 'kafka',
    async check() {
      if (last && Date.now() - last.at < cacheMs) return last.up;
      inflight ??= probe().then((up) => {
        last = { at: Date.now(), up };
        inflight = undefined;
        return up;
      });
      return inflight;
    },
    async close() {
      await admin?.disconnect().catch(() => undefined);
      admin = undefined;
    },
  };
}
