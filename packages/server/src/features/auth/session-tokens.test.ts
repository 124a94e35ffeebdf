import { afterEach, describe, expect, it, vi } from 'vitest';
import { SessionTokens, type SecretStore } from './session-tokens.js';

// A configured secret never touches the database.
const noStore = {} as SecretStore;
const claims = { userId: 'user-1', sessionId: 'session-1' };
const hour = 3_600_000;

describe('SessionTokens', () => {
  afterEach(() => vi.useRealTimers());

  it('accepts its own tokens, again and again, and refuses tampered or foreign ones', async () => {
    const tokens = await SessionTokens.load(noStore, 'a-secret-of-enough-length');
    const token = await tokens.sign(claims, Date.now(), null);
    expect(await tokens.verify(token)).toEqual(claims);
    expect(await tokens.verify(token)).toEqual(claims);

    const [header, payload, signature] = token.split('.');
    const otherUser = Buffer.from(JSON.stringify({ id: 'user-2', jti: 'session-1', iat: 1 })).toString('base64url');
    expect(await tokens.verify(`${header}.${otherUser}.${signature}`)).toBeNull();
    expect(await tokens.verify(`${header}.${payload}.${signature!.slice(0, -2)}xx`)).toBeNull();
    const stranger = await SessionTokens.load(noStore, 'another-secret-entirely');
    expect(await stranger.verify(token)).toBeNull();
  });

  it('refuses a token once it expires, even one it has already verified', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = new Date('2026-11-24T12:00:00Z').getTime();
    vi.setSystemTime(start);
    const tokens = await SessionTokens.load(noStore, 'a-secret-of-enough-length');
    const token = await tokens.sign(claims, start, start + hour);
    expect(await tokens.verify(token)).toEqual(claims);

    vi.setSystemTime(start + hour + 1000);
    expect(await tokens.verify(token)).toBeNull();
    // Forgotten once expired: the next look is jose's own check, which refuses it too.
    expect(await tokens.verify(token)).toBeNull();
  });
});
