import { ValidationError } from '../../errors.js';
import { formatDuration, parseDuration } from '../duration.js';

export type ChannelType = 'webhook' | 'slack' | 'email' | 'alertmanager';
export const CHANNEL_TYPES: readonly ChannelType[] = ['webhook', 'slack', 'email', 'alertmanager'];

/** Where a secret is read: an environment variable or a mounted file. The value itself never sits in a configuration. */
export type SecretRef = { readonly env: string } | { readonly file: string };

/** One rule: every field given must match (globs on model ids); a channel takes a record when any of its rules does. */
export interface Matcher {
  readonly models?: readonly string[];
  readonly kinds?: readonly string[];
  readonly severities?: readonly string[];
  readonly statuses?: readonly ('FIRING' | 'RESOLVED')[];
  readonly labels?: Readonly<Record<string, string>>;
}

export interface QuietHours {
  /** Local time `HH:MM` where quiet starts and ends (end before start wraps over midnight). */
  readonly start: string;
  readonly end: string;
  /** IANA time zone of start and end; default UTC. */
  readonly timeZone: string;
  /** Severities delivered during quiet hours anyway (default CRITICAL). */
  readonly allowSeverities: readonly string[];
}

export interface DeliveryPolicy {
  /** How long the first record of a burst waits for others of its model and window before one message goes. */
  readonly groupWaitMs: number;
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly timeoutMs: number;
  /** Messages per `ratePerMs`; 0: unlimited. */
  readonly rateLimit: number;
  readonly ratePerMs: number;
  /** Consecutive failures that open the breaker, and how long it stays open. */
  readonly breakerFailures: number;
  readonly breakerCooldownMs: number;
  readonly quietHours?: QuietHours;
}

export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  /** TLS from the start (port 465); otherwise STARTTLS when the server offers it. */
  readonly secure: boolean;
  readonly user?: string;
  readonly passwordFrom?: SecretRef;
  readonly from: string;
  readonly to: readonly string[];
}

export interface ChannelConfig {
  readonly id: string;
  readonly type: ChannelType;
  readonly enabled: boolean;
  /** Plain URL (webhook, alertmanager), or `urlFrom` where the URL is itself a secret (Slack). */
  readonly url?: string;
  readonly urlFrom?: SecretRef;
  /** HMAC-SHA256 key of a webhook's signature. */
  readonly secretFrom?: SecretRef;
  readonly smtp?: SmtpSettings;
  readonly match: readonly Matcher[];
  readonly policy: DeliveryPolicy;
}

export const CHANNEL_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const CHANNEL_ID = new RegExp(CHANNEL_ID_PATTERN);
/** Secrets come from variables of this family only, so a channel cannot borrow another setting's secret. */
export const SECRET_ENV_PATTERN = /^DRIFTSTREAM_NOTIFY_[A-Z0-9_]{1,100}$/;
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

export const DEFAULT_POLICY: DeliveryPolicy = {
  groupWaitMs: 2_000,
  maxAttempts: 10,
  baseDelayMs: 1_000,
  maxDelayMs: 300_000,
  timeoutMs: 10_000,
  rateLimit: 0,
  ratePerMs: 60_000,
  breakerFailures: 5,
  breakerCooldownMs: 30_000,
};

const KEYS = new Set(['id', 'type', 'enabled', 'url', 'urlFrom', 'secretFrom', 'smtp', 'match', 'groupWait', 'retry', 'timeout', 'rateLimit', 'breaker', 'quietHours']);

type Obj = Record<string, unknown>;

function invalid(path: string, message: string): never {
  throw new ValidationError(`${path}: ${message}`, { code: 'CHANNEL_INVALID' });
}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, path: string): Obj {
  if (!isObject(v)) invalid(path, 'expected an object');
  return v;
}

function onlyKeys(o: Obj, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o)) {
    if (k === 'secret' || k === 'password' || k === 'token') invalid(`${path}.${k}`, 'secrets are read from the environment or a mounted file: use secretFrom / passwordFrom / urlFrom');
    if (!allowed.includes(k)) invalid(`${path}.${k}`, 'unknown field');
  }
}

function duration(v: unknown, path: string, fallback: number): number {
  if (v === undefined) return fallback;
  const ms = typeof v === 'string' || typeof v === 'number' ? parseDuration(v) : undefined;
  if (ms === undefined) invalid(path, 'expected a duration like 500ms, 30s, 5m');
  return ms;
}

function int(v: unknown, path: string, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) invalid(path, `expected an integer from ${min} to ${max}`);
  return v;
}

function strings(v: unknown, path: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0 || v.some((s) => typeof s !== 'string' || s.length === 0 || s.length > 256)) invalid(path, 'expected a non-empty list of strings');
  return v as string[];
}

function httpUrl(v: unknown, path: string): string {
  if (typeof v !== 'string') invalid(path, 'expected a URL');
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    invalid(path, 'expected a URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') invalid(path, 'expected an http or https URL');
  if (u.username || u.password) invalid(path, 'credentials in a URL are secrets: use urlFrom');
  return v;
}

