import type { ModelInfo } from '@parley/wire';
import type { UpstreamTarget } from '../../platform/llm/types.js';

/** A model as listed by GET /api/models: the wire shape. */
export type { ModelInfo };

/** A preset's additions to a request: applied before it goes upstream. */
export interface PresetDefaults {
  systemPrompt: string;
  params: Record<string, unknown>;
}

/** Everything needed to send a request for a model id to its upstream. */
export interface ResolvedModel {
  id: string;
  upstreamModelId: string;
  connection: UpstreamTarget & { id: string };
  /** Present when the id names a preset. */
  preset?: PresetDefaults;
}

/** A listed model plus what resolving it needs (never a credential): the cached unit. */
export interface CatalogEntry extends ModelInfo {
  /** The id the upstream knows, without prefix or dedupe suffix. */
  upstream_id: string;
  preset?: PresetDefaults;
}
