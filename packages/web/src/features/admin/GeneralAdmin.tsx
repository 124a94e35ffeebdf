import { useEffect, useState } from 'react';
import type { AdminConfig } from '@parley/wire';
import { getAdminConfig, setAdminConfig } from '../../api/auth';
import { messageOf } from '../../api/http';

/** Sign-up on or off, the role of new accounts, chat titles and images from other sites. */
export function GeneralAdmin() {
  const [config, setConfig] = useState<AdminConfig | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    getAdminConfig().then(setConfig, (caught: unknown) => setError(messageOf(caught)));
  }, []);
  async function change(patch: Partial<AdminConfig>) {
    const before = config;
    setError(null);
    setStatus(null);
    // Shown at once; put back if the server refuses.
    setConfig((current) => (current ? { ...current, ...patch } : current));
    try {
      setConfig(await setAdminConfig(patch));
      setStatus('Saved');
    } catch (caught) {
      setConfig(before);
      setError(messageOf(caught));
    }
  }
  if (!config) return error ? <p className="form-error" role="alert">{error}</p> : <p className="muted">Loading…</p>;
  return (
    <div className="settings-form">
      <label className="switch">
        <input type="checkbox" checked={config.ENABLE_SIGNUP} onChange={(e) => void change({ ENABLE_SIGNUP: e.target.checked })} />
        <span>Allow new users to sign up</span>
      </label>
      <label className="field">
        <span>Role of new users</span>
        <select value={config.DEFAULT_USER_ROLE} onChange={(e) => void change({ DEFAULT_USER_ROLE: e.target.value as AdminConfig['DEFAULT_USER_ROLE'] })}>
          <option value="pending">Pending (an admin approves them)</option>
          <option value="user">User (can chat at once)</option>
        </select>
      </label>
      {config.ENABLE_TITLE_GENERATION !== undefined && (
        <label className="switch">
          <input type="checkbox" checked={config.ENABLE_TITLE_GENERATION} onChange={(e) => void change({ ENABLE_TITLE_GENERATION: e.target.checked })} />
          <span>Let the model title new chats</span>
        </label>
      )}
      {config.ENABLE_REMOTE_IMAGES !== undefined && (
        <label className="switch">
          <input type="checkbox" checked={config.ENABLE_REMOTE_IMAGES} onChange={(e) => void change({ ENABLE_REMOTE_IMAGES: e.target.checked })} />
          <span>
            Show images from other sites in answers
            <small className="muted switch__hint">Off: they appear as links, so an answer cannot send data to another site by loading one. Applies when a page is reloaded.</small>
          </span>
        </label>
      )}
      {status && !error && <p role="status" className="muted">{status}</p>}
      {error && <p className="form-error" role="alert">{error}</p>}
    </div>
  );
}
