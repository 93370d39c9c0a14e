import { randomUUID } from 'node:crypto';
import { BROKERS, REGISTRY_URL } from './kafka.js';
import { DATABASE_URL } from './postgres.js';

/** The names one notifier test run keeps its state under: alerts topic, consumer groups, PostgreSQL schema. */
export interface NotifyRun {
  readonly runId: string;
  readonly alertsTopic: string;
  readonly databaseSchema: string;
}

export function notifyRun(label: string): NotifyRun {
  const runId = `${label}-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
  return { runId, alertsTopic: `${runId}-alerts`, databaseSchema: `ds_${runId.replace(/-/g, '_')}` };
}

/** The environment of `driftstream notify` for one run: its topic, group, schema and models file; quick polling. */
export function notifyEnv(run: NotifyRun, modelsFile: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DRIFTSTREAM_KAFKA_BROKERS: BROKERS.join(','),
    DRIFTSTREAM_SCHEMA_REGISTRY_URL: REGISTRY_URL,
    DRIFTSTREAM_ALERTS_TOPIC: run.alertsTopic,
    DRIFTSTREAM_GROUP_ID: `${run.runId}-group`,
    DRIFTSTREAM_DATABASE_URL: DATABASE_URL,
    DRIFTSTREAM_DATABASE_SCHEMA: run.databaseSchema,
    DRIFTSTREAM_MODELS_FILE: modelsFile,
    DRIFTSTREAM_NOTIFY_POLL_INTERVAL: '100ms',
    DRIFTSTREAM_NOTIFY_RELOAD_INTERVAL: '1s',
    DRIFTSTREAM_KAFKA_SESSION_TIMEOUT: '6s',
    DRIFTSTREAM_LOG_LEVEL: 'warn',
    ...extra,
  };
}
