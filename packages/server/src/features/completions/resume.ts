import type { ServerResponse } from 'node:http';
import { eventStreamHeaders, sseDone, sseEvent } from '../../http/sse.js';
import type { FollowedGeneration } from '../generations/generations.service.js';
import { toSseText, upstreamErrorData } from './openai-writers.js';

const pollMs = 1000;

/**
 * Replays a generation's log after batch `afterSeq` and follows it live until
 * it ends or the client leaves, as OpenAI SSE with `id:` lines. When nobody
 * runs the generation any more, asks for a takeover.
 */
export async function followGeneration(res: ServerResponse, generation: FollowedGeneration, afterSeq: number, headers: Record<string, string>): Promise<void> {
  let isGone = false;
  res.on('close', () => (isGone = true));
  res.writeHead(200, { ...eventStreamHeaders, ...headers });
  let position: string | null = null;
  while (!isGone) {
    const rows = await generation.read(position, pollMs);
    for (const { position: next, entry } of rows) {
      position = next;
      if (entry.kind === 'events') {
        if (entry.seq <= afterSeq) continue;
        const text = toSseText(entry.events, generation.info, false, entry.seq);
        if (text) res.write(text);
      } else if (entry.kind === 'takeover') {
        // A client that saw a batch after the takeover saw the takeover too; at equal numbers it may
        // not have (the event has no id of its own), and seeing it twice changes nothing.
        if (entry.seq < afterSeq) continue;
        // Parley's own event (no `choices`): the answer continues on another instance.
        res.write(sseEvent(JSON.stringify({ parley: { event: 'takeover', mode: entry.mode } })));
      } else {
        if (entry.outcome.status === 'error' && entry.outcome.error) res.write(sseEvent(upstreamErrorData(entry.outcome.error)));
        res.end(sseDone);
        return;
      }
    }
    if (rows.length === 0 && !isGone && !(await generation.isRunning())) await generation.takeOver();
  }
}
