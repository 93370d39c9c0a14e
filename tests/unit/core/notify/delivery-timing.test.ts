import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../../../src/core/notify/circuit-breaker.js';
import { quietHoursRelease, retryDelayMs } from '../../../../src/core/notify/delivery-timing.js';
import { T0 } from './fixtures.js';

describe('retryDelayMs', () => {
  it('doubles from the base with jitter between half and all of the step, capped, and honours a longer Retry-After', () => {
    expect(retryDelayMs(1, 1000, 60_000, 0)).toBe(500);
    expect(retryDelayMs(1, 1000, 60_000, 0.999)).toBeCloseTo(1000, -1);
    expect(retryDelayMs(4, 1000, 60_000, 0)).toBe(4000);
    expect(retryDelayMs(30, 1000, 60_000, 0.5)).toBe(45_000);
    expect(retryDelayMs(30, 1000, 60_000, 0.99999)).toBeCloseTo(60_000, -1);
    expect(retryDelayMs(1, 1000, 60_000, 0, 7000)).toBe(7000);
    expect(retryDelayMs(1, 1000, 5000, 0, 3_600_000)).toBe(5000);
    for (let a = 1; a < 12; a++) {
      const lo = retryDelayMs(a, 100, 10_000, 0);
      const hi = retryDelayMs(a, 100, 10_000, 0.9999);
      expect(hi).toBeGreaterThanOrEqual(lo);
      expect(hi).toBeLessThanOrEqual(10_000);
    }
  });
});

describe('quietHoursRelease', () => {
  const q = { start: '22:00', end: '07:00', timeZone: 'UTC', allowSeverities: ['CRITICAL'] };
  const at = (h: number, m = 0) => Date.UTC(2026, 0, 5, h, m, 30);

  it('holds a WARNING back until the end of quiet hours, over midnight', () => {
    expect(quietHoursRelease(q, 'WARNING', at(23, 15))).toBe(Date.UTC(2026, 0, 6, 7, 0, 0));
    expect(quietHoursRelease(q, 'WARNING', at(3))).toBe(Date.UTC(2026, 0, 5, 7, 0, 0));
    expect(quietHoursRelease(q, 'WARNING', at(12))).toBe(at(12));
    expect(quietHoursRelease(q, 'WARNING', at(7))).toBe(at(7));
    expect(quietHoursRelease(q, 'WARNING', at(21, 59))).toBe(at(21, 59));
  });

  it('lets allowed severities through and reads the time zone', () => {
    expect(quietHoursRelease(q, 'CRITICAL', at(23))).toBe(at(23));
    // 12:00 UTC is 21:00 in Tokyo: quiet from 20:00 to 08:00 there ends at 23:00 UTC.
    const tokyo = { ...q, start: '20:00', end: '08:00', timeZone: 'Asia/Tokyo' };
    expect(quietHoursRelease(tokyo, 'WARNING', Date.UTC(2026, 0, 5, 12, 0, 0))).toBe(Date.UTC(2026, 0, 5, 23, 0, 0));
    expect(quietHoursRelease(undefined, 'WARNING', T0)).toBe(T0);
  });
});

describe('CircuitBreaker', () => {
  it('opens after consecutive failures, lets one trial through after the cooldown, and closes on its success', () => {
    const b = new CircuitBreaker(3, 1000);
    b.failure(0);
    b.failure(1);
    expect(b.allows(2)).toBe(true);
    b.success();
    b.failure(3);
    b.failure(4);
    b.failure(5);
    expect(b.state(6)).toBe('open');
    expect(b.allows(6)).toBe(false);
    expect(b.reopensAt(6)).toBe(1005);
    expect(b.allows(1005)).toBe(true);
    expect(b.allows(1005)).toBe(false);
    b.failure(1010);
    expect(b.state(1500)).toBe('open');
    expect(b.allows(2010)).toBe(true);
    b.success();
    expect(b.state(2011)).toBe('closed');
    expect(b.allows(2011) && b.allows(2011)).toBe(true);
  });
});
