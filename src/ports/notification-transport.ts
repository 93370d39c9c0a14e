import { DriftstreamError } from '../errors.js';

/** A JSON body to POST (webhook, Slack, Alertmanager), URL and secrets already resolved. */
export interface HttpDelivery {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
}

/** An email to send over SMTP, password already resolved. */
export interface EmailDelivery {
  readonly smtp: { readonly host: string; readonly port: number; readonly secure: boolean; readonly user?: string; readonly password?: string };
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** Message-ID of the email, the same on every retry. */
  readonly messageId: string;
  readonly timeoutMs: number;
}

/**
 * A delivery the receiver did not accept. `retriable`: it may accept later
 * (connection refused, timeout, 5xx, 408, 429); otherwise it refused the
 * message for what it is (4xx) and a retry cannot help. `retryAfterMs` is the
 * receiver's Retry-After, when it sent one.
 */
export class DeliveryError extends DriftstreamError {
  readonly retryAfterMs?: number;
  readonly status?: number;
  constructor(message: string, options: { retriable: boolean; status?: number; retryAfterMs?: number; cause?: unknown }) {
    super(options.retriable ? 'NOTIFICATION_UNDELIVERED' : 'NOTIFICATION_REFUSED', message, { retriable: options.retriable, cause: options.cause });
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Sends what the notifier rendered. Either resolves (the receiver accepted) or throws a {@link DeliveryError}. */
export interface NotificationTransport {
  postJson(d: HttpDelivery): Promise<void>;
  sendEmail(d: EmailDelivery): Promise<void>;
  close(): Promise<void>;
}
