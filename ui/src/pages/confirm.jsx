// The pages the default mail templates link to:
//   #/auth/confirm-password-reset/TOKEN
//   #/auth/confirm-verification/TOKEN
//   #/auth/confirm-email-change/TOKEN
// The collection is the token's collectionId claim; each page posts the
// token to that collection's confirm endpoint through the SDK.
import { useEffect, useState } from 'preact/hooks';
import { errorMessage, pb, tokenClaims } from '../api.js';
import { TextInput } from '../ui.jsx';

export function ConfirmPage({ kind, token }) {
  const claims = tokenClaims(token || '');
  const col = claims.collectionId;
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [state, setState] = useState('form'); // form | busy | done | error
  const [error, setError] = useState('');
  const records = col ? pb.collection(col) : null;

  const run = async (fn) => {
    setState('busy');
    setError('');
    try {
      await fn();
      setState('done');
    } catch (e) {
      setError(errorMessage(e));
      setState('error');
    }
  };
  useEffect(() => {
    if (kind === 'confirm-verification' && records) run(() => records.confirmVerification(token));
  }, [kind, token]);

  if (!records) return <Card title="Invalid link"><p>The link is invalid or incomplete.</p></Card>;
  if (kind === 'confirm-verification')
    return (
      <Card title="Email verification">
        {state === 'done' && <p class="alert ok">Your email address is verified. You can close this page.</p>}
        {state === 'busy' && <p>Verifying…</p>}
        {state === 'error' && <p class="alert error" role="alert">{error || 'Invalid or expired verification token.'}</p>}
      </Card>
    );
  if (kind === 'confirm-password-reset')
    return (
      <Card title="Reset your password">
        {state === 'done' ? (
          <p class="alert ok">Your password was changed. You can now sign in with the new one.</p>
        ) : (
          <form onSubmit={(e) => (e.preventDefault(), run(() => records.confirmPasswordReset(token, password, confirm)))}>
            {claims.email && <p class="muted">For {claims.email}</p>}
            {error && <p class="alert error" role="alert">{error}</p>}
            <TextInput label="New password" type="password" value={password} onInput={setPassword} autocomplete="new-password" required />
            <TextInput label="Confirm new password" type="password" value={confirm} onInput={setConfirm} autocomplete="new-password" required />
            <button class="primary block" disabled={state === 'busy'}>Set new password</button>
          </form>
        )}
      </Card>
    );
  if (kind === 'confirm-email-change')
    return (
      <Card title="Confirm your new email address">
        {state === 'done' ? (
          <p class="alert ok">Your email address was changed. You can now sign in with the new one.</p>
        ) : (
          <form onSubmit={(e) => (e.preventDefault(), run(() => records.confirmEmailChange(token, password)))}>
            {claims.newEmail && <p class="muted">New address: {claims.newEmail}</p>}
            {error && <p class="alert error" role="alert">{error}</p>}
            <TextInput label="Your password" type="password" value={password} onInput={setPassword} autocomplete="current-password" required />
            <button class="primary block" disabled={state === 'busy'}>Confirm new email</button>
          </form>
        )}
      </Card>
    );
  return <Card title="Unknown link"><p>This link is not one the dashboard knows.</p></Card>;
}

export function OAuth2Result({ ok }) {
  return (
    <Card title={ok ? 'Signed in' : 'Sign-in failed'}>
      <p>{ok ? 'You can close this window and go back to the app.' : 'The OAuth2 sign-in did not complete. Close this window and try again.'}</p>
    </Card>
  );
}

function Card({ title, children }) {
  return (
    <div class="card narrow">
      <h1>{title}</h1>
      {children}
    </div>
  );
}
