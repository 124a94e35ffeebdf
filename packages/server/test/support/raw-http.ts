import net from 'node:net';

/** One HTTP/1.1 response as read off the wire. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What a client that sends a long body while reading saw. */
export interface RawExchange {
  /** The responses parsed so far, in order. */
  responses: RawResponse[];
  /** Body bytes the client wrote before it stopped (all of them unless the connection broke). */
  written: number;
  /** The socket error the client got, if any (EPIPE, ECONNRESET). */
  error?: string;
  /** Sends more bytes on the same connection (a second request) and waits for `count` responses in all. */
  send(text: string, count: number): Promise<RawResponse[]>;
  close(): void;
}

/** Parses as many complete responses (bodies with Content-Length) as `data` holds. */
export function parseResponses(data: Buffer): RawResponse[] {
  const responses: RawResponse[] = [];
  let offset = 0;
  for (;;) {
    const headEnd = data.indexOf('\r\n\r\n', offset);
    if (headEnd < 0) return responses;
    const [statusLine, ...lines] = data.subarray(offset, headEnd).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    if (data.length < headEnd + 4 + length) return responses;
    responses.push({ status: Number(statusLine!.split(' ')[1]), headers, body: data.subarray(headEnd + 4, headEnd + 4 + length).toString('utf8') });
    offset = headEnd + 4 + length;
  }
}

/**
 * Sends `head` and then `bodyBytes` bytes of body (chunked when `chunked`) as fast as the socket
 * takes them, reading whatever comes back meanwhile, as a client that does not wait for an early
 * answer does. Resolves when the body is written or the connection broke.
 */
export async function sendLongBody(port: number, head: string, bodyBytes: number, options: { chunked?: boolean } = {}): Promise<RawExchange> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = Buffer.alloc(0);
  let error: string | undefined;
  let isClosed = false;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of waiters) waiter();
  };
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    wake();
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    error ??= err.code ?? err.message;
    wake();
  });
  socket.on('close', () => {
    isClosed = true;
    wake();
  });
  const until = (condition: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (condition() || isClosed || error) {
          waiters.delete(check);
          resolve();
        }
      };
      waiters.add(check);
      check();
    });

  socket.write(head);
  const piece = Buffer.alloc(1024 * 1024, 'a');
  let written = 0;
  while (written < bodyBytes && !error && !isClosed) {
    const size = Math.min(piece.length, bodyBytes - written);
    const data = options.chunked ? Buffer.concat([Buffer.from(`${size.toString(16)}\r\n`), piece.subarray(0, size), Buffer.from('\r\n')]) : piece.subarray(0, size);
    const isFlushed = socket.write(data);
    written += size;
    if (!isFlushed) await new Promise<void>((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        socket.off('error', done);
        resolve();
      };
      socket.on('drain', done).on('close', done).on('error', done);
    });
  }
  if (options.chunked && !error && !isClosed) socket.write('0\r\n\r\n');
  // Written does not mean sent: wait for the first answer (or the broken connection).
  await until(() => parseResponses(received).length > 0);
  return {
    get responses() {
      return parseResponses(received);
    },
    written,
    get error() {
      return error;
    },
    async send(text: string, count: number) {
      socket.write(text);
      await until(() => parseResponses(received).length >= count);
      return parseResponses(received);
    },
    close: () => socket.destroy(),
  };
}
