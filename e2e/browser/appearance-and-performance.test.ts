import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api.js';
import { launchBrowser, newContext, screenshot, screenshotDir, trackErrors } from './support/browser.js';
import { longChat, markdownChat } from './support/fixtures.js';
import { answered, chooseModel, send } from './support/flows.js';
import { startStack, type Stack } from './support/stack.js';

const model = 'fake-model';
const docsScreenshot = path.resolve(import.meta.dirname, '..', '..', 'docs', 'screenshot.png');

let stack: Stack;
let browser: Browser;
let api: ApiClient;
const figures: Record<string, string> = {};

/** A browser context already signed in (the session cookie set directly). */
async function signedInContext(options: Parameters<typeof newContext>[2] = {}): Promise<BrowserContext> {
  const context = await newContext(browser, stack.baseUrl, options);
  await context.addCookies([{ name: 'token', value: api.token!, url: stack.baseUrl }]);
  return context;
}

/** Resolves when the app can be used: the composer is on screen and the model list has loaded. */
async function waitUntilInteractive(page: Page): Promise<void> {
  await page.getByRole('textbox', { name: 'Message' }).waitFor();
  await page.getByLabel('Model', { exact: true }).locator(`option[value="${model}"]`).waitFor({ state: 'attached' });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

beforeAll(async () => {
  // 100 tokens of 20 ms: a two-second answer, long enough to measure frame times while it streams.
  stack = await startStack({ ttftMs: 50, tokenMs: 20, tokens: 100 });
  browser = await launchBrowser();
  api = new ApiClient(stack.baseUrl);
  await api.signUp('Ada Admin', 'ada@example.com', 'a long password');
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (Object.keys(figures).length > 0) {
    console.log(`\nweb performance (localhost, headless Chromium, 2 cores):\n${Object.entries(figures).map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n`);
    fs.mkdirSync(screenshotDir, { recursive: true });
    fs.writeFileSync(path.join(screenshotDir, 'performance.json'), `${JSON.stringify(figures, null, 2)}\n`);
  }
});

describe('appearance', () => {
  it('renders a Markdown answer (table, highlighted code, math) and saves the docs screenshot', async () => {
    const chat = await api.request<{ id: string }>('POST', '/api/v1/chats/new', { chat: markdownChat(model) });
    // Tall enough to show the question and the whole answer.
    const context = await signedInContext({ width: 1280, height: 1060 });
    const page = await context.newPage();
    const errors = trackErrors(page);
    await page.goto(`/c/${chat.id}`);
    const answer = page.locator('.message-row[data-role="assistant"]');
    await answer.locator('table').waitFor();
    await answer.locator('.hljs-keyword').first().waitFor();
    await answer.locator('.katex').first().waitFor();
    await answer.locator('.katex-display').waitFor();
    expect(await answer.locator('tbody tr').count()).toBe(4);
    expect(await answer.getByRole('button', { name: 'Copy code' }).count()).toBe(1);
    await page.waitForTimeout(300);
    const file = await screenshot(page, 'markdown-light');
    fs.mkdirSync(path.dirname(docsScreenshot), { recursive: true });
    fs.copyFileSync(file, docsScreenshot);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('dark mode: chosen in Settings, applied at once, kept after a reload', async () => {
    const context = await signedInContext();
    const page = await context.newPage();
    await page.goto('/');
    await waitUntilInteractive(page);
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const light = await background();
    await page.getByRole('button', { name: 'Account menu' }).click();
    await page.getByRole('menuitem', { name: 'Settings' }).click();
    await page.getByRole('radio', { name: 'Dark' }).check();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    expect(await background()).not.toBe(light);
    await page.keyboard.press('Escape');
    await page.reload();
    await waitUntilInteractive(page);
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    expect(await background()).toBe('rgb(23, 24, 28)');
    await page.locator('.chat-item__link', { hasText: 'Merge sort vs quicksort' }).click();
    await page.locator('.katex-display').waitFor();
    await page.waitForTimeout(300);
    await screenshot(page, 'markdown-dark');
    await context.close();
  });

  it('"System" follows the operating system\'s dark setting', async () => {
    const context = await signedInContext({ colorScheme: 'dark' });
    const page = await context.newPage();
    await page.goto('/');
    await waitUntilInteractive(page);
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await context.close();
  });

  it('works on a 360 px wide phone: the sidebar is a drawer', async () => {
    const context = await signedInContext({ width: 360, height: 740 });
    const page = await context.newPage();
    await page.goto('/');
    await waitUntilInteractive(page);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    expect(await page.getByRole('complementary', { name: 'Sidebar' }).isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Open sidebar' }).first().click();
    await page.getByRole('complementary', { name: 'Sidebar' }).locator('.chat-item__link').first().click();
    await page.locator('.katex-display').waitFor();
    // The drawer slides away (a 0.2 s transition).
    await expect.poll(() => page.getByRole('complementary', { name: 'Sidebar' }).isVisible()).toBe(false);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await screenshot(page, 'phone-360');
    await context.close();
  });

  it('every control reached by Tab has an accessible name', async () => {
    const context = await signedInContext();
    const page = await context.newPage();
    await page.goto('/');
    await waitUntilInteractive(page);
    const unnamed: string[] = [];
    for (let i = 0; i < 25; i += 1) {
      await page.keyboard.press('Tab');
      const info = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        if (!el || el === document.body) return null;
        const label = el.getAttribute('aria-label') ?? (el as HTMLInputElement).labels?.[0]?.textContent ?? el.textContent ?? '';
        return { tag: el.tagName, label: label.trim(), outline: getComputedStyle(el).outlineStyle };
      });
      if (info && !info.label) unnamed.push(info.tag);
    }
    expect(unnamed).toEqual([]);
    await context.close();
  });
});

describe('sidebar paging', () => {
  it('loads older chats as the list is scrolled', async () => {
    for (let i = 0; i < 60; i += 1) await api.request('POST', '/api/v1/chats/new', { chat: { title: `Old chat ${i}` } });
    const total = (await api.request<unknown[]>('GET', '/api/v1/chats/?page=2')).length + 50;
    const context = await signedInContext();
    const page = await context.newPage();
    await page.goto('/');
    const items = page.locator('.chat-list .chat-item');
    await expect.poll(() => items.count()).toBe(50);
    await page.locator('.chat-list').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await expect.poll(() => items.count()).toBe(total);
    await context.close();
  });
});

describe('performance figures (reported, not asserted)', () => {
  it('time to interactive of the first load on localhost', async () => {
    const runs: { tti: number; fcp: number; js: number }[] = [];
    for (let run = 0; run < 3; run += 1) {
      // A new context each time: an empty cache, like a first visit.
      const context = await signedInContext();
      const page = await context.newPage();
      await page.goto('/');
      await waitUntilInteractive(page);
      runs.push(
        await page.evaluate(() => ({
          tti: performance.now(),
          fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
          js: performance
            .getEntriesByType('resource')
            .filter((entry) => entry.name.endsWith('.js'))
            .reduce((sum, entry) => sum + (entry as PerformanceResourceTiming).encodedBodySize, 0),
        })),
      );
      await context.close();
    }
    figures['first load: time to interactive (median of 3, cold cache)'] = `${Math.round(median(runs.map((r) => r.tti)))} ms`;
    figures['first load: first contentful paint (median of 3)'] = `${Math.round(median(runs.map((r) => r.fcp)))} ms`;
    figures['first load: JavaScript transferred'] = `${(runs[0]!.js / 1024).toFixed(1)} KB`;
    const report = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '..', '..', 'packages', 'web', 'dist', 'bundle-size.json'), 'utf8')) as { firstLoadJsGzipKb: number };
    figures['first load: JavaScript gzipped (build)'] = `${report.firstLoadJsGzipKb} KB (budget 250 KB)`;
    expect(runs.every((r) => r.tti > 0)).toBe(true);
  });

  it('time to render a 1,000-message chat, and smoothness while streaming into it', async () => {
    const chat = await api.request<{ id: string }>('POST', '/api/v1/chats/new', { chat: longChat(1000, model) });
    const context = await signedInContext();
    const page = await context.newPage();
    const errors = trackErrors(page);

    // A full page load straight onto the chat.
    await page.goto(`/c/${chat.id}`);
    await page.locator('.message-row[data-message-id="msg-999"]').waitFor();
    const fullLoad = await page.evaluate(() => new Promise<number>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now())))));

    // Opening it from the sidebar in a running app: fetch, build the tree, render, paint.
    const times: number[] = [];
    for (let run = 0; run < 3; run += 1) {
      await page.getByRole('button', { name: 'New chat' }).first().click();
      await page.locator('.chat__empty').waitFor();
      times.push(
        await page.evaluate(
          (chatId) =>
            new Promise<number>((resolve) => {
              const start = performance.now();
              document.querySelector<HTMLAnchorElement>(`a[href="/c/${chatId}"]`)!.click();
              const check = () => {
                if (document.querySelector('.message-row[data-message-id="msg-999"]')) requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - start)));
                else requestAnimationFrame(check);
              };
              check();
            }),
          chat.id,
        ),
      );
    }
    figures['1,000-message chat: open from the sidebar (fetch + render + paint, median of 3)'] = `${Math.round(median(times))} ms`;
    figures['1,000-message chat: full page load until the last message is painted'] = `${Math.round(fullLoad)} ms`;
    expect(await page.locator('.message-row').count()).toBeLessThan(1000);

    // Scrolling up renders older messages on demand.
    const before = await page.locator('.message-row').count();
    await page.locator('.messages').evaluate((el) => (el.scrollTop = 0));
    await expect.poll(() => page.locator('.message-row').count()).toBeGreaterThan(before);

    // Stream an answer at the end of the long chat and record frame times meanwhile.
    await page.locator('.messages').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await chooseModel(page, model);
    // Frame times are recorded while the Stop button shows, i.e. while tokens arrive.
    await page.evaluate(() => {
      const state = { frames: [] as number[], long: 0, hasStarted: false };
      (window as unknown as { __frames: typeof state }).__frames = state;
      new PerformanceObserver((list) => state.hasStarted && (state.long += list.getEntries().length)).observe({ type: 'longtask', buffered: false });
      let last = performance.now();
      const tick = (now: number) => {
        const isStreaming = document.querySelector('[aria-label="Stop generating"]') !== null;
        if (isStreaming && state.hasStarted) state.frames.push(now - last);
        if (isStreaming) state.hasStarted = true;
        last = now;
        if (isStreaming || !state.hasStarted) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    await answered(page, () => send(page, 'one more question'));
    const frames = await page.evaluate(() => {
      const state = (window as unknown as { __frames: { frames: number[]; long: number } }).__frames;
      const sorted = [...state.frames].sort((a, b) => a - b);
      return { count: sorted.length, p50: sorted[Math.floor(sorted.length / 2)] ?? 0, p95: sorted[Math.floor(sorted.length * 0.95)] ?? 0, max: sorted[sorted.length - 1] ?? 0, long: state.long };
    });
    figures['streaming 100 tokens into the 1,000-message chat: frame time p50 / p95 / max'] =
      `${frames.p50.toFixed(1)} / ${frames.p95.toFixed(1)} / ${frames.max.toFixed(1)} ms over ${frames.count} frames, ${frames.long} long tasks`;
    expect(errors).toEqual([]);
    await context.close();
  });
});
