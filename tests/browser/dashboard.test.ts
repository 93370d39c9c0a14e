import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { seededApp, type TestApp } from '../unit/http/fixtures.js';
import { T0, makeEvaluation } from '../support/fixtures.js';
import { judgeMultivariate } from '../../src/core/drift/multivariate-verdict.js';
import type { Evaluation } from '../../src/core/drift/types.js';
import type { MultivariateProfile } from '../../src/core/profile/multivariate-profile.js';
import { ReconstructionSummary } from '../../src/core/stats/reconstruction-error.js';
import { ARTIFACTS, CHROMIUM, launchChromium } from './browser.js';

// Debian's chromium package provides the browser. Developers without it skip; CI must have it.
describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('dashboard in headless Chromium', () => {
  let t: TestApp;
  let base: string;
  let browser: BrowserContext;
  let closeBrowser: () => Promise<void>;
  const consoleErrors: string[] = [];
  let joint: Evaluation[];
  const foreignRequests: string[] = [];

  beforeAll(async () => {
    t = await seededApp();
    // A second, quiet model so the overview shows more than one status.
    await t.models.putModel({ modelId: 'fraud-score', features: { amount: 'numeric', merchant: 'categorical' } });
    // A model with the multivariate test: eight windows of 1,000 rows, whose mean reconstruction error rises in the last three.
    await t.models.putModel({ modelId: 'joint', features: { a: 'numeric', b: 'numeric' }, windows: [{ name: '1m', size: '1m' }] });
    const profile = { features: ['a', 'b'], components: [[0.7071, 0.7071]], explained: 0.9, error: { rows: 5000, mean: 0.4, variance: 0.09, cap: 3 } } as unknown as MultivariateProfile;
    joint = [0.39, 0.41, 0.4, 0.42, 0.38, 0.6, 0.7, 0.8].map((mean, i) => {
      const s = new ReconstructionSummary();
      // 1,000 rows with this mean and sd 0.3.
      for (let r = 0; r < 1000; r++) s.accept(mean + (r % 2 ? 0.3 : -0.3));
      const multivariate = judgeMultivariate(s, profile, { level: 5e-4, floor: { warning: 0.1, critical: 0.25 }, minSamples: 100 });
      return { ...makeEvaluation({ modelId: 'joint', windowStart: T0 + i * 60_000 }), multivariate };
    });
    await t.results.saveEvaluations(joint);
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    ({ browser, close: closeBrowser } = await launchChromium());
  }, 60_000);

  afterAll(async () => {
    await closeBrowser?.();
    await t?.app.close();
  });

  async function open(path: string): Promise<Page> {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('request', (req) => {
      const u = new URL(req.url());
      if (u.protocol !== 'data:' && u.hostname !== '127.0.0.1') foreignRequests.push(req.url());
    });
    await page.goto(`${base}${path}`);
    return page;
  }

  it('lists the models with their status', async () => {
    const page = await open('/?refresh=60000');
    await page.waitForSelector('#models-table tr[data-model="credit-risk"]');
    expect(await page.textContent('tr[data-model="credit-risk"] [data-status]')).toBe('Drifting');
    expect(await page.textContent('tr[data-model="fraud-score"] [data-status]')).toBe('Warming up');
    expect(await page.locator('tr[data-model="credit-risk"]').getAttribute('class')).toContain('sev-critical');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview.png'), fullPage: true });
    await page.close();
  });

  it('marks the drifting feature of a drifting model and plots it', async () => {
    const page = await open('/?refresh=60000#/models/credit-risk');
    const income = page.locator('#features-table tr[data-feature="income"]');
    await income.waitFor();
    expect(await income.getAttribute('data-severity')).toBe('CRITICAL');
    expect(await income.getAttribute('data-drift')).toBe('true');
    expect(await income.getAttribute('class')).toContain('sev-critical');
    expect(await income.locator('.pill').textContent()).toBe('Critical');
    expect(await page.locator('#features-table tr[data-feature="region"]').getAttribute('data-drift')).toBe('false');
    // The most severe feature is selected: its histogram overlay and history are drawn.
    await page.waitForSelector('#histogram-panel svg rect.bar-cur.critical');
    expect(await page.locator('#histogram-panel rect.bar-ref').count()).toBe(10);
    expect(await page.locator('#history-panel circle.pt.critical').count()).toBe(4);
    expect(await page.locator('#history-panel line.thr-critical').count()).toBe(1);
    // Performance once labels joined: the fixture's accuracy and coverage.
    expect(await page.textContent('#performance-panel')).toContain('Accuracy');
    expect(await page.textContent('#performance-panel')).toContain('60%');
    // Estimated before labels, beside the realized figures, with its interval.
    expect(await page.textContent('#performance-panel')).toContain('Estimated Accuracy');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-model.png'), fullPage: true });

    // Selecting a categorical feature redraws the distribution by category.
    await page.click('#features-table tr[data-feature="region"]');
    await page.waitForSelector('#histogram-panel text >> text=north');
    expect(page.url()).toContain('feature=region');
    await page.close();
  });

  it('plots the multivariate drift: mean reconstruction error per window against its null range', async () => {
    const page = await open('/?refresh=60000#/models/joint');
    const panel = page.locator('#multivariate-panel');
    await panel.waitFor();
    const latest = joint[joint.length - 1].multivariate!;
    expect(latest.severity).toBe('CRITICAL');
    // One point per window, coloured by its verdict's severity, and the null range as a band with its upper edge.
    expect(await panel.locator('circle.pt').count()).toBe(joint.length);
    const critical = joint.filter((e) => e.multivariate!.severity === 'CRITICAL').length;
    expect(critical).toBeGreaterThan(0);
    expect(await panel.locator('circle.pt.critical').count()).toBe(critical);
    expect(await panel.locator('path.null-upper').count()).toBe(1);
    expect(await panel.locator('polygon.null-band').count()).toBe(1);
    expect(await panel.locator('line.baseline').count()).toBe(1);
    // The latest window: its mean error above the top of its null range, both as the verdict computed them.
    const meanError = Number(await panel.locator('[data-mean-error]').textContent());
    const range = (await panel.locator('[data-null-range]').textContent())!;
    const upper = Number(range.split('–')[1]);
    expect(meanError).toBeCloseTo(latest.meanError!, 2);
    expect(upper).toBeCloseTo(latest.nullUpper!, 2);
    expect(meanError).toBeGreaterThan(upper);
    expect(await panel.locator('.pill').first().textContent()).toBe('Critical');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-multivariate.png'), fullPage: true });
    await page.close();
  });

  it('shows no multivariate panel for a model without the test', async () => {
    const page = await open('/?refresh=60000#/models/credit-risk');
    await page.locator('#features-table').waitFor();
    expect(await page.locator('#multivariate-panel').count()).toBe(0);
    await page.close();
  });

  it('refreshes by itself when a new evaluation arrives', async () => {
    const page = await open('/?refresh=300#/models/credit-risk');
    await page.locator('#features-table tr[data-feature="income"]').waitFor();
    const [last] = await t.results.listEvaluations({ modelId: 'credit-risk', windowName: '1m', limit: 1 });
    const calm = structuredClone(last);
    for (const f of Object.values(calm.features)) Object.assign(f, { severity: 'NONE', drift: false });
    await t.results.saveEvaluations([{ ...calm, evaluationId: 'next', windowStart: last.windowEnd, windowEnd: last.windowEnd + 60_000 }]);
    await page.waitForSelector('#features-table tr[data-feature="income"][data-severity="NONE"]', { timeout: 10_000 });
    await page.close();
  });

  it('serves the API explorer at /docs from local assets', async () => {
    const page = await open('/docs/');
    await page.waitForSelector('.opblock-summary-path', { timeout: 15_000 });
    const paths = await page.locator('.opblock-summary-path').allTextContents();
    expect(paths.map((p) => p.replace(/\u200b/g, ''))).toEqual(expect.arrayContaining(['/api/v1/models/{modelId}/drift', '/api/v1/alerts', '/readyz']));
    await page.screenshot({ path: join(ARTIFACTS, 'api-docs.png') });
    await page.close();
  });

  it('loads without console errors (CSP included) and without any request off this host', () => {
    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
  });
});
