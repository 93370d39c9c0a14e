import { DEFAULT_FALSE_ALARM_BUDGET } from '../core/drift/floors.js';
import { DEFAULT_DATASET_DRIFT_SHARE } from '../core/stats/dataset-drift.js';
import { renderDriftReport } from '../report/render-report.js';
import { trendPointOf, type TrendPoint } from '../report/report-input.js';
import { COMPARE_EXIT, compareFailure, compareWindows, type CompareOptions, type CompareWindowResult } from './compare.js';

function label(w: CompareWindowResult, index: number): string {
  const win = w.report.window;
  return win ? `${win.file} rows ${win.firstRow}-${win.firstRow + win.rows - 1}` : `window ${index}`;
}

/**
 * `compare --format html`: one self-contained report of the last window, with
 * every window before it as its trend (windows are consecutive rows, so the
 * trend's time axis is the window index).
 */
export async function compareHtmlReport(opts: Omit<CompareOptions, 'format'>, windows: AsyncIterable<CompareWindowResult>, err: NodeJS.WritableStream): Promise<string> {
  const trend: TrendPoint[] = [];
  let last: CompareWindowResult | undefined;
  let index = 0;
  for await (const w of windows) {
    if (index === 0 && w.onlyInReference.length > 0) err.write(`note: only in the reference, not compared: ${w.onlyInReference.join(', ')}\n`);
    const n = Object.values(w.evaluations)[0]?.nCurrent ?? 0;
    const point = trendPointOf({ windowStart: index, windowEnd: index + 1, sampleSize: n, datasetDrift: { share: w.report.dataset.driftShare, drift: w.report.dataset.drift }, features: w.evaluations });
    trend.push({ ...point, label: label(w, index) });
    last = w;
    index++;
  }
  if (!last) throw new Error('nothing to compare');
  const current = typeof opts.current === 'string' ? opts.current : opts.current[opts.current.length - 1];
  const rows = last.report.window?.rows ?? Math.max(0, ...Object.values(last.evaluations).map((f) => f.nCurrent + f.missing));
  return renderDriftReport({
    title: `Drift report: ${current} against ${opts.reference}`,
    generatedAt: Date.now(),
    sampleSize: rows,
    referenceSize: last.referenceRows,
    dataset: { share: last.report.dataset.driftShare, drift: last.report.dataset.drift },
    features: last.evaluations,
    rule: { falseAlarmBudget: opts.budget ?? DEFAULT_FALSE_ALARM_BUDGET, datasetDriftShare: DEFAULT_DATASET_DRIFT_SHARE },
    ...(trend.length > 1 ? { trend } : {}),
    source: `driftstream compare (${label(last, index - 1)})`,
  });
}

/** `driftstream compare --format html`: writes the report to `out`; exit codes as {@link compareCommand}'s. */
export async function compareHtmlCommand(opts: Omit<CompareOptions, 'format'>, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  try {
    out.write(await compareHtmlReport(opts, compareWindows({ ...opts, format: 'json' }), err));
    return COMPARE_EXIT.ok;
  } catch (e) {
    return compareFailure(e, err);
  }
}
