const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/**
 * `JSON.stringify(value)` handed out in pieces of about `pieceSize` characters, so a large answer
 * (an export of many chats) is written a bit at a time: no string of the whole is ever built, and
 * the event loop gets a turn between pieces instead of stalling on one big stringify. Joined, the
 * pieces equal `JSON.stringify(value)` (plain data: objects, arrays, strings, numbers, booleans, null,
 * `toJSON` honoured; undefined, functions and symbols left out as JSON.stringify leaves them out).
 */
export function* jsonPieces(value: unknown, pieceSize = 64 * 1024): Generator<string> {
  let parts: string[] = [];
  let size = 0;
  const add = (text: string) => {
    parts.push(text);
    size += text.length;
  };
  const take = () => {
    const piece = parts.join('');
    parts = [];
    size = 0;
    return piece;
  };

  /** What JSON.stringify writes for `v` under `key`: its toJSON() result when it has one. */
  const resolve = (v: unknown, key: string): unknown =>
    v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function' ? (v as { toJSON(key: string): unknown }).toJSON(key) : v;
  /** Whether JSON.stringify writes anything for this value (in an object, the key is skipped otherwise). */
  const isWritten = (v: unknown) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol';

  function* write(v: unknown): Generator<string> {
    if (typeof v === 'string' && v.length > pieceSize) {
      yield* writeLongString(v);
    } else if (Array.isArray(v)) {
      add('[');
      for (let i = 0; i < v.length; i++) {
        if (i > 0) add(',');
        const item = resolve(v[i], String(i));
        if (isWritten(item)) yield* write(item);
        else add('null');
      }
      add(']');
    } else if (v !== null && typeof v === 'object') {
      add('{');
      let isFirst = true;
      for (const [key, raw] of Object.entries(v)) {
        const child = resolve(raw, key);
        if (!isWritten(child)) continue;
        add(`${isFirst ? '' : ','}${JSON.stringify(key)}:`);
        isFirst = false;
        yield* write(child);
      }
      add('}');
    } else {
      add(JSON.stringify(v) ?? 'null');
    }
    if (size >= pieceSize) yield take();
  }

  /** A string in slices, each escaped alone; a slice never ends between the two halves of a surrogate pair. */
  function* writeLongString(text: string): Generator<string> {
    add('"');
    for (let start = 0; start < text.length; ) {
      let end = Math.min(start + pieceSize, text.length);
      if (isHighSurrogate(text.charCodeAt(end - 1)) && isLowSurrogate(text.charCodeAt(end))) end += end - 1 > start ? -1 : 1;
      add(JSON.stringify(text.slice(start, end)).slice(1, -1));
      start = end;
      if (size >= pieceSize) yield take();
    }
    add('"');
  }

  const top = resolve(value, '');
  if (isWritten(top)) yield* write(top);
  if (size > 0) yield take();
}
