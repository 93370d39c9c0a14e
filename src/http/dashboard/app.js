/* global URLSearchParams, Element */
// driftstream dashboard: a small hash-routed page over the JSON API.
//   #/                        models and recent alerts
//   #/models/ID?window=&feature=&stat=   one model: features, histograms, history, alerts
import { binLabels, esc, fmt, histogramChart, lineChart, pct } from './charts.js';

const REFRESH_MS = Number(new URLSearchParams(location.search).get('refresh')) || 5000;
const KEY_STORAGE = 'driftstream.apiKey';
const view = document.getElementById('view');
const crumbs = document.getElementById('crumbs');
const banner = document.getElementById('banner');
const updated = document.getElementById('updated');
const auto = document.getElementById('autorefresh');

const STATS = [
  { key: 'psi', label: 'PSI', threshold: 'psi' },
  { key: 'ks', label: 'KS D', threshold: 'ks' },
  { key: 'wassersteinNormed', label: 'Wasserstein', threshold: 'wasserstein' },
  { key: 'jensenShannon', label: 'Jensen-Shannon', threshold: 'jensenShannon' },
  { key: 'hellinger', label: 'Hellinger', threshold: 'hellinger' },
];
const DEFAULT_LEVELS = {
  psi: { warning: 0.1, critical: 0.25 },
  ks: { warning: 0.1, critical: 0.2 },
  wasserstein: { warning: 0.1, critical: 0.2 },
  jensenShannon: { warning: 0.1, critical: 0.2 },
  hellinger: { warning: 0.1, critical: 0.2 },
};
const SEVERITY_RANK = { NONE: 0, WARNING: 1, CRITICAL: 2 };

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.code;
  }
}

async function api(path) {
  const headers = { accept: 'application/json' };
  const key = localStorage.getItem(KEY_STORAGE);
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(path, { headers, cache: 'no-store' });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

async function optional(path) {
  try {
    return await api(path);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

function route() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = hash.split('?');
  const params = new URLSearchParams(query);
  const m = /^\/models\/([^/]+)$/.exec(path);
  if (m) return { name: 'model', modelId: decodeURIComponent(m[1]), params };
  return { name: 'home', params };
}

function setParams(changes) {
  const r = route();
  const params = r.params;
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === null) params.delete(k);
    else params.set(k, v);
  }
  const base = r.name === 'model' ? `/models/${encodeURIComponent(r.modelId)}` : '/';
  const q = params.toString();
  location.hash = `#${base}${q ? `?${q}` : ''}`;
}

const pad = (n) => String(n).padStart(2, '0');
function utc(ms, withDate = true) {
  if (!ms && ms !== 0) return '–';
  const d = new Date(ms);
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return withDate ? `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${time}` : time;
}

function statusPill(status, big = false) {
  const text = { ok: 'OK', drifting: 'Drifting', warming_up: 'Warming up' }[status] ?? status;
  return `<span class="pill ${esc(status)}${big ? ' lg' : ''}" data-status="${esc(status)}">${esc(text)}</span>`;
}

function severityPill(severity, verdict) {
  const s = String(severity || 'NONE');
  // No drift found, but the window was too small to see a change at the floor: not the same as OK.
  if (s === 'NONE' && verdict?.verdict === 'insufficient') {
    const need = Number.isFinite(verdict.nNeeded) ? `; about ${fmt(verdict.nNeeded)} events would` : '';
    const why = Number.isFinite(verdict.mde) ? `${verdict.n} events can see an effect of ${fmt(verdict.mde)}, the floor is ${fmt(verdict.floor?.warning)}${need}` : `${verdict.n} events are too few to see a change`;
    return `<span class="pill insufficient" title="${esc(why)}">Insufficient</span>`;
  }
  const text = s === 'NONE' ? 'No drift' : s === 'WARNING' ? 'Warning' : 'Critical';
  return `<span class="pill ${esc(s.toLowerCase())}">${esc(text)}</span>`;
}

function sharebar(share, drift) {
  return `<span class="share"><span class="share-track"><span class="share-fill${drift ? ' drift' : ''}" data-share="${share}"></span></span><span class="num">${esc(pct(share))}</span></span>`;
}

