import type { FeatureResult } from '../core/drift/types.js';
import { escapeHtml, formatNumber, formatPercent, formatTime } from './html.js';

type Histogram = NonNullable<FeatureResult['histogram']>;

const REFERENCE_COLOR = '#7a8ca3';
const CURRENT_COLOR = '#d9534f';
const LINE_COLOR = '#2f6fb3';

/** Bin labels of a histogram: categories by name; numeric bins by their edges, the outer ones open. */
export function binLabels(h: Histogram): string[] {
  if (h.categories) return h.categories;
  const e = h.edges ?? [];
  if (e.length === 0) return ['all'];
  const labels = [`< ${compact(e[0])}`];
  for (let i = 1; i < e.length; i++) labels.push(`${compact(e[i - 1])} – ${compact(e[i])}`);
  labels.push(`≥ ${compact(e[e.length - 1])}`);
  return labels;
}

/**
 * Reference and current proportions overlaid on the same bins: the
 * reference as wide grey bars, the current window as narrower red bars in
 * front, each bin labelled below and titled with both shares.
 */
export function histogramSvg(h: Histogram, feature: string): string {
  const labels = binLabels(h);
  const n = Math.max(labels.length, 1);
  const width = 640;
  const height = 220;
  const top = 12;
  const bottom = 64;
  const left = 44;
  const plotH = height - top - bottom;
  const slot = (width - left - 8) / n;
  const max = Math.max(1e-9, ...h.reference, ...h.current);
  const y = (p: number) => top + plotH - (p / max) * plotH;
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = left + i * slot;
    const ref = h.reference[i] ?? 0;
    const cur = h.current[i] ?? 0;
    const title = `<title>${escapeHtml(labels[i])}: reference ${formatPercent(ref)}, current ${formatPercent(cur)}</title>`;
    parts.push(`<rect x="${(x + slot * 0.08).toFixed(1)}" y="${y(ref).toFixed(1)}" width="${(slot * 0.84).toFixed(1)}" height="${(top + plotH - y(ref)).toFixed(1)}" fill="${REFERENCE_COLOR}" fill-opacity="0.55">${title}</rect>`);
    parts.push(`<rect x="${(x + slot * 0.3).toFixed(1)}" y="${y(cur).toFixed(1)}" width="${(slot * 0.4).toFixed(1)}" height="${(top + plotH - y(cur)).toFixed(1)}" fill="${CURRENT_COLOR}" fill-opacity="0.85">${title}</rect>`);
    const lx = x + slot / 2;
    parts.push(`<text x="${lx.toFixed(1)}" y="${height - bottom + 14}" font-size="10" text-anchor="end" transform="rotate(-35 ${lx.toFixed(1)} ${height - bottom + 14})">${escapeHtml(shorten(labels[i], 22))}</text>`);
  }
  const axis = `<line x1="${left}" y1="${top + plotH}" x2="${width - 8}" y2="${top + plotH}" stroke="#333"/>` +
    `<text x="${left - 4}" y="${top + 8}" font-size="10" text-anchor="end">${formatPercent(max)}</text>` +
    `<text x="${left - 4}" y="${top + plotH}" font-size="10" text-anchor="end">0%</text>`;
  const legend = `<rect x="${width - 190}" y="2" width="10" height="10" fill="${REFERENCE_COLOR}" fill-opacity="0.55"/><text x="${width - 176}" y="11" font-size="11">reference</text>` +
    `<rect x="${width - 110}" y="2" width="10" height="10" fill="${CURRENT_COLOR}" fill-opacity="0.85"/><text x="${width - 96}" y="11" font-size="11">current</text>`;
  return `<svg class="histogram" role="img" aria-label="${escapeHtml(`reference and current distribution of ${feature}`)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${axis}${parts.join('')}${legend}</svg>`;
}

/** A value over windows, oldest first; `null` values leave a gap; drifted windows are marked red. */
export interface TrendSeries {
  readonly label: string;
  readonly points: readonly { readonly t: number; readonly value: number | null; readonly drift: boolean; readonly label?: string }[];
  /** A horizontal line (a threshold or floor). */
  readonly threshold?: number;
}

/** A small line chart of a series over the recent windows, with its threshold dashed. */
export function trendSvg(series: TrendSeries, size: { width: number; height: number } = { width: 640, height: 140 }): string {
  const { width, height } = size;
  const pad = { left: 44, right: 8, top: 10, bottom: 22 };
  const values = series.points.map((p) => p.value).filter((v): v is number => v !== null && Number.isFinite(v));
  const max = Math.max(1e-9, series.threshold ?? 0, ...values) * 1.1;
  const n = series.points.length;
  const x = (i: number) => pad.left + (n <= 1 ? (width - pad.left - pad.right) / 2 : (i / (n - 1)) * (width - pad.left - pad.right));
  const y = (v: number) => pad.top + (height - pad.top - pad.bottom) * (1 - v / max);
  const segments: string[] = [];
  let path = '';
  series.points.forEach((p, i) => {
    if (p.value === null || !Number.isFinite(p.value)) {
      if (path) segments.push(path);
      path = '';
      return;
    }
    path += `${path ? 'L' : 'M'}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`;
  });
  if (path) segments.push(path);
  const lines = segments.map((d) => `<path d="${d}" fill="none" stroke="${LINE_COLOR}" stroke-width="2"/>`).join('');
  const dots = series.points
    .map((p, i) => (p.value === null || !Number.isFinite(p.value) ? '' : `<circle cx="${x(i).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="3.5" fill="${p.drift ? CURRENT_COLOR : LINE_COLOR}"><title>${escapeHtml(p.label ?? formatTime(p.t))}: ${formatNumber(p.value, 3)}${p.drift ? ' (drift)' : ''}</title></circle>`))
    .join('');
  const threshold = series.threshold === undefined ? '' : `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(series.threshold).toFixed(1)}" y2="${y(series.threshold).toFixed(1)}" stroke="#999" stroke-dasharray="4 3"><title>threshold ${formatNumber(series.threshold, 3)}</title></line>`;
  const first = series.points[0];
  const last = series.points[n - 1];
  const labels = first && last
    ? `<text x="${pad.left}" y="${height - 6}" font-size="10">${escapeHtml(first.label ?? formatTime(first.t))}</text><text x="${width - pad.right}" y="${height - 6}" font-size="10" text-anchor="end">${escapeHtml(last.label ?? formatTime(last.t))}</text>`
    : '';
  const axis = `<text x="${pad.left - 4}" y="${pad.top + 8}" font-size="10" text-anchor="end">${formatNumber(max, 2)}</text><text x="${pad.left - 4}" y="${height - pad.bottom}" font-size="10" text-anchor="end">0</text>`;
  return `<svg class="trend" role="img" aria-label="${escapeHtml(series.label)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${axis}${threshold}${lines}${dots}${labels}</svg>`;
}

/** An edge with four significant digits and no trailing zeros: 21000, 0.1235, 1.5e-7. */
function compact(v: number): string {
  return String(Number(v.toPrecision(4)));
}

function shorten(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
