import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditEvent } from '@parley/wire';
import { AuditAdmin } from './AuditAdmin';
import { describeDetails } from './audit-format';

const at = Date.UTC(2024, 4, 1, 12) / 1000;
const event = (i: number, patch: Partial<AuditEvent> = {}): AuditEvent => ({
  id: `e${i}`,
  at: at - i,
  actor_id: 'admin-1',
  actor_email: 'admin@example.com',
  action: 'user.role.changed',
  target_type: 'user',
  target_id: `user-${i}`,
  ip: '10.0.0.1',
  details: { email: `u${i}@example.com`, role: { from: 'pending', to: 'user' } },
  request_id: `req-${i}`,
  ...patch,
});

let total = 2;
let fetchMock: ReturnType<typeof vi.fn>;
const lastQuery = () => new URL(String(fetchMock.mock.calls.at(-1)?.[0]), 'http://parley.test').searchParams;

beforeEach(() => {
  total = 2;
  fetchMock = vi.fn(async (input: string) => {
    const url = new URL(input, 'http://parley.test');
    if (url.searchParams.get('actor') === 'x'.repeat(300)) return new Response(JSON.stringify({ detail: 'Invalid actor: too long', code: 'validation_failed' }), { status: 400 });
    const page = Number(url.searchParams.get('page'));
    const events =
      total === 2
        ? [event(0), event(1, { action: 'auth.signin.failure', actor_id: null, actor_email: 'nobody@example.com', target_type: null, target_id: null, details: { reason: 'unknown_account' } })]
        : Array.from({ length: 50 }, (_, i) => event((page - 1) * 50 + i));
    return new Response(JSON.stringify({ events, total }), { status: 200 });
  });
  vi.stubGlobal('fetch', fetchMock);
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('AuditAdmin', () => {
  it('lists events newest first with actor, target, address and what changed', async () => {
    render(<AuditAdmin />);
    const table = await screen.findByRole('table');
    await within(table).findByText('user.role.changed');
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    const cells = within(rows[0]!).getAllByRole('cell').map((cell) => cell.textContent);
    expect(cells.slice(1)).toEqual(['user.role.changed', 'admin@example.com', 'user user-0', '10.0.0.1', 'email: u0@example.com; role: pending → user']);
    expect(rows[0]!.querySelector('time')?.getAttribute('datetime')).toBe('2024-05-01T12:00:00.000Z');
    const failure = within(rows[1]!).getAllByRole('cell').map((cell) => cell.textContent);
    expect(failure.slice(1)).toEqual(['auth.signin.failure', 'nobody@example.com', '—', '10.0.0.1', 'reason: unknown_account']);
    expect(screen.getByText('2 events')).toBeTruthy();
    expect(lastQuery().get('page')).toBe('1');
    expect(lastQuery().get('limit')).toBe('50');
  });

  it('sends the filters to the server and puts them on the CSV export link', async () => {
    render(<AuditAdmin />);
    await screen.findByText('user.role.changed');
    fireEvent.change(screen.getByRole('combobox', { name: 'Action' }), { target: { value: 'auth' } });
    fireEvent.change(screen.getByRole('searchbox', { name: 'Actor' }), { target: { value: 'admin@' } });
    fireEvent.change(screen.getByRole('searchbox', { name: 'Target id' }), { target: { value: 'user-0' } });
    fireEvent.change(screen.getByLabelText('From (UTC)'), { target: { value: '2024-05-01' } });
    fireEvent.change(screen.getByLabelText('To (UTC, inclusive)'), { target: { value: '2024-05-02' } });
    await waitFor(() => expect(lastQuery().get('to')).toBe('2024-05-02'));
    const query = lastQuery();
    expect(Object.fromEntries(query)).toEqual({ action: 'auth', actor: 'admin@', target: 'user-0', from: '2024-05-01', to: '2024-05-02', page: '1', limit: '50' });
    const link = screen.getByRole('link', { name: 'Export CSV' });
    const href = new URL(link.getAttribute('href')!, 'http://parley.test');
    expect(href.pathname).toBe('/api/v1/audit/export.csv');
    expect(Object.fromEntries(href.searchParams)).toEqual({ action: 'auth', actor: 'admin@', target: 'user-0', from: '2024-05-01', to: '2024-05-02' });
  });

  it('waits for a pause in typing before asking', async () => {
    render(<AuditAdmin />);
    await screen.findByText('user.role.changed');
    const before = fetchMock.mock.calls.length;
    const actor = screen.getByRole('searchbox', { name: 'Actor' });
    for (const text of ['a', 'ad', 'adm', 'admi']) fireEvent.change(actor, { target: { value: text } });
    await waitFor(() => expect(lastQuery().get('actor')).toBe('admi'));
    expect(fetchMock.mock.calls.length).toBe(before + 1);
  });

  it('pages through a long log', async () => {
    total = 120;
    render(<AuditAdmin />);
    await screen.findByText('Page 1 of 3');
    expect(screen.getByRole('button', { name: 'Previous' }).hasAttribute('disabled')).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    await screen.findByText('Page 2 of 3');
    await waitFor(() => expect(lastQuery().get('page')).toBe('2'));
    await screen.findByText('user user-50');
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    await screen.findByText('Page 3 of 3');
    expect(screen.getByRole('button', { name: 'Next' }).hasAttribute('disabled')).toBe(true);
    // A new filter starts again from the first page.
    fireEvent.change(screen.getByRole('combobox', { name: 'Action' }), { target: { value: 'user.deleted' } });
    await waitFor(() => expect(lastQuery().get('action')).toBe('user.deleted'));
    expect(lastQuery().get('page')).toBe('1');
  });

  it("shows the server's refusal of a filter", async () => {
    render(<AuditAdmin />);
    await screen.findByText('user.role.changed');
    fireEvent.change(screen.getByRole('searchbox', { name: 'Actor' }), { target: { value: 'x'.repeat(300) } });
    expect((await screen.findByRole('alert')).textContent).toBe('Invalid actor: too long');
  });
});

describe('describeDetails', () => {
  it('writes changes as before → after and other facts as they are', () => {
    expect(describeDetails({ name: { from: 'A', to: 'B' }, api_key: 'changed', params: { from: { t: 1 }, to: {} }, role: null })).toBe(
      'name: A → B; api_key: changed; params: {"t":1} → {}; role: —',
    );
  });
});
