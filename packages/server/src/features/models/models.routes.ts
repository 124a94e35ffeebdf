import type { ModelList } from '@parley/wire';
import type { App } from '../../http/app-types.js';
import { callerOf } from '../../http/access.js';
import { auditContextOf } from '../../http/audit-context.js';
import { toPresetResponse } from './models.presenter.js';
import { createPresetBody, modelListQuery, presetIdQuery, updatePresetBody } from './models.schema.js';
import type { ModelsService } from './models.service.js';

/** The model list (GET /api/models) and admin management of presets under /api/v1/models. */
export function modelsRoutes(app: App, models: ModelsService): void {
  const admin = { access: 'admin' } as const;
  const base = '/api/v1/models';

  for (const path of ['/api/models', `${base}/list`]) {
    app.get(path, { config: { access: 'verified' }, schema: { querystring: modelListQuery } }, async (request): Promise<ModelList> => {
      // Only admins may force the upstreams to be asked again; for others the flag is ignored.
      const isRefresh = callerOf(request).role === 'admin' && ['true', '1'].includes(request.query.refresh ?? '');
      return { object: 'list' as const, data: await models.list({ refresh: isRefresh }) };
    });
  }

  app.get(`${base}/`, { config: admin }, async () => (await models.listPresets()).map(toPresetResponse));

  app.post(`${base}/create`, { config: admin, schema: { body: createPresetBody } }, async (request) =>
    toPresetResponse(await models.createPreset(callerOf(request), request.body, auditContextOf(request))),
  );

  app.get(`${base}/model`, { config: admin, schema: { querystring: presetIdQuery } }, async (request) =>
    toPresetResponse(await models.getPreset(request.query.id)),
  );

  app.post(`${base}/model/update`, { config: admin, schema: { querystring: presetIdQuery, body: updatePresetBody } }, async (request) =>
    toPresetResponse(await models.updatePreset(request.query.id, request.body, auditContextOf(request))),
  );

  app.post(`${base}/model/toggle`, { config: admin, schema: { querystring: presetIdQuery } }, async (request) =>
    toPresetResponse(await models.togglePreset(request.query.id, auditContextOf(request))),
  );

  app.delete(`${base}/model/delete`, { config: admin, schema: { querystring: presetIdQuery } }, async (request) => {
    await models.deletePreset(request.query.id, auditContextOf(request));
    return true;
  });
}
