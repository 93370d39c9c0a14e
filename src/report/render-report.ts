import type { FeatureResult } from '../core/drift/types.js';
import { escapeHtml, formatNumber, formatPercent, formatTime } from './html.js';
import type { DriftReportInput } from './report-input.js';
import { reportOrder } from './report-order.js';
import { REPORT_CSS } from './report-style.js';
import { featureSection, verdictBadge } from './feature-section.js';
import { trendSvg } from './svg-charts.js';

function figure(label: string, value: string): string {
  return `<div class="figure"><div class="value">${value}</div><div class="label">${escapeHtml(label)}</div></div>`;
}

/** Dataset drift, sample sizes and the rule, then the drifting features, most important first. */
function summarySection(r: DriftReportInput, order: readonly string[]): string {
  const names = Object.keys(r.features);
  const drifting = order.filter((n) => r.features[n].drift);
  const d = r.dataset;
  const figures = [
    figure('dataset drift', d.drift ? '<span class="badge critical">drift</span>' : '<span class="badge ok">no drift</span>'),
    figure('features in drift', `${drifting.length} of ${names.length} (${formatPercent(d.share)})`),
    ...(d.weightedShare !== undefined ? [figure('importance-weighted share', formatPercent(d.weightedShare))] : []),
    figure('current sample', String(r.sampleSize)),
    ...(r.referenceSize !== undefined ? [figure('reference sample', String(r.referenceSize))] : []),
  ].join('');
  const weighted = r.rule.datasetDriftWeightedShare !== undefined ? ` or when their importance-weighted share reaches ${formatPercent(r.rule.datasetDriftWeightedShare)}` : '';
  const rule =
    `<p class="rule">A feature drifts when a test is significant at its window's size after Holm's control over the evaluation's tests, within a false-alarm budget of ${formatNumber(r.rule.falseAlarmBudget, 4)} per evaluation, ` +
    `and its effect passes the WARNING floor. The dataset drifts when ${formatPercent(r.rule.datasetDriftShare)} of the features drift${weighted}.</p>`;
  const rows = drifting
    .map((n) => {
      const f = r.features[n];
      return `<tr><td><a href="#feature-${escapeHtml(encodeURIComponent(n))}">${escapeHtml(n)}</a></td><td class="num">${formatNumber(r.importance?.[n], 3)}</td><td>${verdictBadge(f)}</td><td class="num">${formatNumber(f.verdict?.effect)}</td><td class="num">${formatNumber(f.verdict?.floor.warning, 3)}</td><td>${escapeHtml(f.verdict?.test ?? '-')}</td><td class="num">${formatNumber(f.verdict?.pValue)}</td></tr>`;
    })
    .join('');
  const table = drifting.length
    ? `<table class="drifting"><thead><tr><th>feature</th><th>importance</th><th>verdict</th><th>effect</th><th>floor</th><th>test</th><th>p</th></tr></thead><tbody>${rows}</tbody></table>`
    : '<p class="note">No feature drifts in this window.</p>';
  return `<section id="summary"><h2>Summary</h2><div class="summary">${figures}</div><div class="card">${rule}<h4>Drifting features by importance</h4>${table}</div></section>`;
}

function trendSection(r: DriftReportInput): string {
  const t = r.trend ?? [];
  if (t.length < 2) return '';
  const share = trendSvg({ label: 'share of drifting features over recent windows', points: t.map((p) => ({ t: p.windowEnd, value: p.share, drift: p.drift, ...(p.label ? { label: p.label } : {}) })), threshold: r.rule.datasetDriftShare });
  const hasWeighted = t.some((p) => p.weightedShare !== undefined);
  const weighted = hasWeighted
    ? `<h4>Importance-weighted share</h4>${trendSvg({ label: 'importance-weighted share over recent windows', points: t.map((p) => ({ t: p.windowEnd, value: p.weightedShare ?? null, drift: p.drift, ...(p.label ? { label: p.label } : {}) })), threshold: r.rule.datasetDriftWeightedShare })}`
    : '';
  return `<section id="trend"><h2>Trend over the last ${t.length} windows</h2><div class="card"><h4>Share of drifting features</h4>${share}${weighted}</div></section>`;
}

