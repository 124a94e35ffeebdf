import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api.js';
import { launchBrowser, newContext, screenshot, trackErrors } from './support/browser.js';
import { answered, chooseModel, send, signUp } from './support/flows.js';
import { startStack, type Stack } from './support/stack.js';

const model = 'fake-model';
let stack: Stack;
let browser: Browser;
let page: Page;
let errors: string[];
const sidebar = () => page.getByRole('complementary', { name: 'Sidebar' });
const item = (title: string) => sidebar().locator('.chat-item', { hasText: title });

async function chatOption(title: string, option: string): Promise<void> {
  await item(title).first().hover();
  await page.getByRole('button', { name: `Options for ${title}` }).first().click();
  await page.getByRole('menuitem', { name: option }).click();
}

beforeAll(async () => {
  stack = await startStack({ env: { ENABLE_TITLE_GENERATION: 'false' } });
  browser = await launchBrowser();
  const context = await newContext(browser, stack.baseUrl);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  page = await context.newPage();
  errors = trackErrors(page);
  await signUp(page, 'Ada Admin', 'ada@example.com', 'a long password');
  await chooseModel(page, model);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('sidebar', () => {
  it('renames, pins, searches, archives, exports and deletes chats', async () => {
    for (const text of ['first topic', 'second topic', 'third topic']) {
      await page.getByRole('button', { name: 'New chat' }).first().click();
      await answered(page, () => send(page, text));
    }
    await expect.poll(() => sidebar().locator('.chat-item').count()).toBe(3);

    // Rename the newest chat ("New Chat", as titles are off here); the fake model never says "xylophone".
    await chatOption('New Chat', 'Rename');
    const titleBox = page.getByRole('textbox', { name: 'Chat title' });
    await titleBox.fill('Xylophone notes');
    await titleBox.press('Enter');
    await item('Xylophone notes').waitFor();
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Xylophone notes');

    await chatOption('Xylophone notes', 'Pin');
    await page.getByRole('region', { name: 'Pinned' }).locator('.chat-item', { hasText: 'Xylophone notes' }).waitFor();

    await page.getByRole('searchbox', { name: 'Search chats' }).fill('xylophone');
    await expect.poll(() => sidebar().locator('.chat-item').count()).toBe(1);
    await page.getByRole('searchbox', { name: 'Search chats' }).fill('');
    await expect.poll(() => sidebar().locator('.chat-item').count()).toBe(3);

    const download = page.waitForEvent('download');
    await chatOption('Xylophone notes', 'Export');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'parley-export-')), 'chat.json');
    await (await download).saveAs(file);
    const exported = JSON.parse(fs.readFileSync(file, 'utf8')) as { title: string; chat: { history: { messages: object } } }[];
    expect(exported[0]!.title).toBe('Xylophone notes');
    expect(Object.keys(exported[0]!.chat.history.messages)).toHaveLength(2);

    await chatOption('Xylophone notes', 'Archive');
    await expect.poll(() => sidebar().locator('.chat-item').count()).toBe(2);

    await chatOption('New Chat', 'Delete');
    const dialog = page.getByRole('dialog', { name: 'Delete chat?' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await sidebar().locator('.chat-item').count()).toBe(2);
    await chatOption('New Chat', 'Delete');
    await screenshot(page, 'delete-confirmation');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => sidebar().locator('.chat-item').count()).toBe(1);

    // The archived chat is listed in Settings and can be restored.
    await page.getByRole('button', { name: 'Account menu' }).click();
    await page.getByRole('menuitem', { name: 'Settings' }).click();
    await page.getByRole('tab', { name: 'Archived chats' }).click();
    const settings = page.getByRole('dialog', { name: 'Settings' });
    await settings.getByText('Xylophone notes').waitFor();
    await settings.getByRole('button', { name: 'Restore' }).click();
    await expect.poll(() => sidebar().locator('.chat-item').count()).toBe(2);
    await settings.getByRole('button', { name: 'Close' }).click();
  });

  it('collapses on desktop and opens again', async () => {
    await page.getByRole('button', { name: 'Close sidebar' }).click();
    await expect.poll(() => sidebar().isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Open sidebar' }).last().click();
    await expect.poll(() => sidebar().isVisible()).toBe(true);
  });
});

describe('files', () => {
  it('attaches an image and a text file: uploaded with progress, shown as chips, the image previewed', async () => {
    await page.getByRole('button', { name: 'New chat' }).first().click();
    // A 2×2 PNG.
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');
    await page.locator('input[type="file"]').setInputFiles([
      { name: 'dot.png', mimeType: 'image/png', buffer: png },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('some notes\n'.repeat(100)) },
    ]);
    const chips = page.getByRole('list', { name: 'Attached files' });
    await chips.getByText('dot.png').waitFor();
    await chips.getByText('notes.txt').waitFor();
    expect(await chips.locator('img').count()).toBe(1);
    await expect.poll(() => chips.locator('progress').count()).toBe(0);
    await answered(page, () => send(page, 'what is in these files?'));
    const sent = page.locator('.message-row[data-role="user"]').last();
    const image = sent.getByRole('img', { name: 'dot.png' });
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(2);
    await sent.getByText('notes.txt').waitFor();
    await page.reload();
    await expect.poll(() => page.locator('.message-row[data-role="user"]').last().getByRole('img', { name: 'dot.png' }).evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(2);
    await screenshot(page, 'files');
  });
});

