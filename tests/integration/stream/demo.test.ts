import { readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../../src/commands/demo.js';
import { uniqueName } from '../../support/kafka.js';
import { HttpReceiver } from '../../support/notify-receivers.js';

describe('driftstream demo', () => {
  it('runs the detector on credit-risk traffic and prints FIRING alerts for the drifted features', async () => {
    // Topics of its own, so parallel runs do not meet (this file runs in its own process).
    for (const t of ['INFERENCE', 'ALERTS', 'METRICS', 'DLQ']) process.env[`DRIFTSTREAM_${t}_TOPIC`] = uniqueName(`demo-${t.toLowerCase()}`);
    const lines: string[] = [];
    const hook = await HttpReceiver.start();
    const { alerts, sent } = await runDemo(
      // 26 s of drifted traffic always holds a whole 10 s pane that closes (2 s lateness) before the end.
      { rate: 400, driftAfterMs: 10_000, driftForMs: 30_000, durationMs: 36_000, stack: false, http: false, settleMs: 0, notifyWebhook: hook.url },
      (l) => lines.push(l),
    ).finally(() => hook.close());
    expect(sent).toBeGreaterThan(8000);
    expect(lines.some((l) => l.includes('drift injected'))).toBe(true);
    const firing = alerts.filter((a) => a.status === 'FIRING' && a.kind === 'FEATURE_DRIFT');
    const fired = new Set(firing.map((a) => a.feature));
    // An alert on an undrifted feature is a false alarm: what a failure needs is the evidence it fired on.
    const unexpected = firing.filter((a) => a.feature !== 'income' && a.feature !== 'region');
    if (unexpected.length > 0) console.error(`alerts on undrifted features: ${JSON.stringify(unexpected)}`);
    expect(fired).toEqual(new Set(['income', 'region']));
    expect(lines.some((l) => /FIRING\s+(WARNING|CRITICAL)\s+FEATURE_DRIFT\s+income/.test(l))).toBe(true);
    // The demo says where its drift report is, and the file is a report of the model.
    const report = lines.map((l) => /^drift report written to (\S+)/.exec(l)?.[1]).find(Boolean);
    expect(report).toBeDefined();
    const html = readFileSync(report!, 'utf8');
    expect(html).toContain('<section class="feature"');
    expect(html).toContain('model credit-risk');
    rmSync(report!);
    // --notify-webhook: every alert record reached the webhook through the notifier, once.
    const delivered = hook.accepted.flatMap((r) => (r.json as { data: { alerts: { alertId: string; status: string; severity: string }[] } }).data.alerts.map((a) => `${a.alertId}|${a.status}|${a.severity}`));
    expect(new Set(delivered).size).toBe(delivered.length);
    expect(new Set(delivered)).toEqual(new Set(alerts.map((a) => `${a.alertId}|${a.status}|${a.severity}`)));
    expect(lines.at(-1)).toMatch(new RegExp(`^notifications to ${hook.url}: ${delivered.length} delivered, 0 pending, 0 dead-lettered`));
  }, 90_000);
});