// Widths of share bars are set through the CSSOM: the page's CSP allows no inline style attributes.
function applyShareWidths(root) {
  for (const el of root.querySelectorAll('.share-fill[data-share]')) el.style.width = `${Math.round(Math.min(1, Number(el.dataset.share)) * 100)}%`;
}

function alertsTable(alerts, { withModel = true } = {}) {
  if (!alerts.length) return '<div class="empty">No alerts.</div>';
  return `<table><thead><tr><th>Detected (UTC)</th>${withModel ? '<th>Model</th>' : ''}<th>Kind</th><th>Feature</th><th>Statistic</th><th class="num">Value</th><th class="num">Threshold</th><th>Window</th><th>Severity</th><th>Status</th></tr></thead><tbody>${alerts
    .map(
      (a) => `<tr class="${a.status === 'FIRING' ? `sev-${a.severity.toLowerCase()}` : ''}">
        <td class="mono">${esc(utc(a.detectedAt))}</td>
        ${withModel ? `<td><a href="#/models/${encodeURIComponent(a.modelId)}">${esc(a.modelId)}</a></td>` : ''}
        <td>${esc(a.kind.replace('_', ' ').toLowerCase())}</td>
        <td>${a.feature ? `<span class="feature-name">${esc(a.feature)}</span>` : '<span class="muted">–</span>'}</td>
        <td>${esc(a.statistic)}</td>
        <td class="num">${esc(fmt(a.value))}</td>
        <td class="num">${esc(fmt(a.threshold))}</td>
        <td>${esc(a.windowName)} <span class="muted">${esc(utc(a.windowStart, false))}</span></td>
        <td>${severityPill(a.severity)}</td>
        <td><span class="pill ${a.status === 'FIRING' ? 'firing' : 'resolved'}">${a.status === 'FIRING' ? 'Firing' : 'Resolved'}</span></td>
      </tr>`,
    )
    .join('')}</tbody></table>`;
}

async function renderHome() {
  const [{ models }, { alerts }] = await Promise.all([api('api/v1/models'), api('api/v1/alerts?limit=15')]);
  crumbs.innerHTML = '<span class="here">Models</span>';
  const drifting = models.filter((m) => m.status === 'drifting').length;
  const warming = models.filter((m) => m.status === 'warming_up').length;
  const firing = alerts.filter((a) => a.status === 'FIRING').length;
  const rows = models
    .map((m) => {
      const w = m.windows.find((x) => x.latest) ?? m.windows[0];
      const l = w?.latest;
      return `<tr class="clickable ${m.status === 'drifting' ? 'sev-critical' : ''}" data-href="#/models/${encodeURIComponent(m.modelId)}" data-model="${esc(m.modelId)}">
        <td><a class="feature-name" href="#/models/${encodeURIComponent(m.modelId)}">${esc(m.modelId)}</a></td>
        <td>${statusPill(m.status)}</td>
        <td class="num">${Object.keys(m.features).length}</td>
        <td>${m.reference ? `v${esc(m.reference.version)} <span class="muted">· ${esc(fmt(m.reference.rows))} rows</span>` : '<span class="muted">none yet</span>'}</td>
        <td>${w ? esc(w.name) : '–'}</td>
        <td class="num">${l ? esc(fmt(l.sampleSize)) : '–'}</td>
        <td>${l ? sharebar(l.datasetDrift.share, l.datasetDrift.drift) : '<span class="muted">–</span>'}</td>
        <td>${l && l.driftingFeatures.length ? l.driftingFeatures.map((f) => `<span class="feature-name">${esc(f)}</span>`).join(', ') : '<span class="muted">none</span>'}</td>
        <td class="num">${l ? esc(utc(l.windowEnd)) : '–'}</td>
      </tr>`;
    })
    .join('');
  return `
    <div class="page-head"><div><h1>Models</h1><div class="sub">Drift of every monitored model against its reference profile</div></div></div>
    <div class="grid cards">
      <div class="panel card info"><div class="label">Models</div><div class="value">${models.length}</div><div class="hint">registered</div></div>
      <div class="panel card ${drifting ? 'crit' : 'ok'}"><div class="label">Drifting</div><div class="value">${drifting}</div><div class="hint">in their latest window</div></div>
      <div class="panel card ${warming ? 'warn' : 'ok'}"><div class="label">Warming up</div><div class="value">${warming}</div><div class="hint">no reference or window yet</div></div>
      <div class="panel card ${firing ? 'crit' : 'ok'}"><div class="label">Firing alerts</div><div class="value">${firing}</div><div class="hint">among the latest ${alerts.length}</div></div>
    </div>
    <section class="panel"><div class="panel-head"><h2>Models</h2></div>
      ${models.length ? `<table id="models-table"><thead><tr><th>Model</th><th>Status</th><th class="num">Features</th><th>Reference</th><th>Window</th><th class="num">Events</th><th>Dataset drift</th><th>Drifting features</th><th class="num">Window end (UTC)</th></tr></thead><tbody>${rows}</tbody></table>` : '<div class="empty">No models yet. Declare one with <span class="mono">PUT /api/v1/models/{modelId}</span> or send events with auto-registration on.</div>'}
    </section>
    <section class="panel"><div class="panel-head"><h2>Recent alerts</h2></div>${alertsTable(alerts)}</section>`;
}

