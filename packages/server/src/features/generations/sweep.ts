import type { Platform } from '../../platform/platform.js';
import type { ChatsService, UnfinishedAnswer } from '../chats/chats.service.js';
import { failedOutcome, type RecordAnswerEnd } from './answer-end.js';
import type { GenerationLog } from './generation-log.js';
import type { GenerationRunner } from './generation-runner.js';
import type { TakeOver } from './takeover.js';

export interface SweepDeps {
  chats: ChatsService;
  generationLog: GenerationLog;
  runner: GenerationRunner;
  takeOver: TakeOver;
  recordAnswerEnd: RecordAnswerEnd;
}

const interruptedMessage = 'The answer was interrupted (its server stopped) and could not be resumed';

/**
 * Looks for answers left streaming by an instance that died: takes them over when their log
 * survives, else ends them as interrupted once their lease is long gone.
 */
export function createSweeper(platform: Platform, { chats, generationLog, runner, takeOver, recordAnswerEnd }: SweepDeps) {
  const { clock, lifecycle, log } = platform;

  async function endInterrupted(answer: UnfinishedAnswer, now: number): Promise<void> {
    // Every instance sweeps: the lease makes one of them end it (it is left to lapse, outliving the sweep).
    if (!(await generationLog.claim(answer.messageId))) return;
    await recordAnswerEnd(
      { id: answer.messageId, userId: answer.userId, model: answer.model, connectionId: null, upstreamModel: null, chat: { chatId: answer.chatId, assistantMessageId: answer.messageId } },
      failedOutcome(interruptedMessage, now - answer.createdAt),
      { kind: 'interrupted' },
    );
  }

  async function sweep(): Promise<void> {
    const now = clock.now();
    for (const answer of await chats.listUnfinishedAnswers()) {
      if (runner.local(answer.messageId) || (await generationLog.owner(answer.messageId)) !== null) continue;
      if (await generationLog.record(answer.messageId)) await takeOver(answer.messageId);
      else if (now - answer.createdAt > 3 * generationLog.leaseMs) await endInterrupted(answer, now);
    }
  }

  return {
    sweep,
    /** Sweeps once per lease period (not while draining); returns the function that stops it. */
    start(): () => void {
      const timer = setInterval(() => {
        if (!lifecycle.isDraining) sweep().catch((error: unknown) => log.warn({ err: error }, 'generation sweep failed'));
      }, generationLog.leaseMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
