import pino, { type Logger } from 'pino';
import type { Config } from '../../config.js';

/** Paths never written to logs: credentials, tokens and message contents. */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.new_password',
  '*.api_key',
  '*.token',
  '*.messages',
  '*.content',
  '*.prompt',
];

/** Builds the process logger: JSON by default, pretty for development. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL' | 'LOG_FORMAT'>): Logger {
  return pino({
    level: config.LOG_LEVEL,
    redact: { paths: redactedPaths, censor: '[redacted]' },
    base: { service: 'parley' },
    ...(config.LOG_FORMAT === 'pretty' ? { transport: { target: 'pino-pretty', options: { singleLine: true } } } : {}),
  });
}