function levelsFor(config, feature, statKey) {
  const stat = STATS.find((s) => s.key === statKey);
  const name = stat?.threshold ?? statKey;
  const pick = (t) => {
    const x = t?.[name];
    if (!x) return undefined;
    if (name === 'ks') return x.effectSize;
    return x;
  };
  const merged = { ...DEFAULT_LEVELS[name], ...pick(config?.thresholds), ...pick(config?.featureThresholds?.[feature]) };
  return merged.warning === undefined ? undefined : { warning: merged.warning, critical: merged.critical };
}

function featureRows(evaluation, selected) {
  const entries = Object.entries(evaluation.features).sort(
    (a, b) => SEVERITY_RANK[b[1].severity] - SEVERITY_RANK[a[1].severity] || (b[1].psi ?? 0) - (a[1].psi ?? 0) || a[0].localeCompare(b[0]),
  );
  const cell = (v, sev) => `<td class="num${sev && sev !== 'NONE' ? ` cell-${sev.toLowerCase()}` : ''}">${esc(fmt(v))}</td>`;
  return entries
    .map(([name, f]) => {
      const sev = f.severity || 'NONE';
      const cls = ['clickable', sev !== 'NONE' ? `sev-${sev.toLowerCase()}` : '', name === selected ? 'selected' : ''].filter(Boolean).join(' ');
      return `<tr class="${cls}" data-feature="${esc(name)}" data-severity="${esc(sev)}" data-drift="${f.drift ? 'true' : 'false'}" data-verdict="${esc(f.verdict?.verdict ?? '')}">
        <td><span class="feature-name">${esc(name)}</span></td>
        <td class="type">${esc(f.type)}</td>
        <td>${severityPill(sev, f.verdict)}</td>
        ${cell(f.psi, sev)}
        ${cell(f.ks?.statistic, f.ks && sev)}
        <td class="num">${esc(fmt(f.ks?.pValue))}</td>
        <td class="num">${esc(fmt(f.wassersteinNormed))}</td>
        <td class="num">${esc(fmt(f.jensenShannon))}</td>
        <td class="num">${esc(fmt(f.hellinger))}</td>
        <td class="num">${esc(fmt(f.chiSquare?.pValue))}</td>
        <td class="num">${esc(pct(f.missingRate))}</td>
      </tr>`;
    })
    .join('');
}

function pickFeature(evaluation, requested) {
  if (requested && evaluation?.features[requested]) return requested;
  const entries = Object.entries(evaluation?.features ?? {});
  entries.sort((a, b) => SEVERITY_RANK[b[1].severity] - SEVERITY_RANK[a[1].severity] || (b[1].psi ?? 0) - (a[1].psi ?? 0));
  return entries[0]?.[0];
}

