import type { Reply } from './determinism.js';
import { MIDSTREAM_TOKENS, midstreamFaultOf, passUpstreamFaults } from './faults.js';
import { sendJson } from './http.js';
import type { ModelId } from './models.js';
import { pause, writePaced } from './pacing.js';
import { answerPoisoned } from './poison.js';
import { isPoisonModel } from './poison-models.js';
import type { GenerationFormat, RequestContext } from './types.js';

export type { GenerationFormat } from './types.js';

/** Answers a chat or generate request: faults, pacing, streaming or not, all formats alike. */
export async function runGeneration(
  ctx: RequestContext,
  model: ModelId,
  reply: Reply,
  isStreaming: boolean,
  format: GenerationFormat,
): Promise<void> {
  if (!(await passUpstreamFaults(ctx, model, format.dialect, isStreaming))) return;
  if (isPoisonModel(model) && !(await answerPoisoned(ctx, model, reply, isStreaming, format))) return;
  const { res, signal, options } = ctx;
  if (!isStreaming) {
    // A real upstream needs as long to answer in one piece as it would to stream.
    const generationMs = options.ttftMs + options.tokenMs * Math.max(0, reply.tokens.length - 1);
    if (await pause(generationMs, signal)) sendJson(res, 200, format.whole(reply));
    return;
  }
  const fault = midstreamFaultOf(model);
  const count = fault === null ? reply.tokens.length : Math.min(MIDSTREAM_TOKENS, reply.tokens.length);
  // Frames are built before the first byte so the paced loop does nothing but write.
  const frames = new Array<string>(count);
  for (let i = 0; i < count; i++) frames[i] = format.frame(reply.tokens[i] as string, i);

  res.writeHead(200, { 'content-type': format.contentType, 'cache-control': 'no-cache' });
  // Headers go out now, as a real upstream does, so the client can tell TTFT from connect time.
  res.flushHeaders();
  if (!(await writePaced(res, frames, options, signal, fault === 'drop'))) return;
  if (fault === 'error') res.end(format.errorFrame);
  else if (fault === 'drop') res.socket?.destroy();
  else if (fault === null) res.end(format.tail(reply));
  // 'stall': write nothing more; the 'close' of the response aborts the signal when the client leaves.
}
