import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api.js';
import { launchBrowser, newContext, screenshot, trackErrors } from './support/browser.js';
import { answered, chooseModel, eventually, send, signUp } from './support/flows.js';
import { startStack, type Stack } from './support/stack.js';

let stack: Stack;
let browser: Browser;
let page: Page;
let errors: string[];
const rows = () => page.locator('.audit__table tbody tr');

beforeAll(async () => {
  stack = await startStack({ env: { ENABLE_TITLE_GENERATION: 'false' } });
  browser = await launchBrowser();
  page = await (await newContext(browser, stack.baseUrl)).newPage();
  errors = trackErrors(page);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('admin: audit log', () => {
  it('the admin signs up and chats; another account signs up; someone guesses', async () => {
    await signUp(page, 'Ada Admin', 'ada@example.com', 'a long password');
    await chooseModel(page, 'fake-model');
    await answered(page, () => send(page, 'hello there'));
    await new ApiClient(stack.baseUrl).signUp('Bob', 'bob@example.com', 'another long password');
    const refused = await fetch(`${stack.baseUrl}/api/v1/auths/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'mallory@example.com', password: 'guessing' }),
    });
    expect(refused.status).toBe(401);
  });

  it('lists, filters and exports what happened', async () => {
    await page.goto('/admin/audit');
    await page.getByRole('tab', { name: 'Audit log', selected: true }).waitFor();
    await eventually(() => rows().count()).toBe(3);
    const failure = page.locator('.audit__table tr[data-action="auth.signin.failure"]');
    expect(await failure.innerText()).toContain('mallory@example.com');
    await screenshot(page, 'admin-audit-log');

    await page.getByRole('combobox', { name: 'Action' }).selectOption('auth.signup');
    await eventually(() => rows().count()).toBe(2);
    expect(await page.locator('.audit__table tr[data-action="auth.signup"]').count()).toBe(2);

    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Export CSV' }).click();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'parley-audit-')), 'audit.csv');
    await (await download).saveAs(file);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\r\n');
    expect(lines[0]).toBe('time,action,actor_id,actor_email,target_type,target_id,ip,request_id,details,id');
    expect(lines.slice(1).map((line) => line.split(',')[1])).toEqual(['auth.signup', 'auth.signup']);
    expect(lines.slice(1).map((line) => line.split(',')[3]).sort()).toEqual(['ada@example.com', 'bob@example.com']);
    expect(errors).toEqual([]);
  });
});

describe('admin: usage', () => {
  it('draws tokens per day and per model, and lists the top users', async () => {
    await page.getByRole('tab', { name: 'Usage' }).click();
    await page.locator('.usage-tile').first().waitFor();
    const tiles = await page.locator('.usage-tile').allInnerTexts();
    expect(tiles[0]?.replace(/\s+/g, ' ')).toBe('1 Messages');
    // uPlot draws each chart on a canvas sized to the page.
    await eventually(() => page.locator('.usage-chart canvas').count()).toBe(2);
    const width = await page.locator('.usage-chart canvas').first().evaluate((canvas) => (canvas as HTMLCanvasElement).width);
    expect(width).toBeGreaterThan(300);
    expect(await page.locator('table', { hasText: 'fake-model' }).count()).toBe(1);
    expect(await page.locator('table', { hasText: 'ada@example.com' }).count()).toBe(1);
    await screenshot(page, 'admin-usage');

    await page.getByRole('button', { name: 'Last 7 days' }).click();
    await eventually(() => page.getByRole('button', { name: 'Last 7 days' }).getAttribute('aria-pressed')).toBe('true');
    await eventually(() => page.locator('.usage-chart canvas').count()).toBe(2);
    expect(errors).toEqual([]);
  });
});
