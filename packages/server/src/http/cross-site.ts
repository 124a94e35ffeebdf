import type { FastifyInstance, FastifyRequest } from 'fastify';
import { httpErrors } from './errors.js';

const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The header a page adds to a body-less or non-JSON change; a foreign page cannot add it without a CORS preflight Parley never grants. */
export const requestedWithHeader = 'x-requested-with';

/** True when the `Origin` header names this server: the request's own host, or `WEBUI_URL`'s origin. */
function isOwnOrigin(request: FastifyRequest, origin: string, publicOrigin: string | undefined): boolean {
  if (origin === publicOrigin) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    // `null` (sandboxed frames, opaque origins) or garbage: not ours.
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  // The Host as the browser sent it (X-Forwarded-Host behind a trusted proxy), normalised with the
  // origin's scheme so `host:443` and `host` compare equal. Behind a TLS-terminating proxy the scheme
  // the server sees is http, so only the host is compared, as Go's CrossOriginProtection does.
  try {
    return new URL(`${url.protocol}//${request.host}`).host === url.host;
  } catch {
    return false;
  }
}

/** Whether the browser says this request comes from one of Parley's own pages. */
function isSameOrigin(request: FastifyRequest, publicOrigin: string | undefined): boolean {
  const fetchSite = request.headers['sec-fetch-site'];
  // Set by every current browser and not settable by scripts: same-origin fetches, or a user's own action.
  if (fetchSite === 'same-origin' || fetchSite === 'none') return true;
  const origin = request.headers.origin;
  return typeof origin === 'string' && isOwnOrigin(request, origin, publicOrigin);
}

/** A JSON body, or a header a form or a plain cross-site fetch cannot send. */
function isScriptedRequest(request: FastifyRequest): boolean {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (contentType === 'application/json' || /^application\/[\w.+-]+\+json$/.test(contentType)) return true;
  return Boolean(request.headers[requestedWithHeader]);
}

/**
 * Refuses cross-site changes made with the session cookie, before the body is read or the
 * session looked up. It applies to unsafe methods on signed-in routes when the `token` cookie
 * would authenticate the request (no `Authorization` header): such a request must come from a
 * same-origin page (`Sec-Fetch-Site: same-origin`/`none`, or an `Origin` of this host or
 * `WEBUI_URL`) AND carry a JSON body or an `X-Requested-With` header. Bearer tokens and API keys
 * are never sent by a browser on its own, so their clients are not affected. Install it after
 * the cookie parser and before access control.
 */
export function installCrossSiteGuard(app: FastifyInstance, options: { publicUrl?: string }): void {
  const publicOrigin = options.publicUrl ? new URL(options.publicUrl).origin : undefined;
  app.addHook('onRequest', async (request) => {
    if (!unsafeMethods.has(request.method) || request.headers.authorization !== undefined || !request.cookies.token) return;
    const access = request.routeOptions.config.access;
    if (access === undefined || access === 'public') return;
    if (!isSameOrigin(request, publicOrigin)) {
      throw httpErrors.crossSite('Cross-site request refused: changes made with the session cookie must come from a Parley page (same Origin)');
    }
    if (!isScriptedRequest(request)) {
      throw httpErrors.crossSite(`Cross-site request refused: send a JSON body, or the ${requestedWithHeader} header for other bodies`);
    }
  });
}
