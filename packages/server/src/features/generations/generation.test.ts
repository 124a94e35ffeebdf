import { describe, expect, it } from 'vitest';
import { UpstreamError, type UpstreamEvent } from '../../platform/llm/types.js';
import type { UpstreamSink, UpstreamStream } from '../../platform/llm/upstream-stream.js';
import { Generation, type GenerationInfo, type GenerationListener, type GenerationOutcome, type GenerationStart } from './generation.js';

const info: GenerationInfo = { id: 'gen-7', userId: 'u1', model: 'm', upstreamModel: 'm', connectionId: 'c1', hasRawChunks: false, createdAt: 0 };

/** A generation over a stream driven by hand, with its guard reports and the batches its listener saw. */
function generationWith(options: { listener?: Partial<GenerationListener>; start?: Partial<GenerationStart> } = {}) {
  let sink: UpstreamSink | undefined;
  let cancels = 0;
  const stream: UpstreamStream = { pipe: (attached) => void (sink = attached), cancel: () => void cancels++ };
  const trips: Array<{ where: string; id: string | undefined }> = [];
  const seen: UpstreamEvent[][] = [];
  const listener: GenerationListener = { onEvents: (batch) => void seen.push(batch), onEnd: () => undefined, ...options.listener };
  const generation = new Generation(info, stream, listener, {
    startedAt: 0,
    clock: { now: () => 10 },
    onGuardTrip: (_error, where, id) => void trips.push({ where, id }),
    presentUpstreamError: (_info, message, detail) => `shown(${message}|${detail})`,
    ...options.start,
  });
  return { generation, sink: sink!, trips, seen, cancels: () => cancels };
}

describe('Generation, the sink of an upstream stream', () => {
  it('turns an exception of its listener into the end of this answer, reported with its id', async () => {
    const { generation, sink, trips, cancels } = generationWith({
      listener: {
        onEvents: () => {
          throw new TypeError('writer bug');
        },
      },
    });
    expect(() => sink.onBatch([{ type: 'delta', content: 'a' }])).not.toThrow();
    const outcome = await generation.done;
    expect(outcome).toMatchObject({ status: 'error', error: 'Parley could not relay the answer (internal error)', content: 'a' });
    expect(trips).toEqual([{ where: 'sink', id: 'gen-7' }]);
    expect(cancels()).toBe(1);
    expect(sink.streamId).toBe('gen-7');
  });

  it('shows an upstream error through the presenter; the upstream words go no further', async () => {
    const { generation, sink, seen } = generationWith();
    sink.onBatch([{ type: 'delta', content: 'a' }, { type: 'error', message: 'upstream reported an error', detail: 'secret-ish words' }]);
    const outcome = await generation.done;
    expect(seen.at(-1)).toEqual([{ type: 'delta', content: 'a' }, { type: 'error', message: 'shown(upstream reported an error|secret-ish words)' }]);
    expect(outcome.error).toBe('shown(upstream reported an error|secret-ish words)');
  });

  it('shows a broken-off stream’s detail the same way, and Parley’s own words as they are', async () => {
    const detailed = generationWith();
    detailed.sink.onEnd(new UpstreamError('network', 'upstream request failed', undefined, undefined, 'getaddrinfo for a host'));
    expect((await detailed.generation.done).error).toBe('shown(upstream request failed|getaddrinfo for a host)');
    const plain = generationWith();
    plain.sink.onEnd(new UpstreamError('timeout', 'upstream stopped sending mid-stream'));
    expect((await plain.generation.done).error).toBe('upstream stopped sending mid-stream');
  });

  it('still tells its listener the end when recording it fails, and reports that', async () => {
    const ends: GenerationOutcome[] = [];
    const { generation, sink, trips } = generationWith({
      listener: { onEnd: (outcome) => void ends.push(outcome) },
      start: { recordEnd: () => Promise.reject(new Error('save bug')) },
    });
    sink.onEnd(null);
    expect((await generation.done).status).toBe('done');
    expect(ends).toHaveLength(1);
    expect(trips).toEqual([{ where: 'sink', id: 'gen-7' }]);
  });
});
