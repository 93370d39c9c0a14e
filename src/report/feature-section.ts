import type { FeatureResult } from '../core/drift/types.js';
import { escapeHtml, formatNumber } from './html.js';
import type { TrendPoint } from './report-input.js';
import { histogramSvg, trendSvg } from './svg-charts.js';

/** A row of a statistics table: name, value, and what it is compared with. */
type StatRow = readonly [string, string, string];

/** The verdict's evidence: the deciding test against its level, the effect against its floors, what the window could see. */
function verdictRows(f: FeatureResult): StatRow[] {
  const v = f.verdict;
  if (!v) return [];
  const rows: StatRow[] = [
    ['verdict', v.verdict, v.verdict !== 'insufficient' || v.nNeeded === undefined ? '' : v.nNeeded === null ? 'no window could see the floor against this reference' : `needs about ${formatNumber(v.nNeeded, 0)} values`],
    ['deciding test', v.test ?? '-', v.pValue === null ? '-' : `p = ${formatNumber(v.pValue)} vs level ${formatNumber(v.level)}`],
    [`effect (${v.metric})`, formatNumber(v.effect), `floors ${formatNumber(v.floor.warning, 3)} warning, ${formatNumber(v.floor.critical, 3)} critical`],
    ['minimum detectable effect', formatNumber(v.mde), `at n = ${v.n}`],
  ];
  for (const [test, p] of Object.entries(v.tests)) rows.push([`${test} p-value`, formatNumber(p), 'unadjusted']);
  if (v.sequential) rows.push(['derived window z', formatNumber(v.sequential.statistic), `|z| needed ${formatNumber(v.sequential.threshold)}${v.sequential.windows ? `, last ${v.sequential.windows} windows` : ''}`]);
  return rows;
}

/** The reported statistics (DESIGN.md section 4) with the KS sketch's error bound beside D. */
function statisticRows(f: FeatureResult): StatRow[] {
  const rows: StatRow[] = [];
  if (f.psi !== undefined) rows.push(['PSI', formatNumber(f.psi), 'reported']);
  if (f.ks) rows.push(['KS D', formatNumber(f.ks.statistic), `± ${formatNumber(f.ks.errorBound)} (sketch), p = ${formatNumber(f.ks.pValue)}`]);
  if (f.wassersteinNormed !== undefined) rows.push(['Wasserstein (normed)', formatNumber(f.wassersteinNormed), 'in reference std']);
  if (f.jensenShannon !== undefined) rows.push(['Jensen-Shannon', formatNumber(f.jensenShannon), 'distance']);
  if (f.hellinger !== undefined) rows.push(['Hellinger', formatNumber(f.hellinger), 'distance']);
  if (f.chiSquare) rows.push(['chi-square', formatNumber(f.chiSquare.statistic, 2), `dof ${f.chiSquare.dof}, p = ${formatNumber(f.chiSquare.pValue)}`]);
  if (f.newCategories && f.newCategories.length > 0) rows.push(['new categories', String(f.newCategories.length), f.newCategories.slice(0, 10).join(', ')]);
  rows.push(['missing', formatNumber(f.missingRate ?? null, 3), `${f.missing} values`]);
  return rows;
}

function table(rows: readonly StatRow[]): string {
  const body = rows.map(([a, b, c]) => `<tr><th scope="row">${escapeHtml(a)}</th><td class="num">${escapeHtml(b)}</td><td>${escapeHtml(c)}</td></tr>`).join('');
  return `<table class="stats"><tbody>${body}</tbody></table>`;
}

/** The badge of a verdict: DRIFT with its severity, or ok / insufficient. */
export function verdictBadge(f: Pick<FeatureResult, 'drift' | 'severity' | 'verdict'>): string {
  if (f.drift) return `<span class="badge ${f.severity === 'CRITICAL' ? 'critical' : 'warning'}">drift · ${escapeHtml(f.severity.toLowerCase())}</span>`;
  const v = f.verdict?.verdict ?? 'ok';
  return `<span class="badge ${v === 'insufficient' ? 'insufficient' : 'ok'}">${escapeHtml(v)}</span>`;
}

/** One feature: its distributions overlaid, its statistics with their evidence and floors, its effect over recent windows. */
export function featureSection(name: string, f: FeatureResult, importance: number | undefined, trend: readonly TrendPoint[] | undefined, kind = 'feature'): string {
  const id = `${kind}-${encodeURIComponent(name)}`;
  const head = `<h3>${escapeHtml(name)} ${verdictBadge(f)}</h3><p class="meta">${escapeHtml(f.type)} · n current ${f.nCurrent} · n reference ${f.nReference}${importance !== undefined ? ` · importance ${formatNumber(importance, 3)}` : ''}</p>`;
  const chart = f.histogram ? histogramSvg(f.histogram, name) : '<p class="note">No distribution kept for this feature.</p>';
  const points = (trend ?? []).map((p) => ({ t: p.windowEnd, value: p.features[name]?.effect ?? null, drift: p.features[name]?.drift ?? false, ...(p.label ? { label: p.label } : {}) }));
  const trendChart = points.filter((p) => p.value !== null).length > 1
    ? `<h4>Effect over recent windows</h4>${trendSvg({ label: `effect of ${name} over recent windows`, points, threshold: f.verdict?.floor.warning })}`
    : '';
  return `<section class="feature" id="${escapeHtml(id)}" data-feature="${escapeHtml(name)}" data-drift="${f.drift}" data-severity="${escapeHtml(f.severity)}">${head}<div class="pair"><div>${chart}</div><div><h4>Verdict and evidence</h4>${table(verdictRows(f))}<h4>Statistics</h4>${table(statisticRows(f))}</div></div>${trendChart}</section>`;
}
