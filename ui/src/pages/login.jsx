// Sign-in for superusers: password, then a one-time code when MFA asks
// for a second factor; or a one-time code alone when password auth is off.
import { useEffect, useState } from 'preact/hooks';
import { errorMessage, pb } from '../api.js';
import { go } from '../store.js';
import { TextInput } from '../ui.jsx';

export function Login() {
  const [methods, setMethods] = useState(null);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [otp, setOtp] = useState(null); // {otpId, mfaId}
  const [code, setCode] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const su = pb.collection('_superusers');

  useEffect(() => {
    su.listAuthMethods().then(setMethods).catch(() => setMethods({ password: { enabled: true } }));
  }, []);

  // The shell checks the token and loads the schema when it sees the
  // route leave the public pages; no page reload (a reload would abort
  // requests still in flight from this page).
  const done = () => go('/collections');
  const run = async (fn) => {
    setBusy(true);
    setError('');
    try {
      await fn();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const requestCode = async (mfaId) => {
    const r = await su.requestOTP(email);
    setOtp({ otpId: r.otpId, mfaId });
  };
  const submitPassword = (e) => {
    e.preventDefault();
    run(async () => {
      try {
        await su.authWithPassword(email, password);
        done();
      } catch (err) {
        const mfaId = err?.response?.mfaId;
        if (!mfaId) throw err;
        await requestCode(mfaId);
      }
    });
  };
  const submitCode = (e) => {
    e.preventDefault();
    run(async () => {
      await su.authWithOTP(otp.otpId, code, otp.mfaId ? { mfaId: otp.mfaId } : {});
      done();
    });
  };
  const passwordOn = methods?.password?.enabled !== false;
  const otpOn = !!methods?.otp?.enabled;

  return (
    <div class="card narrow">
      <h1>Superuser sign-in</h1>
      {error && <div class="alert error" role="alert">{error}</div>}
      {!otp ? (
        <form onSubmit={passwordOn ? submitPassword : (e) => (e.preventDefault(), run(() => requestCode(undefined)))}>
          <TextInput label="Email" type="email" value={email} onInput={setEmail} autocomplete="username" required />
          {passwordOn && (
            <TextInput label="Password" type="password" value={password} onInput={setPassword} autocomplete="current-password" required />
          )}
          <button class="primary block" disabled={busy}>
            {passwordOn ? 'Sign in' : 'Send a one-time code'}
          </button>
          {passwordOn && otpOn && (
            <button type="button" class="ghost block" disabled={busy || !email} onClick={() => run(() => requestCode(undefined))}>
              Sign in with a one-time code instead
            </button>
          )}
        </form>
      ) : (
        <form onSubmit={submitCode}>
          <p>
            {otp.mfaId ? 'A second factor is required. ' : ''}A one-time code was sent to <b>{email}</b>.
          </p>
          <TextInput label="One-time code" value={code} onInput={setCode} autocomplete="one-time-code" required />
          <button class="primary block" disabled={busy}>
            Confirm
          </button>
          <button type="button" class="ghost block" onClick={() => setOtp(null)}>
            Back
          </button>
        </form>
      )}
    </div>
  );
}

// Used by the palette and the nav.
export const logout = () => {
  pb.authStore.clear();
  go('/login');
};
