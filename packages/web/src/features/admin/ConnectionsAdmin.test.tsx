import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Connection } from '@parley/wire';
import { ConnectionsAdmin } from './ConnectionsAdmin';

const connection = (patch: Partial<Connection> = {}): Connection => ({
  id: 'c1',
  type: 'openai',
  name: 'Gateway',
  base_url: 'https://llm.example.com/v1',
  api_key: '',
  has_api_key: true,
  prefix_id: '',
  model_ids: [],
  enabled: true,
  http2: false,
  takeover_mode: 'auto',
  position: 0,
  created_at: 1,
  updated_at: 1,
  ...patch,
});

let stored: Connection[];
let fetchMock: ReturnType<typeof vi.fn>;
/** The JSON bodies of the POSTs to `path`, oldest first. */
const postsTo = (path: string) =>
  fetchMock.mock.calls.filter(([input, init]) => input === path && init?.method === 'POST').map(([, init]) => JSON.parse(String(init.body)));

beforeEach(() => {
  stored = [connection({ http2: true }), connection({ id: 'c2', type: 'ollama', name: 'Local', base_url: 'http://localhost:11434', has_api_key: false })];
  fetchMock = vi.fn(async (input: string, init?: RequestInit) => {
    const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
    if (input === '/api/v1/connections/' && init?.method === 'POST') return json({ ...connection({ id: 'c3' }), ...JSON.parse(String(init.body)) });
    if (input === '/api/v1/connections/') return json(stored);
    if (input.startsWith('/api/v1/connections/')) return json(stored[0]);
    return json({ data: [] }); // The model list, reloaded after a change.
  });
  vi.stubGlobal('fetch', fetchMock);
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('ConnectionsAdmin', () => {
  it('marks only the connections that use HTTP/2', async () => {
    render(<ConnectionsAdmin />);
    const [gateway, local] = await screen.findAllByRole('listitem');
    expect(within(gateway!).getByText('HTTP/2').className).toBe('badge');
    expect(within(local!).queryByText('HTTP/2')).toBeNull();
  });

  it('sends http2 on create when the box is ticked, explained by its help text', async () => {
    render(<ConnectionsAdmin />);
    await screen.findByText('Gateway');
    fireEvent.click(screen.getByRole('button', { name: 'Add connection' }));
    const dialog = screen.getByRole('dialog', { name: 'Add connection' });
    fireEvent.change(within(dialog).getByLabelText('Name'), { target: { value: 'Proxy' } });
    fireEvent.change(within(dialog).getByLabelText('Base URL'), { target: { value: 'http://envoy:8080/v1' } });
    const http2 = within(dialog).getByRole('checkbox', { name: 'HTTP/2' }) as HTMLInputElement;
    expect(http2.checked).toBe(false);
    expect(document.getElementById(http2.getAttribute('aria-describedby')!)?.textContent).toMatch(/h2c/);
    fireEvent.click(http2);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(postsTo('/api/v1/connections/')).toHaveLength(1));
    expect(postsTo('/api/v1/connections/')[0]).toEqual({ type: 'openai', name: 'Proxy', base_url: 'http://envoy:8080/v1', api_key: '', enabled: true, http2: true });
  });

  it('shows the stored value when editing and sends it on update', async () => {
    render(<ConnectionsAdmin />);
    fireEvent.click(await screen.findByRole('button', { name: 'Edit Gateway' }));
    const dialog = screen.getByRole('dialog', { name: 'Edit connection' });
    expect((within(dialog).getByRole('checkbox', { name: 'HTTP/2' }) as HTMLInputElement).checked).toBe(true);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(postsTo('/api/v1/connections/c1/update')).toHaveLength(1));
    const [body] = postsTo('/api/v1/connections/c1/update');
    expect(body).toMatchObject({ base_url: 'https://llm.example.com/v1', http2: true });
    expect(body).not.toHaveProperty('api_key');
  });

  it('sends http2 on update when the box is ticked while editing', async () => {
    render(<ConnectionsAdmin />);
    fireEvent.click(await screen.findByRole('button', { name: 'Edit Local' }));
    const dialog = screen.getByRole('dialog', { name: 'Edit connection' });
    const http2 = within(dialog).getByRole('checkbox', { name: 'HTTP/2' }) as HTMLInputElement;
    expect(http2.checked).toBe(false);
    fireEvent.click(http2);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(postsTo('/api/v1/connections/c2/update')).toHaveLength(1));
    expect(postsTo('/api/v1/connections/c2/update')[0]).toMatchObject({ type: 'ollama', base_url: 'http://localhost:11434', http2: true });
  });
});
