import { recordLine, reportUrlOf, titleOf, windowText, type NotificationGroup } from './notification-group.js';

export interface EmailContent {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

const escHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The email of a message: the same facts as plain text and as HTML (a table, inline styles, no remote content). */
export function renderEmail(g: NotificationGroup): EmailContent {
  const first = g.records[0];
  const subject = `driftstream ${titleOf(g)}`.replace(/[\r\n]+/g, ' ').slice(0, 200);
  const lines = g.records.map(recordLine);
  const url = reportUrlOf(g.reportBaseUrl, first);
  const text = [
    titleOf(g),
    '',
    `Model:  ${first.modelId}`,
    `Window: ${windowText(first)}`,
    `Status: ${first.status}`,
    '',
    ...lines.map((l) => `- ${l.subject}: ${l.statistic} = ${l.value}, effect ${l.effect}, ${l.severity}`),
    ...(url ? ['', `Report: ${url}`] : []),
  ].join('\n');
  const cell = 'style="padding:4px 8px;border-bottom:1px solid #ddd;text-align:left"';
  const rows = lines
    .map((l) => `<tr><td ${cell}>${escHtml(l.subject)}</td><td ${cell}>${escHtml(l.statistic)}</td><td ${cell}>${escHtml(l.value)}</td><td ${cell}>${escHtml(l.effect)}</td><td ${cell}>${escHtml(l.severity)}</td></tr>`)
    .join('');
  const html = [
    '<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#111">',
    `<h2 style="font-size:18px">${escHtml(titleOf(g))}</h2>`,
    `<p>Model <b>${escHtml(first.modelId)}</b>, window ${escHtml(windowText(first))}, status ${escHtml(first.status)}</p>`,
    `<table style="border-collapse:collapse"><thead><tr><th ${cell}>Feature</th><th ${cell}>Statistic</th><th ${cell}>Value</th><th ${cell}>Effect</th><th ${cell}>Severity</th></tr></thead><tbody>${rows}</tbody></table>`,
    url ? `<p><a href="${escHtml(url)}">Open the drift report</a></p>` : '',
    '</body></html>',
  ].join('');
  return { subject, text, html };
}
