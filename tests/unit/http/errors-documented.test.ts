import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HTTP_ERROR_CODES } from '../../../src/http/errors.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const DOC = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'dashboard' ? [] : sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

const CODE_LITERAL = /'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g;
// Lines that raise or name an error code: constructors, `code:` options and fields.
const CODE_CONTEXT = /\b(?:super|\w*Error|httpError)\(|\bcode\s*(?::|\?\?|===?)/;

/** Every error code the source raises, with where. */
export function codesInSource(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of sourceFiles(join(ROOT, 'src'))) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (!CODE_CONTEXT.test(line)) return;
      for (const m of line.matchAll(CODE_LITERAL)) {
        if (m[1].startsWith('FST_')) continue; // Fastify's own codes, mapped by the error handler
        if (!found.has(m[1])) found.set(m[1], `${file.slice(ROOT.length + 1)}:${i + 1}`);
      }
    });
  }
  return found;
}

describe('error codes', () => {
  it('finds the codes the source raises', () => {
    const codes = codesInSource();
    expect(codes.has('CONFIG_INVALID')).toBe(true);
    expect(codes.has('MODEL_NOT_FOUND')).toBe(true);
    expect(codes.has('DECODE_RETRIABLE')).toBe(true);
  });

  it('documents every code raised in src/ in docs/errors.md', () => {
    const undocumented = [...codesInSource()].filter(([code]) => !DOC.includes(`\`${code}\``)).map(([code, where]) => `${code} (${where})`);
    expect(undocumented).toEqual([]);
  });

  it('documents every HTTP code with its status', () => {
    for (const [code, { status }] of Object.entries(HTTP_ERROR_CODES)) {
      expect(DOC, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${status} \\|`));
    }
  });
});