describe('settings', () => {
  it('creates a named API key shown once with a copy button, which works, then revokes it', async () => {
    await page.getByRole('button', { name: 'Account menu' }).click();
    await page.getByRole('menuitem', { name: 'Settings' }).click();
    const settings = page.getByRole('dialog', { name: 'Settings' });
    await settings.getByRole('tab', { name: 'Account' }).click();
    await settings.getByLabel('Key name').fill('Laptop');
    await settings.getByRole('button', { name: 'Create key' }).click();
    const key = (await settings.locator('.api-key__value').innerText()).trim();
    expect(key).toMatch(/^sk-/);
    await settings.getByRole('button', { name: 'Copy API key' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
    const models = await fetch(`${stack.baseUrl}/api/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(models.status).toBe(200);
    await settings.locator('tr[data-key-name="Laptop"]').scrollIntoViewIfNeeded();
    await screenshot(page, 'api-keys');
    await settings.getByRole('button', { name: 'Revoke Laptop' }).click();
    await settings.getByText('You have no API keys.').waitFor();
    expect((await fetch(`${stack.baseUrl}/api/models`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
  });

  it('changes the password', async () => {
    const settings = page.getByRole('dialog', { name: 'Settings' });
    await settings.getByLabel('Current password').fill('a long password');
    await settings.getByLabel('New password').fill('an even longer password');
    await settings.getByRole('button', { name: 'Change password' }).click();
    await settings.getByText('Password changed.').waitFor();
    await new ApiClient(stack.baseUrl).signIn('ada@example.com', 'an even longer password');
  });

  it('a default system prompt is sent at the start of each chat', async () => {
    const settings = page.getByRole('dialog', { name: 'Settings' });
    await settings.getByRole('tab', { name: 'General' }).click();
    await settings.getByLabel('Default system prompt').fill('Answer like a pirate.');
    await settings.getByRole('button', { name: 'Save prompt' }).click();
    await settings.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('button', { name: 'New chat' }).first().click();
    const { expectedText } = await import('../../packages/fake-llm/src/index.js');
    const answer = await answered(page, () => send(page, 'hello'));
    expect(answer).toBe(
      expectedText({ model, messages: [{ role: 'system', content: 'Answer like a pirate.' }, { role: 'user', content: 'hello' }] }),
    );
  });
});

describe('admin area', () => {
  it('lists the seeded connection and tests it', async () => {
    await page.goto('/admin/connections');
    const card = page.locator('.card').first();
    await card.waitFor();
    expect(await card.innerText()).toContain(stack.fakeUrl);
    await card.getByRole('button', { name: 'Test' }).click();
    await expect.poll(() => card.getByRole('status').innerText()).toMatch(/^OK: \d+ models/);
  });

  it('creates a preset that then appears in the model picker and answers with its system prompt', async () => {
    await page.getByRole('tab', { name: 'Model presets' }).click();
    await page.getByRole('button', { name: 'New preset' }).click();
    const dialog = page.getByRole('dialog', { name: 'New preset' });
    await dialog.getByLabel('Name').fill('Haiku writer');
    await dialog.getByLabel('Base model').selectOption(model);
    await dialog.getByLabel('System prompt').fill('Write haiku only.');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.locator('.card', { hasText: 'Haiku writer' }).waitFor();
    await screenshot(page, 'admin-presets');
    await page.getByRole('button', { name: 'New chat' }).first().click();
    await chooseModel(page, 'haiku-writer');
    const { expectedText } = await import('../../packages/fake-llm/src/index.js');
    const answer = await answered(page, () => send(page, 'the sea'));
    expect(answer).toBe(
      expectedText({
        model,
        messages: [
          { role: 'system', content: 'Write haiku only.' },
          { role: 'system', content: 'Answer like a pirate.' },
          { role: 'user', content: 'the sea' },
        ],
      }),
    );
  });

  it('turns sign-up off, and the sign-in page then offers no sign-up', async () => {
    await page.goto('/admin/general');
    const toggle = page.getByRole('checkbox', { name: 'Allow new users to sign up' });
    await toggle.uncheck();
    await page.getByRole('status').getByText('Saved').waitFor();
    const visitor = await (await newContext(browser, stack.baseUrl)).newPage();
    const hasConfig = (await fetch(`${stack.baseUrl}/api/config`)).ok;
    await visitor.goto('/');
    await visitor.getByRole('heading', { name: 'Sign in to Parley' }).waitFor();
    if (hasConfig) expect(await visitor.getByRole('button', { name: 'Create an account' }).count()).toBe(0);
    else {
      // Without GET /api/config the page cannot know; the server still refuses the sign-up.
      await signUp(visitor, 'Eve', 'eve@example.com', 'a long password');
      await expect.poll(() => visitor.getByRole('alert').innerText()).toContain('Sign-up is disabled');
    }
    await visitor.close();
  });

  it('logged no errors in the page', () => {
    expect(errors).toEqual([]);
  });
});
