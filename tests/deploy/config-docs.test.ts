import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_SPEC } from '../../src/config/spec.js';
import { CONFIG_DOC_PATH, renderConfigurationDoc } from '../../scripts/gen-config-docs.js';

describe('docs/configuration.md', () => {
  it('is what `npm run docs:config` renders from CONFIG_SPEC', () => {
    const committed = readFileSync(CONFIG_DOC_PATH, 'utf8');
    // On failure: run `npm run docs:config` and commit docs/configuration.md.
    expect(committed).toBe(renderConfigurationDoc());
  });

  it('documents every variable exactly once, with its default', () => {
    const doc = renderConfigurationDoc();
    for (const v of CONFIG_SPEC) {
      const rows = doc.split('\n').filter((l) => l.startsWith(`| \`${v.name}\` |`));
      expect(rows, v.name).toHaveLength(1);
      if (v.default !== undefined && v.default !== '') expect(rows[0], v.name).toContain(`\`${v.default}\``);
      if (v.secret) expect(rows[0], v.name).toContain('**secret.**');
    }
  });

  it('renders a variable added to the spec', () => {
    const doc = renderConfigurationDoc([
      ...CONFIG_SPEC,
      { name: 'DRIFTSTREAM_EXAMPLE_LIMIT', kind: 'int', default: '7', min: 1, description: 'An | example.' },
    ]);
    expect(doc).toContain('| `DRIFTSTREAM_EXAMPLE_LIMIT` | `7` | integer, >= 1 | An \\| example. |');
  });
});
