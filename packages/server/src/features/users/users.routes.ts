import type { UserList } from '@parley/wire';
import type { App } from '../../http/app-types.js';
import { callerOf } from '../../http/access.js';
import { auditContextOf } from '../../http/audit-context.js';
import { toUserResponse } from './users.presenter.js';
import { listUsersQuery, updateRoleBody, updateUserBody, userIdParams } from './users.schema.js';
import type { UsersService } from './users.service.js';

/** Open WebUI's /api/v1/users endpoints; admins only. */
export function usersRoutes(app: App, users: UsersService): void {
  const base = '/api/v1/users';
  const admin = { access: 'admin' } as const;

  app.get(`${base}/`, { config: admin, schema: { querystring: listUsersQuery } }, async (request): Promise<UserList> => {
    const { users: rows, total } = await users.list(request.query);
    return { users: rows.map(toUserResponse), total };
  });

  app.post(`${base}/update/role`, { config: admin, schema: { body: updateRoleBody } }, async (request) =>
    toUserResponse(await users.updateRole(callerOf(request), request.body.id, request.body.role, auditContextOf(request))),
  );

  app.get(`${base}/:id`, { config: admin, schema: { params: userIdParams } }, async (request) =>
    toUserResponse(await users.get(request.params.id)),
  );

  app.post(`${base}/:id/update`, { config: admin, schema: { params: userIdParams, body: updateUserBody } }, async (request) =>
    toUserResponse(await users.update(callerOf(request), request.params.id, request.body, auditContextOf(request))),
  );

  app.delete(`${base}/:id`, { config: admin, schema: { params: userIdParams } }, async (request) => {
    await users.delete(callerOf(request), request.params.id, auditContextOf(request));
    return true;
  });
}
