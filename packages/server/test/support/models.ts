import { createAuditService } from '../../src/features/audit/audit.service.js';
import { createConnectionsService } from '../../src/features/connections/connections.service.js';
import { createModelsService } from '../../src/features/models/models.service.js';
import { createSettingsService } from '../../src/features/settings/settings.service.js';
import { UpstreamClient } from '../../src/platform/llm/upstream-client.js';
import type { Clock } from '../../src/platform/platform.js';
import type { TestApp } from './test-app.js';

// The second models services' own connections to model servers, closed when the test file's process ends.
const upstream = new UpstreamClient();

/** A second models service over the app's platform: same database and shared cache, callable directly. */
export function modelsServiceOf(app: TestApp, clock?: Clock) {
  const platform = clock ? { ...app.parley.platform, clock } : app.parley.platform;
  const audit = createAuditService(app.parley.platform);
  const settings = createSettingsService(app.parley.platform, audit);
  return createModelsService(platform, createConnectionsService(app.parley.platform, audit, settings, upstream), audit);
}

/** The ids of the app's Ollama and OpenAI connections (one of each, seeded from the environment). */
export async function connectionIds(app: TestApp, adminToken: string): Promise<{ ollamaId: string; openaiId: string }> {
  const connections = (await app.request<Array<{ id: string; type: string }>>('GET', '/api/v1/connections/', { token: adminToken })).body;
  const idOf = (type: string) => connections.find((connection) => connection.type === type)!.id;
  return { ollamaId: idOf('ollama'), openaiId: idOf('openai') };
}
