/* eslint-disable @typescript-eslint/no-explicit-any -- the chart options uPlot receives are read field by field, as uPlot reads them */
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UsageAdmin } from './UsageAdmin';
import { startOfUtcDay } from './usage-format';

// uPlot draws on a canvas, which the simulated DOM lacks: a stand-in records what it was asked to draw.
const charts = vi.hoisted(() => [] as Array<{ options: any; data: number[][]; isDestroyed: boolean }>);
vi.mock('uplot', () => ({
  default: class {
    static paths = { bars: () => () => null };
    private chart: { options: any; data: number[][]; isDestroyed: boolean };
    constructor(options: unknown, data: number[][]) {
      this.chart = { options, data, isDestroyed: false };
      charts.push(this.chart);
    }
    setSize() {}
    destroy() {
      this.chart.isDestroyed = true;
    }
  },
}));

const day = 86_400;
const today = startOfUtcDay(Date.now(), 0);
const days = (count: number) =>
  Array.from({ length: count }, (_, i) => {
    const start = today - (count - 1 - i) * day;
    const tokens = i === count - 1 ? { prompt_tokens: 40, completion_tokens: 60 } : { prompt_tokens: 0, completion_tokens: 0 };
    return { date: new Date(start * 1000).toISOString().slice(0, 10), start, messages: i === count - 1 ? 3 : 0, ...tokens, total_tokens: tokens.prompt_tokens + tokens.completion_tokens };
  });

function answer(url: URL): unknown {
  const count = Math.round((today - Number(url.searchParams.get('from'))) / day) + 1;
  switch (url.pathname) {
    case '/api/v1/analytics/summary':
      return { from: 0, to: 0, messages: 1234, prompt_tokens: 45_600, completion_tokens: 789, total_tokens: 46_389, active_users: 7, errors: 2, avg_ttft_ms: 420 };
    case '/api/v1/analytics/by-day':
      return { days: days(count) };
    case '/api/v1/analytics/by-model':
      return {
        models: [
          { model: 'llama3', messages: 3, prompt_tokens: 30, completion_tokens: 50, total_tokens: 80 },
          { model: 'gpt-4o', messages: 1, prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
        ],
      };
    case '/api/v1/analytics/by-user':
      return {
        users: [
          { user_id: 'u1', email: 'ada@example.com', name: 'Ada', messages: 3, prompt_tokens: 30, completion_tokens: 50, total_tokens: 80 },
          { user_id: 'gone', email: null, name: null, messages: 1, prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
        ],
      };
    default:
      throw new Error(`unexpected ${url.pathname}`);
  }
}

let fetchMock: ReturnType<typeof vi.fn>;
const requested = () => fetchMock.mock.calls.map(([input]) => new URL(String(input), 'http://parley.test'));

beforeEach(() => {
  charts.length = 0;
  fetchMock = vi.fn(async (input: string) => new Response(JSON.stringify(answer(new URL(input, 'http://parley.test'))), { status: 200 }));
  vi.stubGlobal('fetch', fetchMock);
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('UsageAdmin', () => {
  it('shows the totals, the top users and the models of the last 30 days', async () => {
    render(<UsageAdmin />);
    expect(await screen.findByText('1.2k')).toBeTruthy();
    expect([...document.querySelectorAll('.usage-tile')].map((tile) => tile.textContent)).toEqual([
      '1.2kMessages',
      '45.6kTokens in',
      '789Tokens out',
      '7Active users',
      '2Failed answers',
      '420 msMean time to first token',
    ]);
    const urls = requested();
    expect(urls.map((url) => url.pathname).sort()).toEqual(['/api/v1/analytics/by-day', '/api/v1/analytics/by-model', '/api/v1/analytics/by-user', '/api/v1/analytics/summary']);
    for (const url of urls) expect(Number(url.searchParams.get('from'))).toBe(startOfUtcDay(Date.now(), 29));
    expect(urls.find((url) => url.pathname.endsWith('by-user'))?.searchParams.get('limit')).toBe('10');

    const users = screen.getAllByRole('table')[1]!;
    const rows = within(users).getAllByRole('row').slice(1);
    expect(rows.map((row) => row.textContent)).toEqual(['Adaada@example.com3305080', 'Deleted usergone1101020']);
    expect(screen.getByRole('button', { name: 'Last 30 days' }).getAttribute('aria-pressed')).toBe('true');
  });

  it('draws tokens per day as lines and tokens per model as bars', async () => {
    render(<UsageAdmin />);
    await waitFor(() => expect(charts).toHaveLength(2));
    const [perDay, perModel] = charts;
    expect(perDay!.data[0]).toHaveLength(30);
    expect(perDay!.data[0]!.at(-1)).toBe(today);
    expect(perDay!.data[1]!.at(-1)).toBe(40);
    expect(perDay!.data[2]!.at(-1)).toBe(60);
    expect(perDay!.options.series.slice(1).map((s: { label: string }) => s.label)).toEqual(['Tokens in', 'Tokens out']);
    expect(perDay!.options.scales.x.time).toBe(true);
    expect(perModel!.data).toEqual([
      [0, 1],
      [80, 20],
    ]);
    expect(perModel!.options.axes[0].values(null, [0, 1])).toEqual(['llama3', 'gpt-4o']);
    expect(screen.getByRole('img', { name: 'llama3: 80 tokens; gpt-4o: 20 tokens' })).toBeTruthy();
  });

  it('asks again for another period and redraws', async () => {
    render(<UsageAdmin />);
    await waitFor(() => expect(charts).toHaveLength(2));
    fetchMock.mockClear();
    fireEvent.click(screen.getByRole('button', { name: 'Last 7 days' }));
    await waitFor(() => expect(charts).toHaveLength(4));
    expect(charts[0]!.isDestroyed).toBe(true);
    expect(charts[2]!.data[0]).toHaveLength(7);
    for (const url of requested()) expect(Number(url.searchParams.get('from'))).toBe(startOfUtcDay(Date.now(), 6));
    expect(screen.getByRole('button', { name: 'Last 7 days' }).getAttribute('aria-pressed')).toBe('true');
  });

  it("shows the server's refusal", async () => {
    fetchMock.mockImplementation(async () => new Response(JSON.stringify({ detail: 'You do not have permission to do this', code: 'forbidden' }), { status: 403 }));
    render(<UsageAdmin />);
    expect((await screen.findByRole('alert')).textContent).toBe('You do not have permission to do this');
    expect(charts).toHaveLength(0);
  });
});
