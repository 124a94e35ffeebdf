import { useState, type FormEvent } from 'react';
import { messageOf } from '../../api/http';
import { useSession } from '../../state/session';

type Mode = 'signin' | 'signup';

/** Sign in, sign up, or (on a fresh server) create the admin account. */
export function AuthScreen() {
  const config = useSession((s) => s.config);
  const isOnboarding = config?.onboarding === true;
  // Without /api/config the server's answer to sign-up decides; offer the link.
  const canSignUp = isOnboarding || config?.features?.enable_signup !== false;
  const [mode, setMode] = useState<Mode>(isOnboarding ? 'signup' : 'signin');
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [isBusy, setBusy] = useState(false);
  const isSignUp = isOnboarding || mode === 'signup';

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = useSession.getState();
      if (isSignUp) await session.signUp(name.trim(), email.trim(), password);
      else await session.signIn(email.trim(), password);
    } catch (caught) {
      setError(messageOf(caught));
      setBusy(false);
    }
  }

  const heading = isOnboarding ? 'Welcome to Parley' : isSignUp ? 'Create your account' : 'Sign in to Parley';
  return (
    <main className="auth">
      <form className="auth__card" onSubmit={submit} aria-labelledby="auth-title">
        <div className="brand brand--large" aria-hidden="true">
          P
        </div>
        <h1 id="auth-title">{heading}</h1>
        {isOnboarding && <p className="muted">Create the administrator account to get started. You can invite others afterwards.</p>}
        {isSignUp && (
          <label className="field">
            <span>Name</span>
            <input value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" required maxLength={100} autoFocus />
          </label>
        )}
        <label className="field">
          <span>Email</span>
          <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="email" required autoFocus={!isSignUp} />
        </label>
        <label className="field">
          <span>Password</span>
          <input
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            autoComplete={isSignUp ? 'new-password' : 'current-password'}
            minLength={isSignUp ? 10 : 1}
            required
          />
          {isSignUp && <small className="muted">At least 10 characters.</small>}
        </label>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="button button--primary button--block" disabled={isBusy}>
          {isOnboarding ? 'Create admin account' : isSignUp ? 'Create account' : 'Sign in'}
        </button>
        {!isOnboarding && canSignUp && (
          <p className="auth__switch">
            {isSignUp ? 'Already have an account?' : 'New here?'}{' '}
            <button type="button" className="link-button" onClick={() => (setMode(isSignUp ? 'signin' : 'signup'), setError(null))}>
              {isSignUp ? 'Sign in' : 'Create an account'}
            </button>
          </p>
        )}
      </form>
    </main>
  );
}