export function parseSecretRef(v: unknown, path: string): SecretRef | undefined {
  if (v === undefined) return undefined;
  const o = obj(v, path);
  onlyKeys(o, ['env', 'file'], path);
  if (typeof o.env === 'string' && o.file === undefined) {
    if (!SECRET_ENV_PATTERN.test(o.env)) invalid(`${path}.env`, 'expected a variable named DRIFTSTREAM_NOTIFY_<NAME>');
    return { env: o.env };
  }
  if (typeof o.file === 'string' && o.env === undefined) {
    if (!o.file.startsWith('/') || o.file.split('/').includes('..')) invalid(`${path}.file`, 'expected an absolute path without ..');
    return { file: o.file };
  }
  return invalid(path, 'expected {env: NAME} or {file: PATH}');
}

function parseMatcher(v: unknown, path: string): Matcher {
  const o = obj(v, path);
  onlyKeys(o, ['models', 'kinds', 'severities', 'statuses', 'labels'], path);
  const statuses = strings(o.statuses, `${path}.statuses`);
  if (statuses?.some((s) => s !== 'FIRING' && s !== 'RESOLVED')) invalid(`${path}.statuses`, 'expected FIRING and/or RESOLVED');
  let labels: Record<string, string> | undefined;
  if (o.labels !== undefined) {
    labels = {};
    for (const [k, x] of Object.entries(obj(o.labels, `${path}.labels`))) {
      if (typeof x !== 'string') invalid(`${path}.labels.${k}`, 'expected a string');
      labels[k] = x;
    }
  }
  return {
    models: strings(o.models, `${path}.models`),
    kinds: strings(o.kinds, `${path}.kinds`),
    severities: strings(o.severities, `${path}.severities`),
    statuses: statuses as Matcher['statuses'],
    labels,
  };
}

function parseQuietHours(v: unknown, path: string): QuietHours | undefined {
  if (v === undefined) return undefined;
  const o = obj(v, path);
  onlyKeys(o, ['start', 'end', 'timeZone', 'allowSeverities'], path);
  for (const k of ['start', 'end'] as const) if (typeof o[k] !== 'string' || !HHMM.test(o[k])) invalid(`${path}.${k}`, 'expected HH:MM');
  const timeZone = o.timeZone === undefined ? 'UTC' : o.timeZone;
  if (typeof timeZone !== 'string') invalid(`${path}.timeZone`, 'expected an IANA time zone');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    invalid(`${path}.timeZone`, `unknown time zone ${JSON.stringify(timeZone)}`);
  }
  return { start: o.start as string, end: o.end as string, timeZone, allowSeverities: strings(o.allowSeverities, `${path}.allowSeverities`) ?? ['CRITICAL'] };
}

function parsePolicy(o: Obj, path: string): DeliveryPolicy {
  const retry = o.retry === undefined ? {} : obj(o.retry, `${path}.retry`);
  onlyKeys(retry, ['maxAttempts', 'baseDelay', 'maxDelay'], `${path}.retry`);
  const rate = o.rateLimit === undefined ? {} : obj(o.rateLimit, `${path}.rateLimit`);
  onlyKeys(rate, ['max', 'per'], `${path}.rateLimit`);
  const breaker = o.breaker === undefined ? {} : obj(o.breaker, `${path}.breaker`);
  onlyKeys(breaker, ['failures', 'cooldown'], `${path}.breaker`);
  const d = DEFAULT_POLICY;
  const policy: DeliveryPolicy = {
    groupWaitMs: duration(o.groupWait, `${path}.groupWait`, d.groupWaitMs),
    maxAttempts: int(retry.maxAttempts, `${path}.retry.maxAttempts`, d.maxAttempts, 1, 100),
    baseDelayMs: duration(retry.baseDelay, `${path}.retry.baseDelay`, d.baseDelayMs),
    maxDelayMs: duration(retry.maxDelay, `${path}.retry.maxDelay`, d.maxDelayMs),
    timeoutMs: duration(o.timeout, `${path}.timeout`, d.timeoutMs),
    rateLimit: int(rate.max, `${path}.rateLimit.max`, d.rateLimit, 0, 1_000_000),
    ratePerMs: duration(rate.per, `${path}.rateLimit.per`, d.ratePerMs),
    breakerFailures: int(breaker.failures, `${path}.breaker.failures`, d.breakerFailures, 1, 1000),
    breakerCooldownMs: duration(breaker.cooldown, `${path}.breaker.cooldown`, d.breakerCooldownMs),
    quietHours: parseQuietHours(o.quietHours, `${path}.quietHours`),
  };
  if (policy.timeoutMs < 1 || policy.baseDelayMs < 1 || policy.ratePerMs < 1) invalid(path, 'timeout, retry.baseDelay and rateLimit.per must be positive');
  if (policy.maxDelayMs < policy.baseDelayMs) invalid(`${path}.retry.maxDelay`, 'must be at least retry.baseDelay');
  return policy;
}

