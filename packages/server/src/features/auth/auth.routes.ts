import type { ApiKey, ApiKeyHint, CreatedApiKey, NewApiKey, PublicConfig, Session } from '@parley/wire';
import type { FastifyReply } from 'fastify';
import type { App } from '../../http/app-types.js';
import { callerOf } from '../../http/access.js';
import { auditContextOf } from '../../http/audit-context.js';
import type { UserRow } from '../../platform/db/schema.js';
import type { SettingsService } from '../settings/settings.service.js';
import { toUserResponse } from '../users/users.service.js';
import { toApiKey } from './auth.presenter.js';
import { apiKeyIdParams, changePasswordBody, createApiKeyBody, signinBody, signupBody } from './auth.schema.js';
import type { AuthService } from './auth.service.js';

const version = '0.1.0';

/** Open WebUI's /api/v1/auths endpoints, and the public `/api/config` the web app starts from. */
export function authRoutes(app: App, auth: AuthService, settings: SettingsService, secureCookie: boolean): void {
  app.get('/api/config', { config: { access: 'public' } }, async (): Promise<PublicConfig> => {
    const [onboarding, current] = await Promise.all([auth.isOnboarding(), settings.get()]);
    return {
      name: 'Parley',
      version,
      onboarding,
      features: { enable_signup: onboarding || current.ENABLE_SIGNUP, enable_remote_images: current.ENABLE_REMOTE_IMAGES },
    };
  });

  const base = '/api/v1/auths';

  function sendSession(reply: FastifyReply, session: { user: UserRow; token: string; expiresAt: number | null }): Session {
    reply.setCookie('token', session.token, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: secureCookie,
      ...(session.expiresAt ? { expires: new Date(session.expiresAt) } : {}),
    });
    return {
      ...toUserResponse(session.user),
      token: session.token,
      token_type: 'Bearer',
      expires_at: session.expiresAt === null ? null : Math.floor(session.expiresAt / 1000),
    };
  }

  app.post(`${base}/signup`, { config: { access: 'public' }, schema: { body: signupBody } }, async (request, reply) =>
    sendSession(reply, await auth.signup({ ...request.body, ip: request.ip }, auditContextOf(request))),
  );

  app.post(`${base}/signin`, { config: { access: 'public' }, schema: { body: signinBody } }, async (request, reply) =>
    sendSession(reply, await auth.signin({ ...request.body, ip: request.ip }, auditContextOf(request))),
  );

  app.get(`${base}/`, { config: { access: 'signedIn' } }, async (request) =>
    toUserResponse(await auth.currentUser(callerOf(request))),
  );

  app.post(`${base}/signout`, { config: { access: 'signedIn' } }, async (request, reply) => {
    await auth.signout(callerOf(request));
    reply.clearCookie('token', { path: '/' });
    return { status: true };
  });
  // Open WebUI signs out with GET; a GET must change nothing (a link or an <img> on any site could
  // send it with the cookie), so it still answers, says nothing happened, and keeps the session.
  app.get(`${base}/signout`, { config: { access: 'signedIn' } }, async () => ({
    status: false,
    detail: 'Sign out with POST /api/v1/auths/signout; a GET changes nothing',
  }));

  app.post(`${base}/update/password`, { config: { access: 'signedIn' }, schema: { body: changePasswordBody } }, async (request) => {
    await auth.changePassword(callerOf(request), request.body.password, request.body.new_password, auditContextOf(request));
    return true;
  });

  app.post(`${base}/api_key`, { config: { access: 'verified' } }, async (request): Promise<NewApiKey> => ({
    api_key: await auth.createApiKey(callerOf(request), auditContextOf(request)),
  }));

  app.get(`${base}/api_key`, { config: { access: 'verified' } }, async (request): Promise<ApiKeyHint> => {
    const key = await auth.getApiKey(callerOf(request));
    return { api_key: key.key_hint, created_at: Math.floor(key.created_at / 1000) };
  });

  app.delete(`${base}/api_key`, { config: { access: 'verified' } }, async (request) => {
    await auth.deleteApiKey(callerOf(request), auditContextOf(request));
    return true;
  });

  // Named keys: Open WebUI has only the one key above, which is the default key among these.
  app.get(`${base}/api_keys`, { config: { access: 'verified' } }, async (request): Promise<ApiKey[]> =>
    (await auth.listApiKeys(callerOf(request))).map(toApiKey),
  );

  app.post(`${base}/api_keys`, { config: { access: 'verified' }, schema: { body: createApiKeyBody } }, async (request): Promise<CreatedApiKey> => {
    const { name, expires_at: expiresAt } = request.body;
    const created = await auth.createNamedApiKey(
      callerOf(request),
      { name, expiresAt: expiresAt ? expiresAt * 1000 : null },
      auditContextOf(request),
    );
    return { ...toApiKey(created.record), api_key: created.key };
  });

  app.delete(`${base}/api_keys/:id`, { config: { access: 'verified' }, schema: { params: apiKeyIdParams } }, async (request) => {
    await auth.deleteNamedApiKey(callerOf(request), request.params.id, auditContextOf(request));
    return true;
  });
}
