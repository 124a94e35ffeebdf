import type { FastifyReply } from 'fastify';
import type { AuthUser } from '../../http/access.js';
import { httpErrors } from '../../http/errors.js';
import type { CompletionBody } from './completions.schema.js';
import type { CompletionsService } from './completions.service.js';
import type { Generation, GenerationListener, GenerationOutcome, StreamingListener } from '../generations/generations.service.js';

const silentListener: GenerationListener = { onEvents: () => undefined, onEnd: () => undefined };

/** Keeps a saved generation running if its client leaves; an unsaved one is stopped. */
export function whenClientLeaves(raw: { on(event: 'close', fn: () => void): unknown; writableFinished: boolean; destroyed: boolean }, generation: Generation): void {
  const leave = () => {
    if (raw.writableFinished) return;
    if (generation.info.chat) generation.detach();
    else generation.stop();
  };
  if (raw.destroyed) leave();
  else raw.on('close', leave);
}

/**
 * Streams a generation to the client through `listener` (whatever the wire format).
 * Failures before the stream still become ordinary JSON errors: the reply is hijacked only after.
 */
export async function relayStream(
  reply: FastifyReply,
  completions: CompletionsService,
  user: AuthUser,
  body: CompletionBody,
  listener: StreamingListener,
): Promise<FastifyReply> {
  const generation = await completions.start(user, body, listener, { isRelayed: true });
  reply.hijack();
  listener.ensureHead({ 'x-parley-generation-id': generation.info.id, 'x-parley-resumable': String(completions.isResumable(generation.info)) });
  whenClientLeaves(reply.raw, generation);
  // The generation writes the rest from undici's callbacks; a handler waiting for its end would
  // only keep a suspended frame and its promises alive per held stream.
  return reply;
}

/** Runs a generation to its end for a non-streamed answer; a failure mid-answer is a 502. */
export async function runToEnd(
  reply: FastifyReply,
  completions: CompletionsService,
  user: AuthUser,
  body: CompletionBody,
): Promise<{ generation: Generation; outcome: GenerationOutcome }> {
  const generation = await completions.start(user, body, silentListener);
  whenClientLeaves(reply.raw, generation);
  const outcome = await generation.done;
  if (outcome.status === 'error') throw httpErrors.upstream(outcome.error ?? 'upstream failed mid-answer');
  reply.header('x-parley-generation-id', generation.info.id);
  return { generation, outcome };
}
