import nodemailer, { type Transporter } from 'nodemailer';
import type { EmailDelivery } from '../../ports/notification-transport.js';
import { DeliveryError } from '../../ports/notification-transport.js';

/** SMTP replies 4xx are transient by RFC 5321; 5xx are permanent. */
function isRetriableSmtp(err: { responseCode?: number; code?: string }): boolean {
  if (typeof err.responseCode === 'number') return err.responseCode < 500;
  return true;
}

/**
 * Sends emails over SMTP with nodemailer: one pooled transport per server
 * and user, STARTTLS when the server offers it (or TLS from the start with
 * `secure`), bounded by the delivery's timeout.
 */
export class SmtpSender {
  private readonly transports = new Map<string, Transporter>();

  private transportFor(d: EmailDelivery): Transporter {
    const s = d.smtp;
    const key = `${s.host}:${s.port}:${s.secure}:${s.user ?? ''}:${s.password ?? ''}`;
    let t = this.transports.get(key);
    if (!t) {
      t = nodemailer.createTransport({
        host: s.host,
        port: s.port,
        secure: s.secure,
        auth: s.user ? { user: s.user, pass: s.password ?? '' } : undefined,
        connectionTimeout: d.timeoutMs,
        greetingTimeout: d.timeoutMs,
        socketTimeout: d.timeoutMs,
        pool: true,
        maxConnections: 2,
      });
      this.transports.set(key, t);
    }
    return t;
  }

  async send(d: EmailDelivery): Promise<void> {
    try {
      await this.transportFor(d).sendMail({ from: d.from, to: [...d.to], subject: d.subject, text: d.text, html: d.html, messageId: `<${d.messageId}@driftstream>` });
    } catch (err) {
      const e = err as Error & { responseCode?: number; code?: string; response?: string };
      const why = e.responseCode ? `SMTP ${e.responseCode}: ${(e.response ?? e.message).slice(0, 200)}` : `${e.code ?? 'error'}: ${e.message.slice(0, 200)}`;
      throw new DeliveryError(`mail server did not accept the message: ${why}`, { retriable: isRetriableSmtp(e), status: e.responseCode, cause: err });
    }
  }

  async close(): Promise<void> {
    for (const t of this.transports.values()) t.close();
    this.transports.clear();
  }
}
