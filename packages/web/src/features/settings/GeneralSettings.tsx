import { useEffect, useState } from 'react';
import { useModels } from '../../state/models';
import { useSettings, type ThemeChoice } from '../../state/settings';

const themes: { id: ThemeChoice; label: string }[] = [
  { id: 'light', label: 'Light' },
  { id: 'dark', label: 'Dark' },
  { id: 'system', label: 'System' },
];

/** Theme, default model and default system prompt (kept in this browser). */
export function GeneralSettings() {
  const { theme, defaultModel, systemPrompt, update } = useSettings();
  const models = useModels((s) => s.models);
  const [prompt, setPrompt] = useState(systemPrompt);
  const [isSaved, setSaved] = useState(false);
  useEffect(() => {
    if (!useModels.getState().isLoaded) void useModels.getState().load();
  }, []);

  return (
    <div className="settings-form">
      <fieldset className="field">
        <legend>Theme</legend>
        <div className="segmented">
          {themes.map((option) => (
            <label key={option.id} className="segmented__option">
              <input type="radio" name="theme" value={option.id} checked={theme === option.id} onChange={() => update({ theme: option.id })} />
              <span>{option.label}</span>
            </label>
          ))}
        </div>
      </fieldset>
      <label className="field">
        <span>Default model</span>
        <select
          value={defaultModel}
          onChange={(e) => {
            update({ defaultModel: e.target.value });
            if (e.target.value) useModels.getState().select(e.target.value);
          }}
        >
          <option value="">The last one I used</option>
          {models.map((model) => (
            <option key={model.id} value={model.id}>
              {model.name || model.id}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Default system prompt</span>
        <textarea
          rows={4}
          value={prompt}
          placeholder="For example: answer briefly, in British English."
          onChange={(e) => (setPrompt(e.target.value), setSaved(false))}
        />
        <small className="muted">Sent at the start of every chat.</small>
      </label>
      <div className="settings-form__actions">
        <button type="button" className="button button--primary" onClick={() => (update({ systemPrompt: prompt }), setSaved(true))} disabled={prompt === systemPrompt}>
          Save prompt
        </button>
        {isSaved && <span role="status">Saved</span>}
      </div>
    </div>
  );
}
