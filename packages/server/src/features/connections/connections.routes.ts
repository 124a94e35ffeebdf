import type { ConnectionTestResult } from '@parley/wire';
import type { App } from '../../http/app-types.js';
import { auditContextOf } from '../../http/audit-context.js';
import { toConnectionResponse } from './connections.presenter.js';
import { connectionIdParams, createConnectionBody, testConnectionBody, updateConnectionBody } from './connections.schema.js';
import type { ConnectionsService } from './connections.service.js';

/** Admin management of upstream connections under /api/v1/connections. */
export function connectionsRoutes(app: App, connections: ConnectionsService): void {
  const base = '/api/v1/connections';
  const admin = { access: 'admin' } as const;

  app.get(`${base}/`, { config: admin }, async () => (await connections.list()).map(toConnectionResponse));

  app.post(`${base}/`, { config: admin, schema: { body: createConnectionBody } }, async (request) =>
    toConnectionResponse(await connections.create(request.body, auditContextOf(request))),
  );

  app.post(`${base}/test`, { config: admin, schema: { body: testConnectionBody } }, (request): Promise<ConnectionTestResult> =>
    connections.testUnsaved(request.body),
  );

  app.get(`${base}/:id`, { config: admin, schema: { params: connectionIdParams } }, async (request) =>
    toConnectionResponse(await connections.get(request.params.id)),
  );

  app.post(`${base}/:id/update`, { config: admin, schema: { params: connectionIdParams, body: updateConnectionBody } }, async (request) =>
    toConnectionResponse(await connections.update(request.params.id, request.body, auditContextOf(request))),
  );

  app.delete(`${base}/:id`, { config: admin, schema: { params: connectionIdParams } }, async (request) => {
    await connections.remove(request.params.id, auditContextOf(request));
    return true;
  });

  app.post(`${base}/:id/test`, { config: admin, schema: { params: connectionIdParams } }, (request): Promise<ConnectionTestResult> =>
    connections.test(request.params.id),
  );
}
