import type { UpstreamStream } from '../../platform/llm/upstream-stream.js';
import type { ChatRequest, UpstreamTarget } from '../../platform/llm/types.js';
import type { Platform } from '../../platform/platform.js';
import { streamGuardReport } from '../../platform/llm/stream-guard.js';
import type { RecordAnswerEnd } from './answer-end.js';
import {
  Generation,
  type GenerationInfo,
  type GenerationListener,
  type GenerationOutcome,
  type GenerationStart,
  type UpstreamErrorPresenter,
} from './generation.js';
import type { GenerationLog } from './generation-log.js';
import type { TitleChat } from './title.js';

export interface RunnerDeps {
  generationLog: GenerationLog;
  recordAnswerEnd: RecordAnswerEnd;
  titleChat: TitleChat;
  presentUpstreamError: UpstreamErrorPresenter;
}

const noLease = () => undefined;

/**
 * Runs generations to their end on this instance: relays, logs (for resume),
 * holds the leases of saved ones, and records how each ended.
 */
export function createGenerationRunner(platform: Platform, { generationLog, recordAnswerEnd, titleChat, presentUpstreamError }: RunnerDeps) {
  const { clock, lifecycle, log, metrics } = platform;
  const onGuardTrip = streamGuardReport(log, metrics.streamGuardTrips);
  const running = new Map<string, Generation>();

  /**
   * Runs once the end is recorded and the client told: titles a new chat, lets the lease go.
   * Never rejects, and lets the lease go whatever happens.
   */
  async function afterEnd(
    generation: Generation,
    outcome: GenerationOutcome,
    target: UpstreamTarget,
    request: ChatRequest,
    recorded: Promise<boolean> | undefined,
    releaseLease: () => void,
  ): Promise<void> {
    try {
      running.delete(generation.info.id);
      if (await recorded) await titleChat(generation.info, target, request, outcome);
    } catch (error) {
      log.error({ err: error, generation: generation.info.id }, 'failed to title a chat');
    } finally {
      releaseLease();
    }
  }

  /**
   * Runs an opened upstream stream to its end; saved generations are logged and leased. `releaseLease`
   * lets go of a lease held since before the upstream answered (opening it may outlast the lease).
   */
  function launch(
    info: GenerationInfo,
    request: ChatRequest,
    target: UpstreamTarget,
    stream: UpstreamStream,
    listener: GenerationListener,
    start: Pick<GenerationStart, 'startedAt' | 'content' | 'lastSeq' | 'keepsText'> & { releaseLease?: () => void },
  ): Generation {
    const isLogged = info.chat !== undefined;
    const releaseLease = start.releaseLease ?? (isLogged ? generationLog.holdLease(info.id) : noLease);
    let recorded: Promise<boolean> | undefined;
    // Spelled out, not spread: every generation's start then shares one hidden class.
    const generation = new Generation(info, stream, listener, {
      startedAt: start.startedAt,
      clock,
      content: start.content,
      lastSeq: start.lastSeq,
      keepsText: start.keepsText,
      onBatch: isLogged ? (seq, events) => generationLog.append(info.id, { seq, kind: 'events', events }) : undefined,
      // The client hears the end once the answer is saved; usage, metrics and events follow.
      recordEnd: (outcome, lastSeq) =>
        new Promise<void>((onSaved) => {
          recorded = recordAnswerEnd(info, outcome, { kind: 'streamed', lastSeq, onSaved });
        }),
      presentUpstreamError,
      onGuardTrip,
    });
    running.set(info.id, generation);
    metrics.generationsStarted.inc({ model: info.model, connection: info.connectionId });
    metrics.activeStreams.inc();
    // One reaction on `done` while the stream is held, not a then/catch/finally chain.
    lifecycle.track(generation.done.then((outcome) => afterEnd(generation, outcome, target, request, recorded, releaseLease)));
    return generation;
  }

  return {
    launch,
    /** The generation if it runs on this instance. */
    local: (id: string): Generation | undefined => running.get(id),
  };
}

export type GenerationRunner = ReturnType<typeof createGenerationRunner>;
