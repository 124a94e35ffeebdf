import { useEffect, useState, type FormEvent } from 'react';
import { changePassword, createApiKey, deleteApiKey, getApiKey } from '../../api/auth';
import { messageOf } from '../../api/http';
import { CopyButton } from '../../components/CopyButton';

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
        <input type="password" autoComplete="new-password" minLength={8} value={next} onChange={(e) => setNext(e.target.value)} required />
      </label>
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

function ApiKeySection() {
  const [hint, setHint] = useState<string | null | undefined>(undefined);
  const [fresh, setFresh] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    getApiKey().then((key) => setHint(key?.api_key ?? null), (caught: unknown) => setError(messageOf(caught)));
  }, []);
  const act = (work: () => Promise<void>) => () => work().catch((caught: unknown) => setError(messageOf(caught)));
  return (
    <section className="settings-form" aria-labelledby="api-key-title">
      <h3 id="api-key-title">API key</h3>
      <p className="muted">
        Use it as <code>Authorization: Bearer …</code> with the OpenAI SDK (base URL <code>{location.origin}/api</code>).
      </p>
      {fresh ? (
        <div className="api-key">
          <code className="api-key__value">{fresh}</code>
          <CopyButton text={fresh} label="Copy API key" showText />
          <p className="muted">Copy it now: it will not be shown again.</p>
        </div>
      ) : (
        hint !== undefined && <p>{hint ? <>Current key: <code>{hint}</code></> : 'You have no API key.'}</p>
      )}
      <div className="settings-form__actions">
        <button type="button" className="button button--primary" onClick={act(async () => setFresh((await createApiKey()).api_key))}>
          {hint ? 'Replace key' : 'Create key'}
        </button>
        {(hint || fresh) && (
          <button type="button" className="button button--danger" onClick={act(async () => (await deleteApiKey(), setHint(null), setFresh(null)))}>
            Revoke key
          </button>
        )}
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

/** Password and API key. */
export function AccountSettings() {
  return (
    <>
      <PasswordForm />
      <ApiKeySection />
    </>
  );
}
