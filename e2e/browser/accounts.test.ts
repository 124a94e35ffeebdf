import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api.js';
import { launchBrowser, newContext, screenshot, trackErrors } from './support/browser.js';
import { answered, chooseModel, send, signIn, signUp } from './support/flows.js';
import { startStack, type Stack } from './support/stack.js';

let stack: Stack;
let browser: Browser;
let admin: Page;
let bob: Page;
const errors: string[] = [];
let adminChatUrl = '';

beforeAll(async () => {
  stack = await startStack();
  browser = await launchBrowser();
  admin = await (await newContext(browser, stack.baseUrl)).newPage();
  bob = await (await newContext(browser, stack.baseUrl)).newPage();
  for (const page of [admin, bob]) {
    const pageErrors = trackErrors(page);
    page.on('close', () => errors.push(...pageErrors));
  }
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('accounts in the browser', () => {
  it('a fresh server onboards its first visitor as the admin', async () => {
    await admin.goto('/');
    await admin.getByRole('heading', { level: 1 }).waitFor();
    // The page learns that the server has no users yet from GET /api/config (Open WebUI's `onboarding`).
    if ((await fetch(`${stack.baseUrl}/api/config`)).ok) {
      expect(await admin.getByRole('heading', { level: 1 }).innerText()).toBe('Welcome to Parley');
      expect(await admin.getByRole('button', { name: 'Create admin account' }).count()).toBe(1);
    }
    await screenshot(admin, 'onboarding');
    await signUp(admin, 'Ada Admin', 'ada@example.com', 'a long password');
    await admin.getByRole('textbox', { name: 'Message' }).waitFor();
    const me = await admin.evaluate(() => fetch('/api/v1/auths/').then((r) => r.json() as Promise<{ role: string }>));
    expect(me.role).toBe('admin');
    // The admin's account menu offers the admin area.
    await admin.getByRole('button', { name: 'Account menu' }).click();
    expect(await admin.getByRole('menuitem', { name: 'Admin' }).count()).toBe(1);
    await admin.keyboard.press('Escape');
  });

  it('the admin chats', async () => {
    await chooseModel(admin, 'fake-model');
    expect(await answered(admin, () => send(admin, 'a secret plan'))).not.toBe('');
    adminChatUrl = new URL(admin.url()).pathname;
    expect(adminChatUrl).toMatch(/^\/c\//);
  });

  it('a second user who signs up waits for approval', async () => {
    await signUp(bob, 'Bob', 'bob@example.com', 'another long password');
    await bob.getByRole('heading', { name: 'Waiting for approval' }).waitFor();
    expect(await bob.getByRole('textbox', { name: 'Message' }).count()).toBe(0);
    await screenshot(bob, 'pending');
  });

  it('the admin approves the pending user in the admin area', async () => {
    await admin.getByRole('button', { name: 'Account menu' }).click();
    await admin.getByRole('menuitem', { name: 'Admin' }).click();
    await admin.waitForURL(/\/admin/);
    const row = admin.locator('tr[data-user-email="bob@example.com"]');
    await row.waitFor();
    expect(await row.getByLabel('Role of bob@example.com').inputValue()).toBe('pending');
    expect(await admin.getByText('1 waiting for approval').count()).toBe(1);
    await screenshot(admin, 'admin-users');
    await row.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => row.getByLabel('Role of bob@example.com').inputValue()).toBe('user');
  });

  it('the approved user gets in without signing in again', async () => {
    await bob.getByRole('button', { name: 'Check again' }).click();
    await bob.getByRole('textbox', { name: 'Message' }).waitFor();
  });

  it("a second user cannot see the first user's chats", async () => {
    await expect.poll(() => bob.locator('.chat-list').innerText()).toContain('No chats yet');
    await bob.getByRole('searchbox', { name: 'Search chats' }).fill('secret');
    await expect.poll(() => bob.locator('.chat-list').innerText()).toContain('No chats match');
    await bob.goto(adminChatUrl);
    await bob.getByRole('heading', { name: 'Could not open this chat' }).waitFor();
    expect(await bob.locator('body').innerText()).not.toContain('a secret plan');
    // And Bob's own chat is his alone.
    await bob.getByRole('button', { name: 'Start a new chat' }).click();
    await chooseModel(bob, 'fake-model');
    await answered(bob, () => send(bob, "bob's question"));
    const api = new ApiClient(stack.baseUrl);
    await api.signIn('ada@example.com', 'a long password');
    const adminChats = await api.request<{ title: string }[]>('GET', '/api/v1/chats/');
    expect(adminChats).toHaveLength(1);
  });

  it('signing out returns to the sign-in form, and signing in again restores the chats', async () => {
    await bob.getByRole('button', { name: 'Account menu' }).click();
    await bob.getByRole('menuitem', { name: 'Sign out' }).click();
    await bob.getByRole('heading', { name: 'Sign in to Parley' }).waitFor();
    await signIn(bob, 'bob@example.com', 'another long password');
    await expect.poll(() => bob.locator('.chat-item').count()).toBe(1);
  });

  it('a wrong password is refused with a clear message', async () => {
    const page = await (await newContext(browser, stack.baseUrl)).newPage();
    await signIn(page, 'bob@example.com', 'not the password');
    await expect.poll(() => page.getByRole('alert').innerText()).toContain('Incorrect email or password');
    await page.close();
  });

  it('logged no errors in the pages', async () => {
    await admin.close();
    await bob.close();
    // 401 on the first /api/v1/auths/ of a signed-out visit is expected; Chromium logs it as a failed resource only.
    expect(errors).toEqual([]);
  });
});
