import net from 'node:net';
import path from 'node:path';
import { z } from 'zod';

/** A `;`-separated list, as Open WebUI spells multi-valued variables. */
const semicolonList = z
  .string()
  .transform((s) => s.split(';').map((item) => item.trim()))
  .transform((items) => (items.length === 1 && items[0] === '' ? [] : items));

const bool = z
  .enum(['true', 'false', '1', '0', 'True', 'False', 'TRUE', 'FALSE'])
  .transform((s) => s.toLowerCase() === 'true' || s === '1');

const seconds = z.coerce.number().positive();

/** Names proxy-addr (Fastify's trustProxy) accepts for whole ranges. */
const namedRanges = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Whether `entry` is an address, a CIDR range (`10.0.0.0/8`, `fd00::/8`) or a named range. */
function isProxyRange(entry: string): boolean {
  if (namedRanges.has(entry)) return true;
  const [address, bits, ...rest] = entry.split('/');
  const family = net.isIP(address ?? '');
  if (family === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}

/**
 * TRUST_PROXY in the forms Fastify's `trustProxy` takes: `true`/`false`, a hop
 * count (the rightmost N X-Forwarded-For entries are proxies'), or a list of
 * trusted proxy addresses and ranges. Checked here, because Fastify would only
 * throw at start-up on a bad list, and a bare `1` would be read as an address.
 */
function parseTrustProxy(raw: string, ctx: z.RefinementCtx): boolean | number | string[] {
  const value = raw.trim();
  if (/^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  if (/^\d+$/.test(value)) return Number(value) === 0 ? false : Number(value);
  const entries = value.split(',').map((entry) => entry.trim());
  const bad = entries.filter((entry) => !isProxyRange(entry));
  if (bad.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `expected true, false, a hop count or comma-separated addresses/CIDR ranges; not an address or range: ${bad.map((b) => JSON.stringify(b)).join(', ')}`,
    });
    return z.NEVER;
  }
  return entries;
}

/** Whether `source` compiles as a JavaScript regular expression. */
function isRegex(source: string): boolean {
  try {
    new RegExp(source, 'u');
    return true;
  } catch {
    return false;
  }
}

/**
 * Every environment variable Parley reads, with its default. The README's
 * configuration table is checked against this object by a test.
 */
