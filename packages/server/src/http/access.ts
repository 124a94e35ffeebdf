import type { FastifyInstance, FastifyRequest, FastifySchema } from 'fastify';
import type { Role } from '../platform/db/schema.js';
import { httpErrors } from './errors.js';

/** Who may call a route: anyone, any signed-in user (even pending), approved users, or admins. */
export type Access = 'public' | 'signedIn' | 'verified' | 'admin';

/** The caller, as resolved from a session token or an API key. */
export interface AuthUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  /** The session id when signed in with a token; null for API keys. */
  sessionId: string | null;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Required on every route; enforced centrally so no route can forget it. */
    access?: Access;
  }
  interface FastifyRequest {
    user: AuthUser | null;
  }
}

/** Resolves a bearer token or API key to its user, or null when it is not valid. */
export type Authenticator = (token: string) => Promise<AuthUser | null>;

/** Reads the credential from `Authorization: Bearer …` or the `token` cookie. */
export function credentialOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match?.[1];
  }
  return request.cookies?.token;
}

/** A registered route and who may call it. */
export interface RouteAccess {
  method: string;
  url: string;
  access: Access;
  /** The route's params, querystring, headers and body schemas (zod), when it declares them. */
  schema?: FastifySchema;
}

/**
 * Makes every route declare `config.access` (start-up fails otherwise) and
 * checks it as soon as a request arrives, before its body is even parsed.
 * Returns the list of routes, filled in as they register.
 */
export function installAccessControl(app: FastifyInstance, authenticate: Authenticator): RouteAccess[] {
  const routes: RouteAccess[] = [];
  app.decorateRequest('user', null);
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    if (!access) {
      // Only the static web app's catch-all may go without; it serves public files.
      if (route.url.startsWith('/*')) return;
      throw new Error(`route ${route.method} ${route.url} declares no config.access`);
    }
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, access, schema: route.schema });
  });
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access ?? 'public';
    if (access === 'public') return;
    const credential = credentialOf(request);
    if (!credential) throw httpErrors.unauthenticated();
    const user = await authenticate(credential);
    if (!user) throw httpErrors.unauthenticated('Invalid or expired token');
    request.user = user;
    if (access === 'verified' && user.role === 'pending') throw httpErrors.pending();
    if (access === 'admin' && user.role !== 'admin') throw httpErrors.forbidden();
  });
  return routes;
}

/** The signed-in caller; only valid behind a non-public route. */
export function callerOf(request: FastifyRequest): AuthUser {
  if (!request.user) throw httpErrors.unauthenticated();
  return request.user;
}
