/**
 * @parley/fake-llm: a deterministic fake model server (OpenAI and Ollama formats,
 * token pacing, fault injection by model name) and the helpers tests use to know
 * exactly what it will answer.
 */
export { startFakeLlm } from './server.js';
export {
  DEFAULT_TOKENS,
  EMBEDDING_DIMENSIONS,
  expectedAnswer,
  expectedContinuation,
  expectedEmbedding,
  expectedText,
  planReply,
  promptTokenCount,
} from './determinism.js';
export type { AnswerRequest, ChatMessage, ContentPart, FinishReason, Reply } from './determinism.js';
export { MIDSTREAM_FAILURE, MIDSTREAM_TOKENS, RATE_LIMITED, UPSTREAM_FAILURE } from './faults.js';
export { isKnownModel, MODEL_IDS } from './models.js';
export { echoedAuthMessage } from './poison.js';
export { POISON_MODELS } from './poison-models.js';
export type { PoisonModel } from './poison-models.js';
export { planToolCall, TOOL_ARGUMENT_PIECES } from './tools.js';
export type { ToolCall } from './tools.js';
export type { ModelId } from './models.js';
export { DEFAULT_OPTIONS } from './types.js';
export type { FakeLlm, FakeLlmOptions, FakeLlmOptionsPatch, OpenAiContinuation, RecordedRequest } from './types.js';
