import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runServer } from './support/server-process.js';
import { jsonOf, type Readiness, type Session } from './support/wire.js';

describe('process lifecycle', () => {
  it('exits non-zero listing every bad variable', async () => {
    const server = runServer({ PORT: 'abc', DEFAULT_USER_ROLE: 'root' });
    expect(await server.exited).toBe(2);
    expect(server.output().stderr).toMatch(/PORT/);
    expect(server.output().stderr).toMatch(/DEFAULT_USER_ROLE/);
  });

  it('starts on an empty data folder, serves /ready, and drains to exit 0 on SIGTERM', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-proc-'));
    try {
      // The embedded default on purpose: no DATABASE_URL, so the SQLite file lands in DATA_DIR.
      const server = runServer({ DATA_DIR: dataDir });
      const port = await server.ready;
      const ready = await fetch(`http://127.0.0.1:${port}/ready`);
      expect(ready.status).toBe(200);
      expect((await jsonOf<Readiness>(ready)).checks).toMatchObject({ database: 'ok', migrations: 'ok', lifecycle: 'ok' });
      expect(fs.existsSync(path.join(dataDir, 'parley.db'))).toBe(true);
      // An open event stream must not hold the drain: it is ended so the browser reconnects elsewhere.
      const signup = await fetch(`http://127.0.0.1:${port}/api/v1/auths/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'drain@example.com', password: 'long enough pw', name: 'D' }),
      });
      const events = await fetch(`http://127.0.0.1:${port}/api/v1/events`, { headers: { authorization: `Bearer ${(await jsonOf<Session>(signup)).token}` } });
      const reading = events.text();
      const signalled = Date.now();
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      expect(Date.now() - signalled).toBeLessThan(5000);
      await reading;
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
