/**
 * Redaction of what upstreams say before it reaches a response, a log line or the database. An upstream
 * that rejects a key may echo it (`Invalid key: Bearer sk-…`), a proxy may print the URL it was called
 * with, credentials included; none of that may leave Parley. These run on error paths only, never per token.
 */

/** What a redacted secret is replaced with. */
export const REDACTED = '[redacted]';

/** The longest upstream text kept: enough to diagnose, bounded whatever the upstream sends. */
export const MAX_UPSTREAM_DETAIL = 2000;

/** `?key=…`, `&api_key=…` and the like. */
const querySecret = /([?&](?:api[-_]?key|key|token|access_token|secret|password|sig)=)[^&\s"'#]+/gi;

const patterns: Array<[RegExp, string]> = [
  // Header-like `Authorization: <anything>` (JSON or header text), before the schemes below see its value.
  [/(\bauthorization\b["']?\s*[:=]\s*["']?)[^"'\r\n,;}]+/gi, `$1${REDACTED}`],
  [/(\b(?:x-)?api[-_]?key\b["']?\s*[:=]\s*["']?)[^\s"',;}&]+/gi, `$1${REDACTED}`],
  // Bearer tokens anywhere; Basic credentials when they look like base64 (so "Basic plan" survives).
  [/\bBearer\s+[\w.~+/=-]+/gi, `Bearer ${REDACTED}`],
  [/\bBasic\s+[A-Za-z0-9+/]{8,}={0,2}/g, `Basic ${REDACTED}`],
  // Well-known key shapes: OpenAI and most compatible gateways (sk-…), Groq, Hugging Face, GitHub, Slack, Google.
  [/\b(?:sk|rk|pk)-[\w-]{8,}/g, REDACTED],
  [/\b(?:gsk|hf|ghp|gho|ghs|github_pat|xai)_[\w-]{8,}/g, REDACTED],
  [/\bxox[abposr]-[\w-]{8,}/g, REDACTED],
  [/\bAIza[\w-]{20,}/g, REDACTED],
  // Secrets in query strings and JSON fields.
  [querySecret, `$1${REDACTED}`],
  [/("(?:api[-_]?key|apikey|password|secret|token|access_token|client_secret)"\s*:\s*")(?:[^"\\]|\\.)*"/gi, `$1${REDACTED}"`],
];

/** `scheme://user:pass@` or `scheme://token@` in free text. */
const urlUserInfo = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@"'<>]+)@/gi;

/** `user:***` for `user:pass`, `***` for a user name alone (which is often a token itself). */
function maskUserInfo(userInfo: string): string {
  const colon = userInfo.indexOf(':');
  return colon === -1 ? '***' : `${userInfo.slice(0, colon)}:***`;
}

/**
 * Removes credentials from text an upstream sent (or text about an upstream): the `known` secrets
 * (the connection's key, its URL's password), bearer and basic credentials, `Authorization` values,
 * key-shaped tokens, URL credentials and secret query parameters. NUL becomes U+FFFD (PostgreSQL text
 * cannot hold it) and the result is cut to MAX_UPSTREAM_DETAIL characters.
 */
export function redactSecrets(text: string, known: ReadonlyArray<string | undefined> = []): string {
  let result = text.length > MAX_UPSTREAM_DETAIL * 2 ? text.slice(0, MAX_UPSTREAM_DETAIL * 2) : text;
  for (const secret of known) {
    // Very short "secrets" would blank out ordinary words.
    if (secret && secret.length >= 4) result = result.replaceAll(secret, REDACTED);
  }
  result = result.replace(urlUserInfo, (_match, scheme: string, userInfo: string) => `${scheme}${maskUserInfo(userInfo)}@`);
  for (const [pattern, replacement] of patterns) result = result.replace(pattern, replacement);
  result = result.replaceAll('\u0000', '\ufffd');
  return result.length > MAX_UPSTREAM_DETAIL ? `${result.slice(0, MAX_UPSTREAM_DETAIL)}…` : result;
}

/**
 * A URL fit to show: `http://user:***@host/v1` for one with credentials, secret query parameters
 * masked. Unparseable text is redacted as free text.
 */
export function maskUrlCredentials(url: string): string {
  const schemeEnd = url.indexOf('://');
  if (schemeEnd === -1) return redactSecrets(url);
  const authorityStart = schemeEnd + 3;
  let authorityEnd = url.length;
  for (const stop of ['/', '?', '#']) {
    const at = url.indexOf(stop, authorityStart);
    if (at !== -1 && at < authorityEnd) authorityEnd = at;
  }
  const at = url.lastIndexOf('@', authorityEnd - 1);
  const masked = at < authorityStart ? url : `${url.slice(0, authorityStart)}${maskUserInfo(url.slice(authorityStart, at))}${url.slice(at)}`;
  return masked.replace(querySecret, `$1${REDACTED}`);
}

/** The secrets of an upstream target worth looking for by value: its key, and its URL's password and user. */
export function secretsOf(target: { apiKey: string; baseUrl: string }): string[] {
  const secrets = [target.apiKey];
  const parsed = URL.parse(target.baseUrl);
  if (parsed?.password) secrets.push(decodeURIComponent(parsed.password), parsed.password);
  return secrets;
}
