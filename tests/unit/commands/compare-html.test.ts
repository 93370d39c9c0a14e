import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareHtmlCommand } from '../../../src/commands/compare-html.js';
import { textSink } from '../../support/text-sink.js';

const SAMPLES = join(import.meta.dirname, '..', '..', 'fixtures', 'samples');

describe('compare --format html', () => {
  it('reports the last window with the earlier ones as its trend, named by their rows', async () => {
    const out = textSink();
    const err = textSink();
    const code = await compareHtmlCommand({ reference: join(SAMPLES, 'reference.csv'), current: join(SAMPLES, 'current.csv'), types: {}, windowRows: 500 }, out, err);
    expect(code).toBe(0);
    const html = out.text();
    expect(html).toContain('Trend over the last 3 windows');
    for (const rows of ['1-500', '501-1000', '1001-1500']) expect(html).toContain(`current.csv rows ${rows}`);
    // Every feature section has its overlay; the drifting ones come first.
    const drift = [...html.matchAll(/data-drift="(true|false)"/g)].map((m) => m[1]);
    expect(drift.indexOf('false')).toBeGreaterThan(0);
    expect(drift.slice(drift.indexOf('false'))).not.toContain('true');
  });

  it('answers bad input with exit code 2 and the reason', async () => {
    const err = textSink();
    expect(await compareHtmlCommand({ reference: join(SAMPLES, 'reference.csv'), current: join(SAMPLES, 'missing.csv'), types: {} }, textSink(), err)).toBe(2);
    expect(err.text()).toMatch(/^driftstream compare: /);
  });
});
