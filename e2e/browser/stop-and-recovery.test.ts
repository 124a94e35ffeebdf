import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedText } from '../../packages/fake-llm/src/index.js';
import { launchBrowser, newContext, screenshot, trackErrors } from './support/browser.js';
import { answered, chooseModel, lastAnswer, recordStreaming, send, signUp, streamedTexts } from './support/flows.js';
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

/** The text of the last answer on screen ('' before it has any). */
async function answerText(): Promise<string> {
  const markdown = lastAnswer(page).locator('.markdown');
  return (await markdown.count()) ? (await markdown.innerText()).trim() : '';
}

/** Words of the answer being written, once it has at least `count`. */
async function waitForWords(count: number): Promise<void> {
  await expect
    .poll(async () => ((await lastAnswer(page).locator('.markdown').count()) ? (await lastAnswer(page).locator('.markdown').innerText()).split(/\s+/).length : 0), {
      timeout: 15_000,
      interval: 50,
    })
    .toBeGreaterThanOrEqual(count);
}

/** Sends `text` in a new chat and reloads the page once its answer has a few words. */
async function reloadMidAnswer(text: string): Promise<void> {
  await page.getByRole('button', { name: 'New chat' }).first().click();
  await send(page, text);
  await waitForWords(3);
  await page.waitForURL(/\/c\//);
  await page.reload();
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

  it('when the network drops mid-answer, the page says so, then reconnects and the answer streams on', async () => {
    await page.getByRole('button', { name: 'New chat' }).first().click();
    await send(page, 'survive an outage');
    await waitForWords(3);
    proxy.cut();
    const notice = page.getByRole('status').filter({ hasText: /connection dropped|offline/i });
    await notice.waitFor({ timeout: 10_000 });
    const atCut = await answerText();
    await screenshot(page, 'network-dropped');
    await recordStreaming(page);
    // The server carries on writing; the page reconnects once the network is back (retrying meanwhile).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    proxy.restore();
    const expected = full('survive an outage');
    await expect.poll(answerText, { timeout: 20_000 }).toBe(expected);
    await expect.poll(() => notice.count()).toBe(0);
    // Resumed live from the last event seen: texts longer than at the cut but short of the whole answer were
    // shown (the saved answer loaded at the end would jump straight to the whole), each a prefix of the answer.
    const seen = (await streamedTexts(page)).map((text) => text.trim());
    expect(seen.filter((text) => text.length > atCut.length && text.length < expected.length).length, seen.join('\n')).toBeGreaterThan(0);
    for (const text of seen) expect(expected.startsWith(text), text).toBe(true);
    // The saved answer replaced the streamed one: its row carries the server's id.
    expect(await lastAnswer(page).getAttribute('data-message-id')).not.toMatch(/^local-/);
  });

  it('offline in the browser: the page says so and reconnects as soon as it is back online', async () => {
    await page.getByRole('button', { name: 'New chat' }).first().click();
    await send(page, 'go offline for a moment');
    await waitForWords(3);
    // Chromium's offline mode leaves a stream that is already open alone, so the proxy cuts it too.
    await context.setOffline(true);
    proxy.cut();
    const notice = page.getByRole('status').filter({ hasText: 'The answer will carry on when the connection is back' });
    try {
      await notice.waitFor({ timeout: 10_000 });
    } finally {
      proxy.restore();
      await context.setOffline(false);
    }
    // Back online: no waiting for a retry timer, the answer goes on at once.
    await expect.poll(() => notice.count(), { timeout: 5000 }).toBe(0);
    await expect.poll(answerText, { timeout: 20_000 }).toBe(full('go offline for a moment'));
  });

  it('reloading in the middle of an answer streams the rest of it live', async () => {
    await reloadMidAnswer('reload during the answer');
    const expected = full('reload during the answer');
    // Text is shown while the answer is still being written (the row is busy, Stop is offered): it comes from the
    // resumed stream, not from the saved answer.
    await expect
      .poll(() => lastAnswer(page).evaluate((row) => row.getAttribute('aria-busy') === 'true' && (row.querySelector('.markdown')?.textContent ?? '').length > 0), {
        timeout: 10_000,
        interval: 25,
      })
      .toBe(true);
    expect(await page.getByRole('button', { name: 'Stop generating' }).count()).toBe(1);
    const early = await answerText();
    expect(early.length).toBeLessThan(expected.length);
    expect(expected.startsWith(early)).toBe(true);
    await recordStreaming(page);
    await expect.poll(answerText, { timeout: 20_000 }).toBe(expected);
    await expect.poll(() => lastAnswer(page).getAttribute('aria-busy')).toBe('false');
    for (const text of await streamedTexts(page)) expect(expected.startsWith(text.trim()), text).toBe(true);
    // At the end the saved message was loaded: it carries the server's timings.
    await lastAnswer(page).getByRole('button', { name: 'Answer details' }).click();
    await expect.poll(() => lastAnswer(page).locator('.answer-details').innerText()).toContain('Time to first token');
  });

  it('Stop works on an answer resumed after a reload', async () => {
    await reloadMidAnswer('stop me after a reload');
    await waitForWords(6);
    await page.getByRole('button', { name: 'Stop generating' }).click();
    await expect.poll(() => lastAnswer(page).getByText('Stopped').count(), { timeout: 10_000 }).toBe(1);
    const partial = await answerText();
    expect(partial.split(/\s+/).length).toBeLessThan(tokens);
    expect(full('stop me after a reload').startsWith(partial)).toBe(true);
  });

  it('logged no errors in the page', () => {
    // A cut connection is reported by Chromium as a failed fetch; the app itself must not throw.
    expect(errors.filter((error) => !/ERR_|network|Failed to fetch|ECONN/i.test(error))).toEqual([]);
  });
});
