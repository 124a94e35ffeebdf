import { useEffect, useState, type FormEvent } from 'react';
import type { ApiKey, CreatedApiKey } from '@parley/wire';
import { changePassword, createApiKey, deleteApiKey, listApiKeys } from '../../api/auth';
import { messageOf } from '../../api/http';
import { CopyButton } from '../../components/CopyButton';

/** The server's rule for every new password (its configured pattern may ask for more). */
const minPasswordLength = 10;

function PasswordForm() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  async function submit(event: FormEvent) {
    event.preventDefault();
    try {
      await changePassword(current, next);
      setCurrent('');
      setNext('');
      setStatus({ ok: true, text: 'Password changed.' });
    } catch (error) {
      setStatus({ ok: false, text: messageOf(error) });
    }
  }
  return (
    <form className="settings-form" onSubmit={submit}>
      <h3>Change password</h3>
      <label className="field">
        <span>Current password</span>
        <input type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} required />
      </label>
      <label className="field">
        <span>New password</span>
        <input type="password" autoComplete="new-password" minLength={minPasswordLength} value={next} onChange={(e) => setNext(e.target.value)} required />
      </label>
      <p className="muted">At least {minPasswordLength} characters. Changing it signs you out everywhere else and revokes all your API keys.</p>
      <div className="settings-form__actions">
        <button type="submit" className="button button--primary">
          Change password
        </button>
        {status && (
          <span role={status.ok ? 'status' : 'alert'} className={status.ok ? '' : 'form-error'}>
            {status.text}
          </span>
        )}
      </div>
    </form>
  );
}

/** How long a new key lives: the choices offered, in days (null: never expires). */
const lifetimes: Array<{ label: string; days: number | null }> = [
  { label: 'Never', days: null },
  { label: 'In 30 days', days: 30 },
  { label: 'In 90 days', days: 90 },
  { label: 'In a year', days: 365 },
];

/** A time in epoch seconds as a short local date, or a word when there is none. */
function day(seconds: number | null, none: string): string {
  return seconds === null ? none : new Date(seconds * 1000).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

function expiryOf(key: ApiKey, nowSeconds: number): string {
  if (key.expires_at === null) return 'Never';
  return key.expires_at <= nowSeconds ? `Expired ${day(key.expires_at, '')}` : day(key.expires_at, '');
}

function NewKeyForm({ onCreated }: { onCreated: (created: CreatedApiKey) => void }) {
  const [name, setName] = useState('');
  const [lifetime, setLifetime] = useState(0);
  const [error, setError] = useState<string | null>(null);
  async function submit(event: FormEvent) {
    event.preventDefault();
    const days = lifetimes[lifetime]?.days ?? null;
    try {
      const created = await createApiKey({ name, expires_at: days === null ? null : Math.floor(Date.now() / 1000) + days * 86_400 });
      setName('');
      setError(null);
      onCreated(created);
    } catch (caught) {
      setError(messageOf(caught));
    }
  }
  return (
    <form className="api-keys__new" onSubmit={submit}>
      <label className="field">
        <span>Key name</span>
        <input value={name} maxLength={100} placeholder="e.g. Laptop, CI" onChange={(e) => setName(e.target.value)} required />
      </label>
      <label className="field">
        <span>Expires</span>
        <select value={lifetime} onChange={(e) => setLifetime(Number(e.target.value))}>
          {lifetimes.map((choice, index) => (
            <option key={choice.label} value={index}>
              {choice.label}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" className="button button--primary">
        Create key
      </button>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

function ApiKeysSection() {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [fresh, setFresh] = useState<CreatedApiKey | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = () => listApiKeys().then(setKeys, (caught: unknown) => setError(messageOf(caught)));
  useEffect(() => {
    void reload();
  }, []);
  async function revoke(key: ApiKey) {
    try {
      await deleteApiKey(key.id);
      if (fresh?.id === key.id) setFresh(null);
      setError(null);
      await reload();
    } catch (caught) {
      setError(messageOf(caught));
    }
  }
  const nowSeconds = Date.now() / 1000;
  return (
    <section className="settings-form" aria-labelledby="api-keys-title">
      <h3 id="api-keys-title">API keys</h3>
      <p className="muted">
        Use one as <code>Authorization: Bearer …</code> with the OpenAI SDK (base URL <code>{location.origin}/api</code>). Give each
        program its own key, so you can revoke one without the others.
      </p>
      <NewKeyForm
        onCreated={(created) => {
          setFresh(created);
          void reload();
        }}
      />
      {fresh && (
        <div className="api-key">
          <code className="api-key__value">{fresh.api_key}</code>
          <CopyButton text={fresh.api_key} label="Copy API key" showText />
          <p className="muted">Copy “{fresh.name}” now: it will not be shown again.</p>
        </div>
      )}
      {keys && keys.length === 0 && <p>You have no API keys.</p>}
      {keys && keys.length > 0 && (
        <table className="api-keys">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr key={key.id} data-key-name={key.name}>
                <td>{key.name}</td>
                <td>
                  <code>{key.key_hint}</code>
                </td>
                <td>{day(key.created_at, '')}</td>
                <td>{day(key.last_used_at, 'Never')}</td>
                <td>{expiryOf(key, nowSeconds)}</td>
                <td>
                  <button type="button" className="button button--danger button--small" aria-label={`Revoke ${key.name}`} onClick={() => void revoke(key)}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

/** Password and API keys. */
export function AccountSettings() {
  return (
    <>
      <PasswordForm />
      <ApiKeysSection />
    </>
  );
}
