import { POISON_MODELS } from './poison-models.js';

/** Every model the fake serves; the name chooses the behaviour (see faults.ts). */
export const MODEL_IDS = [
  'fake-model',
  'fake-model-2',
  'fail-500',
  'fail-429',
  'error-midstream',
  'drop-midstream',
  'stall-midstream',
  'slow-headers',
  ...POISON_MODELS,
] as const;

/** Name of a model the fake knows. */
export type ModelId = (typeof MODEL_IDS)[number];

const KNOWN: ReadonlySet<string> = new Set(MODEL_IDS);

/** True when the fake serves this model; any other name answers 404. */
export function isKnownModel(model: unknown): model is ModelId {
  return typeof model === 'string' && KNOWN.has(model);
}

/** Fixed creation time for listings, so /v1/models is byte-for-byte stable. */
export const MODELS_CREATED = 1700000000;
