import type { NotificationTransport } from '../ports/notification-transport.js';
import { SmtpSender } from '../adapters/smtp/smtp-sender.js';
import { postJson } from '../adapters/webhook/http-post.js';

/** The notifier's transport: fetch for JSON receivers, nodemailer for SMTP. */
export function createNotificationTransport(): NotificationTransport {
  const smtp = new SmtpSender();
  return { postJson, sendEmail: (d) => smtp.send(d), close: () => smtp.close() };
}
