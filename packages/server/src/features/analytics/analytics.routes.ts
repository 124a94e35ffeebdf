import type { UsageByDayList, UsageByModelList, UsageByUserList, UsageSummary } from '@parley/wire';
import type { App } from '../../http/app-types.js';
import { toDayResponse, toModelUsageResponse, toRangeResponse, toSummaryResponse, toUserUsageResponse } from './analytics.presenter.js';
import { byUserQuery, rangeQuery } from './analytics.schema.js';
import type { AnalyticsService } from './analytics.service.js';

/** Usage analytics under /api/v1/analytics: totals, per user, per model and per UTC day; admins only. */
export function analyticsRoutes(app: App, analytics: AnalyticsService): void {
  const base = '/api/v1/analytics';
  const admin = { access: 'admin' } as const;

  app.get(`${base}/summary`, { config: admin, schema: { querystring: rangeQuery } }, async (request): Promise<UsageSummary> => {
    const range = analytics.rangeOf(request.query);
    return { ...toRangeResponse(range), ...toSummaryResponse(await analytics.summary(range)) };
  });

  app.get(`${base}/by-user`, { config: admin, schema: { querystring: byUserQuery } }, async (request): Promise<UsageByUserList> => {
    const range = analytics.rangeOf(request.query);
    return { ...toRangeResponse(range), users: (await analytics.byUser(range, request.query.limit)).map(toUserUsageResponse) };
  });

  app.get(`${base}/by-model`, { config: admin, schema: { querystring: rangeQuery } }, async (request): Promise<UsageByModelList> => {
    const range = analytics.rangeOf(request.query);
    return { ...toRangeResponse(range), models: (await analytics.byModel(range)).map(toModelUsageResponse) };
  });

  app.get(`${base}/by-day`, { config: admin, schema: { querystring: rangeQuery } }, async (request): Promise<UsageByDayList> => {
    const range = analytics.rangeOf(request.query);
    return { ...toRangeResponse(range), days: (await analytics.byDay(range)).map(toDayResponse) };
  });
}
