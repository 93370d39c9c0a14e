import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger };

/** Paths pino censors wherever they occur in a log object. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'apiKey',
  '*.apiKey',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'sasl.password',
  'kafka.sasl.password',
];

/** Builds the JSON logger every part of driftstream shares. */
export function createLogger(level = 'info', destination?: DestinationStream, extra: LoggerOptions = {}): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'driftstream' },
    redact: { paths: REDACT_PATHS, censor: '***' },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...extra,
  };
  return destination ? pino(options, destination) : pino(options);
}
