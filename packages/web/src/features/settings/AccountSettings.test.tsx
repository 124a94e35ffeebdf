import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiKey } from '@parley/wire';
import { AccountSettings } from './AccountSettings';

const key = (patch: Partial<ApiKey> = {}): ApiKey => ({
  id: 'k1',
  name: 'Default',
  key_hint: 'sk-1a2…9f0e',
  is_default: true,
  created_at: Date.UTC(2025, 0, 2) / 1000,
  last_used_at: null,
  expires_at: null,
  ...patch,
});

let stored: ApiKey[];
let fetchMock: ReturnType<typeof vi.fn>;
const calls = (method: string, path: string) =>
  fetchMock.mock.calls.filter(([input, init]) => input === path && (init?.method ?? 'GET') === method).map(([, init]) => (init?.body ? JSON.parse(String(init.body)) : undefined));

beforeEach(() => {
  stored = [key(), key({ id: 'k2', name: 'CI', is_default: false, key_hint: 'sk-3c4…7d8e', last_used_at: Date.UTC(2025, 5, 1) / 1000, expires_at: Date.UTC(2030, 0, 1) / 1000 })];
  fetchMock = vi.fn(async (input: string, init?: RequestInit) => {
    const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
    const method = init?.method ?? 'GET';
    if (input === '/api/v1/auths/api_keys' && method === 'POST') {
      const body = JSON.parse(String(init!.body)) as { name: string; expires_at: number | null };
      const created = key({ id: 'k3', name: body.name, is_default: false, key_hint: 'sk-5e6…0a1b', expires_at: body.expires_at });
      stored = [...stored, created];
      return json({ ...created, api_key: 'sk-5e6whole-key0a1b' });
    }
    if (input === '/api/v1/auths/api_keys') return json(stored);
    if (input.startsWith('/api/v1/auths/api_keys/') && method === 'DELETE') {
      stored = stored.filter((item) => item.id !== input.split('/').at(-1));
      return json(true);
    }
    return json(true);
  });
  vi.stubGlobal('fetch', fetchMock);
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('AccountSettings: API keys', () => {
  it('lists each key with its name, hint, creation, last use and expiry, never the key', async () => {
    render(<AccountSettings />);
    const ci = await screen.findByRole('row', { name: /CI/ });
    const cells = within(ci).getAllByRole('cell').map((cell) => cell.textContent);
    expect(cells.slice(0, 2)).toEqual(['CI', 'sk-3c4…7d8e']);
    expect(cells[3]).toMatch(/2025/);
    expect(cells[4]).toMatch(/2030/);
    const defaultRow = screen.getByRole('row', { name: /Default/ });
    expect(within(defaultRow).getAllByRole('cell')[3]!.textContent).toBe('Never');
    expect(within(defaultRow).getAllByRole('cell')[4]!.textContent).toBe('Never');
    expect(screen.getAllByRole('columnheader').map((header) => header.textContent)).toEqual(['Name', 'Key', 'Created', 'Last used', 'Expires', 'Actions']);
  });

  it('creates a named key with an expiry and shows the whole key once', async () => {
    render(<AccountSettings />);
    await screen.findByRole('row', { name: /CI/ });
    fireEvent.change(screen.getByLabelText('Key name'), { target: { value: 'Laptop' } });
    fireEvent.change(screen.getByLabelText('Expires'), { target: { value: '1' } });
    const before = Math.floor(Date.now() / 1000);
    fireEvent.click(screen.getByRole('button', { name: 'Create key' }));
    await screen.findByText('sk-5e6whole-key0a1b');
    const [body] = calls('POST', '/api/v1/auths/api_keys');
    expect(body.name).toBe('Laptop');
    expect(body.expires_at - before).toBeGreaterThanOrEqual(30 * 86_400);
    expect(body.expires_at - before).toBeLessThan(30 * 86_400 + 60);
    expect(screen.getByRole('button', { name: 'Copy API key' })).toBeTruthy();
    await screen.findByRole('row', { name: /Laptop/ });
    expect(screen.getByRole('row', { name: /Laptop/ }).textContent).not.toContain('whole-key');
  });

  it('revokes one key and keeps the others', async () => {
    render(<AccountSettings />);
    fireEvent.click(await screen.findByRole('button', { name: 'Revoke CI' }));
    await waitFor(() => expect(screen.queryByRole('row', { name: /CI/ })).toBeNull());
    expect(calls('DELETE', '/api/v1/auths/api_keys/k2')).toHaveLength(1);
    expect(screen.getByRole('row', { name: /Default/ })).toBeTruthy();
  });

  it('says so when there are no keys, and warns that a new password revokes them', async () => {
    stored = [];
    render(<AccountSettings />);
    await screen.findByText('You have no API keys.');
    expect(screen.getByText(/revokes all your API keys/)).toBeTruthy();
    expect((screen.getByLabelText('New password') as HTMLInputElement).minLength).toBe(10);
  });
});
