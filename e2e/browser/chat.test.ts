import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedText } from '../../packages/fake-llm/src/index.js';
import { launchBrowser, newContext, screenshot, trackErrors } from './support/browser.js';
import { startStack, type Stack } from './support/stack.js';
import { answered, chooseModel, eventually, lastAnswer, recordStreaming, send, signUp, streamedTexts } from './support/flows.js';

const model = 'fake-model';
const answerTo = (...turns: string[]) => {
  // Alternating user/assistant turns, each assistant turn being the fake's answer to what came before.
  const messages: { role: string; content: string }[] = [];
  for (const turn of turns) {
    messages.push({ role: 'user', content: turn });
    messages.push({ role: 'assistant', content: expectedText({ model, messages: [...messages.slice(0, -1), { role: 'user', content: turn }] }) });
  }
  return messages[messages.length - 1]!.content;
};

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let errors: string[];

beforeAll(async () => {
  // 40 ms per token: an answer takes about a second, long enough to watch it stream.
  stack = await startStack({ ttftMs: 50, tokenMs: 40 });
  browser = await launchBrowser();
  context = await newContext(browser, stack.baseUrl);
  page = await context.newPage();
  errors = trackErrors(page);
  await signUp(page, 'Ada Admin', 'ada@example.com', 'a long password');
  await page.getByRole('textbox', { name: 'Message' }).waitFor();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('chatting in the browser', () => {
  it('streams the answer token by token and shows its exact text', async () => {
    await chooseModel(page, model);
    await recordStreaming(page);
    const answer = await answered(page, () => send(page, 'hi'));
    expect(answer).toBe(expectedText({ model, messages: [{ role: 'user', content: 'hi' }] }));
    const seen = await streamedTexts(page);
    expect(seen.length, `distinct texts seen while streaming: ${seen.length}`).toBeGreaterThan(5);
    for (const partial of seen) expect(answer.startsWith(partial.trim())).toBe(true);
    expect(page.url()).toMatch(/\/c\/[\w-]+$/);
    await screenshot(page, 'chat-streamed');
  });

  it('a follow-up is answered with the whole conversation as context', async () => {
    expect(await answered(page, () => send(page, 'tell me more'))).toBe(answerTo('hi', 'tell me more'));
  });

  it('shows the answer details (model, tokens, timings)', async () => {
    await lastAnswer(page).getByRole('button', { name: 'Answer details' }).click();
    const details = lastAnswer(page).locator('.answer-details');
    await expect.poll(() => details.innerText()).toContain('Time to first token');
    expect(await details.innerText()).toContain('Tokens per second');
    expect(await details.innerText()).toContain(model);
  });

  it('reload shows the saved history, and the sidebar lists the chat under Today', async () => {
    await page.reload();
    await page.locator('.message-row').nth(3).waitFor();
    const texts = await page.locator('.message-row').allInnerTexts();
    expect(texts[0]).toContain('hi');
    expect(texts[2]).toContain('tell me more');
    expect(await lastAnswer(page).locator('.markdown').innerText()).toBe(answerTo('hi', 'tell me more'));
    const today = page.getByRole('region', { name: 'Today' });
    await expect.poll(() => today.locator('.chat-item').count()).toBe(1);
  });

  it('editing a message makes a branch, and ‹ 1/2 › switches between them (kept across a reload)', async () => {
    const firstUser = page.locator('.message-row[data-role="user"]').first();
    await firstUser.hover();
    await firstUser.getByRole('button', { name: 'Edit message' }).click();
    const box = page.getByRole('textbox', { name: 'Edit message' });
    await box.fill('hello');
    expect(await answered(page, () => box.press('Enter'))).toBe(expectedText({ model, messages: [{ role: 'user', content: 'hello' }] }));
    await expect.poll(() => page.locator('.message-row').count()).toBe(2);
    const nav = page.locator('.message-row[data-role="user"]').first().getByRole('group', { name: 'Versions' });
    expect(await nav.innerText()).toContain('2/2');

    await page.locator('.message-row[data-role="user"]').first().hover();
    await nav.getByRole('button', { name: 'Previous version' }).click();
    await expect.poll(() => page.locator('.message-row').count()).toBe(4);
    await expect.poll(() => nav.innerText()).toContain('1/2');
    await expect.poll(() => page.locator('.message-row').first().innerText()).toContain('hi');
    await expect.poll(() => lastAnswer(page).locator('.markdown').innerText()).toBe(answerTo('hi', 'tell me more'));

    await page.reload();
    await page.locator('.message-row').nth(3).waitFor();
    await expect.poll(() => page.locator('.message-row[data-role="user"]').first().getByRole('group', { name: 'Versions' }).innerText()).toContain('1/2');
    await page.locator('.message-row[data-role="user"]').first().hover();
    await page.getByRole('button', { name: 'Next version' }).first().click();
    await expect.poll(() => page.locator('.message-row').count()).toBe(2);
    await expect.poll(() => page.locator('.message-row').first().innerText()).toContain('hello');
    await screenshot(page, 'chat-branch');
  });

  it('regenerating an answer adds a second version of it', async () => {
    await answered(page, () => lastAnswer(page).getByRole('button', { name: 'Regenerate answer' }).click());
    await eventually(() => lastAnswer(page).getByRole('group', { name: 'Versions' }).innerText()).toContain('2/2');
  });

  it('shows a model error inline with a retry', async () => {
    await page.getByRole('button', { name: 'New chat' }).first().click();
    await chooseModel(page, 'fail-500');
    await send(page, 'this will fail');
    const error = lastAnswer(page).getByRole('alert');
    await eventually(() => error.innerText()).toContain('fake upstream failure');
    await chooseModel(page, model);
    expect(await answered(page, () => error.getByRole('button', { name: 'Retry' }).click())).toBe(expectedText({ model, messages: [{ role: 'user', content: 'this will fail' }] }));
    await screenshot(page, 'chat-retried');
  });

  it('keeps typed text per chat when moving between chats', async () => {
    const input = page.getByRole('textbox', { name: 'Message' });
    await input.fill('unsent words for this chat');
    const chats = page.locator('.chat-item__link');
    await expect.poll(() => chats.count()).toBe(2);
    await chats.nth(1).click();
    await expect.poll(() => input.inputValue()).toBe('');
    await chats.nth(0).click();
    await expect.poll(() => input.inputValue()).toBe('unsent words for this chat');
    await input.fill('');
  });

  it('logged no errors in the page', () => {
    expect(errors).toEqual([]);
  });
});