async function renderModel(modelId, params) {
  const model = await api(`api/v1/models/${encodeURIComponent(modelId)}`);
  const windowName = params.get('window') ?? (model.windows.find((w) => w.latest) ?? model.windows[0])?.name;
  const q = `window=${encodeURIComponent(windowName ?? '')}`;
  const [evaluation, alertsPage, performance] = await Promise.all([
    optional(`api/v1/models/${encodeURIComponent(modelId)}/drift?${q}`),
    api(`api/v1/alerts?modelId=${encodeURIComponent(modelId)}&limit=20`),
    optional(`api/v1/models/${encodeURIComponent(modelId)}/performance?${q}&limit=1`),
  ]);
  // Multivariate drift over the window's recent evaluations, when the model's evaluations carry it.
  const windows = evaluation?.multivariate ? await optional(`api/v1/models/${encodeURIComponent(modelId)}/windows?${q}&limit=60`) : null;
  const feature = pickFeature(evaluation, params.get('feature'));
  const statKey = STATS.some((s) => s.key === params.get('stat')) ? params.get('stat') : 'psi';
  const detail = feature ? await optional(`api/v1/models/${encodeURIComponent(modelId)}/features/${encodeURIComponent(feature)}?${q}&limit=60`) : null;

  crumbs.innerHTML = `<a href="#/">Models</a><span class="sep">/</span><span class="here">${esc(modelId)}</span>`;
  const tabs = model.windows
    .map((w) => `<button type="button" data-window="${esc(w.name)}" aria-selected="${w.name === windowName}">${esc(w.name)}${w.slide ? ` <span class="muted">/${esc(w.slide)}</span>` : ''}</button>`)
    .join('');
  const ref = model.reference;
  const drifting = evaluation ? Object.values(evaluation.features).filter((f) => f.drift).length : 0;
  const total = evaluation ? Object.keys(evaluation.features).length : Object.keys(model.features).length;
  const head = `
    <div class="page-head">
      <div>
        <h1>${esc(modelId)} ${statusPill(model.status, true)}</h1>
        <div class="meta">
          <span>Reference <b>${ref ? `v${esc(ref.version)}` : 'none'}</b>${ref ? ` · ${esc(fmt(ref.rows))} rows · <span class="mono">${esc(ref.referenceId)}</span>` : ''}</span>
          <span>Prediction <b>${esc(model.prediction ?? '–')}</b></span>
          ${model.statusReason ? `<span>${esc(model.statusReason)}</span>` : ''}
          ${evaluation ? `<a id="report-link" href="api/v1/models/${esc(encodeURIComponent(modelId))}/report?${esc(q)}" target="_blank" rel="noopener">HTML report</a>` : ''}
        </div>
      </div>
      <div class="tabs" role="tablist" aria-label="Window">${tabs}</div>
    </div>`;
  if (!evaluation) {
    return `${head}<section class="panel"><div class="empty">Window <b>${esc(windowName)}</b> has not been evaluated yet.</div></section>
      <section class="panel"><div class="panel-head"><h2>Alerts</h2></div>${alertsTable(alertsPage.alerts, { withModel: false })}</section>`;
  }
  const cards = `
    <div class="grid cards">
      <div class="panel card ${evaluation.datasetDrift.drift ? 'crit' : 'ok'}"><div class="label">Dataset drift</div><div class="value">${esc(pct(evaluation.datasetDrift.share))}</div><div class="hint">${evaluation.datasetDrift.drift ? 'of features drift: dataset in drift' : 'of features drift'}${evaluation.datasetDrift.weightedShare !== undefined && model.config?.importance ? ` · ${esc(pct(evaluation.datasetDrift.weightedShare))} by importance` : ''}</div></div>
      <div class="panel card ${drifting ? 'crit' : 'ok'}"><div class="label">Drifting features</div><div class="value">${drifting} <span class="muted">/ ${total}</span></div><div class="hint">warning or critical</div></div>
      <div class="panel card info"><div class="label">Events in window</div><div class="value">${esc(fmt(evaluation.sampleSize))}</div><div class="hint">${evaluation.alertable ? 'enough to alert' : 'below minSamples: reported, never alerted'}</div></div>
      <div class="panel card info"><div class="label">Window (UTC)</div><div class="value mono">${esc(utc(evaluation.windowStart, false))}–${esc(utc(evaluation.windowEnd, false))}</div><div class="hint">${esc(utc(evaluation.windowStart).slice(0, 10))} · evaluated ${esc(utc(evaluation.evaluatedAt, false))}</div></div>
    </div>`;
  const table = `
    <section class="panel"><div class="panel-head"><h2>Features</h2><span class="muted">Click a feature for its distribution and history</span></div>
      <table id="features-table"><thead><tr><th>Feature</th><th>Type</th><th>Severity</th><th class="num">PSI</th><th class="num">KS D</th><th class="num">KS p</th><th class="num">Wasserstein</th><th class="num">Jensen-Shannon</th><th class="num">Hellinger</th><th class="num">χ² p</th><th class="num">Missing</th></tr></thead>
      <tbody>${featureRows(evaluation, feature)}</tbody></table>
    </section>`;

  let charts = '';
  if (detail) {
    const sev = (detail.latest?.severity ?? 'NONE').toLowerCase();
    const refH = detail.reference;
    const labels = refH?.categories ?? binLabels(refH?.edges);
    const hist = refH
      ? histogramChart({ labels, reference: refH.proportions, current: detail.current?.proportions ?? null, severity: sev }) +
        (detail.current && !detail.current.proportions ? '<p class="muted note">This evaluation carries no current histogram; the reference alone is shown.</p>' : '')
      : '<div class="empty">The reference profile has no histogram for this feature.</div>';
    const usable = STATS.filter((s) => detail.history.some((h) => h[s.key] !== null && h[s.key] !== undefined));
    const stat = usable.find((s) => s.key === statKey) ?? usable[0] ?? STATS[0];
    const points = detail.history.map((h) => ({ t: h.windowEnd, v: h[stat.key], severity: (h.severity || 'NONE').toLowerCase() }));
    const statTabs = usable.map((s) => `<button type="button" data-stat="${s.key}" aria-selected="${s.key === stat.key}">${esc(s.label)}</button>`).join('');
    const l = detail.latest;
    charts = `
      <div class="grid two">
        <section class="panel" id="histogram-panel"><div class="panel-head"><h2>Distribution · <span class="feature-name">${esc(feature)}</span></h2>
          <div class="legend"><span><i class="ref"></i>Reference</span><span><i class="cur ${esc(sev)}"></i>Current window</span></div></div>
          <div class="panel-body">${hist}
            ${l ? `<div class="stats-inline"><span>Severity ${severityPill(l.severity, l.verdict)}</span>${l.verdict ? `<span>Effect <b>${esc(fmt(l.verdict.effect))}</b> (floor ${esc(fmt(l.verdict.floor?.warning))}, can see ${esc(fmt(l.verdict.mde))})</span><span>${esc(l.verdict.test ?? '')} p <b>${esc(fmt(l.verdict.pValue))}</b> at level ${esc(fmt(l.verdict.level))}</span>` : ''}<span>PSI <b>${esc(fmt(l.psi))}</b></span>${l.ks ? `<span>KS D <b>${esc(fmt(l.ks.statistic))}</b> ± ${esc(fmt(l.ks.errorBound))} (p ${esc(fmt(l.ks.pValue))})</span>` : ''}${l.chiSquare ? `<span>χ² <b>${esc(fmt(l.chiSquare.statistic))}</b> (p ${esc(fmt(l.chiSquare.pValue))}, dof ${esc(l.chiSquare.dof)})</span>` : ''}<span>n <b>${esc(fmt(l.nCurrent))}</b> vs ref <b>${esc(fmt(l.nReference))}</b></span>${l.newCategories?.length ? `<span>New categories <b>${esc(l.newCategories.join(', '))}</b></span>` : ''}</div>` : ''}
          </div>
        </section>
        <section class="panel" id="history-panel"><div class="panel-head"><h2>${esc(stat.label)} over time</h2><div class="tabs" role="tablist" aria-label="Statistic">${statTabs}</div></div>
          <div class="panel-body">${lineChart({ points, thresholds: levelsFor(model.config, feature, stat.key), label: stat.label })}</div>
        </section>
      </div>`;
  }
  return `${head}${cards}${table}${charts}${multivariatePanel(evaluation.multivariate, windows?.evaluations ?? [])}${performancePanel(performance)}
    <section class="panel"><div class="panel-head"><h2>Alerts</h2><span class="muted">${alertsPage.alerts.filter((a) => a.status === 'FIRING').length} firing</span></div>${alertsTable(alertsPage.alerts, { withModel: false })}</section>`;
}

