import type { FastifyInstance } from 'fastify';

/** How much of a refused request's body is still read (and thrown away), and for how long, before the connection is cut. */
export interface DrainLimits {
  maxBytes: number;
  maxMs: number;
}

/** Enough for a client that sends a whole oversized upload before it reads the answer; bounded against a client that never stops. */
export const defaultDrainLimits: DrainLimits = { maxBytes: 64 * 1024 * 1024, maxMs: 30_000 };

/**
 * Lets a client that is still sending a body read the answer it got early (413 for a body over the
 * limit, 401, 415, …).
 *
 * Fastify answers such a request with `Connection: close`, and Node closes the socket right after
 * the answer while body bytes are still arriving: the kernel then resets the connection, and a
 * client still writing (undici's `fetch`) fails with EPIPE or ECONNRESET instead of seeing the
 * answer. Here the connection stays open while the rest of the body is read and discarded, up to
 * `maxBytes` or `maxMs`; past either the connection is cut. A fully read body leaves a clean
 * connection, which stays usable (or is closed gracefully when the client asked for that).
 */
export function installRejectedBodyDrain(app: FastifyInstance, limits: DrainLimits = defaultDrainLimits): void {
  app.addHook('onSend', async (request, reply, payload) => {
    const req = request.raw;
    if (req.complete || req.readableEnded || req.destroyed) return payload;
    // Keep the socket open past the answer; it is closed below once the body is read, or cut at the limits.
    reply.removeHeader('connection');
    reply.raw.shouldKeepAlive = true;
    const socket = req.socket;
    const clientAsksToClose = /\bclose\b/i.test(request.headers.connection ?? '');
    let received = 0;
    let isAnswerSent = false;
    let isBodyRead = false;
    const cut = () => {
      stop();
      socket.destroy();
    };
    const timer = setTimeout(cut, limits.maxMs);
    timer.unref();
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limits.maxBytes) cut();
    };
    const closeIfAsked = () => {
      if (isAnswerSent && isBodyRead && clientAsksToClose) socket.end();
    };
    const onEnd = () => {
      isBodyRead = true;
      stop();
      closeIfAsked();
    };
    const onFinish = () => {
      isAnswerSent = true;
      closeIfAsked();
    };
    function stop() {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      socket.off('close', stop);
    }
    req.on('data', onData);
    req.on('end', onEnd);
    socket.on('close', stop);
    reply.raw.once('finish', onFinish);
    // A body Fastify never started reading (Content-Length over the limit) must flow to be discarded.
    req.resume();
    return payload;
  });
}
