import { describe, expect, it } from 'vitest';
import { toAlertRecord } from '../../src/core/notify/alert-record.js';
import type { ChannelRepository, NewNotification, NotificationLog } from '../../src/ports/notification-log.js';

const T0 = Date.UTC(2026, 0, 1);

function item(channelId: string, alertId: string, over: Record<string, unknown> = {}, groupKey = 'g', dueAt = T0): NewNotification {
  return { channelId, groupKey, dueAt, record: toAlertRecord({ alertId, modelId: 'm', kind: 'FEATURE_DRIFT', severity: 'WARNING', status: 'FIRING', ...over }, T0) };
}

/** What every NotificationLog must do. `make` returns a fresh, empty log. */
export function notificationLogConformance(name: string, make: () => Promise<NotificationLog>): void {
  describe(`NotificationLog conformance: ${name}`, () => {
    it('enqueues each (channel, alertId, status, severity) once', async () => {
      const log = await make();
      expect(await log.enqueue([item('c', 'a'), item('d', 'a'), item('c', 'a', { severity: 'CRITICAL' }), item('c', 'a', { status: 'RESOLVED' })])).toEqual(['c', 'd', 'c', 'c']);
      expect(await log.enqueue([item('c', 'a'), item('c', 'b')])).toEqual(['c']);
      expect((await log.list({ limit: 50 })).notifications).toHaveLength(5);
    });

    it('leases due notifications to one owner at a time, with the untried ones of their burst', async () => {
      const log = await make();
      await log.enqueue([item('c', 'a', {}, 'g1', T0), item('c', 'b', {}, 'g1', T0 + 5_000), item('c', 'x', {}, 'g2', T0 + 5_000), item('other', 'y')]);
      const first = await log.claimDue(['c'], 'o1', T0, 10_000, 10);
      expect(first.map((r) => r.alertId).sort()).toEqual(['a', 'b']);
      expect(first[0].record.modelId).toBe('m');
      expect(await log.claimDue(['c'], 'o2', T0 + 1_000, 10_000, 10)).toEqual([]);
      // The lease ends: another owner may take them.
      const again = await log.claimDue(['c'], 'o2', T0 + 10_001, 10_000, 10);
      expect(again.map((r) => r.alertId).sort()).toEqual(['a', 'b', 'x']);
    });

    it('holds a RESOLVED back while its FIRING is pending on the channel', async () => {
      const log = await make();
      await log.enqueue([item('c', 'a', {}, 'firing', T0 + 60_000), item('c', 'a', { status: 'RESOLVED' }, 'resolved', T0), item('d', 'a', { status: 'RESOLVED' }, 'resolved', T0)]);
      expect((await log.claimDue(['c', 'd'], 'o1', T0, 1_000, 10)).map((r) => `${r.channelId}:${r.status}`)).toEqual(['d:RESOLVED']);
      const both = await log.claimDue(['c'], 'o1', T0 + 60_000, 1_000, 10);
      expect(both.map((r) => r.status)).toEqual(['FIRING']);
      await log.markDead(both.map((r) => r.id), 'o1', 'refused');
      expect((await log.claimDue(['c'], 'o1', T0 + 60_001, 1_000, 10)).map((r) => r.status)).toEqual(['RESOLVED']);
    });

    it('grants concurrent claims disjointly, whole bursts to one claimer', async () => {
      const log = await make();
      await log.enqueue(Array.from({ length: 600 }, (_, i) => item('c', `a${i}`, {}, `g${i % 30}`)));
      const claims = await Promise.all(Array.from({ length: 8 }, (_, o) => log.claimDue(['c'], `o${o}`, T0, 10_000, 30)));
      const ids = claims.flat().map((r) => r.id);
      expect(new Set(ids).size).toBe(ids.length);
      const owners = new Map<string, Set<number>>();
      claims.forEach((rows, owner) => rows.forEach((r) => owners.set(r.groupKey, (owners.get(r.groupKey) ?? new Set()).add(owner))));
      expect([...owners.values()].every((o) => o.size === 1)).toBe(true);
    });

    it('changes only what the owner holds: message, delivered, failed with backoff, dead, released', async () => {
      const log = await make();
      await log.enqueue([item('c', 'a', {}, 'g1'), item('c', 'b', {}, 'g2'), item('c', 'd', {}, 'g3'), item('c', 'e', {}, 'g4')]);
      const rows = await log.claimDue(['c'], 'o1', T0, 10_000, 10);
      const id = (alertId: string) => rows.find((r) => r.alertId === alertId)!.id;
      await log.markDelivered([id('a')], 'intruder', 'm0', T0);
      await log.assignMessage([id('a')], 'o1', 'm1');
      await log.markDelivered([id('a')], 'o1', 'm1', T0 + 1);
      await log.markFailed([id('b')], 'o1', 'receiver answered 503', T0 + 5_000);
      await log.markDead([id('d')], 'o1', 'receiver answered 400');
      await log.release([id('e')], 'o1', T0 + 60_000);
      const byId = new Map((await log.list({ limit: 10 })).notifications.map((n) => [n.alertId, n]));
      expect(byId.get('a')).toMatchObject({ state: 'delivered', messageId: 'm1', attempts: 1, deliveredAt: T0 + 1 });
      expect(byId.get('b')).toMatchObject({ state: 'pending', attempts: 1, lastError: 'receiver answered 503', nextAttemptAt: T0 + 5_000 });
      expect(byId.get('d')).toMatchObject({ state: 'dead', attempts: 1, lastError: 'receiver answered 400' });
      expect(byId.get('e')).toMatchObject({ state: 'pending', attempts: 0, nextAttemptAt: T0 + 60_000 });
      expect((await log.claimDue(['c'], 'o2', T0 + 4_000, 10_000, 10)).map((r) => r.alertId)).toEqual([]);
      expect((await log.claimDue(['c'], 'o2', T0 + 5_000, 10_000, 10)).map((r) => r.alertId)).toEqual(['b']);
      expect(await log.messagesSince('c', T0 - 1)).toBe(1);
      expect(await log.messagesSince('c', T0 + 1)).toBe(0);
      expect(await log.retryDead(T0 + 9, 'c')).toBe(1);
      expect((await log.list({ state: 'dead', limit: 10 })).notifications).toEqual([]);
    });

    it('keeps a resend in its message: an assigned message id comes back with the claim', async () => {
      const log = await make();
      await log.enqueue([item('c', 'a')]);
      const [row] = await log.claimDue(['c'], 'o1', T0, 1_000, 10);
      await log.assignMessage([row.id], 'o1', 'msg-1');
      // o1 dies; its lease ends.
      const [again] = await log.claimDue(['c'], 'o2', T0 + 1_001, 1_000, 10);
      expect(again.messageId).toBe('msg-1');
    });

    it('lists newest first, filtered, with a cursor; refuses a foreign cursor', async () => {
      const log = await make();
      await log.enqueue(Array.from({ length: 5 }, (_, i) => item(i % 2 ? 'c' : 'd', `a${i}`)));
      const p1 = await log.list({ limit: 2 });
      expect(p1.notifications.map((n) => n.alertId)).toEqual(['a4', 'a3']);
      const p2 = await log.list({ limit: 2, cursor: p1.nextCursor });
      const p3 = await log.list({ limit: 2, cursor: p2.nextCursor });
      expect([...p2.notifications, ...p3.notifications].map((n) => n.alertId)).toEqual(['a2', 'a1', 'a0']);
      expect(p3.nextCursor).toBeUndefined();
      expect((await log.list({ channelId: 'c', limit: 10 })).notifications.map((n) => n.alertId)).toEqual(['a3', 'a1']);
      await expect(log.list({ limit: 2, cursor: 'abc' })).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
    });
  });
}

/** What every ChannelRepository must do. */
export function channelRepositoryConformance(name: string, make: () => Promise<ChannelRepository>): void {
  describe(`ChannelRepository conformance: ${name}`, () => {
    it('creates, replaces with a new version, lists in id order and deletes', async () => {
      const repo = await make();
      expect(await repo.put('b', { id: 'b', type: 'webhook' }, 'file', T0)).toEqual({ created: true, version: 1 });
      expect(await repo.put('a', { id: 'a', type: 'slack' }, 'api', T0)).toEqual({ created: true, version: 1 });
      expect(await repo.put('b', { id: 'b', type: 'email' }, 'api', T0 + 1)).toEqual({ created: false, version: 2 });
      expect((await repo.list()).map((c) => [c.id, c.version, c.source])).toEqual([['a', 1, 'api'], ['b', 2, 'api']]);
      expect(await repo.get('b')).toMatchObject({ config: { type: 'email' }, updatedAt: T0 + 1 });
      expect(await repo.delete('b')).toBe(true);
      expect(await repo.delete('b')).toBe(false);
      expect(await repo.get('b')).toBeUndefined();
    });
  });
}
