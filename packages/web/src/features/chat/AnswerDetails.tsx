import { formatMs } from '../../lib/format';
import type { Message } from '../../lib/message';

/** Model, token counts and timings of an answer. */
export function AnswerDetails({ message }: { message: Message }) {
  const { usage, info } = message;
  const rows: [string, string][] = [['Model', message.model ?? 'unknown']];
  if (usage?.prompt_tokens != null) rows.push(['Prompt tokens', String(usage.prompt_tokens)]);
  if (usage?.completion_tokens != null) rows.push(['Answer tokens', String(usage.completion_tokens)]);
  if (info?.ttft_ms != null) rows.push(['Time to first token', formatMs(info.ttft_ms)]);
  if (info?.tokens_per_second != null) rows.push(['Tokens per second', info.tokens_per_second.toFixed(1)]);
  if (info?.duration_ms != null) rows.push(['Total time', formatMs(info.duration_ms)]);
  if (info?.stopped) rows.push(['Stopped', 'yes, by you']);
  return (
    <dl className="answer-details">
      {rows.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
