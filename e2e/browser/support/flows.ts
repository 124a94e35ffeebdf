import type { Page } from 'playwright-core';
import { expect } from 'vitest';

/** Polls `read` until it passes `check` (vitest's expect.poll with a generous default). */
export function eventually<T>(read: () => Promise<T>, timeout = 15_000) {
  return expect.poll(read, { timeout, interval: 100 });
}

/** Signs in through the form. */
export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Creates an account through the form (the sign-up link when the page opens on sign-in). */
export async function signUp(page: Page, name: string, email: string, password: string): Promise<void> {
  await page.goto('/');
  const heading = page.getByRole('heading', { level: 1 });
  await heading.waitFor();
  if ((await heading.textContent()) === 'Sign in to Parley') await page.getByRole('button', { name: 'Create an account' }).click();
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: /^Create (admin )?account$/ }).click();
}

/** Picks a model in the header's picker once the list has loaded. */
export async function chooseModel(page: Page, model: string): Promise<void> {
  const picker = page.getByLabel('Model', { exact: true });
  // selectOption waits for the option to exist, i.e. for the model list to load.
  await picker.selectOption(model, { timeout: 15_000 });
}

/** Types a message and presses Enter. */
export async function send(page: Page, text: string): Promise<void> {
  const input = page.getByRole('textbox', { name: 'Message' });
  await input.fill(text);
  await input.press('Enter');
}

/** The text of the last answer on screen. */
export function lastAnswer(page: Page) {
  return page.locator('.message-row[data-role="assistant"]').last();
}

/** Ids of the answers on screen. */
function answerIds(page: Page): Promise<string[]> {
  return page.locator('.message-row[data-role="assistant"]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-message-id') ?? ''));
}

/**
 * Runs `action` (which makes a new answer: send, edit, regenerate, retry) and
 * resolves with the new answer's text once it has ended and the page has
 * reloaded it from the server (its row then carries the server's id).
 */
export async function answered(page: Page, action: () => Promise<void>, timeout = 30_000): Promise<string> {
  const before = new Set(await answerIds(page));
  await action();
  let fresh: string | undefined;
  await expect
    .poll(
      async () => {
        fresh = (await answerIds(page)).find((id) => !before.has(id) && !id.startsWith('local-'));
        if (!fresh) return false;
        const row = page.locator(`.message-row[data-message-id="${fresh}"]`);
        if ((await row.getAttribute('aria-busy')) === 'true' || (await page.getByRole('button', { name: 'Stop generating' }).count()) > 0) return false;
        // Between the new answer getting its id and its stream starting, the row is neither busy nor filled yet.
        const text = (await row.locator('.markdown').count()) > 0 ? (await row.locator('.markdown').innerText()).trim() : '';
        return text !== '' || (await row.getByRole('alert').count()) > 0;
      },
      { timeout, interval: 50 },
    )
    .toBe(true);
  const row = page.locator(`.message-row[data-message-id="${fresh}"]`);
  return (await row.locator('.markdown').count()) > 0 ? (await row.locator('.markdown').innerText()).trim() : '';
}

/**
 * Records each distinct text the streaming answer shows, so a test can see that
 * it arrived in pieces (token by token) rather than all at once.
 */
export async function recordStreaming(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { __streamed: string[] }).__streamed = seen;
    const observer = new MutationObserver(() => {
      const rows = document.querySelectorAll('.message-row[data-role="assistant"]');
      const text = rows[rows.length - 1]?.querySelector('.markdown')?.textContent ?? '';
      if (text && text !== seen[seen.length - 1]) seen.push(text);
    });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

/** What recordStreaming saw. */
export function streamedTexts(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __streamed: string[] }).__streamed);
}
