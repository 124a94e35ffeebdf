import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from './support/csv.js';
import { signUp, type TestUser } from './support/factories.js';
import { startWithUsers } from './support/start-with-users.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import type { ErrorBody } from './support/wire.js';

// The export at scale and its safety, and who may read the log (what is recorded: audit.test.ts).
describe('audit log', () => {
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;

  beforeAll(async () => {
    ({ app, admin, user } = await startWithUsers());
  });
  afterAll(() => app.close());

  it('exports every event when there are more than one batch, and only the header when none match', async () => {
    const big = await startTestApp();
    try {
      const owner = await signUp(big);
      const wanted = 1203;
      const rows = Array.from({ length: wanted }, (_, i) => ({
        id: `seed-${String(i).padStart(5, '0')}`,
        at: 1_700_000_000_000 + Math.floor(i / 3),
        actor_id: owner.id,
        actor_email: owner.email,
        action: 'settings.updated',
        target_type: 'settings',
        target_id: 'runtime_settings',
        ip: '127.0.0.1',
        details: '{"n":' + i + '}',
        request_id: null,
      }));
      for (let i = 0; i < rows.length; i += 300) await big.parley.platform.db.kysely.insertInto('audit_events').values(rows.slice(i, i + 300)).execute();
      const csv = await (await fetch(`${big.url}/api/v1/audit/export.csv?action=settings.updated`, { headers: { authorization: `Bearer ${owner.token}` } })).text();
      const [, ...read] = parseCsv(csv);
      expect(read).toHaveLength(wanted);
      expect(new Set(read.map((row) => row[9])).size).toBe(wanted);
      const none = await (await fetch(`${big.url}/api/v1/audit/export.csv?action=nothing`, { headers: { authorization: `Bearer ${owner.token}` } })).text();
      expect(parseCsv(none)).toHaveLength(1);
    } finally {
      await big.close();
    }
  });

  it('defuses spreadsheet formulas in exported fields', async () => {
    const formula = await signUp(app, { name: '=HYPERLINK("http://evil.example","x")' });
    const response = await fetch(`${app.url}/api/v1/audit/export.csv?target=${formula.id}`, { headers: { authorization: `Bearer ${admin.token}` } });
    const [, row] = parseCsv(await response.text());
    expect(row![8]).toMatch(/^\{/);
    const forged = await startTestApp();
    try {
      const owner = await signUp(forged);
      await forged.parley.platform.db.kysely
        .insertInto('audit_events')
        .values({ id: 'x', at: Date.now(), actor_id: null, actor_email: '=cmd|x', action: 'auth.signin.failure', target_type: null, target_id: null, ip: '@1', details: '{}', request_id: '+1' })
        .execute();
      const csv = await (await fetch(`${forged.url}/api/v1/audit/export.csv?action=auth.signin.failure`, { headers: { authorization: `Bearer ${owner.token}` } })).text();
      const [, forgedRow] = parseCsv(csv);
      expect(forgedRow!.slice(3, 8)).toEqual(["'=cmd|x", '', '', "'@1", "'+1"]);
    } finally {
      await forged.close();
    }
  });

  it('is for admins only', async () => {
    for (const path of ['/api/v1/audit/', '/api/v1/audit/export.csv']) {
      expect((await app.request('GET', path)).status).toBe(401);
      const refused = await app.request<ErrorBody>('GET', path, { token: user.token });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('forbidden');
    }
  });

  it.each([
    ['an unparseable date', 'from=yesterday'],
    ['a date that does not exist', 'from=2024-02-30'],
    ['a malformed date-time', 'to=2024-01-01T25:00:00Z'],
    ['a range that ends before it starts', 'from=2024-05-02&to=2024-04-30'],
    ['a limit over 1000', 'limit=1001'],
    ['a zero limit', 'limit=0'],
    ['page 0', 'page=0'],
    ['a non-numeric page', 'page=two'],
  ])('answers 400 to %s', async (_name, query) => {
    for (const path of ['/api/v1/audit/', '/api/v1/audit/export.csv']) {
      if (path.endsWith('.csv') && /limit|page/.test(query)) continue;
      const response = await app.request<ErrorBody>('GET', `${path}?${query}`, { token: admin.token });
      expect(response.status).toBe(400);
      expect(typeof response.body.detail).toBe('string');
    }
  });
});
