import { describe, expect, it } from 'vitest';
import { jsonPieces } from './json-pieces.js';

/** A small seeded generator (mulberry32), so a failure names a case that can be replayed. */
function randomFrom(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Any UTF-16 text: ASCII, characters JSON escapes, astral pairs and lone surrogates. */
function randomText(random: () => number, maxLength: number): string {
  const units = ['a', 'Z', ' ', '"', '\\', '\n', '\u0000', '\u001f', 'é', '€', '\ud83d', '\ude00', '😀'];
  let text = '';
  const length = Math.floor(random() * maxLength);
  for (let i = 0; i < length; i++) text += units[Math.floor(random() * units.length)];
  return text;
}

/** A random JSON value up to `depth` levels deep. */
function randomJson(random: () => number, depth: number): unknown {
  const kind = Math.floor(random() * (depth > 0 ? 8 : 5));
  switch (kind) {
    case 0: return null;
    case 1: return random() < 0.5;
    case 2: return Math.floor(random() * 2e6) - 1e6 + (random() < 0.3 ? random() : 0);
    case 3:
    case 4: return randomText(random, 40);
    case 5:
    case 6: return Object.fromEntries(Array.from({ length: Math.floor(random() * 5) }, () => [randomText(random, 6), randomJson(random, depth - 1)]));
    default: return Array.from({ length: Math.floor(random() * 5) }, () => randomJson(random, depth - 1));
  }
}

const joined = (value: unknown, pieceSize?: number) => [...jsonPieces(value, pieceSize)].join('');

describe('jsonPieces', () => {
  it('joins to exactly what JSON.stringify writes, for any JSON-like value and piece size', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const random = randomFrom(seed);
      const value = randomJson(random, 4);
      const pieceSize = 1 + Math.floor(random() * 64);
      expect(joined(value, pieceSize), `seed ${seed}`).toBe(JSON.stringify(value));
    }
  });

  it('keeps surrogate pairs, lone surrogates and escapes intact across slices of a long string', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const random = randomFrom(seed);
      const text = randomText(random, 300);
      const pieceSize = 1 + Math.floor(random() * 16);
      expect(joined({ text }, pieceSize), `seed ${seed}`).toBe(JSON.stringify({ text }));
    }
    const text = `"\\\n😀`.repeat(1000);
    expect(joined([text], 7)).toBe(JSON.stringify([text]));
  });

  it('leaves out what JSON.stringify leaves out, and honours toJSON', () => {
    const value = { a: undefined, b: () => 1, c: Symbol('s'), d: [undefined, () => 1], e: new Date(0), f: { toJSON: (key: string) => `key ${key}` }, g: NaN };
    expect(joined(value, 4)).toBe(JSON.stringify(value));
    expect(joined(undefined)).toBe('');
  });

  it('hands a long answer out in pieces near the piece size, never as one string', () => {
    const chat = { history: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`m${i}`, { content: 'x'.repeat(100_000) }])) };
    const pieces = [...jsonPieces(chat, 16 * 1024)];
    expect(pieces.length).toBeGreaterThan(100);
    expect(Math.max(...pieces.map((piece) => piece.length))).toBeLessThan(2 * 16 * 1024 + 100);
    expect(pieces.join('')).toBe(JSON.stringify(chat));
  });
});
