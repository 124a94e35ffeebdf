import type { AdminConfig } from '@parley/wire';
import type { App } from '../../http/app-types.js';
import { auditContextOf } from '../../http/audit-context.js';
import { settingsPatchBody } from './settings.schema.js';
import type { SettingsService } from './settings.service.js';

/** Open WebUI's admin settings endpoints (under /api/v1/auths, where its clients look for them); admins only. */
export function settingsRoutes(app: App, settings: SettingsService): void {
  const base = '/api/v1/auths/admin/config';

  app.get(base, { config: { access: 'admin' } }, (): Promise<AdminConfig> => settings.get());

  app.post(
    base,
    { config: { access: 'admin' }, schema: { body: settingsPatchBody } },
    async (request): Promise<AdminConfig> => settings.update(request.body, auditContextOf(request)),
  );
}
