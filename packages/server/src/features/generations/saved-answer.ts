import type { ChatsService, SavedAnswer } from '../chats/chats.service.js';
import type { FollowedGeneration } from './followed-generation.js';
import type { GenerationInfo } from './generation.js';
import type { GenerationLog, LogEntry } from './generation-log.js';
import type { TakeOver } from './takeover.js';

type Row = { position: string; entry: LogEntry };

/**
 * A saved answer replayed as a log: the client drops what it showed (a regenerating takeover event,
 * when it had seen any batch) and gets the whole answer in one batch, then its end.
 */
export function replayOfSavedAnswer(saved: Pick<SavedAnswer, 'status' | 'content' | 'error'>, afterSeq: number): Row[] {
  const seq = afterSeq + 1;
  const rows: Row[] = [];
  if (afterSeq > 0) rows.push({ position: 'saved-0', entry: { seq: afterSeq, kind: 'takeover', mode: 'regenerate' } });
  if (saved.content) rows.push({ position: 'saved-1', entry: { seq, kind: 'events', events: [{ type: 'delta', content: saved.content }] } });
  rows.push({ position: 'saved-2', entry: { seq, kind: 'end', outcome: { status: saved.status === 'done' ? 'done' : 'error', error: saved.error, isStopped: false } } });
  return rows;
}

/**
 * Follows an answer whose log is gone (it expired) or not there (shared state lost it): a finished one is
 * replayed from the chat; one still being written is waited for, through its log should that appear
 * (shared state back) or the chat (its instance died and the sweeper ends it).
 */
export function savedAnswerFollower(deps: {
  id: string;
  userId: string;
  saved: SavedAnswer;
  generationLog: GenerationLog;
  chats: ChatsService;
  takeOver: TakeOver;
}): FollowedGeneration {
  const { id, userId, generationLog, chats, takeOver } = deps;
  let saved: SavedAnswer | undefined = deps.saved;
  let hasLog = false;
  const info: GenerationInfo = {
    id,
    userId,
    model: saved.model ?? '',
    upstreamModel: saved.model ?? '',
    connectionId: '',
    hasRawChunks: false,
    createdAt: Math.floor(saved.createdAt / 1000),
  };
  return {
    info,
    async read(after, blockMs, afterSeq) {
      if (hasLog) return generationLog.read(id, after, blockMs);
      if (saved && saved.status !== 'streaming') return replayOfSavedAnswer(saved, afterSeq);
      await new Promise((resolve) => setTimeout(resolve, blockMs));
      if (await generationLog.record(id)) {
        hasLog = true;
        return generationLog.read(id, null, 0);
      }
      saved = await chats.findAnswer(userId, id);
      // Deleted meanwhile: nothing more will come.
      if (!saved) return replayOfSavedAnswer({ status: 'error', content: '', error: 'The answer was deleted' }, afterSeq);
      return saved.status === 'streaming' ? [] : replayOfSavedAnswer(saved, afterSeq);
    },
    // Without a log there is nothing to take over: the sweeper ends such an answer as interrupted.
    isRunning: async () => !hasLog || (await generationLog.owner(id)) !== null,
    takeOver: async () => hasLog && takeOver(id),
  };
}
