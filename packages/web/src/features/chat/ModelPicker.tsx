import { useEffect } from 'react';
import { useModels } from '../../state/models';

/** Chooses the model for the next message: base models and presets, remembering the last choice. */
export function ModelPicker() {
  const { models, selected, isLoaded, error } = useModels();
  useEffect(() => {
    if (!useModels.getState().isLoaded) void useModels.getState().load();
  }, []);
  const presets = models.filter((model) => model.base_model_id);
  const bases = models.filter((model) => !model.base_model_id);

  if (isLoaded && models.length === 0) {
    return (
      <span className="model-picker model-picker--empty" role="status">
        {error ? `Models unavailable: ${error}` : 'No models available'}
      </span>
    );
  }
  return (
    <label className="model-picker">
      <span className="visually-hidden">Model</span>
      <select value={selected} onChange={(e) => useModels.getState().select(e.target.value)} aria-label="Model" disabled={!isLoaded}>
        {!isLoaded && <option value="">Loading models…</option>}
        {presets.length > 0 && (
          <optgroup label="Presets">
            {presets.map((model) => (
              <option key={model.id} value={model.id}>
                {model.name || model.id}
              </option>
            ))}
          </optgroup>
        )}
        {presets.length > 0 ? (
          <optgroup label="Models">
            {bases.map((model) => (
              <option key={model.id} value={model.id}>
                {model.name || model.id}
              </option>
            ))}
          </optgroup>
        ) : (
          bases.map((model) => (
            <option key={model.id} value={model.id}>
              {model.name || model.id}
            </option>
          ))
        )}
      </select>
    </label>
  );
}
