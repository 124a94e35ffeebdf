import { useEffect, useId, useState, type FormEvent } from 'react';
import type { Connection } from '@parley/wire';
import { createConnection, deleteConnection, listConnections, testConnection, updateConnection, type ConnectionInput } from '../../api/admin';
import { messageOf } from '../../api/http';
import { ConfirmDialog, Dialog } from '../../components/Dialog';
import { IconButton } from '../../components/IconButton';
import { useModels } from '../../state/models';

const blank: ConnectionInput = { type: 'openai', name: '', base_url: '', api_key: '', enabled: true, http2: false };

function ConnectionForm({ initial, onSave, onCancel }: { initial: Connection | null; onSave: (input: ConnectionInput) => Promise<void>; onCancel: () => void }) {
  const [form, setForm] = useState<ConnectionInput>(initial ? { ...initial, api_key: '' } : blank);
  const [error, setError] = useState<string | null>(null);
  const http2HintId = useId();
  async function submit(event: FormEvent) {
    event.preventDefault();
    try {
      // An empty key on edit keeps the stored one.
      const { api_key, ...rest } = form;
      await onSave(initial && !api_key ? rest : form);
    } catch (caught) {
      setError(messageOf(caught));
    }
  }
  return (
    <Dialog title={initial ? 'Edit connection' : 'Add connection'} onClose={onCancel}>
      <form className="settings-form" onSubmit={submit}>
        <label className="field">
          <span>Type</span>
          <select value={form.type} onChange={(e) => setForm({ ...form, type: e.target.value as Connection['type'] })}>
            <option value="openai">OpenAI-compatible</option>
            <option value="ollama">Ollama</option>
          </select>
        </label>
        <label className="field">
          <span>Name</span>
          <input value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} required maxLength={100} />
        </label>
        <label className="field">
          <span>Base URL</span>
          <input type="url" value={form.base_url} placeholder={form.type === 'ollama' ? 'http://localhost:11434' : 'https://api.openai.com/v1'} onChange={(e) => setForm({ ...form, base_url: e.target.value })} required />
        </label>
        <label className="field">
          <span>API key</span>
          <input type="password" autoComplete="off" value={form.api_key ?? ''} placeholder={initial?.has_api_key ? 'Unchanged' : 'Optional'} onChange={(e) => setForm({ ...form, api_key: e.target.value })} />
        </label>
        <label className="switch">
          <input type="checkbox" checked={form.enabled} onChange={(e) => setForm({ ...form, enabled: e.target.checked })} />
          <span>Enabled</span>
        </label>
        <div className="field">
          <label className="switch">
            <input type="checkbox" checked={form.http2} aria-describedby={http2HintId} onChange={(e) => setForm({ ...form, http2: e.target.checked })} />
            <span>HTTP/2</span>
          </label>
          <small id={http2HintId} className="muted">
            https: offered through ALPN, falls back to HTTP/1.1. http: the server must speak h2c (prior knowledge); Ollama and vLLM do not.
          </small>
        </div>
        {error && <p className="form-error" role="alert">{error}</p>}
        <div className="dialog__actions">
          <button type="button" className="button" onClick={onCancel}>Cancel</button>
          <button type="submit" className="button button--primary">Save</button>
        </div>
      </form>
    </Dialog>
  );
}

/** Upstream connections: add, edit, test, enable or disable, delete. */
export function ConnectionsAdmin() {
  const [connections, setConnections] = useState<Connection[] | null>(null);
  const [editing, setEditing] = useState<Connection | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Connection | null>(null);
  const [results, setResults] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const load = () => listConnections().then(setConnections, (caught: unknown) => setError(messageOf(caught)));
  useEffect(() => void load(), []);

  async function act(work: Promise<unknown>) {
    setError(null);
    try {
      await work;
      await load();
      void useModels.getState().load();
    } catch (caught) {
      setError(messageOf(caught));
    }
  }

  function toggle(connection: Connection, enabled: boolean) {
    // Shown at once; the reload after saving corrects it if the server refused.
    setConnections((all) => all?.map((c) => (c.id === connection.id ? { ...c, enabled } : c)) ?? null);
    void act(updateConnection(connection.id, { enabled }));
  }

  async function test(connection: Connection) {
    setResults((all) => ({ ...all, [connection.id]: 'Testing…' }));
    try {
      const result = await testConnection(connection.id);
      const text = result.ok ? `OK: ${result.models} models in ${result.latency_ms} ms` : `Failed: ${result.error}`;
      setResults((all) => ({ ...all, [connection.id]: text }));
    } catch (caught) {
      setResults((all) => ({ ...all, [connection.id]: `Failed: ${messageOf(caught)}` }));
    }
  }

  return (
    <div>
      <div className="admin__toolbar">
        <button type="button" className="button button--primary" onClick={() => setEditing('new')}>Add connection</button>
      </div>
      {error && <p className="form-error" role="alert">{error}</p>}
      <ul className="card-list">
        {connections?.map((connection) => (
          <li key={connection.id} className="card">
            <div className="card__main">
              <strong>{connection.name}</strong> <span className="badge">{connection.type}</span>
              {connection.http2 && <> <span className="badge">HTTP/2</span></>}
              <div className="muted card__url">{connection.base_url}</div>
              {results[connection.id] && <div role="status" className="card__status">{results[connection.id]}</div>}
            </div>
            <label className="switch">
              <input type="checkbox" checked={connection.enabled} onChange={(e) => toggle(connection, e.target.checked)} />
              <span>Enabled</span>
            </label>
            <button type="button" className="button button--small" onClick={() => void test(connection)}>Test</button>
            <IconButton icon="edit" label={`Edit ${connection.name}`} onClick={() => setEditing(connection)} />
            <IconButton icon="trash" label={`Delete ${connection.name}`} onClick={() => setDeleting(connection)} />
          </li>
        ))}
        {connections?.length === 0 && <li className="muted">No connections yet. Add an OpenAI-compatible server or Ollama.</li>}
      </ul>
      {editing && (
        <ConnectionForm
          initial={editing === 'new' ? null : editing}
          onCancel={() => setEditing(null)}
          onSave={async (input) => {
            if (editing === 'new') await createConnection(input);
            else await updateConnection(editing.id, input);
            setEditing(null);
            await act(Promise.resolve());
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title="Delete connection?"
          message={<>Its models will no longer be available.</>}
          confirmLabel="Delete"
          onCancel={() => setDeleting(null)}
          onConfirm={() => (void act(deleteConnection(deleting.id)), setDeleting(null))}
        />
      )}
    </div>
  );
}
