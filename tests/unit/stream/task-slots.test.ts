import { describe, expect, it } from 'vitest';
import { TaskSlots } from '../../../src/stream/task-slots.js';

describe('TaskSlots', () => {
  it('runs at most its limit at once, the rest in arrival order, and passes results and errors through', async () => {
    const slots = new TaskSlots(2);
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const release: (() => void)[] = [];
    const task = (i: number) =>
      slots.run(async () => {
        started.push(i);
        running++;
        most = Math.max(most, running);
        await new Promise<void>((r) => release.push(r));
        running--;
        if (i === 3) throw new Error('task 3 failed');
        return i * 10;
      });
    const all = [0, 1, 2, 3, 4].map((i) => task(i).catch((e: Error) => e.message));
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    while (release.length > 0 || started.length < 5) {
      await new Promise((r) => setImmediate(r));
      release.shift()?.();
    }
    expect(await Promise.all(all)).toEqual([0, 10, 20, 'task 3 failed', 40]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
    expect(slots.active).toBe(0);
  });

  it('refuses a limit below one', () => {
    expect(() => new TaskSlots(0)).toThrow(RangeError);
  });
});
