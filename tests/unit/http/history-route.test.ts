import { describe, expect, it } from 'vitest';
import { autoResolution } from '../../../src/http/routes/history.js';
import { MINUTE, T0, creditEvaluations, seededApp } from './fixtures.js';

const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('GET /api/v1/models/:modelId/history', () => {
  it('serves a day of 1-minute windows (the default range) from hourly roll-ups: every feature\'s counts, one feature\'s statistics', async () => {
    const { app } = await seededApp();
    const r = await app.inject({ url: '/api/v1/models/credit-risk/history?window=1m' });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ modelId: 'credit-risk', window: '1m', resolution: 'hour', from: T0 + HOUR - DAY, to: T0 + HOUR });
    expect(body.points).toHaveLength(1);
    const [hour] = body.points;
    expect(hour).toMatchObject({ bucketStart: T0, bucketEnd: T0 + HOUR, windows: 10, driftWindows: 1, sampleSize: 10_000, severity: 'CRITICAL' });
    expect(hour.features.income).toEqual({ windows: 10, driftWindows: 4, severity: 'CRITICAL' });
    const withIncome = await app.inject({ url: '/api/v1/models/credit-risk/history?window=1m&feature=income' });
    const [hourOfIncome] = withIncome.json().points;
    expect(Object.keys(hourOfIncome.features)).toEqual(['income']);
    const psis = creditEvaluations().map((e) => e.features.income.psi!);
    expect(hourOfIncome.features.income.psi.max).toBeCloseTo(Math.max(...psis), 9);
    expect(hourOfIncome.features.income.psi.mean).toBeCloseTo(psis.reduce((a, b) => a + b) / psis.length, 9);
  });

  it('serves each window of a short range, oldest first, with one feature when asked', async () => {
    const { app } = await seededApp();
    const r = await app.inject({ url: `/api/v1/models/credit-risk/history?window=1m&from=${T0}&to=${T0 + 10 * MINUTE}&feature=income` });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.resolution).toBe('window');
    expect(body.points.map((p: { bucketStart: number }) => (p.bucketStart - T0) / MINUTE)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(body.points[9]).toMatchObject({ bucketEnd: T0 + 10 * MINUTE, windows: 1, sampleSize: 1_000 });
    expect(Object.keys(body.points[9].features)).toEqual(['income']);
  });

  it('picks daily roll-ups for ranges longer than the points asked for, and any resolution on request', async () => {
    const { app } = await seededApp();
    let r = await app.inject({ url: `/api/v1/models/credit-risk/history?window=1m&from=${T0 - 60 * DAY}&to=${T0 + DAY}` });
    expect(r.json()).toMatchObject({ resolution: 'day', points: [{ bucketStart: T0, bucketEnd: T0 + DAY, windows: 10 }] });
    r = await app.inject({ url: `/api/v1/models/credit-risk/history?window=1m&from=${T0}&to=${T0 + 10 * MINUTE}&resolution=day` });
    expect(r.json()).toMatchObject({ resolution: 'day', points: [{ windows: 10 }] });
    r = await app.inject({ url: `/api/v1/models/credit-risk/history?window=1m&from=${T0}&to=${T0 + HOUR}&resolution=window&points=3` });
    expect(r.json().points.map((p: { bucketStart: number }) => (p.bucketStart - T0) / MINUTE)).toEqual([7, 8, 9]);
  });

  it('answers a bad range, window or resolution with a 4xx', async () => {
    const { app } = await seededApp();
    let r = await app.inject({ url: `/api/v1/models/credit-risk/history?from=${T0}&to=${T0}` });
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe('VALIDATION_FAILED');
    r = await app.inject({ url: '/api/v1/models/credit-risk/history?window=2m' });
    expect(r.statusCode).toBe(404);
    expect(r.json().code).toBe('WINDOW_NOT_FOUND');
    r = await app.inject({ url: '/api/v1/models/credit-risk/history?resolution=minute' });
    expect(r.statusCode).toBe(400);
    r = await app.inject({ url: `/api/v1/models/credit-risk/history?feature=${encodeURIComponent('in\u0001come')}` });
    expect(r.statusCode).toBe(400);
    r = await app.inject({ url: '/api/v1/models/nobody/history' });
    expect(r.statusCode).toBe(404);
  });

  it('auto resolution: the finest that fits the points', () => {
    expect(autoResolution(0, 1_000 * MINUTE, MINUTE, 1_000)).toBe('window');
    expect(autoResolution(0, 30 * DAY, MINUTE, 1_000)).toBe('hour');
    expect(autoResolution(0, 60 * DAY, MINUTE, 1_000)).toBe('day');
    expect(autoResolution(0, 30 * DAY, HOUR, 1_000)).toBe('window');
  });
});