export const configSchema = z.object({
  /** TCP port the server listens on. */
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Address the server binds to. */
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Folder for the SQLite database and uploaded files (embedded default). */
  DATA_DIR: z.string().min(1).default('./data'),
  /** `sqlite:///absolute/path.db`, `sqlite://relative.db` or `postgres://user@host/db`; default: SQLite in DATA_DIR. */
  DATABASE_URL: z.string().optional(),
  /** PostgreSQL pool size per instance. */
  DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(10),
  /** Seconds to wait for a pooled PostgreSQL connection (or a new one to open); after a failed open, queries fail at once until the server answers. */
  DATABASE_POOL_TIMEOUT: seconds.default(5),
  /** Seconds after which PostgreSQL cancels a statement. */
  DATABASE_STATEMENT_TIMEOUT: seconds.default(30),
  /** Run database migrations at start-up (`false` for a separate `npm run migrate` job). */
  ENABLE_DB_MIGRATIONS: bool.default(true),
  /** Redis for state every instance must share (rate limits, caches, pub/sub); unset: kept in-process. */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
  /** Redis Sentinel hosts (`host` or `host:port`, comma-separated); the master name is REDIS_URL's host. */
  REDIS_SENTINEL_HOSTS: z.string().optional(),
  /** Port of Sentinel hosts given without one. */
  REDIS_SENTINEL_PORT: z.coerce.number().int().min(1).max(65535).default(26379),
  /** Prefix of every Redis key and channel, so several deployments can share one Redis. */
  REDIS_KEY_PREFIX: z.string().default('parley:'),
  /** Where uploaded files live: `local` (DATA_DIR/uploads) or `s3` (S3-compatible object storage). */
  STORAGE_PROVIDER: z.enum(['local', 's3']).default('local'),
  /** S3 endpoint for non-AWS stores (MinIO, Ceph, R2…); unset: AWS. */
  S3_ENDPOINT_URL: z.url().optional(),
  /** Bucket holding uploaded files (required with STORAGE_PROVIDER=s3). */
  S3_BUCKET_NAME: z.string().min(3).max(63).optional(),
  /** Region of the bucket. */
  S3_REGION_NAME: z.string().optional(),
  /** Access key id; unset (with the secret): the SDK's default credential chain. */
  S3_ACCESS_KEY_ID: z.string().optional(),
  /** Secret access key. */
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  /** Prefix of every object key, e.g. `parley/`. */
  S3_KEY_PREFIX: z.string().optional(),
  /** `path`, `virtual` or `auto` (path style with a custom endpoint). */
  S3_ADDRESSING_STYLE: z.enum(['path', 'virtual', 'auto']).default('auto'),
  /** Key that signs session tokens; generated once and stored in the database when unset. */
  WEBUI_SECRET_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Key that encrypts secrets at rest (upstream API keys, the stored signing secret): any passphrase, best `openssl rand -base64 32`; unset: derived from WEBUI_SECRET_KEY, or none. */
  PARLEY_ENCRYPTION_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  /** The key secrets were encrypted with before PARLEY_ENCRYPTION_KEY: still read, and replaced by `npm run rekey`. */
  PARLEY_PREVIOUS_ENCRYPTION_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Session token lifetime, e.g. `7d`, `12h`, `30m`, or `-1` for no expiry. */
  JWT_EXPIRES_IN: z
    .string()
    .regex(/^(-1|\d+[smhdw])$/, 'must look like 30m, 12h, 7d or -1')
    .default('7d'),
  /** Ollama servers seeded as connections on first start (`;`-separated). */
  OLLAMA_BASE_URLS: semicolonList.pipe(z.array(z.url())).default([]),
  /** OpenAI-compatible servers seeded as connections on first start (`;`-separated). */
  OPENAI_API_BASE_URLS: semicolonList.pipe(z.array(z.url())).default([]),
  /** API keys for OPENAI_API_BASE_URLS, in the same order (`;`-separated). */
  OPENAI_API_KEYS: semicolonList.default([]),
  /** Whether new users may sign up (the first user always can); admins can change it at run time. */
  ENABLE_SIGNUP: bool.default(true),
  /** Role given to users who sign up after the first (who becomes admin). */
  DEFAULT_USER_ROLE: z.enum(['pending', 'user']).default('pending'),
  /** pino log level. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `json` (default) or `pretty` for development. */
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  /** Largest accepted JSON request body, in bytes. */
  MAX_BODY_SIZE: z.coerce.number().int().positive().default(10 * 1024 * 1024),
  /** Largest accepted uploaded file, in bytes. */
  FILE_MAX_SIZE: z.coerce.number().int().positive().default(100 * 1024 * 1024),
  /** Bytes of stored chat messages (text, details, attachments' records) a user may keep; unset: no limit. */
  CHAT_MAX_CONTENT_BYTES_PER_USER: z.coerce.number().int().positive().optional(),
  /** Open `/api/v1/events` streams a user may hold on one instance; the next is refused with 429. */
  MAX_EVENT_STREAMS_PER_USER: z.coerce.number().int().positive().max(1000).default(10),
  /** Seconds to wait for an upstream model's response headers, and the longest silence inside a stream. */
  AIOHTTP_CLIENT_TIMEOUT: seconds.default(300),
  /** Longest line (or SSE event) accepted from an upstream stream, in bytes; a longer one ends the answer with an error. */
  UPSTREAM_MAX_LINE_BYTES: z.coerce.number().int().min(1024).max(256 * 1024 * 1024).default(1024 * 1024),
  /** Seconds to wait for one connection's model list before leaving it out. */
  AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST: seconds.default(3),
  /** Seconds a gathered model list is reused before asking the upstreams again. */
  MODELS_CACHE_TTL: seconds.default(30),
  /** Seconds without a lease renewal after which another instance takes a generation over. */
  GENERATION_LEASE_TIMEOUT: seconds.default(10),
  /** Overrides every connection's takeover mode: `continue` the partial answer, or `regenerate` it; unset: per connection (`takeover_mode`). */
  GENERATION_TAKEOVER_MODE: z.enum(['continue', 'regenerate']).optional(),
  /** Generate chat titles with the model after the first exchange. */
  ENABLE_TITLE_GENERATION: bool.default(true),
  /** Let answers show images from other sites (off: shown as links, and the page's CSP refuses them); admins can change it at run time. */
  ENABLE_REMOTE_IMAGES: bool.default(false),
  /** Seconds a session or API key found valid is trusted without asking the database again: the revocation window on other instances (0: ask every time). */
  AUTH_CACHE_TTL: z.coerce.number().min(0).max(5).default(5),
  /** Seconds since its last check a cached session or API key is still honoured while the database cannot be reached (0: never). */
  AUTH_CACHE_OUTAGE_GRACE: z.coerce.number().min(0).max(3600).default(60),
  /** Failed sign-ins to one account from one client address within the window before that address waits, 1 s, 2 s, 4 s… per further try. */
  LOGIN_RATE_LIMIT: z.coerce.number().int().positive().default(5),
  /** Failed sign-ins allowed per client IP address across all accounts (many people can share one) within the window. */
  LOGIN_RATE_LIMIT_PER_IP: z.coerce.number().int().positive().default(50),
  /** Failed sign-ins to one account from all addresses within the window after which its sign-ins are slowed (never refused) and an alert raised. */
  LOGIN_RATE_LIMIT_PER_ACCOUNT: z.coerce.number().int().positive().default(20),
  /** Window of the sign-in rate limits, in seconds. */
  LOGIN_RATE_LIMIT_WINDOW: seconds.default(300),
  /** Sign-up attempts allowed per client IP address per hour (0: no limit). */
  SIGNUP_RATE_LIMIT_PER_IP: z.coerce.number().int().min(0).default(10),
  /** Check new passwords against PASSWORD_VALIDATION_REGEX_PATTERN (Open WebUI's switch); the length rule always applies. */
  ENABLE_PASSWORD_VALIDATION: bool.default(false),
  /** The pattern new passwords must match from their start (as Python's `re.match`) when ENABLE_PASSWORD_VALIDATION is on. */
  PASSWORD_VALIDATION_REGEX_PATTERN: z
    .string()
    .refine(isRegex, 'must be a valid regular expression')
    .default('^(?=.*[a-z])(?=.*[A-Z])(?=.*\\d)(?=.*[^\\w\\s]).{8,}$'),
  /** What a password refused by the pattern is told (default: a description of the default pattern). */
  PASSWORD_VALIDATION_HINT: z.string().max(500).optional(),
  /** Mark the session cookie `Secure` (on behind HTTPS); also turns on HSTS and `upgrade-insecure-requests`. */
  WEBUI_SESSION_COOKIE_SECURE: bool.default(false),
  /** The address people open Parley at (e.g. `https://chat.example.com`); cookie-authenticated changes are also accepted from this origin. */
  WEBUI_URL: z.url().optional(),
  /** Which proxies' X-Forwarded-For to believe: `false`, `true` (all: spoofable), a hop count, or comma-separated addresses/CIDR ranges. */
  TRUST_PROXY: z.string().transform(parseTrustProxy).default(false),
  /** When set, `GET /metrics` requires `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.string().min(8).optional(),
  /** Serve `/metrics` on this separate port instead of the main one. */
  METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  /** Export OpenTelemetry traces over OTLP/HTTP. */
  ENABLE_OTEL: bool.default(false),
  /** OTLP/HTTP collector base URL; spans go to `<endpoint>/v1/traces`. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().default('http://localhost:4318'),
  /** `service.name` of the exported spans. */
  OTEL_SERVICE_NAME: z.string().min(1).default('parley'),
  /** Which traces to keep, by OpenTelemetry's sampler names. */
  OTEL_TRACES_SAMPLER: z
    .enum(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'])
    .default('parentbased_always_on'),
  /** Share of traces kept by the `traceidratio` samplers, from 0 to 1. */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
  /** Days audit-log events are kept; 0 keeps them forever. */
  AUDIT_LOG_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(365),
  /** Days per-answer usage records (behind the analytics) are kept; 0 keeps them forever. */
  USAGE_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(400),
  /** Seconds SIGTERM waits for in-flight requests and streams before closing. */
  SHUTDOWN_TIMEOUT: seconds.default(30),
});

export type Config = Readonly<
  z.infer<typeof configSchema> & {
    /** Resolved database location: the SQLite file or PostgreSQL URL. */
    database: { dialect: 'sqlite'; file: string } | { dialect: 'postgres'; url: string };
  }
>;

/** Thrown when the environment is invalid; lists every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Parses and validates the environment once; throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(
    Object.keys(configSchema.shape)
      .filter((key) => env[key] !== undefined && env[key] !== '')
      .map((key) => [key, env[key]]),
  );
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`),
    );
  }
  const values = parsed.data;
  const problems: string[] = [];
  if (values.OPENAI_API_KEYS.length > values.OPENAI_API_BASE_URLS.length) {
    problems.push('OPENAI_API_KEYS: more keys than OPENAI_API_BASE_URLS');
  }
  if (values.PARLEY_PREVIOUS_ENCRYPTION_KEY && !values.PARLEY_ENCRYPTION_KEY && !values.WEBUI_SECRET_KEY) {
    // Without a current key the previous one would only serve to write the secrets back in plain text.
    problems.push('PARLEY_PREVIOUS_ENCRYPTION_KEY: set PARLEY_ENCRYPTION_KEY (the new key) as well');
  }
  if (values.STORAGE_PROVIDER === 's3' && !values.S3_BUCKET_NAME) problems.push('S3_BUCKET_NAME: required when STORAGE_PROVIDER=s3');
  if (Boolean(values.S3_ACCESS_KEY_ID) !== Boolean(values.S3_SECRET_ACCESS_KEY)) {
    problems.push('S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: give both or neither');
  }
  const database = resolveDatabase(values.DATABASE_URL, values.DATA_DIR, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ ...values, database: database! });
}

function resolveDatabase(url: string | undefined, dataDir: string, problems: string[]): Config['database'] | undefined {
  if (!url) return { dialect: 'sqlite', file: path.resolve(dataDir, 'parley.db') };
  if (/^postgres(ql)?:\/\//.test(url)) return { dialect: 'postgres', url };
  const sqlite = /^sqlite:\/\/(.+)$/.exec(url);
  if (sqlite?.[1]) return { dialect: 'sqlite', file: path.resolve(sqlite[1]) };
  problems.push('DATABASE_URL: must start with sqlite:// or postgres://');
  return undefined;
}

/** Converts `30m`, `12h`, `7d`, `2w` to milliseconds; `-1` means no expiry (null). */
export function durationToMs(value: string): number | null {
  if (value === '-1') return null;
  const amount = Number(value.slice(0, -1));
  const unit = { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 }[value.slice(-1)] ?? 0;
  return amount * unit;
}