/**
 * MULTIVARIATE_DRIFT: the window's mean reconstruction error of the standardized numeric features
 * against the reference's null range at the window's n (its upper end: above it the rise is
 * significant), over the recent windows; nothing when the model has no multivariate test.
 */
function multivariatePanel(latest, history) {
  if (!latest) return '';
  const points = history
    .filter((e) => e.multivariate && e.multivariate.meanError !== null && e.multivariate.meanError !== undefined)
    .map((e) => ({ t: e.windowEnd, v: e.multivariate.meanError, upper: e.multivariate.nullUpper ?? null, severity: (e.multivariate.severity || 'NONE').toLowerCase() }))
    .sort((a, b) => a.t - b.t);
  const ref = latest.reference ?? {};
  const upper = latest.nullUpper;
  const verdict = { verdict: latest.verdict, n: latest.n, mde: latest.mde, floor: latest.floor };
  return `<section class="panel" id="multivariate-panel"><div class="panel-head"><h2>Multivariate drift</h2><span class="muted">Reconstruction error of ${esc(fmt(ref.features))} standardized numeric features by ${esc(fmt(ref.components))} component${ref.components === 1 ? '' : 's'} (${esc(pct(ref.explained))} of the variance)</span></div>
    <div class="panel-body">
      <div class="stats-inline" id="multivariate-latest"><span>Severity ${severityPill(latest.severity, verdict)}</span><span>Mean error <b data-mean-error>${esc(fmt(latest.meanError))}</b></span><span>Null range <b data-null-range>0–${esc(fmt(upper))}</b> at n ${esc(fmt(latest.n))}</span><span>Reference mean <b>${esc(fmt(ref.mean))}</b></span><span>Rise <b>${esc(pct(latest.effect))}</b> (floor ${esc(pct(latest.floor?.warning))}, can see ${esc(pct(latest.mde))})</span><span>p <b>${esc(fmt(latest.pValue))}</b> at level ${esc(fmt(latest.level))}</span></div>
      ${lineChart({ points, baseline: ref.mean !== undefined ? { value: ref.mean, label: 'ref' } : undefined, label: 'Mean reconstruction error', width: 1280, height: 280 })}
    </div></section>`;
}

