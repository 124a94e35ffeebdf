import type { ServerResponse } from 'node:http';
import type { GenerationLog, GenerationRecord } from './generation-log.js';
import { eventStreamHeaders, toSseText } from './openai-writers.js';

const pollMs = 1000;

/**
 * Replays a generation's log after batch `afterSeq` and follows it live until
 * it ends or the client leaves, as OpenAI SSE with `id:` lines. When nobody
 * holds the generation's lease any more, asks for a takeover.
 */
export async function followGeneration(
  res: ServerResponse,
  record: GenerationRecord,
  log: GenerationLog,
  afterSeq: number,
  takeOver: () => Promise<boolean>,
  headers: Record<string, string>,
): Promise<void> {
  let isGone = false;
  res.on('close', () => (isGone = true));
  res.writeHead(200, { ...eventStreamHeaders, ...headers });
  const id = record.info.id;
  let position: string | null = null;
  while (!isGone) {
    const rows = await log.read(id, position, pollMs);
    for (const { position: next, entry } of rows) {
      position = next;
      if (entry.kind === 'events') {
        if (entry.seq <= afterSeq) continue;
        const text = toSseText(entry.events, record.info, false, entry.seq);
        if (text) res.write(text);
      } else if (entry.kind === 'takeover') {
        // A client that saw a batch after the takeover saw the takeover too; at equal numbers it may
        // not have (the event has no id of its own), and seeing it twice changes nothing.
        if (entry.seq < afterSeq) continue;
        // Parley's own event (no `choices`): the answer continues on another instance.
        res.write(`data: ${JSON.stringify({ parley: { event: 'takeover', mode: entry.mode } })}\n\n`);
      } else {
        if (entry.outcome.status === 'error' && entry.outcome.error) {
          res.write(`data: ${JSON.stringify({ error: { message: entry.outcome.error, type: 'upstream_error' } })}\n\n`);
        }
        res.end('data: [DONE]\n\n');
        return;
      }
    }
    if (rows.length === 0 && !isGone && (await log.owner(id)) === null) await takeOver();
  }
}
