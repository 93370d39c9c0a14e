/**
 * Writes `panes-v1.json`: pane partials in the version-1 checkpoint format,
 * the merged window built from them, and its evaluation, as the pane
 * representation of that format computed them. `compact-panes.test.ts`
 * checks that today's representation loads these partials and computes the
 * same statistics from the same events.
 *
 * `npx tsx tests/unit/core/windows/golden/make-golden.ts > tests/unit/core/windows/golden/panes-v1.json`
 * (the committed file was made with the version-1 representation, before compact panes).
 */
import { evaluateWindow } from '../../../../../src/core/drift/evaluate-window.js';
import { Pane } from '../../../../../src/core/windows/pane.js';
import { GOLDEN_PARTIALS, goldenPane } from './golden-panes.js';
import { testLayout, testModel } from '../fixtures.js';

const model = testModel();
const layout = testLayout(model);
const partials = GOLDEN_PARTIALS.map((spec) => goldenPane(layout, spec));
const merged = Pane.empty(layout, 0, 30_000);
for (const p of partials) merged.merge(p);
merged.trim();
const evaluation = evaluateWindow({ model, pane: merged, windowName: '30s', windowStart: 0, windowEnd: 30_000, evaluatedAt: 1 });
process.stdout.write(JSON.stringify({ partials: partials.map((p) => p.toJSON()), merged: merged.toJSON(), evaluation }) + '\n');
