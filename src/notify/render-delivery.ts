import type { ChannelConfig, SecretRef } from '../core/notify/channel-config.js';
import type { NotificationGroup } from '../core/notify/notification-group.js';
import { renderAlertmanager } from '../core/notify/render-alertmanager.js';
import { renderEmail } from '../core/notify/render-email.js';
import { renderSlack } from '../core/notify/render-slack.js';
import { CLOUDEVENTS_CONTENT_TYPE, renderWebhook } from '../core/notify/render-webhook.js';
import { SIGNATURE_HEADER, signatureOf } from '../core/notify/webhook-signature.js';
import type { EmailDelivery, HttpDelivery } from '../ports/notification-transport.js';

/** Reads a secret from where its reference says (environment or mounted file); throws when it is missing. */
export type SecretResolver = (ref: SecretRef) => string;

export type Delivery = { readonly kind: 'http'; readonly http: HttpDelivery } | { readonly kind: 'email'; readonly email: EmailDelivery };

export const DELIVERY_HEADER = 'x-driftstream-delivery';
const JSON_TYPE = 'application/json; charset=utf-8';

function urlOf(c: ChannelConfig, secrets: SecretResolver): string {
  return c.url ?? secrets(c.urlFrom!).trim();
}

function alertmanagerUrl(base: string): string {
  const u = new URL(base);
  if (!u.pathname.endsWith('/api/v2/alerts')) u.pathname = `${u.pathname.replace(/\/$/, '')}/api/v2/alerts`;
  return u.toString();
}

/** What goes to the channel for one message: rendered for its type, with its secrets resolved and, for a webhook, signed. */
export function renderDelivery(c: ChannelConfig, g: NotificationGroup, messageId: string, now: number, secrets: SecretResolver): Delivery {
  const timeoutMs = c.policy.timeoutMs;
  const userAgent = { 'user-agent': 'driftstream-notify', [DELIVERY_HEADER]: messageId };
  switch (c.type) {
    case 'webhook': {
      const body = JSON.stringify(renderWebhook(g, messageId, now));
      const headers: Record<string, string> = { ...userAgent, 'content-type': CLOUDEVENTS_CONTENT_TYPE };
      if (c.secretFrom) headers[SIGNATURE_HEADER] = signatureOf(secrets(c.secretFrom), Math.floor(now / 1000), body);
      return { kind: 'http', http: { url: urlOf(c, secrets), headers, body, timeoutMs } };
    }
    case 'slack':
      return { kind: 'http', http: { url: urlOf(c, secrets), headers: { ...userAgent, 'content-type': JSON_TYPE }, body: JSON.stringify(renderSlack(g)), timeoutMs } };
    case 'alertmanager':
      return { kind: 'http', http: { url: alertmanagerUrl(urlOf(c, secrets)), headers: { ...userAgent, 'content-type': JSON_TYPE }, body: JSON.stringify(renderAlertmanager(g, now)), timeoutMs } };
    case 'email': {
      const s = c.smtp!;
      const content = renderEmail(g);
      const password = s.passwordFrom ? secrets(s.passwordFrom) : undefined;
      return { kind: 'email', email: { smtp: { host: s.host, port: s.port, secure: s.secure, user: s.user, password }, from: s.from, to: s.to, ...content, messageId, timeoutMs } };
    }
  }
}
