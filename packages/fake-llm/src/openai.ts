import { idFromSeed, planReply, type ChatMessage, type Reply } from './determinism.js';
import { sendBadRequest, sendModelNotFound } from './errors.js';
import { MIDSTREAM_FAILURE } from './faults.js';
import { runGeneration, type GenerationFormat } from './generation.js';
import { isRecord } from './http.js';
import { isKnownModel, MODEL_IDS, MODELS_CREATED } from './models.js';
import { argumentPieces, planToolCall, type ToolCall } from './tools.js';
import type { OpenAiContinuation, RequestContext } from './types.js';
import { readMessages, readModel, readOptionalCount } from './validate.js';

const MODEL_LIST = JSON.stringify({
  object: 'list',
  data: MODEL_IDS.map((id) => ({ id, object: 'model', created: MODELS_CREATED, owned_by: 'fake-llm' })),
});

/** GET /v1/models: every model, in OpenAI's list shape. */
export function listModels(ctx: RequestContext): void {
  ctx.res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': MODEL_LIST.length });
  ctx.res.end(MODEL_LIST);
}

/** OpenAI usage block of an answer. */
function usageOf(reply: Reply): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const completion = reply.tokens.length;
  return { prompt_tokens: reply.promptTokens, completion_tokens: completion, total_tokens: reply.promptTokens + completion };
}

/**
 * Chat-completion serialisation for one request; id and created come from the seed, so replays are identical.
 * With a tool call, the frames carry the call (its head first, then its arguments in fragments) instead of text.
 */
function chatFormat(model: string, reply: Reply, includeUsage: boolean, toolCall: ToolCall | null): GenerationFormat {
  const id = `chatcmpl-${idFromSeed(reply.seed)}`;
  const created = MODELS_CREATED + (reply.seed % 31_536_000);
  // Every chunk starts the same way; only the choice differs, so build that head once.
  const head = `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"choices":[`;
  const call = toolCall && { id: toolCall.id, type: 'function', function: { name: toolCall.name, arguments: toolCall.arguments } };
  const toolFrame = (piece: string, index: number) => {
    const delta =
      index === 0
        ? { role: 'assistant', content: null, tool_calls: [{ index: 0, ...call, function: { name: toolCall?.name, arguments: piece } }] }
        : { tool_calls: [{ index: 0, function: { arguments: piece } }] };
    return `${head}${JSON.stringify({ index: 0, delta, finish_reason: null })}]}\n\n`;
  };
  return {
    dialect: 'openai',
    contentType: 'text/event-stream; charset=utf-8',
    frame: call
      ? toolFrame
      : (token, index) =>
          `${head}{"index":0,"delta":{${index === 0 ? '"role":"assistant",' : ''}"content":${JSON.stringify(token)}},"finish_reason":null}]}\n\n`,
    errorFrame: `data: ${JSON.stringify({ error: { message: MIDSTREAM_FAILURE } })}\n\n`,
    tail: (done) => {
      // An empty answer still announces the assistant role, as the real API does.
      let out = done.tokens.length === 0 ? `${head}{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n` : '';
      out += `${head}{"index":0,"delta":{},"finish_reason":"${done.finishReason}"}]}\n\n`;
      if (includeUsage) out += `${head}],"usage":${JSON.stringify(usageOf(done))}}\n\n`;
      return out + 'data: [DONE]\n\n';
    },
    whole: (done) => ({
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [
        {
          index: 0,
          message: call ? { role: 'assistant', content: null, tool_calls: [call] } : { role: 'assistant', content: done.tokens.join('') },
          finish_reason: done.finishReason,
        },
      ],
      usage: usageOf(done),
    }),
  };
}

/**
 * The messages the answer is planned from: a server that does not continue a trailing assistant message
 * answers as if it were not there, from the beginning (see FakeLlmOptions.openaiContinuation).
 */
function plannedMessages(messages: readonly ChatMessage[], body: Record<string, unknown>, continuation: OpenAiContinuation): readonly ChatMessage[] {
  const continues = continuation === 'continue' || (continuation === 'vllm' && body.continue_final_message === true);
  if (continues) return messages;
  let end = messages.length;
  while (end > 0 && messages[end - 1]?.role === 'assistant') end--;
  return messages.slice(0, end);
}

/** POST /v1/chat/completions: validates, then streams (SSE) or answers in one JSON body. */
export async function chatCompletions(ctx: RequestContext): Promise<void> {
  const { body, res } = ctx;
  if (!isRecord(body)) return sendBadRequest(res, 'openai', 'We could not parse the JSON body of your request.');
  const model = readModel(body);
  if (!model.ok) return sendBadRequest(res, 'openai', model.message);
  const messages = readMessages(body.messages);
  if (!messages.ok) return sendBadRequest(res, 'openai', messages.message);
  if (messages.value.length === 0) return sendBadRequest(res, 'openai', "'messages' must not be empty");
  // Newer clients send max_completion_tokens; it wins over the legacy max_tokens.
  const maxName = body.max_completion_tokens !== undefined && body.max_completion_tokens !== null ? 'max_completion_tokens' : 'max_tokens';
  const maxTokens = readOptionalCount(body[maxName], maxName);
  if (!maxTokens.ok) return sendBadRequest(res, 'openai', maxTokens.message);
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') {
    return sendBadRequest(res, 'openai', "'stream' must be a boolean");
  }
  if (!isKnownModel(model.value)) return sendModelNotFound(res, 'openai', model.value);

  const planning = plannedMessages(messages.value, body, ctx.options.openaiContinuation);
  const planned = planReply({ model: model.value, messages: planning, max_tokens: maxTokens.value }, ctx.options.tokens);
  const toolCall = planToolCall(body, messages.value, planned.seed);
  // A tool call streams its argument fragments where an answer streams its words.
  const reply = toolCall ? { ...planned, tokens: argumentPieces(toolCall), finishReason: 'tool_calls' as const } : planned;
  const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
  await runGeneration(ctx, model.value, reply, body.stream === true, chatFormat(model.value, reply, includeUsage, toolCall));
}
