/** The API dialect an upstream speaks. */
export type ConnectionType = 'openai' | 'ollama';

/** A connection's takeover setting (see Connection.takeover_mode). */
export type TakeoverModeSetting = 'auto' | 'continue' | 'regenerate';

/** An upstream connection as the admin API shows it (the key masked). */
export interface Connection {
  id: string;
  type: ConnectionType;
  name: string;
  base_url: string;
  /** Enough of the key to recognise it ('sk-a…wxyz'), never the whole; '' when there is none. */
  api_key: string;
  has_api_key: boolean;
  /** Prepended to the connection's model ids ('' for none). */
  prefix_id: string;
  /** The models offered; empty means all the upstream lists. */
  model_ids: string[];
  enabled: boolean;
  /** HTTP/2 to the upstream: offered through ALPN on https://, prior knowledge (h2c) on http://. */
  http2: boolean;
  /**
   * How another instance finishes an answer whose instance died: `continue` the partial text (for upstreams
   * that continue a trailing assistant message: Ollama, vLLM, llama.cpp's server), `regenerate` it, or
   * `auto`: `continue` for Ollama connections, `regenerate` for OpenAI-compatible ones.
   */
  takeover_mode: TakeoverModeSetting;
  position: number;
  created_at: number;
  updated_at: number;
}

/** Whether asking a connection for its model list worked. */
export type ConnectionTestResult = { ok: true; models: number; latency_ms: number } | { ok: false; error: string };
