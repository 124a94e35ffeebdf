import { describe, expect, it } from 'vitest';
import { countWithin, startedEarly } from './chats.export.js';

describe('countWithin', () => {
  const sizes = (...bytes: number[]) => bytes.map((b) => ({ bytes: b }));

  it('takes messages in order while they fit the budget', () => {
    expect(countWithin(sizes(1, 2, 3, 4), 6)).toBe(3);
    expect(countWithin(sizes(1, 2, 3, 4), 5)).toBe(2);
    expect(countWithin(sizes(1, 2), 100)).toBe(2);
  });

  it('always takes at least one, so a message over the budget still goes (alone)', () => {
    expect(countWithin(sizes(50, 1), 10)).toBe(1);
  });
});

describe('startedEarly', () => {
  it('reads the first item before it resolves, then hands out every item once', async () => {
    const reads: number[] = [];
    async function* source() {
      for (const n of [1, 2, 3]) {
        reads.push(n);
        yield n;
      }
    }
    const started = await startedEarly(source());
    expect(reads).toEqual([1]);
    const seen: number[] = [];
    for await (const n of started) seen.push(n);
    expect(seen).toEqual([1, 2, 3]);
  });

  it('fails before anything is handed out when the first read fails', async () => {
    // eslint-disable-next-line require-yield -- a source that fails on its first read
    async function* failing(): AsyncGenerator<number> {
      throw new Error('database down');
    }
    await expect(startedEarly(failing())).rejects.toThrow('database down');
  });

  it('stops the source when the consumer stops early', async () => {
    let isClosed = false;
    async function* source() {
      try {
        for (let n = 0; ; n++) yield n;
      } finally {
        isClosed = true;
      }
    }
    for await (const n of await startedEarly(source())) if (n === 2) break;
    expect(isClosed).toBe(true);
  });
});
