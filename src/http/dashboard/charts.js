// Hand-written SVG charts: a reference/current histogram overlay and a
// statistic-over-time line chart. They return markup strings; every text that
// comes from data goes through esc().

export function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** Compact number: 3 significant digits, thousands as k/M, tiny values in exponent form. */
export function fmt(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e6) return `${(v / 1e6).toPrecision(digits).replace(/\.?0+$/, '')}M`;
  if (a >= 1e4) return `${(v / 1e3).toPrecision(digits).replace(/\.?0+$/, '')}k`;
  if (a < 1e-3) return v.toExponential(1);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return Number(v.toPrecision(digits)).toString();
}

export function pct(v) {
  if (v === null || v === undefined) return '–';
  return `${(v * 100).toFixed(v < 0.1 && v > 0 ? 1 : 0)}%`;
}

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * Bins of a numeric feature as labels: the outer bins are open, so they read
 * "< e0" and "≥ ek"; quantile bins are drawn with equal widths (each holds a
 * tenth of the reference), which is how PSI sees them.
 */
export function binLabels(edges) {
  if (!edges || edges.length === 0) return ['all'];
  const labels = [`< ${fmt(edges[0])}`];
  for (let i = 1; i < edges.length; i++) labels.push(`${fmt(edges[i - 1])}–${fmt(edges[i])}`);
  labels.push(`≥ ${fmt(edges[edges.length - 1])}`);
  return labels;
}

/**
 * Reference bars (wide, light) with current bars (narrow, coloured by
 * severity) drawn over them, one pair per bin or category.
 */
export function histogramChart({ labels, reference, current, severity = 'none', width = 640, height = 272 }) {
  const m = { top: 14, right: 12, bottom: 64, left: 44 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const n = Math.max(labels.length, 1);
  const max = niceMax(Math.max(...(reference ?? [0]), ...(current ?? [0])));
  const y = (v) => m.top + h - (v / max) * h;
  const band = w / n;
  const parts = [`<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="Reference and current distribution">`];
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    parts.push(`<line class="grid-line" x1="${m.left}" x2="${width - m.right}" y1="${y(v)}" y2="${y(v)}"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y(v) + 4}" text-anchor="end">${esc(pct(v))}</text>`);
  }
  const rotate = n > 8 || labels.some((l) => l.length > 9);
  labels.forEach((label, i) => {
    const x0 = m.left + i * band;
    const r = reference?.[i] ?? 0;
    parts.push(`<rect class="bar-ref" x="${x0 + band * 0.08}" width="${band * 0.84}" y="${y(r)}" height="${Math.max(0, m.top + h - y(r))}"><title>${esc(label)} · reference ${esc(pct(r))}</title></rect>`);
    if (current) {
      const c = current[i] ?? 0;
      parts.push(`<rect class="bar-cur ${esc(severity)}" x="${x0 + band * 0.3}" width="${band * 0.4}" y="${y(c)}" height="${Math.max(0, m.top + h - y(c))}"><title>${esc(label)} · current ${esc(pct(c))}</title></rect>`);
    }
    const lx = x0 + band / 2;
    const ly = m.top + h + 14;
    const text = label.length > 16 ? `${label.slice(0, 15)}…` : label;
    parts.push(rotate
      ? `<text x="${lx + 4}" y="${ly}" text-anchor="end" transform="rotate(-30 ${lx + 4} ${ly})">${esc(text)}</text>`
      : `<text x="${lx}" y="${ly}" text-anchor="middle">${esc(text)}</text>`);
  });
  parts.push(`<line class="axis" x1="${m.left}" x2="${width - m.right}" y1="${m.top + h}" y2="${m.top + h}"/>`);
  parts.push('</svg>');
  return parts.join('');
}

function timeLabel(ms, seconds = false) {
  const d = new Date(ms);
  const hm = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  return seconds ? `${hm}:${String(d.getUTCSeconds()).padStart(2, '0')}` : hm;
}

/**
 * A statistic over time, with dashed WARNING and CRITICAL levels and points coloured by severity.
 * Points may carry `upper`, the top of their own null range (it moves with each window's n): it is
 * drawn as a shaded band from 0 with a dashed edge. `baseline` draws one more level (the reference's value).
 */
