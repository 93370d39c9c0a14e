import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { startAnalysisRunner } from '../app/analysis-runner.js';
import { createAdapters, type Adapters } from '../app/create-adapters.js';
import { loadModelsFile, modelDefaultsOf } from '../app/detector.js';
import { loadConfig, type Config } from '../config/config.js';
import type { Analysis, AnalysisRequest } from '../core/analysis/analysis.js';
import { parseUploadEvents } from '../core/analysis/upload-events.js';
import { parseDuration } from '../core/duration.js';
import { modelConfigToJson } from '../core/model/model-config.js';
import { ConfigError, DriftstreamError } from '../errors.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { renderAnalysisReport, reportedWindow } from '../report/report-context.js';

/** Options of `driftstream analyze`. */
export interface AnalyzeOptions {
  model: string;
  window: string;
  from?: string;
  to?: string;
  topic?: string;
  file?: string;
  reference?: string;
  tag: string[];
  models?: string;
  output?: string;
}

function time(flag: string, v: string | undefined): number {
  const t = v === undefined ? NaN : /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t)) throw new ConfigError(`${flag}: expected epoch milliseconds or an ISO 8601 time, got ${JSON.stringify(v)}`);
  return t;
}

/** The request the options describe; a file's bytes come with it. */
async function requestOf(opts: AnalyzeOptions, config: Config): Promise<{ request: AnalysisRequest; upload?: Uint8Array }> {
  const windowMs = parseDuration(opts.window);
  if (windowMs === undefined || windowMs < 1000) throw new ConfigError(`--window: expected a duration of at least 1s, like 5m or 1h, got ${JSON.stringify(opts.window)}`);
  const base = { modelId: opts.model, windowMs, tags: opts.tag, ...(opts.reference ? { referenceId: opts.reference } : {}) };
  if (opts.file) {
    const upload = await readFile(opts.file);
    parseUploadEvents(upload, opts.model);
    return { request: { ...base, source: { kind: 'upload', bytes: upload.length } }, upload };
  }
  const from = time('--from', opts.from);
  const to = time('--to', opts.to);
  if (to <= from) throw new ConfigError('--to: must be after --from');
  return { request: { ...base, source: { kind: 'topic', topic: opts.topic ?? config.topics.inference, from, to } } };
}

/** Models of a models file that the store lacks are registered, with their reference profile file when they name one. */
async function registerModels(adapters: Adapters, file: string, config: Config): Promise<void> {
  for (const m of await loadModelsFile(file, modelDefaultsOf(config))) {
    if (!(await adapters.models.getModel(m.modelId))) await adapters.models.putModel(modelConfigToJson(m));
    const profileFile = m.reference.profileFile;
    if (profileFile && !(await adapters.models.latestReference(m.modelId))) {
      const profile = JSON.parse(await readFile(profileFile, 'utf8')) as { id?: string };
      await adapters.models.addReference(m.modelId, profile.id ?? `ref-${randomUUID()}`, profile);
    }
  }
}

/** Runs the analysis in this process, printing its progress, until it ends. */
async function follow(adapters: Adapters, config: Config, logger: Logger, analysisId: string, err: NodeJS.WritableStream): Promise<Analysis> {
  const runner = await startAnalysisRunner(config, adapters, logger, { concurrency: 1, only: analysisId });
  try {
    for (;;) {
      const a = (await adapters.analyses.get(analysisId))!;
      if (a.state === 'completed' || a.state === 'failed' || a.state === 'cancelled') return a;
      err.write(`${a.state} ${(a.progress.fraction * 100).toFixed(0)}%: ${a.progress.windows} windows, ${a.progress.events} events\n`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    await runner.stop();
  }
}

/**
 * `driftstream analyze`: a backfill analysis run here, stored where the
 * configuration says (PostgreSQL with DRIFTSTREAM_DATABASE_URL), with its
 * summary on stdout and its HTML report written to `output`. Returns the exit
 * code: 0 completed, 1 failed, 2 bad input.
 */
export async function analyzeCommand(opts: AnalyzeOptions, config: Config, io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream }): Promise<number> {
  const logger = createLogger(config.logLevel);
  const adapters = await createAdapters(config, logger, createMetrics({ defaultMetrics: false }));
  try {
    if (opts.models) await registerModels(adapters, opts.models, config);
    if (!(await adapters.models.getModel(opts.model))) throw new ConfigError(`--model: ${opts.model} is not registered (name a models file with --models)`);
    const { request, upload } = await requestOf(opts, config);
    const created = await adapters.analyses.create(`an-${randomUUID()}`, request, Date.now(), upload);
    io.err.write(`analysis ${created.analysisId} queued\n`);
    const a = await follow(adapters, config, logger, created.analysisId, io.err);
    io.out.write(JSON.stringify({ analysisId: a.analysisId, state: a.state, progress: a.progress, summary: a.summary ?? null, error: a.error ?? null }, null, 2) + '\n');
    if (a.state !== 'completed') return 1;
    const windows = await adapters.analyses.windows(a.analysisId, { limit: 100_000 });
    const chosen = reportedWindow(windows);
    if (chosen) {
      const reference = await adapters.models.getReference(chosen.evaluation.referenceId);
      const path = opts.output ?? `${a.analysisId}.html`;
      await writeFile(path, renderAnalysisReport(a, windows, chosen, (await adapters.models.getModel(a.modelId))!, reference?.profile, Date.now()));
      io.err.write(`report written to ${path}\n`);
    }
    return 0;
  } catch (e) {
    if (e instanceof DriftstreamError && !e.retriable) {
      io.err.write(`driftstream analyze: ${e.message}\n`);
      return 2;
    }
    throw e;
  } finally {
    await adapters.close();
  }
}

export function registerAnalyzeCommand(program: Command): void {
  program
    .command('analyze')
    .description('run a backfill drift analysis over a past time range of the inference topic, or over a file of events, and write its HTML report')
    .requiredOption('-m, --model <id>', 'the model to analyse (registered, or declared in --models)')
    .requiredOption('-w, --window <duration>', 'tumbling window length, e.g. 1h')
    .option('--from <time>', 'start of the topic range (ISO 8601 or epoch ms; record timestamps)')
    .option('--to <time>', 'end of the topic range (exclusive)')
    .option('--topic <name>', 'topic to read (default DRIFTSTREAM_INFERENCE_TOPIC)')
    .option('--file <path>', 'NDJSON file of inference events (or flat rows with a timestamp column) instead of a topic range')
    .option('--reference <id>', "reference to judge against (default: the model's latest)")
    .option('--tag <tag...>', 'tags to file the analysis under (repeatable)', [])
    .option('--models <file>', 'models file whose models (and reference profile files) are registered when missing')
    .option('-o, --output <file>', 'where to write the HTML report (default <analysisId>.html)')
    .action(async (opts: AnalyzeOptions) => {
      process.exitCode = await analyzeCommand(opts, loadConfig(process.env), { out: process.stdout, err: process.stderr });
    });
}
