import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from '../../config.js';

/** Paths never written to logs: credentials, tokens and message contents. */
const redactedPaths = [
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

/**
 * Builds the process logger: JSON lines to `destination` (stdout by default, a capture stream in tests),
 * or pretty lines to stdout for development.
 */
export function createLogger(config: Pick<Config, 'LOG_LEVEL' | 'LOG_FORMAT'>, destination?: DestinationStream): Logger {
  const options = { level: config.LOG_LEVEL, redact: { paths: redactedPaths, censor: '[redacted]' }, base: { service: 'parley' } };
  if (config.LOG_FORMAT === 'pretty') return pino({ ...options, transport: { target: 'pino-pretty', options: { singleLine: true } } });
  return pino(options, destination);
}
