import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedText } from '../../packages/fake-llm/src/index.js';
import { launchBrowser, newContext, screenshot, trackErrors } from './support/browser.js';
import { answered, chooseModel, lastAnswer, send, signUp } from './support/flows.js';
import { startDropProxy, type DropProxy } from './support/proxy.js';
import { startStack, type Stack } from './support/stack.js';

const model = 'fake-model';
const tokens = 40;
const full = (text: string) => expectedText({ model, messages: [{ role: 'user', content: text }] }, tokens);

let stack: Stack;
let proxy: DropProxy;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let errors: string[];

/** Words of the answer being written, once it has at least `count`. */
async function waitForWords(count: number): Promise<void> {
  await expect
    .poll(async () => ((await lastAnswer(page).locator('.markdown').count()) ? (await lastAnswer(page).locator('.markdown').innerText()).split(/\s+/).length : 0), {
      timeout: 15_000,
      interval: 50,
    })
    .toBeGreaterThanOrEqual(count);
}

beforeAll(async () => {
  // Slow tokens (150 ms each, 40 of them: about 6 s an answer) leave time to stop, cut and reload.
  stack = await startStack({ ttftMs: 50, tokenMs: 150, tokens });
  // The browser reaches the server through a proxy the test can cut.
  proxy = await startDropProxy(stack.baseUrl);
  browser = await launchBrowser();
  context = await newContext(browser, proxy.url);
  page = await context.newPage();
  errors = trackErrors(page);
  await signUp(page, 'Ada Admin', 'ada@example.com', 'a long password');
  await chooseModel(page, model);
});

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await stack?.stop();
});

describe('stopping and recovering answers', () => {
  it('stop keeps the partial answer, saved', async () => {
    const partial = await answered(page, async () => {
      await send(page, 'stop me early');
      await waitForWords(3);
      await page.getByRole('button', { name: 'Stop generating' }).click();
    });
    const words = partial.split(/\s+/).length;
    expect(words).toBeGreaterThanOrEqual(3);
    expect(words).toBeLessThan(tokens);
    expect(full('stop me early').startsWith(partial)).toBe(true);
    expect(await lastAnswer(page).getByText('Stopped').count()).toBe(1);
    await page.reload();
    await lastAnswer(page).locator('.markdown').waitFor();
    // The save lands a moment after the stop; the page shows the saved answer once it is there.
    await expect.poll(async () => (await lastAnswer(page).locator('.markdown').innerText()).trim(), { timeout: 10_000 }).toBe(partial);
    await screenshot(page, 'stopped');
  });

  it('when the network drops mid-answer, the page says so and then shows the saved answer', async () => {
    await page.getByRole('button', { name: 'New chat' }).first().click();
    await send(page, 'survive an outage');
    await waitForWords(3);
    proxy.cut();
    const notice = page.getByRole('status').filter({ hasText: /connection dropped|offline/i });
    await notice.waitFor({ timeout: 10_000 });
    await screenshot(page, 'network-dropped');
    // The server carries on writing and saves the whole answer; the page picks it up once the network is back.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    proxy.restore();
    await expect.poll(async () => (await lastAnswer(page).locator('.markdown').innerText()).trim(), { timeout: 20_000 }).toBe(full('survive an outage'));
    await expect.poll(() => notice.count()).toBe(0);
  });

  it('reloading in the middle of an answer shows it once it is saved', async () => {
    await page.getByRole('button', { name: 'New chat' }).first().click();
    await send(page, 'reload during the answer');
    await waitForWords(3);
    await page.waitForURL(/\/c\//);
    await page.reload();
    await page.getByRole('status').filter({ hasText: 'still being written' }).waitFor({ timeout: 10_000 });
    await expect.poll(async () => (await lastAnswer(page).locator('.markdown').count()) && (await lastAnswer(page).locator('.markdown').innerText()).trim(), { timeout: 20_000 }).toBe(
      full('reload during the answer'),
    );
  });

  it('logged no errors in the page', () => {
    // A cut connection is reported by Chromium as a failed fetch; the app itself must not throw.
    expect(errors.filter((error) => !/ERR_|network|Failed to fetch|ECONN/i.test(error))).toEqual([]);
  });
});
