import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, type TestUser } from './support/factories.js';
import { sample } from './support/metrics.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import type { AuditPage, ErrorBody, Session } from './support/wire.js';

/** Signs in as if from `address` (the test apps trust X-Forwarded-For). */
function signInFrom(app: TestApp, address: string, email: string, password: string) {
  return app.request<Session | ErrorBody>('POST', '/api/v1/auths/signin', { body: { email, password }, headers: { 'x-forwarded-for': address } });
}

/** Signs up as if from `address`. */
function signUpFrom(app: TestApp, address: string, email: string, password = 'a long enough password') {
  return app.request<Session | ErrorBody>('POST', '/api/v1/auths/signup', { body: { email, password, name: 'N' }, headers: { 'x-forwarded-for': address } });
}

const attacker = '198.51.100.66';
const home = '203.0.113.10';

describe('sign-in abuse', () => {
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    app = await startTestApp({ TRUST_PROXY: 'true' });
    admin = await signUp(app, { name: 'Admin' });
  });
  afterAll(() => app.close());

  it('lets the owner in from their own address after 12 wrong passwords from another', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 12; attempt++) statuses.push((await signInFrom(app, attacker, admin.email, `wrong password ${attempt}`)).status);
    // Five guesses are checked; after that the attacker's address must wait before each further one.
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5).every((status) => status === 429)).toBe(true);
    // Even the right password waits there…
    expect((await signInFrom(app, attacker, admin.email, admin.password)).status).toBe(429);
    // …but not from the owner's address.
    const owner = await signInFrom(app, home, admin.email, admin.password);
    expect(owner.status).toBe(200);
    expect((owner.body as Session).id).toBe(admin.id);
  });

  it('makes the wait grow: 1 s after the limit, then 2 s, 4 s…', async () => {
    const strict = await startTestApp({ TRUST_PROXY: 'true', LOGIN_RATE_LIMIT: '2' });
    try {
      const user = await signUp(strict);
      for (let attempt = 0; attempt < 2; attempt++) expect((await signInFrom(strict, attacker, user.email, 'wrong password')).status).toBe(401);
      const first = await signInFrom(strict, attacker, user.email, 'wrong password');
      expect(first.status).toBe(429);
      expect((first.body as ErrorBody).code).toBe('rate_limited');
      expect(first.headers.get('retry-after')).toBe('1');
      // Refused attempts are not counted: once the second is over, the next guess is checked…
      let next = first;
      while (next.status === 429) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        next = await signInFrom(strict, attacker, user.email, 'wrong password');
      }
      expect(next.status).toBe(401);
      // …and doubles the wait.
      const second = await signInFrom(strict, attacker, user.email, 'wrong password');
      expect(second.status).toBe(429);
      expect(second.headers.get('retry-after')).toBe('2');
    } finally {
      await strict.close();
    }
  });

  it('checks no more guesses from a burst of parallel attempts than from patient ones', async () => {
    const user = await signUp(app);
    const address = '198.51.100.77';
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => signInFrom(app, address, user.email, `guess ${i}`)));
    const checked = burst.filter((response) => response.status === 401).length;
    expect(checked).toBeLessThanOrEqual(5);
    expect(burst.filter((response) => response.status === 429).length).toBe(20 - checked);
    expect((await signInFrom(app, home, user.email, user.password)).status).toBe(200);
  });

  it('forgets an address’s failures on the right password', async () => {
    const user = await signUp(app);
    const address = '198.51.100.88';
    for (let round = 0; round < 3; round++) {
      for (let attempt = 0; attempt < 4; attempt++) expect((await signInFrom(app, address, user.email, 'typo password')).status).toBe(401);
      expect((await signInFrom(app, address, user.email, user.password)).status).toBe(200);
    }
  });

  it('refuses an address that fails across many accounts (LOGIN_RATE_LIMIT_PER_IP), not the accounts', async () => {
    const strict = await startTestApp({ TRUST_PROXY: 'true', LOGIN_RATE_LIMIT_PER_IP: '3' });
    try {
      const owner = await signUp(strict);
      for (let attempt = 0; attempt < 3; attempt++) expect((await signInFrom(strict, attacker, `nobody${attempt}@example.com`, 'guess guess')).status).toBe(401);
      expect((await signInFrom(strict, attacker, owner.email, owner.password)).status).toBe(429);
      expect((await signInFrom(strict, home, owner.email, owner.password)).status).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it('slows, never refuses, an account attacked from many addresses, and raises an alert', async () => {
    const ceiling = await startTestApp({ TRUST_PROXY: 'true', LOGIN_RATE_LIMIT_PER_ACCOUNT: '4' });
    try {
      const admin = await signUp(ceiling, { name: 'Admin' });
      const victim = await signUp(ceiling);
      for (let i = 0; i < 4; i++) expect((await signInFrom(ceiling, `192.0.2.${i + 1}`, victim.email, 'wrong password')).status).toBe(401);
      const started = Date.now();
      const owner = await signInFrom(ceiling, home, victim.email, victim.password);
      expect(owner.status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      // A wrong password is slowed the same way, and still answered 401, not 429.
      expect((await signInFrom(ceiling, '192.0.2.99', victim.email, 'wrong password')).status).toBe(401);

      const audit = await ceiling.request<AuditPage>('GET', '/api/v1/audit/?action=auth.signin.throttled', { token: admin.token });
      expect(audit.body.total).toBe(1);
      expect(audit.body.events[0]).toMatchObject({ target_id: victim.id, actor_email: victim.email, details: { failures: 4 } });
      const metrics = await (await fetch(`${ceiling.url}/metrics`)).text();
      expect(sample(metrics, 'parley_signin_throttled_total')).toBe(2);
    } finally {
      await ceiling.close();
    }
  });
});

describe('sign-up abuse', () => {
  it('limits sign-ups per address, 409s included, so emails cannot be probed faster', async () => {
    const app = await startTestApp({ TRUST_PROXY: 'true', SIGNUP_RATE_LIMIT_PER_IP: '3' });
    try {
      const first = await signUpFrom(app, attacker, 'first@example.com');
      expect(first.status).toBe(200);
      expect((await signUpFrom(app, attacker, 'second@example.com')).status).toBe(200);
      expect((await signUpFrom(app, attacker, 'first@example.com')).status).toBe(409);
      const limited = await signUpFrom(app, attacker, 'first@example.com');
      expect(limited.status).toBe(429);
      expect((limited.body as ErrorBody).code).toBe('rate_limited');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(3000);
      expect((await signUpFrom(app, attacker, 'third@example.com')).status).toBe(429);
      expect((await signUpFrom(app, home, 'third@example.com')).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('with ENABLE_SIGNUP=false on a fresh database, lets exactly one of 20 concurrent sign-ups in: the first admin', async () => {
    const app = await startTestApp({ ENABLE_SIGNUP: 'false' });
    try {
      const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => signUpFrom(app, home, `racer${i}@example.com`)));
      const succeeded = responses.filter((response) => response.status === 200);
      expect(succeeded).toHaveLength(1);
      expect((succeeded[0]!.body as Session).role).toBe('admin');
      expect(responses.filter((response) => response.status === 403)).toHaveLength(19);
      const users = await app.parley.platform.db.kysely.selectFrom('users').select('role').execute();
      expect(users).toEqual([{ role: 'admin' }]);
    } finally {
      await app.close();
    }
  });
});
