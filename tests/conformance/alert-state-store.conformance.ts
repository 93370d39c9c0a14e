import { describe, expect, it } from 'vitest';
import type { AlertStateStore } from '../../src/ports/alert-state-store.js';
import { makeAlert } from '../support/fixtures.js';

/** What every AlertStateStore must do. `make` returns a fresh, empty store. */
export function alertStateStoreConformance(name: string, make: () => Promise<AlertStateStore>): void {
  describe(`AlertStateStore conformance: ${name}`, () => {
    it('round-trips a tracker per (model, window)', async () => {
      const store = await make();
      expect(await store.loadTracker('m', '1m')).toBeUndefined();
      await store.saveTracker('m', '1m', { firing: { age: 'WARNING' }, clean: 2 });
      await store.saveTracker('m', '1h', { firing: {}, clean: 0 });
      await store.saveTracker('m:1m', '', { other: true });
      expect(await store.loadTracker('m', '1m')).toEqual({ firing: { age: 'WARNING' }, clean: 2 });
      expect(await store.loadTracker('m', '1h')).toEqual({ firing: {}, clean: 0 });
    });

    it('grants a claim on (alertId, status, severity) once', async () => {
      const store = await make();
      const firing = makeAlert();
      expect(await store.claimAlert(firing)).toBe(true);
      expect(await store.claimAlert(firing)).toBe(false);
      expect(await store.claimAlert({ ...firing, detectedAt: firing.detectedAt + 60_000 })).toBe(false);
      expect(await store.claimAlert({ ...firing, severity: 'WARNING' })).toBe(true);
      expect(await store.claimAlert({ ...firing, status: 'RESOLVED' })).toBe(true);
      expect(await store.claimAlert({ ...firing, alertId: 'other' })).toBe(true);
    });

    it('grants exactly one of many concurrent claims', async () => {
      const store = await make();
      const alert = makeAlert({ alertId: 'race' });
      const results = await Promise.all(Array.from({ length: 25 }, () => store.claimAlert(alert)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });
}
