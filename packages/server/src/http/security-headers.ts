import type { ServerResponse } from 'node:http';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import { isServerPath } from './web-app.js';

/** What the security headers depend on. */
export interface SecurityHeadersOptions {
  /** Behind HTTPS (`WEBUI_SESSION_COOKIE_SECURE`): adds HSTS and `upgrade-insecure-requests`. */
  isHttps: boolean;
  /** Whether an admin lets answers show images from other sites (cached by its owner; read once per page load). */
  remoteImagesAllowed: () => Promise<boolean>;
  /** `'sha256-…'` of the page's own inline scripts, the only inline scripts allowed. */
  inlineScriptHashes: string[];
}

/**
 * Features no page of Parley uses; an injected script or an embedded frame gets none of them.
 * Helmet no longer sets this header, so it is set here.
 */
export const permissionsPolicy = 'camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), hid=(), bluetooth=(), midi=()';

/** Responses whose page may show remote images; helmet reads this while it builds the policy. */
const remoteImagePages = new WeakSet<ServerResponse>();

/**
 * The Content-Security-Policy. Scripts and style sheets come only from the app's own files (the
 * built page has no `<style>`, and its one inline script is allowed by its hash). Style
 * *attributes* are allowed ('unsafe-inline' in `style-src-attr` only): KaTeX writes its layout as
 * `style="…"` in HTML that rehype-katex parses with the browser's HTML parser, which the CSP
 * checks (React's own `style` props go through the CSSOM, which it does not). A style attribute
 * runs no code, and the one way it could send data out, a `url()`, is held by `img-src` and
 * `font-src`. Parsing KaTeX's HTML in JavaScript instead would have cost the math chunk 46 KB gzipped.
 */
function directives(isHttps: boolean, scriptHashes: string[]) {
  return {
    'default-src': ["'self'"],
    'script-src': ["'self'", ...scriptHashes],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'"],
    'style-src-elem': ["'self'"],
    'style-src-attr': ["'unsafe-inline'"],
    // Answers' images: the app's own files, pasted data: and blob: previews; remote ones only when allowed.
    'img-src': [(_request: unknown, response: ServerResponse) => (remoteImagePages.has(response) ? "'self' data: blob: https: http:" : "'self' data: blob:")],
    'font-src': ["'self'"],
    'connect-src': ["'self'"],
    'object-src': ["'none'"],
    'frame-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
    ...(isHttps ? { 'upgrade-insecure-requests': [] } : {}),
  };
}

/**
 * Sets the browser-facing security headers on every response (pages, static files, API JSON,
 * errors, event streams): a strict CSP, `X-Frame-Options: DENY`, `nosniff`, a same-origin
 * referrer policy, a Permissions-Policy, and HSTS behind HTTPS. Install it before any hook
 * that may refuse a request, so refusals carry the headers too.
 */
export async function installSecurityHeaders(app: FastifyInstance, options: SecurityHeadersOptions): Promise<void> {
  let lastKnownRemoteImages = false;
  app.addHook('onRequest', async (request, reply) => {
    reply.raw.setHeader('permissions-policy', permissionsPolicy);
    // The image policy matters only to documents, so API calls (the chat relay) never wait for the setting.
    if (request.method !== 'GET' || isServerPath(request.url)) return;
    try {
      lastKnownRemoteImages = await options.remoteImagesAllowed();
    } catch {
      // The database is away: keep serving the page with the last policy this instance knew.
    }
    if (lastKnownRemoteImages) remoteImagePages.add(reply.raw);
  });
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: directives(options.isHttps, options.inlineScriptHashes) },
    // same-origin rather than no-referrer: under no-referrer browsers send `Origin: null` even on
    // same-origin POSTs, which the cross-site check cannot tell from a foreign page; same-origin keeps
    // the Origin and still tells other sites nothing.
    referrerPolicy: { policy: 'same-origin' },
    frameguard: { action: 'deny' },
    // Subdomains are left out: Parley cannot know what else runs under its parent domain.
    strictTransportSecurity: options.isHttps ? { maxAge: 31_536_000, includeSubDomains: false } : false,
    // Pages of other origins may not embed Parley's files (images, scripts, API answers).
    crossOriginResourcePolicy: { policy: 'same-origin' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
  });
}
