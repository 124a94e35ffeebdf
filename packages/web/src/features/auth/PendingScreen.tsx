import { useEffect } from 'react';
import { useSession } from '../../state/session';

/** Shown to a signed-up user until an administrator approves the account; checks again every 10 s. */
export function PendingScreen() {
  const user = useSession((s) => s.user);
  useEffect(() => {
    const timer = setInterval(() => void useSession.getState().load(), 10_000);
    return () => clearInterval(timer);
  }, []);
  return (
    <main className="auth">
      <section className="auth__card" aria-labelledby="pending-title">
        <div className="brand brand--large" aria-hidden="true">
          P
        </div>
        <h1 id="pending-title">Waiting for approval</h1>
        <p>
          Thanks, {user?.name}. Your account ({user?.email}) has been created and is waiting for an administrator to approve it. This page will
          open Parley as soon as they do.
        </p>
        <div className="auth__row">
          <button type="button" className="button button--primary" onClick={() => void useSession.getState().load()}>
            Check again
          </button>
          <button type="button" className="button" onClick={() => void useSession.getState().signOut()}>
            Sign out
          </button>
        </div>
      </section>
    </main>
  );
}
