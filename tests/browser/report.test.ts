import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { PostgresModelRepository } from '../../src/adapters/postgres/postgres-model-repository.js';
import { PostgresResultRepository } from '../../src/adapters/postgres/postgres-result-repository.js';
import { compareHtmlCommand } from '../../src/commands/compare-html.js';
import { buildApp } from '../../src/http/app.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { testDatabase, type TestDatabase } from '../support/postgres.js';
import { textSink } from '../support/text-sink.js';
import { CREDIT_MODEL, MINUTE, T0, creditEvaluations, creditProfile, httpConfig } from '../unit/http/fixtures.js';
import { ARTIFACTS, CHROMIUM, launchChromium } from './browser.js';

const SAMPLES = join(import.meta.dirname, '..', 'fixtures', 'samples');

interface Opened {
  page: Page;
  consoleErrors: string[];
  requests: string[];
}

/** A page that records console errors and every request it makes; the browser is offline. */
async function openOffline(browser: BrowserContext, url: string): Promise<Opened> {
  const page = await browser.newPage();
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(url);
  return { page, consoleErrors, requests };
}

async function featureOrder(page: Page): Promise<[string, string][]> {
  return page.$$eval('section.feature', (els) => els.map((e) => [e.getAttribute('data-feature') ?? '', e.getAttribute('data-drift') ?? '']));
}

describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('HTML drift reports in headless Chromium', () => {
  let browser: BrowserContext;
  let closeBrowser: () => Promise<void>;
  let db: TestDatabase;
  let app: FastifyInstance;
  let base: string;
  const dir = mkdtempSync(join(tmpdir(), 'driftstream-report-'));

  beforeAll(async () => {
    ({ browser, close: closeBrowser } = await launchChromium());
    db = await testDatabase('report');
    const models = new PostgresModelRepository(db.pool);
    const results = new PostgresResultRepository(db.pool);
    await models.putModel({ ...CREDIT_MODEL, importance: { age: 0.6, income: 0.3, region: 0.1 } });
    await models.addReference('credit-risk', 'ref-credit-1', creditProfile());
    // The newest window carries its importance-weighted share, as the detector computes it.
    await results.saveEvaluations(creditEvaluations().map((e, i) => (i === 9 ? { ...e, datasetDrift: { ...e.datasetDrift, weightedShare: 0.9 } } : e)));
    app = await buildApp({
      config: httpConfig(),
      models,
      results,
      healthChecks: [],
      metrics: createMetrics({ defaultMetrics: false }),
      logger: createLogger('warn', textSink()),
      now: () => T0 + 3_600_000,
      readCacheMs: 0,
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  }, 60_000);

  afterAll(async () => {
    await closeBrowser?.();
    await app?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('compare --format html writes a report that renders offline, drifting features first', async () => {
    const file = join(dir, 'compare.html');
    const out = createWriteStream(file);
    const err = textSink();
    const code = await compareHtmlCommand({ reference: join(SAMPLES, 'reference.csv'), current: join(SAMPLES, 'current.csv'), types: {} }, out, err);
    out.end();
    await finished(out);
    expect(code).toBe(0);
    await browser.setOffline(true);
    try {
      const { page, consoleErrors, requests } = await openOffline(browser, `file://${file}`);
      expect(await page.textContent('h1')).toContain('current.csv');
      const order = await featureOrder(page);
      expect(order.map(([, d]) => d)).toEqual(['true', 'true', 'true', 'false']);
      expect(order[3][0]).toBe('flag');
      // Every feature has its distributions overlaid: reference and current bars.
      expect(await page.locator('section.feature svg.histogram').count()).toBe(4);
      expect(consoleErrors).toEqual([]);
      expect(requests).toEqual([`file://${file}`]);
      await page.screenshot({ path: join(ARTIFACTS, 'report-compare.png'), fullPage: true });
      await page.close();
    } finally {
      await browser.setOffline(false);
    }
  });

  it('the dashboard links the report of the window; the saved report renders offline in importance order', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/?refresh=60000#/models/credit-risk`);
    const link = page.locator('#report-link');
    await link.waitFor();
    const href = await link.getAttribute('href');
    expect(href).toBe('api/v1/models/credit-risk/report?window=1m');
    expect(await page.textContent('#view')).toContain('90% by importance');
    const res = await fetch(`${base}/${href}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    await page.close();
    // Saved as a file (an e-mail attachment) and opened with the network off.
    const file = join(dir, 'api.html');
    const html = await res.text();
    await import('node:fs/promises').then((fs) => fs.writeFile(file, html));
    await browser.setOffline(true);
    try {
      const opened = await openOffline(browser, `file://${file}`);
      // age (importance 0.6, WARNING) before income (0.3, CRITICAL); region does not drift.
      expect(await featureOrder(opened.page)).toEqual([
        ['age', 'true'],
        ['income', 'true'],
        ['region', 'false'],
      ]);
      expect(await opened.page.locator('table.drifting tbody tr').count()).toBe(2);
      expect(await opened.page.textContent('#performance')).toContain('coverage 60.0%');
      expect(await opened.page.textContent('#summary')).toContain('90.0%');
      expect(await opened.page.locator('#trend svg.trend circle').count()).toBeGreaterThanOrEqual(10);
      expect(opened.consoleErrors).toEqual([]);
      expect(opened.requests).toEqual([`file://${file}`]);
      await opened.page.screenshot({ path: join(ARTIFACTS, 'report-api.png'), fullPage: true });
      await opened.page.close();
    } finally {
      await browser.setOffline(false);
    }
  });

  it('reports the evaluation in force at a past instant, from history', async () => {
    // By T0 + 5m30s the latest window to have ended is [T0+4m, T0+5m): before income drifted.
    const res = await fetch(`${base}/api/v1/models/credit-risk/report?window=1m&at=${T0 + 5 * MINUTE + 30_000}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('2026-01-01T00:04:00Z – 2026-01-01T00:05:00Z');
    expect(html).toContain('No feature drifts in this window.');
    expect(html).toContain('Trend over the last 5 windows');
    const early = await fetch(`${base}/api/v1/models/credit-risk/report?at=${T0}`);
    expect(early.status).toBe(404);
    expect(((await early.json()) as { code: string }).code).toBe('NO_EVALUATION');
    const bad = await fetch(`${base}/api/v1/models/credit-risk/report?at=yesterday`);
    expect(bad.status).toBe(400);
    expect(readFileSync(join(ARTIFACTS, 'report-api.png')).length).toBeGreaterThan(10_000);
  });
});
