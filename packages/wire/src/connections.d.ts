/** The API dialect an upstream speaks. */
export type ConnectionType = 'openai' | 'ollama';

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
  position: number;
  created_at: number;
  updated_at: number;
}

/** Whether asking a connection for its model list worked. */
export type ConnectionTestResult = { ok: true; models: number; latency_ms: number } | { ok: false; error: string };
