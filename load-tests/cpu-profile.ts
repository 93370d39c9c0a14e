/**
 * Summarizes a V8 `.cpuprofile` (written by `node --cpu-prof`): self time per
 * function, the top frames first, and self time per source area (the
 * project's folders, kafkajs, avsc, node internals, GC).
 */
import { readFileSync } from 'node:fs';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface FrameCost {
  readonly frame: string;
  readonly selfMs: number;
  readonly selfPct: number;
}

export interface ProfileSummary {
  readonly file: string;
  readonly totalMs: number;
  readonly top: readonly FrameCost[];
  readonly byArea: readonly FrameCost[];
}

function shortUrl(url: string): string {
  // The project's own files, from src/ (tsx) or a compiled dist/.
  const own = /\/(src|dist)\/(?!.*node_modules)(.*)$/.exec(url);
  if (own && !url.includes('node_modules')) return `${own[1]}/${own[2]}`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  return url.replace(/^file:\/\//, '');
}

function areaOf(url: string, name: string): string {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(idle)' || name === '(program)') return name;
  if (!url) return 'native/builtins';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return 'node internals';
  // src/ and a compiled dist/ map to the same areas (src/core/stats, src/stream, ...).
  const m = /\/(?:src|dist)\/([^/]+(?:\/[^/]+)?)\/[^/]+$/.exec(url) ?? /\/(?:src|dist)\/([^/]+)\/[^/]+$/.exec(url);
  if (m) return `src/${m[1]}`;
  if (/\/(?:src|dist)\/[^/]+$/.test(url)) return 'src';
  return 'other';
}

/** Reads a `.cpuprofile` and returns its top `limit` frames by self time. */
export function summarizeCpuProfile(file: string, limit = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const byFrame = new Map<string, number>();
  const byArea = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    if (name === '(idle)') continue;
    total += us;
    const key = url ? `${name} ${shortUrl(url)}:${lineNumber + 1}` : name;
    byFrame.set(key, (byFrame.get(key) ?? 0) + us);
    const area = areaOf(url, name);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
  }
  const rank = (m: Map<string, number>, n: number): FrameCost[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([frame, us]) => ({ frame, selfMs: Math.round(us / 100) / 10, selfPct: Math.round((1000 * us) / Math.max(1, total)) / 10 }));
  return { file, totalMs: Math.round(total / 1000), top: rank(byFrame, limit), byArea: rank(byArea, 12) };
}
