import { Readable } from 'node:stream';
import type { AuditPage } from '@parley/wire';
import type { App } from '../../http/app-types.js';
import { toAuditCsv, toAuditEventResponse } from './audit.presenter.js';
import { auditExportQuery, auditListQuery } from './audit.schema.js';
import type { AuditService } from './audit.service.js';

/** The audit log under /api/v1/audit: filtered pages and a CSV export; admins only. */
export function auditRoutes(app: App, audit: AuditService): void {
  const base = '/api/v1/audit';
  const admin = { access: 'admin' } as const;

  app.get(`${base}/`, { config: admin, schema: { querystring: auditListQuery } }, async (request): Promise<AuditPage> => {
    const { events, total } = await audit.list(request.query);
    return { events: events.map(toAuditEventResponse), total };
  });

  app.get(`${base}/export.csv`, { config: admin, schema: { querystring: auditExportQuery } }, (request, reply) =>
    reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="audit-log.csv"')
      .header('cache-control', 'no-store')
      .send(Readable.from(toAuditCsv(audit.exportBatches(request.query)))),
  );
}
