import { fmt, recordLine, reportUrlOf, titleOf, windowText, type NotificationGroup } from './notification-group.js';

/** Slack's limits: 50 blocks a message, 10 fields a section, 150 characters of header, 3000 of section text. */
const MAX_FEATURE_SECTIONS = 40;

const cut = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);
/** Slack mrkdwn treats &, < and > as control characters. */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A Block Kit message for a Slack incoming webhook: a header, one section per
 * record (feature, statistic, effect, severity), the window, and a button to
 * the drift report. `text` is the notification's fallback.
 */
export function renderSlack(g: NotificationGroup): Record<string, unknown> {
  const first = g.records[0];
  const title = titleOf(g);
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(title, 150), emoji: true } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: cut(`*Model* ${esc(first.modelId)}   *Window* ${esc(windowText(first))}   *Status* ${first.status}`, 3000) }] },
  ];
  for (const r of g.records.slice(0, MAX_FEATURE_SECTIONS)) {
    const l = recordLine(r);
    blocks.push({
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: cut(`*Feature*\n${esc(l.subject)}`, 2000) },
        { type: 'mrkdwn', text: cut(`*Statistic*\n${esc(l.statistic)} = ${esc(l.value)}`, 2000) },
        { type: 'mrkdwn', text: cut(`*Effect*\n${esc(l.effect)}`, 2000) },
        { type: 'mrkdwn', text: `*Severity*\n${esc(l.severity)}${r.sampleSize !== null ? ` (n=${fmt(r.sampleSize, 6)})` : ''}` },
      ],
    });
  }
  if (g.records.length > MAX_FEATURE_SECTIONS) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `and ${g.records.length - MAX_FEATURE_SECTIONS} more` }] });
  }
  const url = reportUrlOf(g.reportBaseUrl, first);
  if (url) {
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open the drift report' }, url: cut(url, 3000), action_id: 'open-report' }] });
  }
  return { text: cut(title, 3000), blocks };
}
