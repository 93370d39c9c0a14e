import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelConfigToJson, type ModelConfig } from '../core/model/model-config.js';
import { renderEvaluationReport } from '../report/evaluation-report.js';
import { reportContext } from '../report/report-context.js';
import type { RunHandle } from './run.js';

/** Where the demo's report is served: the report route of the model's first window. */
export function demoReportUrl(url: string, model: ModelConfig): string {
  return `${url}/api/v1/models/${encodeURIComponent(model.modelId)}/report?window=${encodeURIComponent(model.windows[0].name)}`;
}

/**
 * Writes the HTML report of the latest evaluation of the model's first window
 * (with the windows before it as its trend) to a file, and returns its path;
 * undefined when no window was evaluated.
 */
export async function writeDemoReport(handle: RunHandle, model: ModelConfig, now: number): Promise<string | undefined> {
  const windowName = model.windows[0].name;
  const history = await handle.adapters.results.listEvaluations({ modelId: model.modelId, windowName, limit: 24 });
  const latest = history[0];
  if (!latest) return undefined;
  const reference = await handle.adapters.models.getReference(latest.referenceId);
  const html = renderEvaluationReport(latest, reportContext(modelConfigToJson(model), history, reference?.profile, now));
  const path = join(tmpdir(), `driftstream-demo-report-${now}.html`);
  await writeFile(path, html);
  return path;
}
