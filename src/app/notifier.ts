import type { Registry } from 'prom-client';
import { createKafka, ensureTopics } from '../adapters/kafka/kafka-client.js';
import { startAlertSubscriber, type AlertSubscriber, type AlertTopicValue } from '../adapters/kafka/kafka-alert-subscriber.js';
import { EventCodec } from '../adapters/registry/event-codec.js';
import type { Config } from '../config/config.js';
import { secretResolver } from '../config/notify-secrets.js';
import { toAlertRecord, type AlertRecord } from '../core/notify/alert-record.js';
import { channelConfigToJson, type ChannelConfig } from '../core/notify/channel-config.js';
import { DriftstreamError } from '../errors.js';
import { Notifier } from '../notify/notifier.js';
import type { NotifyMetrics } from '../notify/notify-metrics.js';
import { createNotifyMetrics } from '../observability/notify-metrics.js';
import type { Logger } from '../observability/logger.js';
import type { ChannelRepository, NotificationLog } from '../ports/notification-log.js';
import type { NotificationTransport } from '../ports/notification-transport.js';
import type { SecretRef } from '../core/notify/channel-config.js';
import { createNotificationTransport } from './notification-transport.js';

export interface NotifierServiceDeps {
  readonly notifications: NotificationLog;
  readonly channels: ChannelRepository;
  readonly logger: Logger;
  /** Registry the notifier's metrics are registered on (the service's /metrics). */
  readonly registry: Registry;
  /** Channels of the models file, stored (source `file`) before the notifier starts. */
  readonly declared?: readonly ChannelConfig[];
  readonly transport?: NotificationTransport;
  /** Where secrets come from; default the process environment and DRIFTSTREAM_NOTIFY_SECRETS_DIR. */
  readonly secrets?: (ref: SecretRef) => string;
  readonly startFrom?: 'earliest' | 'latest';
  /** This dispatcher's lease owner name (tests). */
  readonly owner?: string;
}

export interface NotifierService {
  readonly notifier: Notifier;
  readonly metrics: NotifyMetrics;
  /** Rejects when the consumer stops for good. */
  readonly done: Promise<void>;
  close(): Promise<void>;
}

/** Reads an alerts-topic batch into alert records; what is not an alert is counted and logged. */
function recordsOf(values: readonly AlertTopicValue[], metrics: NotifyMetrics, logger: Logger, now: number): AlertRecord[] {
  const out: AlertRecord[] = [];
  for (const v of values) {
    try {
      if (v.error) throw v.error;
      out.push(toAlertRecord(v.value, now));
    } catch (err) {
      const reason = err instanceof DriftstreamError ? err.code.toLowerCase() : 'undecodable';
      metrics.recordsInvalid.inc({ reason });
      logger.warn({ reason, err: (err as Error).message }, 'alerts-topic record is not an alert; skipped');
    }
  }
  return out;
}

/**
 * The notifier as `driftstream notify` (or `run` with DRIFTSTREAM_NOTIFY)
 * starts it: the models file's channels stored, the dispatch loop, and a
 * consumer group of its own on the alerts topic feeding the delivery log.
 */
export async function startNotifierService(config: Config, deps: NotifierServiceDeps): Promise<NotifierService> {
  const { logger } = deps;
  for (const c of deps.declared ?? []) await deps.channels.put(c.id, channelConfigToJson(c), 'file', Date.now());
  const metrics = createNotifyMetrics(deps.registry);
  const transport = deps.transport ?? createNotificationTransport();
  const notifier = new Notifier(
    { log: deps.notifications, channels: deps.channels, transport, secrets: deps.secrets ?? secretResolver(process.env, config.notify.secretsDir), logger, metrics, reportBaseUrl: config.notify.publicUrl },
    { pollMs: config.notify.pollMs, reloadMs: config.notify.reloadMs, owner: deps.owner },
  );
  await notifier.start();
  const kafka = createKafka(config.kafka, logger, `${config.kafka.clientId}-notify`);
  const codec = new EventCodec({ registryUrl: config.registry.url, auth: config.registry.auth, maxBytes: config.detector.maxMessageBytes });
  let fail: (err: Error) => void = () => undefined;
  const done = new Promise<void>((_resolve, reject) => (fail = reject));
  done.catch(() => undefined);
  let subscriber: AlertSubscriber;
  try {
    await ensureTopics(kafka, [{ topic: config.topics.alerts }]);
    subscriber = await startAlertSubscriber(kafka, codec, {
      topic: config.topics.alerts,
      groupId: config.notify.groupId,
      startFrom: deps.startFrom,
      sessionTimeoutMs: config.kafka.sessionTimeoutMs,
      logger,
      onFatal: (err) => fail(err),
      onRecords: async (values) => {
        await notifier.accept(recordsOf(values, metrics, logger, Date.now()));
      },
    });
  } catch (err) {
    await notifier.stop();
    await transport.close();
    throw err;
  }
  logger.info({ topic: config.topics.alerts, group: config.notify.groupId, channels: (await deps.channels.list()).length }, 'notifier started');
  let closing: Promise<void> | undefined;
  return {
    notifier,
    metrics,
    done,
    close: () =>
      (closing ??= (async () => {
        await subscriber.stop();
        await notifier.stop();
        await transport.close();
      })()),
  };
}
