import { useEffect, useState, type FormEvent } from 'react';
import type { Preset } from '@parley/wire';
import { createPreset, deletePreset, listPresets, updatePreset, type PresetInput } from '../../api/admin';
import { messageOf } from '../../api/http';
import { ConfirmDialog, Dialog } from '../../components/Dialog';
import { IconButton } from '../../components/IconButton';
import { useModels } from '../../state/models';

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 64);
}

function PresetForm({ initial, onSave, onCancel }: { initial: Preset | null; onSave: (input: PresetInput) => Promise<void>; onCancel: () => void }) {
  const models = useModels((s) => s.models);
  const bases = models.filter((model) => !model.base_model_id);
  const [name, setName] = useState(initial?.name ?? '');
  const [id, setId] = useState(initial?.id ?? '');
  const [base, setBase] = useState(initial?.base_model_id ?? bases[0]?.id ?? '');
  const [system, setSystem] = useState(initial?.params.system ?? '');
  const [temperature, setTemperature] = useState(initial?.params.temperature?.toString() ?? '');
  const [error, setError] = useState<string | null>(null);
  async function submit(event: FormEvent) {
    event.preventDefault();
    try {
      const params = { system: system || null, temperature: temperature === '' ? null : Number(temperature) };
      await onSave({ id: id || slug(name), base_model_id: base, name: name.trim(), params });
    } catch (caught) {
      setError(messageOf(caught));
    }
  }
  return (
    <Dialog title={initial ? 'Edit preset' : 'New preset'} onClose={onCancel}>
      <form className="settings-form" onSubmit={submit}>
        <label className="field">
          <span>Name</span>
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
        </label>
        <label className="field">
          <span>Id</span>
          <input value={id} placeholder={slug(name) || 'my-assistant'} disabled={initial !== null} onChange={(e) => setId(e.target.value)} pattern="[A-Za-z0-9\-_.:/@]{1,128}" />
        </label>
        <label className="field">
          <span>Base model</span>
          <select value={base} onChange={(e) => setBase(e.target.value)} required>
            {!bases.some((model) => model.id === base) && base && <option value={base}>{base}</option>}
            {bases.map((model) => (
              <option key={model.id} value={model.id}>{model.name || model.id}</option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>System prompt</span>
          <textarea rows={5} value={system} onChange={(e) => setSystem(e.target.value)} />
        </label>
        <label className="field">
          <span>Temperature</span>
          <input type="number" min={0} max={2} step={0.1} value={temperature} placeholder="Model default" onChange={(e) => setTemperature(e.target.value)} />
        </label>
        {error && <p className="form-error" role="alert">{error}</p>}
        <div className="dialog__actions">
          <button type="button" className="button" onClick={onCancel}>Cancel</button>
          <button type="submit" className="button button--primary">Save</button>
        </div>
      </form>
    </Dialog>
  );
}

/** Model presets: a base model with a name, system prompt and parameters. */
export function PresetsAdmin() {
  const [presets, setPresets] = useState<Preset[] | null>(null);
  const [editing, setEditing] = useState<Preset | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Preset | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () => listPresets().then(setPresets, (caught: unknown) => setError(messageOf(caught)));
  useEffect(() => {
    void load();
    if (!useModels.getState().isLoaded) void useModels.getState().load();
  }, []);
  const refresh = async () => {
    await load();
    void useModels.getState().load();
  };

  return (
    <div>
      <div className="admin__toolbar">
        <button type="button" className="button button--primary" onClick={() => setEditing('new')}>New preset</button>
      </div>
      {error && <p className="form-error" role="alert">{error}</p>}
      <ul className="card-list">
        {presets?.map((preset) => (
          <li key={preset.id} className="card">
            <div className="card__main">
              <strong>{preset.name}</strong> <span className="badge">{preset.base_model_id}</span>
              {preset.params.system && <div className="muted card__url">{preset.params.system}</div>}
            </div>
            <IconButton icon="edit" label={`Edit ${preset.name}`} onClick={() => setEditing(preset)} />
            <IconButton icon="trash" label={`Delete ${preset.name}`} onClick={() => setDeleting(preset)} />
          </li>
        ))}
        {presets?.length === 0 && <li className="muted">No presets yet.</li>}
      </ul>
      {editing && (
        <PresetForm
          initial={editing === 'new' ? null : editing}
          onCancel={() => setEditing(null)}
          onSave={async (input) => {
            if (editing === 'new') await createPreset(input);
            else await updatePreset(editing.id, { name: input.name, base_model_id: input.base_model_id, params: input.params });
            setEditing(null);
            await refresh();
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title="Delete preset?"
          message={<>“{deleting.name}” will no longer be offered.</>}
          confirmLabel="Delete"
          onCancel={() => setDeleting(null)}
          onConfirm={() => {
            setDeleting(null);
            deletePreset(deleting.id).then(refresh, (caught: unknown) => setError(messageOf(caught)));
          }}
        />
      )}
    </div>
  );
}