export function lineChart({ points, thresholds, baseline, width = 640, height = 260, label = '' }) {
  const m = { top: 14, right: 70, bottom: 34, left: 48 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  if (!points.length) return `<div class="empty">No evaluations of this feature yet.</div>`;
  const values = points.map((p) => p.v).filter((v) => v !== null && v !== undefined);
  const levels = thresholds ? [thresholds.warning, thresholds.critical] : [];
  const band = points.filter((p) => p.upper !== null && p.upper !== undefined);
  if (baseline) levels.push(baseline.value);
  const max = niceMax(Math.max(...values, ...levels.map((l) => l * 1.15), ...band.map((p) => p.upper * 1.05), 1e-9));
  const t0 = points[0].t;
  const t1 = points[points.length - 1].t;
  const x = (t) => m.left + (t1 === t0 ? w / 2 : ((t - t0) / (t1 - t0)) * w);
  // Short windows (seconds apart) need seconds on the axis to tell points apart.
  const seconds = t1 - t0 < 15 * 60_000;
  const y = (v) => m.top + h - (Math.min(v, max) / max) * h;
  const parts = [`<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(label)} over time">`];
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    parts.push(`<line class="grid-line" x1="${m.left}" x2="${m.left + w}" y1="${y(v)}" y2="${y(v)}"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y(v) + 4}" text-anchor="end">${esc(fmt(v))}</text>`);
  }
  if (thresholds) {
    for (const [name, v] of [['warning', thresholds.warning], ['critical', thresholds.critical]]) {
      if (v === undefined || v === null || v > max) continue;
      parts.push(`<line class="thr-${name}" x1="${m.left}" x2="${m.left + w}" y1="${y(v)}" y2="${y(v)}"/>`);
      parts.push(`<text class="thr-label ${name}" x="${m.left + w + 6}" y="${y(v) + 4}">${name === 'warning' ? 'warn' : 'crit'} ${esc(fmt(v))}</text>`);
    }
  }
  if (band.length > 0) {
    const edge = band.map((p) => `${x(p.t).toFixed(1)},${y(p.upper).toFixed(1)}`);
    const floor = `${x(band[band.length - 1].t).toFixed(1)},${y(0).toFixed(1)} ${x(band[0].t).toFixed(1)},${y(0).toFixed(1)}`;
    parts.push(`<polygon class="null-band" points="${edge.join(' ')} ${floor}"><title>Null range: no drift up to here at each window's n</title></polygon>`);
    parts.push(`<path class="null-upper" d="${edge.map((e, i) => `${i ? 'L' : 'M'}${e}`).join('')}"/>`);
    parts.push(`<text class="thr-label null" x="${m.left + w + 6}" y="${y(band[band.length - 1].upper) + 4}">null ${esc(fmt(band[band.length - 1].upper))}</text>`);
  }
  if (baseline) {
    const by = y(baseline.value);
    // Keep its label clear of the null range's when the two lines run close.
    const nullY = band.length > 0 ? y(band[band.length - 1].upper) : -Infinity;
    const ly = Math.abs(by - nullY) < 12 ? (by >= nullY ? nullY + 12 : nullY - 12) : by;
    parts.push(`<line class="baseline" x1="${m.left}" x2="${m.left + w}" y1="${by}" y2="${by}"/>`);
    parts.push(`<text class="thr-label baseline" x="${m.left + w + 6}" y="${ly + 4}">${esc(baseline.label)} ${esc(fmt(baseline.value))}</text>`);
  }
  const ticks = Math.min(6, points.length);
  for (let i = 0; i < ticks; i++) {
    const p = points[Math.round((i * (points.length - 1)) / Math.max(1, ticks - 1))];
    parts.push(`<text x="${x(p.t)}" y="${m.top + h + 18}" text-anchor="middle">${esc(timeLabel(p.t, seconds))}</text>`);
  }
  const defined = points.filter((p) => p.v !== null && p.v !== undefined);
  if (defined.length > 1) parts.push(`<path class="line" d="${defined.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('')}"/>`);
  for (const p of defined) {
    parts.push(`<circle class="pt ${esc(p.severity)}" cx="${x(p.t).toFixed(1)}" cy="${y(p.v).toFixed(1)}" r="${p.severity === 'none' ? 2.5 : 3.5}"><title>${esc(timeLabel(p.t, true))} UTC · ${esc(label)} ${esc(fmt(p.v, 4))} · ${esc(p.severity)}</title></circle>`);
  }
  parts.push(`<line class="axis" x1="${m.left}" x2="${m.left + w}" y1="${m.top + h}" y2="${m.top + h}"/>`);
  parts.push('</svg>');
  return parts.join('');
}
