import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newContext, screenshot, trackErrors } from './support/browser.js';
import { answered, chooseModel, eventually, lastAnswer, send, signIn, signUp } from './support/flows.js';
import { startPixelServer, startScriptedUpstream, type LocalServer, type PixelServer } from './support/scripted-upstream.js';
import { startStack, type Stack } from './support/stack.js';

// The app under its Content-Security-Policy: signing in and out, a streamed Markdown answer with highlighted
// code and KaTeX, body-less POSTs (pin, sign out) through the cross-site guard, and an answer whose image
// would leak data to another site: not fetched by default, fetched once an admin allows remote images.

const markdownAnswer = `Here is a **merge sort**:

\`\`\`python
def merge_sort(items):
    if len(items) <= 1:
        return items
    return sorted(items)
\`\`\`

Inline math $e^{i\\pi} + 1 = 0$ and a display:

$$
T(n) = 2\\,T\\!\\left(\\tfrac{n}{2}\\right) + O(n)
$$

| a | b |
| --- | --- |
| 1 | 2 |`;

let pixels: PixelServer;
let upstream: LocalServer;
let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let errors: string[];
/** Every CSP violation any page of the context reported (securitypolicyviolation events and console messages). */
const violations: string[] = [];
let imageChatUrl = '';

const pixelUrl = () => `${pixels.url}/pixel?d=secret`;

beforeAll(async () => {
  pixels = await startPixelServer();
  upstream = await startScriptedUpstream({
    markdown: markdownAnswer,
    image: `The chart you asked for: ![x](${pixels.url}/pixel?d=secret)`,
  });
  stack = await startStack({ env: { OPENAI_API_BASE_URLS: `${upstream.url}/v1`, ENABLE_TITLE_GENERATION: 'false' } });
  browser = await launchBrowser();
  context = await newContext(browser, stack.baseUrl);
  // Reported from inside every page before its own scripts run (an init script is not subject to the page's CSP).
  await context.exposeBinding('__reportCspViolation', (_source, report: string) => void violations.push(report));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      void (window as unknown as { __reportCspViolation(report: string): Promise<void> }).__reportCspViolation(
        `${event.effectiveDirective} refused ${event.blockedURI || 'inline'} (${event.sourceFile}:${event.lineNumber})`,
      );
    });
  });
  page = await context.newPage();
  errors = trackErrors(page);
  page.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) violations.push(message.text());
  });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await upstream?.close();
  await pixels?.close();
});

describe('the browser edge', () => {
  it('serves the page under a strict Content-Security-Policy', async () => {
    const response = await page.goto('/');
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("img-src 'self' data: blob:;");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response?.headers()['x-frame-options']).toBe('DENY');
    expect(response?.headers()['x-content-type-options']).toBe('nosniff');
  });

  it('the policy is enforced, and this test sees its violations (a control)', async () => {
    await page.evaluate((url) => {
      const image = new Image();
      image.src = url;
      document.body.append(image);
    }, `${pixels.url}/control`);
    // Both reports arrive: the securitypolicyviolation event and the console's refusal.
    await eventually(async () => violations.some((report) => report.startsWith('img-src refused')) && violations.some((report) => /Content.Security.Policy/i.test(report))).toBe(true);
    expect(pixels.hits).toEqual([]);
    // The control's refusal is also logged as a console error; the later tests start clean.
    violations.length = 0;
    errors.length = 0;
  });

  it('signs up, signs out and signs in with no violation', async () => {
    await signUp(page, 'Ada Admin', 'ada@example.com', 'a long password');
    await page.getByRole('textbox', { name: 'Message' }).waitFor();
    // Sign-out is a body-less POST: it passes the cross-site guard only with the app's X-Requested-With.
    await page.getByRole('button', { name: 'Account menu' }).click();
    await page.getByRole('menuitem', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    const signedOut = await page.evaluate(() => fetch('/api/v1/auths/').then((response) => response.status));
    expect(signedOut).toBe(401);
    await signIn(page, 'ada@example.com', 'a long password');
    await page.getByRole('textbox', { name: 'Message' }).waitFor();
    expect(violations).toEqual([]);
  });

  it('streams a Markdown answer with highlighted code and KaTeX math, with no violation', async () => {
    await chooseModel(page, 'scripted');
    const text = await answered(page, () => send(page, 'markdown'));
    expect(text).toContain('merge sort');
    const answer = lastAnswer(page);
    await eventually(() => answer.locator('.hljs-keyword').count()).toBeGreaterThan(0);
    await eventually(() => answer.locator('.katex').count()).toBeGreaterThanOrEqual(2);
    expect(await answer.locator('.katex-display').count()).toBe(1);
    expect(await answer.locator('table td').allInnerTexts()).toEqual(['1', '2']);
    // KaTeX's stylesheet and fonts came from the app's own files: the formula is laid out, not raw TeX.
    await eventually(() => page.evaluate(() => document.fonts.check('16px KaTeX_Main'))).toBe(true);
    await screenshot(page, 'edge-markdown-under-csp');
    expect(violations).toEqual([]);
  });

  it('a body-less POST from the app (pinning the chat) passes the cross-site guard', async () => {
    await page.locator('.chat-item').first().hover();
    await page.getByRole('button', { name: /^Options for / }).first().click();
    await page.getByRole('menuitem', { name: 'Pin' }).click();
    await eventually(() => page.locator('.chat-item').first().locator('svg').count()).toBeGreaterThan(0);
    await page.reload();
    await page.getByRole('button', { name: /^Options for / }).first().click();
    expect(await page.getByRole('menuitem', { name: 'Unpin' }).count()).toBe(1);
    await page.keyboard.press('Escape');
  });

  it('shows a remote image in an answer as a link and fetches nothing', async () => {
    await page.getByRole('button', { name: 'New chat' }).first().click();
    await chooseModel(page, 'scripted');
    await answered(page, () => send(page, 'image'));
    imageChatUrl = page.url();
    const answer = lastAnswer(page);
    const link = answer.locator('a.remote-image');
    expect(await link.getAttribute('href')).toBe(pixelUrl());
    expect(await link.innerText()).toContain(pixelUrl());
    expect(await answer.locator('img').count()).toBe(0);
    // Rendered again from the saved chat: still no image element and no request for it.
    await page.reload();
    await lastAnswer(page).locator('a.remote-image').waitFor();
    expect(await page.locator('.markdown img').count()).toBe(0);
    const requested = await page.evaluate((origin) => performance.getEntriesByType('resource').filter((entry) => entry.name.startsWith(origin)).length, pixels.url);
    expect(requested).toBe(0);
    expect(pixels.hits).toEqual([]);
    await screenshot(page, 'edge-remote-image-as-link');
    expect(violations).toEqual([]);
  });

  it('once an admin allows remote images (admin settings), the answer shows the image', async () => {
    await page.goto('/admin/general');
    const toggle = page.getByRole('checkbox', { name: /Show images from other sites/ });
    expect(await toggle.isChecked()).toBe(false);
    await toggle.check();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    await screenshot(page, 'edge-admin-remote-images');
    await page.goto(imageChatUrl);
    const image = lastAnswer(page).locator('.markdown img');
    await image.waitFor();
    expect(await image.getAttribute('src')).toBe(pixelUrl());
    await eventually(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(1);
    expect(pixels.hits).toContain('?d=secret');
    expect(violations).toEqual([]);
  });

  it('logged no errors in the page', () => {
    expect(errors).toEqual([]);
  });
});