function parseSmtp(v: unknown, path: string): SmtpSettings {
  const o = obj(v, path);
  onlyKeys(o, ['host', 'port', 'secure', 'user', 'passwordFrom', 'from', 'to'], path);
  if (typeof o.host !== 'string' || o.host.length === 0) invalid(`${path}.host`, 'expected a host name');
  if (typeof o.from !== 'string' || !o.from.includes('@')) invalid(`${path}.from`, 'expected an address');
  const to = strings(o.to, `${path}.to`);
  if (!to || to.some((a) => !a.includes('@'))) invalid(`${path}.to`, 'expected a list of addresses');
  if (o.user !== undefined && typeof o.user !== 'string') invalid(`${path}.user`, 'expected a string');
  if (o.secure !== undefined && typeof o.secure !== 'boolean') invalid(`${path}.secure`, 'expected true or false');
  return {
    host: o.host,
    port: int(o.port, `${path}.port`, 587, 1, 65535),
    secure: (o.secure as boolean | undefined) ?? false,
    user: o.user as string | undefined,
    passwordFrom: parseSecretRef(o.passwordFrom, `${path}.passwordFrom`),
    from: o.from,
    to,
  };
}

function parseTarget(o: Obj, type: ChannelType, path: string): Pick<ChannelConfig, 'url' | 'urlFrom' | 'secretFrom' | 'smtp'> {
  if (type === 'email') {
    if (o.url !== undefined || o.urlFrom !== undefined) invalid(path, 'an email channel takes smtp, not url');
    return { smtp: parseSmtp(o.smtp, `${path}.smtp`) };
  }
  if (o.smtp !== undefined) invalid(`${path}.smtp`, `a ${type} channel takes a URL, not smtp`);
  const url = o.url === undefined ? undefined : httpUrl(o.url, `${path}.url`);
  const urlFrom = parseSecretRef(o.urlFrom, `${path}.urlFrom`);
  if ((url === undefined) === (urlFrom === undefined)) invalid(path, 'expected exactly one of url and urlFrom');
  if (type === 'slack' && url !== undefined) invalid(`${path}.url`, 'a Slack webhook URL is a secret: give it as urlFrom');
  const secretFrom = parseSecretRef(o.secretFrom, `${path}.secretFrom`);
  if (secretFrom && type !== 'webhook') invalid(`${path}.secretFrom`, 'only a webhook channel signs its requests');
  return { url, urlFrom, secretFrom };
}

/** Validates a channel (from the models file or PUT /api/v1/channels/{id}); errors name the field. */
export function parseChannelConfig(value: unknown, path = 'channel'): ChannelConfig {
  const o = obj(value, path);
  onlyKeys(o, [...KEYS], path);
  if (typeof o.id !== 'string' || !CHANNEL_ID.test(o.id)) invalid(`${path}.id`, `expected an id matching ${CHANNEL_ID_PATTERN}`);
  if (typeof o.type !== 'string' || !CHANNEL_TYPES.includes(o.type as ChannelType)) invalid(`${path}.type`, `expected one of ${CHANNEL_TYPES.join(', ')}`);
  if (o.enabled !== undefined && typeof o.enabled !== 'boolean') invalid(`${path}.enabled`, 'expected true or false');
  const type = o.type as ChannelType;
  const match = o.match === undefined ? [] : Array.isArray(o.match) ? o.match.map((m, i) => parseMatcher(m, `${path}.match[${i}]`)) : invalid(`${path}.match`, 'expected a list of rules');
  return { id: o.id, type, enabled: (o.enabled as boolean | undefined) ?? true, ...parseTarget(o, type, path), match, policy: parsePolicy(o, path) };
}

function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The channel in the form {@link parseChannelConfig} reads: what the API returns (references to secrets, never their values). */
export function channelConfigToJson(c: ChannelConfig): Record<string, unknown> {
  const p = c.policy;
  return definedOnly({
    id: c.id,
    type: c.type,
    enabled: c.enabled,
    url: c.url,
    urlFrom: c.urlFrom,
    secretFrom: c.secretFrom,
    smtp: c.smtp ? definedOnly({ ...c.smtp, to: [...c.smtp.to] }) : undefined,
    match: c.match.map((m) => definedOnly({ ...m })),
    groupWait: formatDuration(p.groupWaitMs),
    timeout: formatDuration(p.timeoutMs),
    retry: { maxAttempts: p.maxAttempts, baseDelay: formatDuration(p.baseDelayMs), maxDelay: formatDuration(p.maxDelayMs) },
    rateLimit: { max: p.rateLimit, per: formatDuration(p.ratePerMs) },
    breaker: { failures: p.breakerFailures, cooldown: formatDuration(p.breakerCooldownMs) },
    quietHours: p.quietHours,
  });
}

/** The `channels` list of a models file (absent: none); ids must be unique. */
export function parseChannelList(value: unknown, source: string): ChannelConfig[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) invalid(`${source}: channels`, 'expected a list');
  const seen = new Set<string>();
  return value.map((v, i) => {
    const c = parseChannelConfig(v, `${source}: channels[${i}]`);
    if (seen.has(c.id)) invalid(`${source}: channels[${i}].id`, `duplicate channel ${JSON.stringify(c.id)}`);
    seen.add(c.id);
    return c;
  });
}
