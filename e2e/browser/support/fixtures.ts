/** Chat histories created through the API (`POST /api/v1/chats/new`) for screenshots and timings. */

interface HistoryMessage {
  id: string;
  parentId: string | null;
  childrenIds: string[];
  role: 'user' | 'assistant';
  content: string;
  model?: string;
  timestamp: number;
  done: true;
  usage?: Record<string, number>;
  info?: Record<string, number>;
}

/** Open WebUI's `chat` object holding a linear conversation. */
function linearChat(title: string, turns: { role: 'user' | 'assistant'; content: string }[], model: string) {
  const messages: Record<string, HistoryMessage> = {};
  const start = Math.floor(Date.now() / 1000) - turns.length;
  let parentId: string | null = null;
  turns.forEach((turn, index) => {
    const id = `msg-${index}`;
    messages[id] = {
      id,
      parentId,
      childrenIds: [],
      role: turn.role,
      content: turn.content,
      timestamp: start + index,
      done: true,
      ...(turn.role === 'assistant'
        ? { model, usage: { prompt_tokens: 42, completion_tokens: 180, total_tokens: 222 }, info: { ttft_ms: 210, tokens_per_second: 48.2, duration_ms: 3940 } }
        : {}),
    };
    if (parentId) messages[parentId]!.childrenIds.push(id);
    parentId = id;
  });
  return { title, models: [model], history: { messages, currentId: parentId } };
}

const markdownAnswer = `Both sort in **O(n log n)** on average, but they trade memory for worst cases differently:

| | Merge sort | Quicksort |
| --- | --- | --- |
| Average time | $O(n \\log n)$ | $O(n \\log n)$ |
| Worst case | $O(n \\log n)$ | $O(n^2)$ |
| Extra memory | $O(n)$ | $O(\\log n)$ |
| Stable | yes | no |

A compact merge sort in Python:

\`\`\`python
def merge_sort(items):
    if len(items) <= 1:
        return items
    mid = len(items) // 2
    left, right = merge_sort(items[:mid]), merge_sort(items[mid:])
    merged = []
    while left and right:
        merged.append((left if left[0] <= right[0] else right).pop(0))
    return merged + left + right
\`\`\`

The recurrence behind it:

$$
T(n) = 2\\,T\\!\\left(\\tfrac{n}{2}\\right) + O(n) \\;\\Rightarrow\\; T(n) = O(n \\log n)
$$

- Pick **merge sort** when stability matters or data lives on disk.
- Pick **quicksort** for in-memory arrays where cache locality wins.`;

/** A short chat whose answer shows off Markdown: a table, highlighted code, math and a list. */
export function markdownChat(model: string) {
  return linearChat('Merge sort vs quicksort', [
    { role: 'user', content: 'When should I use merge sort instead of quicksort? Show me the trade-offs and a short Python example.' },
    { role: 'assistant', content: markdownAnswer },
  ], model);
}

/** A chat of `count` messages (alternating questions and answers, some with lists and code). */
export function longChat(count: number, model: string) {
  const turns = Array.from({ length: count }, (_, index) => {
    if (index % 2 === 0) return { role: 'user' as const, content: `Question number ${index / 2 + 1}: how does step ${index / 2 + 1} work?` };
    const body =
      index % 10 === 1
        ? `Step ${index}: here is the code.\n\n\`\`\`js\nconst total = items.reduce((sum, item) => sum + item.price * item.quantity, 0);\nconsole.log(total);\n\`\`\``
        : index % 10 === 5
          ? `Step ${index} has three parts:\n\n1. **Read** the input\n2. *Check* it\n3. Write the \`result\`\n\n| key | value |\n| --- | --- |\n| a | ${index} |`
          : `Answer ${index}. ${'This paragraph explains the step in plain words so the message has a realistic length. '.repeat(2 + (index % 4))}`;
    return { role: 'assistant' as const, content: body };
  });
  return linearChat(`A chat of ${count} messages`, turns, model);
}