/** Performance and label coverage, beside the reference's when it had labels. */
function performanceSection(r: DriftReportInput): string {
  const p = r.performance;
  if (!p || p.labelled === 0) return '';
  const ref = r.referencePerformance?.metrics ?? {};
  const rows = Object.entries(p.metrics)
    .map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td class="num">${formatNumber(v)}</td><td class="num">${formatNumber(ref[k] ?? null)}</td></tr>`)
    .join('');
  const delay = p.labelDelayP50Ms != null ? ` · label delay p50 ${formatNumber(p.labelDelayP50Ms / 1000, 1)} s, p95 ${formatNumber((p.labelDelayP95Ms ?? NaN) / 1000, 1)} s` : '';
  return `<section id="performance"><h2>Performance</h2><div class="card"><p class="meta">${p.labelled} labelled of ${p.predictions} predictions (coverage ${formatPercent(p.coverage)})${delay}</p><table><thead><tr><th>metric</th><th>window</th><th>reference${r.referencePerformance ? ` (${r.referencePerformance.labelled} labelled)` : ''}</th></tr></thead><tbody>${rows}</tbody></table></div></section>`;
}

function outputsSection(r: DriftReportInput): string {
  const outputs = Object.entries(r.prediction ?? {}) as [string, FeatureResult][];
  if (outputs.length === 0) return '';
  return `<section id="outputs"><h2>Model outputs</h2>${outputs.map(([n, f]) => featureSection(n, f, undefined, undefined, 'output')).join('')}</section>`;
}

/**
 * Features drawn in full at most (every drifting one always is): a model with
 * hundreds of features still makes a report small enough to attach.
 */
export const MAX_FEATURE_SECTIONS = 60;

/** The features beyond the drawn ones, one line each. */
function restSection(r: DriftReportInput, rest: readonly string[]): string {
  if (rest.length === 0) return '';
  const rows = rest
    .map((n) => {
      const f = r.features[n];
      return `<tr data-feature="${escapeHtml(n)}"><td>${escapeHtml(n)}</td><td class="num">${formatNumber(r.importance?.[n], 3)}</td><td>${verdictBadge(f)}</td><td class="num">${formatNumber(f.verdict?.effect)}</td><td class="num">${formatNumber(f.verdict?.mde ?? null)}</td><td class="num">${formatNumber(f.psi)}</td><td class="num">${f.nCurrent}</td></tr>`;
    })
    .join('');
  return `<section id="other-features" class="card"><h3>${rest.length} more features, none drifting</h3><table><thead><tr><th>feature</th><th>importance</th><th>verdict</th><th>effect</th><th>detectable</th><th>PSI</th><th>n</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function headerOf(r: DriftReportInput): string {
  const where = [
    r.modelId ? `model ${escapeHtml(r.modelId)}` : '',
    r.windowName ? `window ${escapeHtml(r.windowName)}` : '',
    r.windowStart !== undefined && r.windowEnd !== undefined ? `${escapeHtml(formatTime(r.windowStart))} – ${escapeHtml(formatTime(r.windowEnd))}` : '',
    r.referenceId ? `reference ${escapeHtml(r.referenceId)}` : '',
  ].filter(Boolean);
  return `<header><h1>${escapeHtml(r.title)}</h1><p>${where.join(' · ')}</p></header>`;
}

/**
 * A drift report as one self-contained HTML document: inline style and SVG,
 * no script, nothing fetched (its content security policy forbids it), so it
 * opens offline and as an e-mail attachment. Summary first, then the trend,
 * performance, the model's outputs, and every feature, drifting ones first
 * and most important first.
 */
export function renderDriftReport(r: DriftReportInput): string {
  const order = reportOrder(r.features, r.importance);
  const detailed = order.slice(0, Math.max(MAX_FEATURE_SECTIONS, order.filter((n) => r.features[n].drift).length));
  const features = detailed.map((n) => featureSection(n, r.features[n], r.importance?.[n], r.trend)).join('') + restSection(r, order.slice(detailed.length));
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(r.title)}</title><style>${REPORT_CSS}</style></head><body>`,
    headerOf(r),
    '<main>',
    summarySection(r, order),
    trendSection(r),
    performanceSection(r),
    outputsSection(r),
    `<section id="features"><h2>Features</h2>${features}</section>`,
    `<footer>Generated by driftstream at ${escapeHtml(formatTime(r.generatedAt))}${r.source ? ` from ${escapeHtml(r.source)}` : ''}.</footer>`,
    '</main></body></html>',
  ].join('\n');
}
