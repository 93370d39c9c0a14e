import { describe, expect, it } from 'vitest';
import { renderEvaluationReport } from '../../../src/report/evaluation-report.js';
import { reportOrder } from '../../../src/report/report-order.js';
import { escapeHtml } from '../../../src/report/html.js';
import { MAX_FEATURE_SECTIONS } from '../../../src/report/render-report.js';
import { creditEvaluations, T0 } from '../http/fixtures.js';

describe('drift report', () => {
  const evaluations = creditEvaluations();
  const last = evaluations[evaluations.length - 1];

  it('orders drifting features first, by importance, then by severity', () => {
    expect(reportOrder(last.features)).toEqual(['income', 'age', 'region']);
    expect(reportOrder(last.features, { age: 0.6, income: 0.3, region: 0.9 })).toEqual(['age', 'income', 'region']);
  });

  it('is one document that fetches nothing: inline style and SVG, no script, a CSP that forbids loading', () => {
    const html = renderEvaluationReport(last, { history: evaluations, importance: { age: 0.6, income: 0.3, region: 0.1 }, generatedAt: T0 });
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|src=|url\(/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    // Summary with sample sizes and the rule; a trend over the ten windows; performance with coverage.
    expect(html).toContain('features in drift');
    expect(html).toContain('false-alarm budget of 0.0010');
    expect(html).toContain('Trend over the last 10 windows');
    expect(html).toContain('600 labelled of 1000 predictions (coverage 60.0%)');
    const sections = [...html.matchAll(/<section class="feature" id="[^"]+" data-feature="([^"]+)" data-drift="(true|false)"/g)].map((m) => [m[1], m[2]]);
    expect(sections).toEqual([
      ['age', 'true'],
      ['income', 'true'],
      ['region', 'false'],
    ]);
    // One overlay per feature with ten numeric bins (reference and current bars).
    const incomeSection = html.slice(html.indexOf('data-feature="income"'), html.indexOf('data-feature="region"'));
    expect(incomeSection.match(/<rect /g)!.length).toBeGreaterThanOrEqual(20);
    expect(incomeSection).toContain('± ');
  });

  it('escapes what it is given', () => {
    const hostile = { ...last, modelId: '<img src=x onerror=alert(1)>', features: { '<b>x</b>': last.features.income } };
    const html = renderEvaluationReport(hostile, { generatedAt: T0 });
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>x</b>');
    expect(html).toContain(escapeHtml('<b>x</b>'));
  });
});

describe('drift report of a wide model', () => {
  it('draws every drifting feature and the most important others in full, and lists the rest one line each', () => {
    const e = creditEvaluations()[9];
    const features: Record<string, (typeof e.features)[string]> = {};
    for (let i = 0; i < 200; i++) features[`f${i}`] = i % 50 === 0 ? e.features.income : e.features.region;
    const importance = Object.fromEntries(Object.keys(features).map((n, i) => [n, 1 / (i + 1)]));
    const html = renderEvaluationReport({ ...e, features }, { importance, generatedAt: T0 });
    const drawn = [...html.matchAll(/<section class="feature" id="[^"]+" data-feature="([^"]+)"/g)].map((m) => m[1]);
    expect(drawn).toHaveLength(MAX_FEATURE_SECTIONS);
    expect(drawn.slice(0, 4)).toEqual(['f0', 'f50', 'f100', 'f150']);
    expect(drawn[4]).toBe('f1');
    expect(html).toContain(`${200 - MAX_FEATURE_SECTIONS} more features, none drifting`);
    expect(html.length).toBeLessThan(2_000_000);
  });
});