const METRIC_LABELS = {
  accuracy: 'Accuracy', precision: 'Precision', recall: 'Recall', f1: 'F1', rocAuc: 'ROC AUC', brier: 'Brier', confidenceAuc: 'Confidence AUC',
  mae: 'MAE', rmse: 'RMSE', positiveRate: 'Positive rate', scoreMean: 'Score mean', scoreStd: 'Score std', predictionEntropy: 'Prediction entropy',
};

/** Metrics estimated from calibrated scores, each with its 95% interval, or why there is no estimate. */
function estimatedItems(est, item) {
  if (!est) return [];
  if (est.status !== 'estimated') return [`<div class="metric" data-estimated="unavailable"><div class="label">Estimated performance</div><div class="metric-value muted">${esc(est.reason ?? 'unavailable')}</div></div>`];
  const out = [];
  for (const [k, v] of Object.entries(est.metrics ?? {})) {
    if (v === null || v === undefined) continue;
    const ci = est.interval?.[k];
    const degraded = est.verdicts?.[k] && est.verdicts[k].severity !== 'NONE';
    out.push(item(`Estimated ${METRIC_LABELS[k] ?? k}${degraded ? ' (below reference)' : ''}`, ci ? `${fmt(v)} (${fmt(ci[0])}–${fmt(ci[1])})` : fmt(v)));
  }
  return out;
}

