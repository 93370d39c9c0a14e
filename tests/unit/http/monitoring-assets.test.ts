import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createNotifyMetrics } from '../../../src/observability/notify-metrics.js';
import { createMetrics } from '../../../src/observability/metrics.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const RULES = join(ROOT, 'deploy', 'prometheus', 'alerts.yml');
const DASHBOARD = join(ROOT, 'deploy', 'grafana', 'driftstream-dashboard.json');
const PROMTOOL_PATH = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
// promtool comes with Debian's `prometheus` package. Developers without it skip these checks; CI must have it.
const SKIP_PROMTOOL = !PROMTOOL_PATH && !process.env.CI;
const PROMTOOL = (): string => {
  if (!PROMTOOL_PATH) throw new Error('promtool not found: apt-get install -y --no-install-recommends prometheus');
  return PROMTOOL_PATH;
};

/** Series names the service exports (histograms add _bucket, _count, _sum), plus Prometheus' own `up`. */
async function knownSeries(): Promise<Set<string>> {
  const metrics = createMetrics({ defaultMetrics: true });
  createNotifyMetrics(metrics.registry);
  const out = new Set<string>(['up']);
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    out.add(m.name);
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_count', '_sum']) out.add(m.name + s);
  }
  return out;
}

function seriesIn(expr: string): string[] {
  return [...expr.matchAll(/\b(driftstream_[a-z0-9_]+|up)\b(?=\s*[{[)\s]|$)/g)].map((m) => m[1]);
}

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const rules = (): Rule[] => (parseYaml(readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

describe('Prometheus alerting rules', () => {
  it('name only exported series and carry a severity and a summary', async () => {
    const known = await knownSeries();
    const all = rules();
    expect(all.length).toBeGreaterThanOrEqual(10);
    expect(new Set(all.map((r) => r.alert)).size).toBe(all.length);
    for (const r of all) {
      expect(['critical', 'warning', 'info'], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      const series = seriesIn(r.expr);
      expect(series.length, r.alert).toBeGreaterThan(0);
      for (const s of series) expect(known.has(s), `${r.alert}: ${s}`).toBe(true);
    }
  });

  it.skipIf(SKIP_PROMTOOL)('pass promtool check rules', () => {
    const out = execFileSync(PROMTOOL(), ['check', 'rules', RULES], { encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
  });

  it.skipIf(SKIP_PROMTOOL)('fire on the series they are meant for (promtool test rules)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driftstream-rules-'));
    try {
      const tests = {
        rule_files: [RULES],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: [
              { series: 'driftstream_drift_severity{model="credit-risk",feature="income",window="1m",instance="d1"}', values: '0 0 2 2 2 2 2 2' },
              { series: 'driftstream_drift_severity{model="credit-risk",feature="age",window="1m",instance="d1"}', values: '0x30' },
              { series: 'driftstream_dependency_up{dependency="redis",instance="d1"}', values: '1 1 0 0 0 0 0 0' },
              { series: 'driftstream_events_consumed_total{model="fraud"}', values: '0+100x60 6000x30' },
              { series: 'driftstream_dlq_records_total{topic="inference-events",reason="bad_json"}', values: '0 0 3 3 3' },
              { series: 'driftstream_notifications_total{channel="ml-oncall",outcome="dead",instance="n1"}', values: '0 0 0 4 4 4' },
              { series: 'driftstream_notification_breaker_open{channel="ml-oncall",instance="n1"}', values: '0 1 1 1 1 1 1 1 1 1 1 1 1 1 1' },
            ],
            alert_rule_test: [
              {
                eval_time: '6m',
                alertname: 'DriftstreamFeatureDriftCritical',
                exp_alerts: [
                  {
                    exp_labels: { severity: 'critical', model: 'credit-risk', feature: 'income', window: '1m' },
                    exp_annotations: {
                      summary: 'Critical drift: credit-risk / income (1m)',
                      description: 'Feature income of model credit-risk is in CRITICAL drift in window 1m. Open the driftstream dashboard for its histogram and history.',
                    },
                  },
                ],
              },
              { eval_time: '3m', alertname: 'DriftstreamFeatureDriftCritical', exp_alerts: [] },
              { eval_time: '6m', alertname: 'DriftstreamDependencyDown', exp_alerts: [{ exp_labels: { severity: 'critical', dependency: 'redis', instance: 'd1' }, exp_annotations: { summary: 'driftstream cannot reach redis', description: 'd1 reports redis unreachable for 2 minutes. The detector pauses rather than lose data; /readyz answers 503.' } }] },
              { eval_time: '2m', alertname: 'DriftstreamNotificationsDeadLettered', exp_alerts: [] },
              { eval_time: '5m', alertname: 'DriftstreamNotificationsDeadLettered', exp_alerts: [{ exp_labels: { severity: 'warning', channel: 'ml-oncall' }, exp_annotations: { summary: '4 notifications to channel ml-oncall were dead-lettered', description: "The channel's receiver kept failing or refused them. List them with GET /api/v1/notifications?state=dead&channelId=ml-oncall; POST /api/v1/notifications/retry sends them again." } }] },
              { eval_time: '8m', alertname: 'DriftstreamNotificationChannelDown', exp_alerts: [] },
              { eval_time: '12m', alertname: 'DriftstreamNotificationChannelDown', exp_alerts: [{ exp_labels: { severity: 'warning', channel: 'ml-oncall' }, exp_annotations: { summary: 'Notification channel ml-oncall has been failing for 10 minutes', description: 'Its circuit breaker stays open: the receiver is unreachable or failing. Notifications wait in the delivery log and go out when it recovers.' } }] },
              { eval_time: '50m', alertname: 'DriftstreamModelSilent', exp_alerts: [] },
              { eval_time: '80m', alertname: 'DriftstreamModelSilent', exp_alerts: [{ exp_labels: { severity: 'warning', model: 'fraud' }, exp_annotations: { summary: 'No events for model fraud in 15 minutes', description: 'Model fraud had traffic in the two hours before but none for 15 minutes: the prediction service may have stopped emitting.' } }] },
            ],
          },
        ],
      };
      const file = join(dir, 'alerts.test.yml');
      writeFileSync(file, JSON.stringify(tests));
      const r = spawnSync(PROMTOOL(), ['test', 'rules', file], { encoding: 'utf8' });
      expect(r.stdout + r.stderr).toMatch(/SUCCESS/);
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Grafana dashboard', () => {
  const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8'));

  it('is a provisionable dashboard on the provisioned Prometheus data source', () => {
    expect(dash.uid).toBe('driftstream-overview');
    expect(dash.title).toBe('driftstream');
    const provisioned = parseYaml(readFileSync(join(ROOT, 'deploy', 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8'));
    const uid = provisioned.datasources[0].uid;
    const panels = dash.panels.filter((p: { type: string }) => p.type !== 'row');
    expect(panels.length).toBeGreaterThanOrEqual(15);
    for (const p of panels) {
      expect(p.datasource?.uid, p.title).toBe(uid);
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    }
    const ids = dash.panels.map((p: { id: number }) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('queries only exported series and defines the variables it uses', async () => {
    const known = await knownSeries();
    const vars = new Set(dash.templating.list.map((v: { name: string }) => v.name));
    const exprs: string[] = [
      ...dash.panels.flatMap((p: { targets?: { expr: string }[] }) => (p.targets ?? []).map((t) => t.expr)),
      ...dash.templating.list.map((v: { definition?: string }) => v.definition ?? ''),
      ...dash.annotations.list.map((a: { expr?: string }) => a.expr ?? ''),
    ].filter(Boolean);
    expect(exprs.length).toBeGreaterThan(20);
    for (const e of exprs) {
      for (const s of seriesIn(e)) expect(known.has(s), `${s} in ${e}`).toBe(true);
      for (const m of e.matchAll(/\$(\w+)/g)) if (!m[1].startsWith('__')) expect(vars.has(m[1]), `$${m[1]} in ${e}`).toBe(true);
    }
    // Each of DESIGN.md's fixed metric names appears on the dashboard.
    const all = exprs.join('\n');
    for (const name of ['driftstream_events_consumed_total', 'driftstream_events_invalid_total', 'driftstream_events_late_total', 'driftstream_alerts_total', 'driftstream_drift_statistic', 'driftstream_consumer_lag']) {
      expect(all).toContain(name);
    }
  });
});
