import { describe, expect, it } from 'vitest';
import { parseChannelConfig } from '../../../../src/core/notify/channel-config.js';
import { deliveryKeyOf, globMatches, groupKeyOf, routeAlert } from '../../../../src/core/notify/route-alert.js';
import { toAlertRecord } from '../../../../src/core/notify/alert-record.js';
import { driftAlert, T0 } from './fixtures.js';

const channel = (id: string, match?: unknown[]) => parseChannelConfig({ id, type: 'webhook', url: 'https://h/', match });

describe('routing', () => {
  it('matches globs', () => {
    expect(globMatches('credit-*', 'credit-risk')).toBe(true);
    expect(globMatches('*-risk', 'credit-risk')).toBe(true);
    expect(globMatches('c*t*k', 'credit-risk')).toBe(true);
    expect(globMatches('credit-*', 'fraud')).toBe(false);
    expect(globMatches('a*a', 'a')).toBe(false);
    expect(globMatches('exact', 'exact')).toBe(true);
  });

  it('routes by model, kind, severity, status and labels; a channel without rules takes everything', () => {
    const channels = [
      channel('all'),
      channel('critical', [{ severities: ['CRITICAL'] }]),
      channel('credit-eu', [{ models: ['credit-*'], labels: { segment: 'eu' } }]),
      channel('resolved-only', [{ statuses: ['RESOLVED'] }]),
      channel('retrain', [{ kinds: ['RETRAIN_RECOMMENDED'] }]),
      parseChannelConfig({ id: 'off', type: 'webhook', url: 'https://h/', enabled: false }),
    ];
    const ids = (over: Record<string, unknown>) => routeAlert(channels, driftAlert(over)).map((c) => c.id);
    expect(ids({})).toEqual(['all', 'credit-eu']);
    expect(ids({ severity: 'CRITICAL', details: { segment: 'us' } })).toEqual(['all', 'critical']);
    expect(ids({ status: 'RESOLVED', modelId: 'fraud' })).toEqual(['all', 'resolved-only']);
    expect(ids({ kind: 'RETRAIN_RECOMMENDED', modelId: 'fraud' })).toEqual(['all', 'retrain']);
  });

  it('keys a delivery by channel, alert, status and severity, and groups a burst by model, window and status', () => {
    const a = driftAlert({ alertId: 'a-1', feature: 'age' });
    const b = driftAlert({ alertId: 'a-2', feature: 'income' });
    expect(groupKeyOf(a)).toBe(groupKeyOf(b));
    expect(groupKeyOf(driftAlert({ status: 'RESOLVED' }))).not.toBe(groupKeyOf(a));
    expect(groupKeyOf(driftAlert({ windowStart: T0 + 60_000 }))).not.toBe(groupKeyOf(a));
    expect(deliveryKeyOf('c', a)).toBe('c|a-1|FIRING|WARNING');
    expect(deliveryKeyOf('c', driftAlert({ severity: 'CRITICAL' }))).not.toBe(deliveryKeyOf('c', a));
  });

  it('reads any record type with an alertId and a modelId, and refuses one without', () => {
    const r = toAlertRecord({ type: 'RETRAIN_RECOMMENDED', alertId: 'r-1', modelId: 'm', windowStart: 10n, evidence: { weightedShare: 0.7 } }, T0);
    expect(r).toMatchObject({ kind: 'RETRAIN_RECOMMENDED', status: 'FIRING', severity: 'WARNING', windowStart: 10, detectedAt: T0 });
    expect(r.raw.windowStart).toBe(10);
    expect(() => toAlertRecord({ modelId: 'm' }, T0)).toThrow(/alertId/);
    expect(() => toAlertRecord({ alertId: 'x', modelId: 'm', status: 'OPEN' }, T0)).toThrow(/status/);
    expect(() => toAlertRecord('text', T0)).toThrow(/object/);
  });
});
