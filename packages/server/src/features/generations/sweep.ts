import type { Platform } from '../../platform/platform.js';
import type { AnswerCursor, ChatsService, UnfinishedAnswer } from '../chats/chats.service.js';
import { failedOutcome, type RecordAnswerEnd } from './answer-end.js';
import { logTtlMs, type GenerationLog } from './generation-log.js';
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
/** Answers young enough to have a log, checked per sweep: each costs a lease lookup in shared state. */
const recentBatch = 200;
/** Answers older than any log, per sweep: each can only be ended as interrupted, a database write. */
const oldBatch = 20;
/** Answers checked at once: enough to hide shared state's round trips, few enough to spare its connection. */
const concurrency = 16;

/** How often every instance sweeps: well within a second, so a takeover starts within the lease + 1 s (the sweep included). */
export function sweepIntervalMs(leaseMs: number): number {
  return Math.max(250, Math.min(750, Math.floor(leaseMs / 2)));
}

/** Runs `work` on every item, `concurrency` at a time. */
async function inGroups<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  for (let start = 0; start < items.length; start += concurrency) await Promise.all(items.slice(start, start + concurrency).map(work));
}

/** Where the next sweep goes on: after the last of a full batch, else from the start. */
function nextCursor(batch: readonly UnfinishedAnswer[], size: number): AnswerCursor | undefined {
  const last = batch.at(-1);
  return batch.length === size && last ? { createdAt: last.createdAt, id: last.messageId } : undefined;
}

/**
 * Looks for answers left streaming by an instance that died: takes them over when their log
 * survives, else ends them as interrupted once their lease is long gone. Only the server writes
 * `streaming` (imports and clients cannot), the read is indexed and every sweep does a bounded
 * amount of work: answers that may still be taken over first, a few long-dead ones after them.
 */
export function createSweeper(platform: Platform, { chats, generationLog, runner, takeOver, recordAnswerEnd }: SweepDeps) {
  const { clock, lifecycle, log } = platform;
  const leaseMs = generationLog.leaseMs;
  let recentCursor: AnswerCursor | undefined;
  let oldCursor: AnswerCursor | undefined;

  async function endInterrupted(answer: UnfinishedAnswer, now: number): Promise<void> {
    // Every instance sweeps: the lease makes one of them end it (it is left to lapse, outliving the sweep).
    if (!(await generationLog.claim(answer.messageId))) return;
    await recordAnswerEnd(
      { id: answer.messageId, userId: answer.userId, model: answer.model, connectionId: null, upstreamModel: null, chat: { chatId: answer.chatId, assistantMessageId: answer.messageId } },
      failedOutcome(interruptedMessage, now - answer.createdAt),
      { kind: 'interrupted' },
    );
  }

  async function check(answer: UnfinishedAnswer, now: number): Promise<void> {
    if (runner.local(answer.messageId) || (await generationLog.owner(answer.messageId)) !== null) return;
    if (await generationLog.record(answer.messageId)) {
      // Not awaited: opening the upstream again may take long, and must not hold up the other answers.
      lifecycle.track(takeOver(answer.messageId)).catch((error: unknown) => log.warn({ err: error, generation: answer.messageId }, 'takeover failed'));
    } else if (now - answer.createdAt > 3 * leaseMs) await endInterrupted(answer, now);
  }

  async function sweep(): Promise<void> {
    const now = clock.now();
    // A lease lapses no sooner than a lease period after the answer began.
    const recent = await chats.listUnfinishedAnswers({ from: now - logTtlMs, before: now - leaseMs, after: recentCursor, limit: recentBatch });
    recentCursor = nextCursor(recent, recentBatch);
    await inGroups(recent, (answer) => check(answer, now));
    const old = await chats.listUnfinishedAnswers({ before: now - logTtlMs, after: oldCursor, limit: oldBatch });
    oldCursor = nextCursor(old, oldBatch);
    await inGroups(old, (answer) => check(answer, now));
  }

  return {
    sweep,
    /** Sweeps every sweepIntervalMs (not while draining, one sweep at a time); returns the function that stops it. */
    start(): () => void {
      let isSweeping = false;
      const timer = setInterval(() => {
        if (lifecycle.isDraining || isSweeping) return;
        isSweeping = true;
        sweep()
          .catch((error: unknown) => log.warn({ err: error }, 'generation sweep failed'))
          .finally(() => (isSweeping = false));
      }, sweepIntervalMs(leaseMs));
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