/** Performance once labels join, estimated before they do, and label-free proxies; nothing when the model has none. */
function performancePanel(p) {
  const latest = p?.latest;
  if (!latest) return '';
  const perf = latest.performance;
  const item = (label, value) => `<div class="metric"><div class="label">${esc(label)}</div><div class="metric-value">${esc(value)}</div></div>`;
  const items = estimatedItems(latest.estimated, item);
  if (perf) {
    for (const [k, v] of Object.entries(perf.metrics ?? {})) if (v !== null && v !== undefined) items.push(item(METRIC_LABELS[k] ?? k, fmt(v)));
    items.push(item('Label coverage', pct(perf.coverage)));
    if (perf.labelDelayP50Ms !== null && perf.labelDelayP50Ms !== undefined) items.push(item('Label delay p50', `${fmt(perf.labelDelayP50Ms / 1000)} s`));
  }
  for (const [k, v] of Object.entries(latest.proxy ?? {})) if (v !== null && v !== undefined) items.push(item(METRIC_LABELS[k] ?? k, fmt(v)));
  if (!items.length) return '';
  const labelled = perf ? `${fmt(perf.labelled)} of ${fmt(perf.predictions)} predictions labelled` : latest.estimated?.status === 'estimated' ? 'no labels yet: estimated from scores' : 'no labels yet';
  return `<section class="panel" id="performance-panel"><div class="panel-head"><h2>Performance</h2><span class="muted">${esc(labelled)} · window ending ${esc(utc(latest.windowEnd, false))} UTC</span></div>
    <div class="panel-body metrics">${items.join('')}</div></section>`;
}

let rendering = false;
let lastHtml = '';

async function render() {
  if (rendering) return;
  rendering = true;
  const r = route();
  try {
    const html = r.name === 'model' ? await renderModel(r.modelId, r.params) : await renderHome();
    banner.classList.add('hidden');
    if (html !== lastHtml) {
      view.innerHTML = html;
      applyShareWidths(view);
      lastHtml = html;
    }
    updated.textContent = `Updated ${utc(Date.now(), false)} UTC`;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      banner.textContent = 'Reads are protected on this server: set an API key (top right).';
    } else if (err instanceof ApiError && err.status === 404 && r.name === 'model') {
      view.innerHTML = `<section class="panel"><div class="empty">${esc(err.message)}. <a href="#/">All models</a></div></section>`;
      lastHtml = '';
      banner.classList.add('hidden');
      return;
    } else {
      banner.textContent = `Cannot load data: ${err.message}`;
    }
    banner.classList.remove('hidden');
  } finally {
    view.setAttribute('aria-busy', 'false');
    rendering = false;
  }
}

view.addEventListener('click', (event) => {
  const target = event.target;
  if (!(target instanceof Element)) return;
  const win = target.closest('[data-window]');
  if (win) return setParams({ window: win.dataset.window, feature: route().params.get('feature') });
  const stat = target.closest('[data-stat]');
  if (stat) return setParams({ stat: stat.dataset.stat });
  const row = target.closest('tr[data-feature]');
  if (row) return setParams({ feature: row.dataset.feature });
  const link = target.closest('tr[data-href]');
  if (link && !target.closest('a')) location.hash = link.dataset.href;
});

const keyDialog = document.getElementById('key-dialog');
document.getElementById('key-button').addEventListener('click', () => {
  document.getElementById('key-input').value = localStorage.getItem(KEY_STORAGE) ?? '';
  keyDialog.showModal();
});
keyDialog.addEventListener('close', () => {
  if (keyDialog.returnValue === 'save') localStorage.setItem(KEY_STORAGE, document.getElementById('key-input').value.trim());
  if (keyDialog.returnValue === 'clear') localStorage.removeItem(KEY_STORAGE);
  lastHtml = '';
  render();
});

window.addEventListener('hashchange', () => {
  lastHtml = '';
  render();
});
setInterval(() => {
  if (auto.checked && !document.hidden) render();
}, REFRESH_MS);
render();
