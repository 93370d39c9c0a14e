import type { Logger } from 'pino';
import { createKafka } from '../adapters/kafka/kafka-client.js';
import { KafkaAnalysisSource } from '../adapters/kafka/kafka-analysis-source.js';
import { EventCodec } from '../adapters/registry/event-codec.js';
import type { Config } from '../config/config.js';
import { AnalysisRunner, type AnalysisRunnerOptions } from '../stream/analysis-runner.js';
import type { Adapters } from './create-adapters.js';

/**
 * The runner of backfill analyses for `run`, `serve` and `analyze`: the
 * configured analysis store and models, past events read from Kafka through
 * the schema registry, and the configured concurrency and step size. Started
 * (analyses a previous process left running are queued again).
 */
export async function startAnalysisRunner(
  config: Config,
  adapters: Pick<Adapters, 'analyses' | 'models'>,
  logger: Logger,
  extra: Partial<AnalysisRunnerOptions> = {},
): Promise<AnalysisRunner> {
  const kafka = createKafka(config.kafka, logger, `${config.kafka.clientId}-analysis`);
  const decoder = new EventCodec({ registryUrl: config.registry.url, auth: config.registry.auth, maxBytes: config.detector.maxMessageBytes });
  const runner = new AnalysisRunner({
    analyses: adapters.analyses,
    models: adapters.models,
    source: new KafkaAnalysisSource(kafka, decoder),
    logger,
    concurrency: config.analyses.concurrency,
    chunkWindows: config.analyses.chunkWindows,
    ...extra,
  });
  await runner.start();
  return runner;
}
