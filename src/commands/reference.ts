import { writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { createAdapters } from '../app/create-adapters.js';
import { createKafka } from '../adapters/kafka/kafka-client.js';
import { readTopicRange, type TopicRangeStats } from '../adapters/kafka/topic-range-reader.js';
import { EventCodec } from '../adapters/registry/event-codec.js';
import { loadConfig, type Config } from '../config/config.js';
import { modelConfigToJson, parseModelConfig, withFeatures, type ModelConfig } from '../core/model/model-config.js';
import { serializeProfile, type ReferenceProfile } from '../core/profile/reference-profile.js';
import { ConfigError } from '../errors.js';
import { openRowSource, SAMPLE_FORMATS, type SampleFormat } from '../io/sample-reader.js';
import { loadModelsFile, modelDefaultsOf } from '../app/detector.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { buildReferenceFromSamples, type SampleLike } from '../stream/reference-from-samples.js';
import type { StoredReference } from '../ports/model-repository.js';

export interface ReferenceBuildOptions {
  model: string;
  from?: string;
  format?: SampleFormat;
  topic?: string;
  start?: string;
  end?: string;
  models?: string;
  out?: string;
  /** Store the reference in the model repository (default true). */
  store?: boolean;
  csvDelimiter?: string;
  csvEncoding?: string;
}

export interface ReferenceBuildResult {
  profile: ReferenceProfile;
  stored?: StoredReference;
  model: ModelConfig;
  source: string;
  topicStats?: TopicRangeStats;
}

function parseTime(flag: string, v: string | undefined): number {
  if (!v) throw new ConfigError(`${flag}: required with --topic (an ISO 8601 time, e.g. 2026-01-31T12:00:00Z)`);
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw new ConfigError(`${flag}: expected an ISO 8601 time, got ${JSON.stringify(v)}`);
  return t;
}

async function* topicSamples(config: Config, logger: Logger, opts: ReferenceBuildOptions, stats: TopicRangeStats): AsyncGenerator<SampleLike[]> {
  const start = parseTime('--start', opts.start);
  const end = parseTime('--end', opts.end);
  if (end <= start) throw new ConfigError('--end: must be after --start');
  const kafka = createKafka(config.kafka, logger, `${config.kafka.clientId}-reference`);
  const decoder = new EventCodec({ registryUrl: config.registry.url, auth: config.registry.auth, maxBytes: config.detector.maxMessageBytes });
  for await (const events of readTopicRange(kafka, { topic: opts.topic!, startMs: start, endMs: end, modelId: opts.model, decoder }, stats)) {
    yield events as unknown as SampleLike[];
  }
}

/**
 * `driftstream reference build`: a new immutable, versioned reference profile
 * of a model from a sample file (`--from`: CSV, NDJSON, Parquet or Arrow IPC) or from the events a topic
 * received in a time range (`--topic --start --end`), stored in the model
 * repository (PostgreSQL when DRIFTSTREAM_DATABASE_URL is set) and optionally
 * written to a file (`--out`) that a models file can name as `reference.profileFile`.
 */
export async function buildReferenceCommand(config: Config, opts: ReferenceBuildOptions, logger: Logger): Promise<ReferenceBuildResult> {
  if (!opts.from === !opts.topic) throw new ConfigError('reference build: give exactly one of --from FILE or --topic TOPIC --start ISO --end ISO');
  const defaults = modelDefaultsOf(config);
  const store = opts.store ?? true;
  const adapters = store ? await createAdapters(config, logger, createMetrics({ defaultMetrics: false })) : undefined;
  try {
    let model: ModelConfig | undefined;
    if (opts.models) model = (await loadModelsFile(opts.models, defaults)).find((m) => m.modelId === opts.model);
    if (!model && adapters) {
      const raw = await adapters.models.getModel(opts.model);
      if (raw) model = parseModelConfig(raw, defaults);
    }
    model ??= parseModelConfig({ modelId: opts.model }, defaults);
    const stats: TopicRangeStats = { records: 0, events: 0, skipped: 0 };
    const source = opts.from ?? `${opts.topic} [${opts.start}, ${opts.end})`;
    const sample = opts.from ? await openRowSource(opts.from, { format: opts.format, delimiter: opts.csvDelimiter, encoding: opts.csvEncoding }) : undefined;
    const batches = sample ? sample.batches() : topicSamples(config, logger, opts, stats);
    // A Parquet or Arrow schema types its columns; CSV and NDJSON are inferred from their values.
    const columnTypes = Object.fromEntries((sample?.columns ?? []).filter((c) => c.type !== undefined).map((c) => [c.name, c.type!]));
    const latest = adapters ? await adapters.models.latestReference(model.modelId) : undefined;
    const { profile, types } = await buildReferenceFromSamples(model, batches, {
      createdAt: Date.now(),
      id: randomUUID(),
      version: (latest?.version ?? 0) + 1,
      columnTypes,
    });
    if (Object.keys(model.features).length === 0) model = withFeatures(model, types);
    let stored: StoredReference | undefined;
    if (adapters) {
      if (!(await adapters.models.getModel(model.modelId)) || opts.models) await adapters.models.putModel(modelConfigToJson(model));
      stored = await adapters.models.addReference(model.modelId, profile.id, profile);
    }
    if (opts.out) await writeFile(opts.out, serializeProfile(profile));
    return { profile, stored, model, source, topicStats: opts.topic ? stats : undefined };
  } finally {
    await adapters?.close();
  }
}

export function registerReferenceCommand(program: Command): void {
  const reference = program.command('reference').description('reference profiles of models');
  reference
    .command('build')
    .description('build a new reference profile from a sample file (CSV, NDJSON, Parquet, Arrow IPC) or a time range of a topic')
    .requiredOption('--model <id>', 'model the reference belongs to')
    .option('--from <file>', 'sample: CSV (header row), NDJSON, Parquet or Arrow IPC; features as columns, optional score, prediction and label columns (NDJSON may hold inference events)')
    .option('--format <format>', `${SAMPLE_FORMATS.join(', ')} (default: from the file name, else its first bytes)`)
    .option('--csv-delimiter <char>', 'CSV field delimiter (default: the one of , ; tab | the header row holds most of)')
    .option('--csv-encoding <label>', 'CSV text encoding, e.g. windows-1252 (default: UTF-8, or UTF-16 by its byte order mark)')
    .option('--topic <topic>', 'build from the inference events a topic received in [--start, --end)')
    .option('--start <iso>', 'start of the time range (ISO 8601)')
    .option('--end <iso>', 'end of the time range (ISO 8601)')
    .option('--models <file>', 'models file with the model configuration (features, bins, top K)')
    .option('--out <file>', 'also write the profile as JSON (usable as reference.profileFile in a models file)')
    .option('--no-store', 'do not store the reference in the model repository')
    .action(async (opts: ReferenceBuildOptions) => {
      if (opts.format !== undefined && !SAMPLE_FORMATS.includes(opts.format)) {
        throw new ConfigError(`--format: expected one of ${SAMPLE_FORMATS.join(', ')}, got ${JSON.stringify(opts.format)}`);
      }
      const config = loadConfig(process.env);
      const logger = createLogger(process.env.DRIFTSTREAM_LOG_LEVEL ? config.logLevel : 'error');
      const r = await buildReferenceCommand(config, opts, logger);
      const lines = [
        `reference ${r.profile.id} of model ${r.model.modelId}${r.stored ? ` (version ${r.stored.version})` : ''}`,
        `  source   ${r.source}`,
        `  rows     ${r.profile.rows}`,
      ];
      if (r.topicStats) lines.push(`  records  ${r.topicStats.records} read, ${r.topicStats.skipped} undecodable skipped`);
      for (const [name, f] of Object.entries(r.profile.features)) {
        lines.push(
          f.type === 'numeric'
            ? `  ${name.padEnd(24)} numeric      n=${f.count} missing=${(f.missingRate * 100).toFixed(1)}% mean=${f.mean.toPrecision(4)} std=${f.std.toPrecision(4)} bins=${f.edges.length + 1}`
            : `  ${name.padEnd(24)} categorical  n=${f.count} missing=${(f.missingRate * 100).toFixed(1)}% categories=${Object.keys(f.categories).length}`,
        );
      }
      if (!r.stored) lines.push('  not stored (--no-store)');
      else if (!config.databaseUrl) lines.push('  stored in memory only: DRIFTSTREAM_DATABASE_URL is not set; use --out FILE to keep it');
      if (opts.out) lines.push(`  written to ${opts.out}`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
